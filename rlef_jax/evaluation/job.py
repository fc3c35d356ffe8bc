"""The `eval` job of `python -m rlef_jax.main` (the gin edge of evaluation).

For each named checkpoint and each `EvalConfig` recipe: load the policy, run
the recipe's modes on the task's problems through the judge, append the
episodes to `<workdir>/rollouts.jsonl`; then recompute every row from that
file, write `report.json` (`report["solve_rates"]`), the PNG plots and
`summary.md` / `summary.html`.

    python -m rlef_jax.main --gin_file=gin/eval_1at3.gin \\
        --gin_bindings='eval_job.checkpoints = {"sft": "runs/sft", "rlef": "runs/rlef"}'

A checkpoint path is a training workdir (best, else latest step), an orbax
step folder or a Hugging Face folder (`checkpoints.state.load_policy`);
None means the model `ModelSpec` describes. The job starts its
`rollouts.jsonl` afresh (an old one is kept as `rollouts.previous.jsonl`).

Example (library use, no gin):

    from rlef_jax.evaluation import job
    job.eval_job("runs/eval", task="rlef_bundled_test", limit=2,
                 evals=[driver.EvalConfig(rollouts=2, max_new_tokens=32, turn_limits=())])
"""

from __future__ import annotations

import dataclasses
import pathlib
import time
from typing import Any, Mapping, Sequence

import gin
import jax

from rlef_jax import launch
from rlef_jax.workdir import Workdir
from rlef_jax.evaluation import driver, plots, report


def _workdir(workdir):
  if hasattr(workdir, "path") and hasattr(workdir, "report"):
    return workdir, False
  return Workdir(workdir), True


def check_checkpoint(name: str, path: str | None) -> None:
  """Raises (before any episode runs) when `path` is no checkpoint `load_policy` reads."""
  if path is None:
    return
  folder = launch.resolve_weights(path)
  if not folder.is_dir():
    raise launch.LaunchError(f"checkpoint {name!r} = {path!r} is not a folder; give a training "
                             "workdir, an orbax step folder or a Hugging Face folder")
  from rlef_jax.checkpoints import state  # pylint: disable=import-outside-toplevel

  try:
    state.resolve_policy_folder(folder)
  except state.CheckpointError as e:  # say which checkpoint it was
    raise launch.LaunchError(f"checkpoint {name!r}: {e}") from e


def _policy_params(spec, path: str | None, mesh):
  if path is None:
    return launch.build_model(spec, mesh)
  return launch.build_model(dataclasses.replace(spec, weights=str(launch.resolve_weights(path))),
                            mesh)


@gin.configurable(denylist=["workdir"])
def eval_job(workdir, task: str = "rlef_bundled_test", split: str | None = None,
             limit: int | None = None,
             checkpoints: Mapping[str, str | None] | None = None,
             evals: Sequence[driver.EvalConfig] | None = None, seed: int = 0,
             shard: bool = True, policy_factory=None, plot_metrics: Sequence[str] | None = None
             ) -> bool:
  """Evaluates every checkpoint with every recipe; True when every row was computed.

  Args:
    workdir: a `rlef_jax.workdir.Workdir` or a folder path.
    task: a `launch.load_problems` task (`rlef_bundled_test`, `code_contests_test`,
      `code_contests_valid`, `humaneval`, or "module:function").
    split: the split name for the rows (default: the task's own).
    limit: evaluate only the first `limit` problems.
    checkpoints: {name: path or None}; default {"model": None} (ModelSpec's model).
    evals: the recipes; default one `EvalConfig()` as gin binds it.
    seed: the sampler's rng (each checkpoint and recipe folds in its index).
    shard: place params on the `MeshConfig` mesh (False: the default device).
    policy_factory: tests only: `(config, params, tokenizer, eval_cfg) -> Policy`.
    plot_metrics: metrics of the before/after plot (default: all but turn sweeps).
  """
  from rlef_jax.data import problems as problem_sources  # pylint: disable=import-outside-toplevel

  out, owned = _workdir(workdir)
  try:
    start = time.monotonic()
    evals = list(evals) if evals is not None else [launch.EvalConfig()]
    # Episode settings not owned by the recipe (context budget, judge groups,
    # feedback caps, ...) come from the gin-bound EnvConfig, as in training.
    evals = [e if e.env is not None else dataclasses.replace(e, env=launch.EnvConfig())
             for e in evals]
    names = [e.name for e in evals]
    if len(set(names)) != len(names):
      raise ValueError(f"eval recipes need distinct names, got {names}")
    checkpoints = dict(checkpoints) if checkpoints is not None else {"model": None}
    if not checkpoints:
      raise ValueError("eval_job.checkpoints is empty")
    for name, weights in checkpoints.items():
      check_checkpoint(name, weights)
    spec = launch.ModelSpec()
    launch.check_task(task, "eval_job.task")
    split = split or problem_sources.TASK_SPLITS.get(task, "test")
    rows = launch.load_problems(task, split if ":" in task else None, limit)
    if not rows:
      raise ValueError(f"task {task!r} gave no problems")
    tokenizer = launch.build_tokenizer(spec)
    mesh = launch.build_mesh(launch.MeshConfig()) if shard else None
    # Multi-process: every process evaluates every problem; only the primary
    # one (JAX process 0) writes files.
    primary = getattr(out, "primary", True)
    path = out.path / "rollouts.jsonl"
    if primary and path.exists():
      path.replace(out.path / "rollouts.previous.jsonl")
    stats, described, records = {}, {}, []
    rng = jax.random.key(seed)
    # One verdict cache for the job: checkpoints and modes often write the same program.
    from rlef_jax.env import cache as cache_lib  # pylint: disable=import-outside-toplevel

    cache = cache_lib.VerdictCache()
    with launch.build_judge(launch.JudgeSpec()) as judge:
      for c, (name, weights) in enumerate(checkpoints.items()):
        config, params = _policy_params(spec, weights, mesh)
        launch.check_tokenizer(spec, config, tokenizer)
        for e, cfg in enumerate(evals):
          policy = policy_factory(config, params, tokenizer, cfg) if policy_factory else None
          result = driver.run(cfg, problems=rows, judge=judge, tokenizer=tokenizer,
                              rng=jax.random.fold_in(jax.random.fold_in(rng, c), e),
                              workdir=out.path if primary else None, checkpoint=name,
                              split=split, policy=policy,
                              model_config=config, params=params, mesh=mesh,
                              cache=cache if cfg.env.verdict_cache else None)
          described.update(result.evals)
          records += result.records
          stats[f"{name}/{cfg.name}"] = result.stats
          for step, row in enumerate(result.rows):
            out.log(step, eval=cfg.name, **{k: row[k] for k in report.ROW_KEYS})
    # The report is recomputed from the file, so the file alone reproduces it.
    records = report.read_rollouts(path) if primary else records
    solve_rates = report.solve_rates(records, described)
    comparisons = report.comparisons(records, described)
    print(report.format_table(solve_rates))
    if not primary:
      return bool(solve_rates)
    images = plots.draw_all(solve_rates, out.path, plot_metrics)
    summary = plots.write_summary(solve_rates, images, out.path,
                                  title=f"rlef_jax evaluation: {task} ({split})",
                                  comparisons=comparisons)
    out.report({
        "job": "eval", "task": task, "split": split, "problems": len(rows),
        "checkpoints": checkpoints, "evals": described, "solve_rates": solve_rates,
        "comparisons": comparisons,
        "stats": stats, "plots": sorted(p.name for p in images.values()),
        "summary": [p.name for p in summary], "seconds": round(time.monotonic() - start, 3),
        "ok": bool(solve_rates),
    })
    return bool(solve_rates)
  finally:
    if owned:
      out.close()

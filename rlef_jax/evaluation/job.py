"""Evaluation of named models with `EvalConfig` recipes, written into a workdir.

For each named model and each recipe: load the policy, run the recipe's modes
on the problems through the judge, append the episodes to
`<workdir>/rollouts.jsonl`; then recompute every row from that file, write
`report.json` (`report["solve_rates"]`), the PNG plots and `summary.md` /
`summary.html`. The job starts its `rollouts.jsonl` afresh (an old one is
kept as `rollouts.previous.jsonl`).

The gin-launched `eval` job (`rlef_jax.jobs.eval_job`) resolves checkpoint
paths, problems, tokenizer, mesh and judge, then calls `evaluate`.

Example (library use, no gin):

    from rlef_jax import sampling
    from rlef_jax.evaluation import driver, job
    settings = sampling.SamplingSettings(temperature=0.2, top_p=0.95, max_new_tokens=32)
    with sandbox_runner.Judge() as judge:
      job.evaluate("runs/eval", rows=rows, models={"sft": lambda: (config, params)},
                   evals=[driver.EvalConfig(rollouts=2, turn_limits=(), sampling=settings)],
                   judge=judge, tokenizer=tok, task="rlef_bundled_test", split="test")
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Sequence

import jax

from rlef_jax.env import cache as cache_lib
from rlef_jax.evaluation import driver, plots, report
from rlef_jax.workdir import Workdir

ModelLoader = Callable[[], tuple[Any, Any]]  # () -> (LlamaConfig, params)


def evaluate(workdir, *, rows: Sequence[Mapping[str, Any]], models: Mapping[str, ModelLoader],
             evals: Sequence[driver.EvalConfig], judge, tokenizer, task: str, split: str,
             seed: int = 0, mesh=None, policy_factory=None,
             plot_metrics: Sequence[str] | None = None,
             checkpoints: Mapping[str, str | None] | None = None) -> bool:
  """Evaluates every model with every recipe; True when every row was computed.

  Args:
    workdir: a `rlef_jax.workdir.Workdir` or a folder path.
    rows: the problems.
    models: {name: loader}; each loader returns (config, params), called
      when its turn comes (one model in memory at a time).
    evals: the recipes (distinct names); a recipe with `env=None` runs with
      `EnvConfig()`'s defaults.
    judge: an open `sandbox_runner.Judge`.
    tokenizer: the models' tokenizer.
    task, split: names for the report and the rows.
    seed: the sampler's rng (each model and recipe folds in its index).
    mesh: where the sampler runs (None: the default device).
    policy_factory: tests only: `(config, params, tokenizer, eval_cfg) -> Policy`.
    plot_metrics: metrics of the before/after plot (default: all but turn sweeps).
    checkpoints: {name: path} for the report (default: {name: None}).
  """
  owned = not (hasattr(workdir, "path") and hasattr(workdir, "report"))
  out = Workdir(workdir) if owned else workdir
  try:
    start = time.monotonic()
    names = [e.name for e in evals]
    if not evals or len(set(names)) != len(names):
      raise ValueError(f"eval recipes need distinct names, got {names}")
    if not models:
      raise ValueError("no model to evaluate")
    if not rows:
      raise ValueError(f"task {task!r} gave no problems")
    # Multi-process: every process evaluates every problem; only the primary
    # one (JAX process 0) writes files.
    primary = out.primary
    path = out.path / "rollouts.jsonl"
    if primary and path.exists():
      path.replace(out.path / "rollouts.previous.jsonl")
    stats, described, records = {}, {}, []
    rng = jax.random.key(seed)
    # One verdict cache for the job: checkpoints and modes often write the same program.
    cache = cache_lib.VerdictCache()
    for c, (name, load) in enumerate(models.items()):
      config, params = load()
      for e, cfg in enumerate(evals):
        policy = policy_factory(config, params, tokenizer, cfg) if policy_factory else None
        result = driver.run(cfg, problems=rows, judge=judge, tokenizer=tokenizer,
                            rng=jax.random.fold_in(jax.random.fold_in(rng, c), e),
                            workdir=out.path if primary else None, checkpoint=name,
                            split=split, policy=policy,
                            model_config=config, params=params, mesh=mesh,
                            cache=cache if cfg.env is None or cfg.env.verdict_cache else None)
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
        "checkpoints": dict(checkpoints or {name: None for name in models}),
        "evals": described, "solve_rates": solve_rates, "comparisons": comparisons,
        "stats": stats, "plots": sorted(p.name for p in images.values()),
        "summary": [p.name for p in summary], "seconds": round(time.monotonic() - start, 3),
        "ok": bool(solve_rates),
    })
    return bool(solve_rates)
  finally:
    if owned:
      out.close()

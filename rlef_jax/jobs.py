"""The jobs of `python -m rlef_jax.main`: where gin-bound specs become objects.

Each job checks its settings (cheap, before anything heavy), builds what its
loop needs with `rlef_jax.launch`'s builders (mesh, model, tokenizer,
problems, judge) and hands the built objects to the loop, which knows nothing
of gin: `rl.trainer.Trainer`, `rl.sft.run`, `evaluation.job.evaluate`.

    train            RLEF: `TrainJob` -> `rl.trainer.Trainer`
    sft              `fine_tune` -> `rl.sft.run`
    eval             `eval_job` -> `evaluation.job.evaluate`
    pipeline         sft -> train (warm-started from the SFT model) -> eval
    judge_examples   `sandbox_runner`'s shipped examples judged in gVisor

Every job takes a `Workdir` and returns True when it succeeded. A bad setting
raises `launch.LaunchError` (one line, printed by `rlef_jax.main`).

Example (library use; the specs are plain dataclasses, no gin needed):

    from rlef_jax import jobs, launch
    report = jobs.TrainJob("runs/rlef", launch.TrainerConfig(rounds=2),
                           model=launch.ModelSpec(), ppo=launch.PPOConfig(),
                           env=launch.EnvConfig()).run()
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import time
from typing import Any, Callable, Mapping, Sequence

import gin
import jax
from sandbox_runner import demo as judge_demo

from rlef_jax import demo
from rlef_jax import launch
from rlef_jax.env import rollout as env_rollout
from rlef_jax.evaluation import driver
from rlef_jax.evaluation import job as eval_lib
from rlef_jax.evaluation import plots
from rlef_jax.evaluation import report as report_lib
from rlef_jax.models import precision
from rlef_jax.rl import logs
from rlef_jax.rl import sft as sft_lib
from rlef_jax.rl import trainer as trainer_lib
from rlef_jax.workdir import Workdir


def _config_error(err: ValueError) -> launch.LaunchError:
  return err if isinstance(err, launch.LaunchError) else launch.LaunchError(str(err))


# --- train ---------------------------------------------------------------------


class TrainJob:
  """RLEF from a `ModelSpec`: checks, builds, and runs a `rl.trainer.Trainer`.

  Args:
    workdir: the run's folder.
    cfg, ppo, env: the loop's, the update's and the episodes' settings.
    model: where the policy starts (also the frozen reference).
    mesh: the training mesh's shape (default: `MeshConfig()`).
    judge: the judge each process opens.
    policy_fn, on_round: passed to the Trainer.
    trainer_cls: the loop (a Trainer subclass, e.g. one that records what each
      update saw).

  After `run`, `.trainer` is the Trainer that ran (notebooks, tests, benchmarks).
  """

  def __init__(self, workdir: str | pathlib.Path, cfg: trainer_lib.TrainerConfig, *, model,
               ppo, env, mesh=None, judge=None, policy_fn=None,
               on_round: Callable[[int, dict], None] | None = None,
               trainer_cls: type[trainer_lib.Trainer] = trainer_lib.Trainer):
    self.workdir = pathlib.Path(workdir)
    self.cfg, self.model, self.ppo, self.env = cfg, model, ppo, env
    self.mesh_cfg = mesh or launch.MeshConfig()
    self.judge_spec = judge or launch.JudgeSpec()
    self.policy_fn, self.on_round, self.trainer_cls = policy_fn, on_round, trainer_cls
    self.trainer: trainer_lib.Trainer | None = None

  def validate(self) -> None:
    """LaunchError for a bad setting, before any model, judge or data is loaded."""
    cfg = self.cfg
    launch.check_task(cfg.train_task, "TrainerConfig.train_task")
    if cfg.valid_task is not None:
      launch.check_task(cfg.valid_task, "TrainerConfig.valid_task")
    launch.check_weights(self.model)
    if self.model.weights is None:
      launch.model_config(self.model)
    launch.sampler_dtype(self.model)
    shape = launch.check_mesh(self.mesh_cfg)
    try:
      trainer_lib.check_config(cfg, self.ppo, shape, jax.process_count())
    except ValueError as e:
      raise _config_error(e) from e

  def build(self, judge) -> trainer_lib.Trainer:
    """The Trainer, on its mesh, model, tokenizer and problems, judging with `judge`."""
    spec, cfg = self.model, self.cfg
    mesh = launch.build_mesh(self.mesh_cfg)
    config, params = launch.build_model(spec, mesh)
    tokenizer = launch.build_tokenizer(spec)
    launch.check_tokenizer(spec, config, tokenizer)
    value = launch.build_value_params(spec, config, params, mesh)
    rows = launch.load_problems(cfg.train_task)
    if not rows:
      raise launch.LaunchError(f"TrainerConfig.train_task = {cfg.train_task!r} has no problems")
    valid = (launch.load_problems(cfg.valid_task, limit=cfg.valid_problems)
             if cfg.valid_task else [])
    policy = precision.PrecisionPolicy(
        param_dtype=spec.param_dtype, compute_dtype=spec.compute_dtype,
        sampler_dtype=spec.sampler_dtype or spec.param_dtype, reference_dtype=spec.param_dtype)
    return self.trainer_cls(
        self.workdir, cfg, config=config, params=params, value_params=value,
        tokenizer=tokenizer, train_rows=rows, valid_rows=valid, mesh=mesh, judge=judge,
        ppo=self.ppo, env=self.env, precision_policy=policy, policy_fn=self.policy_fn,
        on_round=self.on_round)

  def run(self) -> dict[str, Any]:
    self.validate()
    start = time.monotonic()
    with launch.build_judge(self.judge_spec) as judge:
      self.trainer = self.build(judge)
      try:
        report = self.trainer.run()
      except trainer_lib.ResumeError as e:
        raise launch.LaunchError(str(e)) from e
    report["seconds"] = time.monotonic() - start
    return report


def _train_job(path: pathlib.Path, model=None) -> TrainJob:
  return TrainJob(path, launch.TrainerConfig(), model=model or launch.ModelSpec(),
                  ppo=launch.PPOConfig(), env=launch.EnvConfig(), mesh=launch.MeshConfig(),
                  judge=launch.JudgeSpec())


@gin.configurable(denylist=["workdir"])
def train(workdir: Workdir) -> bool:
  """RLEF from `ModelSpec` with `TrainerConfig`, `PPOConfig`, `EnvConfig`, ..."""
  report = _train_job(workdir.path).run()
  workdir.report(report)
  return report["ok"]


# --- sft -----------------------------------------------------------------------


def check_sft(cfg: sft_lib.SFTConfig, model, mesh_cfg) -> tuple[int, int, int]:
  """LaunchError for a bad SFT setting, before anything is loaded; the mesh shape."""
  if ":" in cfg.source:
    launch.check_task(cfg.source, "SFTConfig.source")
  elif not sft_lib.source_needs_rows(cfg.source):
    raise launch.LaunchError(f"SFTConfig.source = {cfg.source!r}: use 'solutions', a rollouts "
                             ".jsonl file or 'package.module:function'")
  elif cfg.source.endswith(".jsonl") and not pathlib.Path(cfg.source).is_file():
    raise launch.LaunchError(f"SFTConfig.source = {cfg.source!r}: no such file")
  if sft_lib.source_needs_rows(cfg.source):
    launch.check_task(cfg.task, "SFTConfig.task")
  launch.check_weights(model)
  if model.weights is None:
    launch.model_config(model)
  shape = launch.check_mesh(mesh_cfg)
  try:
    sft_lib.check_config(cfg, shape, jax.process_count())
  except ValueError as e:
    raise _config_error(e) from e
  return shape


def fine_tune(workdir: str | pathlib.Path, cfg: sft_lib.SFTConfig, model, mesh_cfg=None
            ) -> dict[str, Any]:
  """Checks, builds and runs SFT of `model` on `cfg`'s dialogs (`rl.sft.run`)."""
  mesh_cfg = mesh_cfg or launch.MeshConfig()
  check_sft(cfg, model, mesh_cfg)
  mesh = launch.build_mesh(mesh_cfg)
  config, params = launch.build_model(model, mesh)
  tokenizer = launch.build_tokenizer(model)
  launch.check_tokenizer(model, config, tokenizer)
  rows = launch.load_problems(cfg.task) if sft_lib.source_needs_rows(cfg.source) else None
  try:
    dialogs = sft_lib.load_dialogs(cfg, rows)
    return sft_lib.run(workdir, cfg, config=config, params=params, tokenizer=tokenizer,
                       mesh=mesh, dialogs=dialogs)
  except sft_lib.SettingsError as e:  # the settings' fault, said in one line
    raise _config_error(e) from e


@gin.configurable(denylist=["workdir"])
def sft(workdir: Workdir) -> bool:
  """SFT of `ModelSpec` with `SFTConfig`; the result is `load_policy(workdir)`."""
  report = fine_tune(workdir.path, launch.SFTConfig(), launch.ModelSpec(), launch.MeshConfig())
  workdir.report(report)
  return report["ok"]


# --- eval ----------------------------------------------------------------------


def check_checkpoint(name: str, path: str | None) -> None:
  """LaunchError (before any episode runs) when `path` is no checkpoint `load_policy` reads."""
  if path is None:
    return
  folder = launch.resolve_weights(path)
  if not folder.is_dir():
    raise launch.LaunchError(f"checkpoint {name!r} = {path!r} is not a folder; give a training "
                             "workdir, an orbax step folder or a Hugging Face folder")
  try:
    launch.check_policy_folder(folder)
  except launch.LaunchError as e:  # say which checkpoint it was
    raise launch.LaunchError(f"checkpoint {name!r}: {e}") from e


def load_checkpoint(spec, path: str | None, mesh=None) -> tuple[Any, Any]:
  """(config, params) of a checkpoint path (None: the model `spec` describes)."""
  if path is not None:
    spec = dataclasses.replace(spec, weights=str(launch.resolve_weights(path)))
  return launch.build_model(spec, mesh)


@gin.configurable(denylist=["workdir", "check_only"])
def eval_job(workdir, task: str = "rlef_bundled_test", split: str | None = None,
             limit: int | None = None,
             checkpoints: Mapping[str, str | None] | None = None,
             evals: Sequence[driver.EvalConfig] | None = None, seed: int = 0,
             shard: bool = True, policy_factory=None, plot_metrics: Sequence[str] | None = None,
             check_only: bool = False) -> bool:
  """Evaluates every checkpoint with every recipe (`evaluation.job.evaluate`).

  Args:
    workdir: a `rlef_jax.workdir.Workdir` or a folder path.
    task: a `launch.load_problems` task (`rlef_bundled_test`, `code_contests_test`,
      `code_contests_valid`, `humaneval`, or "module:function").
    split: the split name for the rows (default: the task's own).
    limit: evaluate only the first `limit` problems.
    checkpoints: {name: path or None}; default {"model": None} (ModelSpec's
      model). A path is a training workdir (best, else latest step), an orbax
      step folder or a Hugging Face folder (`checkpoints.state.load_policy`).
    evals: the recipes; default one `EvalConfig()` as gin binds it.
    seed: the sampler's rng (each checkpoint and recipe folds in its index).
    shard: place params on the `MeshConfig` mesh (False: the default device).
    policy_factory: tests only: `(config, params, tokenizer, eval_cfg) -> Policy`.
    plot_metrics: metrics of the before/after plot (default: all but turn sweeps).
    check_only: build the recipes and check the task, then return True
      (nothing loaded; `pipeline` checks its last stage before the first).
  """
  evals = list(evals) if evals is not None else [launch.EvalConfig()]
  launch.check_task(task, "eval_job.task")
  if check_only:
    return True
  # Episode settings not owned by the recipe (context budget, judge groups,
  # feedback caps, ...) come from the gin-bound EnvConfig, as in training.
  evals = [e if e.env is not None else dataclasses.replace(e, env=launch.EnvConfig())
           for e in evals]
  checkpoints = dict(checkpoints) if checkpoints is not None else {"model": None}
  if not checkpoints:
    raise launch.LaunchError("eval_job.checkpoints is empty")
  for name, weights in checkpoints.items():
    check_checkpoint(name, weights)
  spec = launch.ModelSpec()
  split = split or launch.task_split(task)
  rows = launch.load_problems(task, split if ":" in task else None, limit)
  if not rows:
    raise launch.LaunchError(f"eval_job.task = {task!r} gave no problems")
  if (any("random_feedback" in e.modes for e in evals)
      and not env_rollout.random_feedback_ready(rows)):
    raise launch.LaunchError(
        f"eval_job.task = {task!r}: EvalConfig.modes has random_feedback, but the problems "
        "hold no wrong Python 3 solutions (incorrect_solutions) of two or more stdin/stdout "
        "problems to draw the random feedback from (HumanEval has none); drop the mode")
  tokenizer = launch.build_tokenizer(spec)
  mesh = launch.build_mesh(launch.MeshConfig()) if shard else None

  def loader(weights):
    def load():
      config, params = load_checkpoint(spec, weights, mesh)
      launch.check_tokenizer(spec, config, tokenizer)
      return config, params
    return load

  with launch.build_judge(launch.JudgeSpec()) as judge:
    return eval_lib.evaluate(
        workdir, rows=rows, models={name: loader(w) for name, w in checkpoints.items()},
        evals=evals, judge=judge, tokenizer=tokenizer, task=task, split=split, seed=seed,
        mesh=mesh, policy_factory=policy_factory, plot_metrics=plot_metrics,
        checkpoints=checkpoints)


# --- pipeline ------------------------------------------------------------------


@gin.configurable(denylist=["workdir"])
def pipeline(workdir: Workdir, run_sft: bool = True, run_eval: bool = True,
             claims: bool = False) -> bool:
  """SFT (in `sft/`), RLEF warm-started from it (in `rlef/`), then evaluation of both.

  `claims`: also test the paper's three claims on the evaluation
  (`rlef_jax.demo.add_claims`) and put them into both reports.

  Every stage resumes: a finished stage's checkpoint is reused, an interrupted
  one continues from its latest checkpoint.
  """
  start = time.monotonic()
  report: dict[str, Any] = {"job": "pipeline", "stages": {}}
  spec = launch.ModelSpec()
  # Every stage's settings are checked before the first one starts.
  _train_job(workdir.path / "rlef", spec).validate()
  if run_sft:
    check_sft(launch.SFTConfig(), spec, launch.MeshConfig())
  if run_eval:
    eval_job(None, check_only=True)  # the recipes (gin builds them) and the task
  if run_sft:
    t0 = time.monotonic()
    report["sft"] = fine_tune(workdir.path / "sft", launch.SFTConfig(), spec, launch.MeshConfig())
    report["stages"]["sft_s"] = time.monotonic() - t0
    spec = dataclasses.replace(spec, weights=str(workdir.path / "sft"))
  t0 = time.monotonic()
  report["train"] = _train_job(workdir.path / "rlef", spec).run()
  report["stages"]["train_s"] = time.monotonic() - t0
  if workdir.primary and (workdir.path / "rlef" / "metrics.jsonl").exists():
    metrics_path = workdir.path / "rlef" / "metrics.jsonl"
    plots.training_curves(metrics_path, workdir.path / "rlef" / "training_curves.png")
    report["training_curve"] = report_lib.training_curve(metrics_path)
    rollouts_path = workdir.path / "rlef" / "rollouts.jsonl"
    if rollouts_path.exists():
      report["training_public_vs_private"] = report_lib.public_vs_private(
          report_lib.read_rollouts(rollouts_path))
  report["timings"] = report["train"]["timings"]
  report["overlap"] = report["train"]["overlap"]
  if run_eval:
    t0 = time.monotonic()
    checkpoints = {"rlef": str(workdir.path / "rlef")}
    if run_sft:
      checkpoints = {"sft": str(workdir.path / "sft"), **checkpoints}
    elif spec.weights is not None:  # a shipped warm start: evaluated as "sft"
      # A GGUF model is no checkpoint folder: None evaluates ModelSpec's own model.
      warm = None if launch.is_gguf(spec.weights) else str(launch.resolve_weights(spec.weights))
      checkpoints = {"sft": warm, **checkpoints}
    eval_dir = Workdir(workdir.path / "eval", primary=workdir.primary,
                       config_text=workdir.config_text)
    try:
      eval_ok = eval_job(eval_dir, checkpoints=checkpoints)
    finally:
      eval_dir.close()
    evaluation = {"ok": eval_ok}
    if workdir.primary:
      eval_report = json.loads((eval_dir.path / "report.json").read_text())
      evaluation.update({k: eval_report[k] for k in ("solve_rates", "evals") if k in eval_report})
      evaluation["eval_report"] = str(eval_dir.path / "report.json")
    report["stages"]["eval_s"] = time.monotonic() - t0
    report.update(evaluation)
    report["ok_eval"] = evaluation["ok"]
  report["peak_rss_mb"] = logs.peak_rss_mb()
  report["seconds"] = time.monotonic() - start
  report["ok"] = bool(report["train"]["ok"] and report.get("ok", True))
  workdir.report(report)
  if claims and run_eval and workdir.primary:
    for name, claim in demo.add_claims(workdir.path).items():
      print(f"claim {name}: held={claim['held']} difference={claim['difference']:+.3f} "
            f"ci95={claim['ci95']}")
  return report["ok"]


# --- judge_examples -------------------------------------------------------------


@gin.configurable(denylist=["workdir"])
def judge_examples(workdir: Workdir, backend: str = "gvisor") -> bool:
  """Judges `sandbox_runner`'s shipped examples; True when every verdict is the expected one."""
  start = time.monotonic()
  outcomes = judge_demo.judge_examples(backend=backend)
  for step, outcome in enumerate(outcomes):
    workdir.log(step, **outcome.to_json())
  print(judge_demo.format_table(outcomes))
  mismatches = [o.name for o in outcomes if not o.ok]
  workdir.report({
      "job": "judge_examples",
      "backend": backend,
      "solutions": len(outcomes),
      "mismatches": mismatches,
      "verdicts": {o.name: o.verdict for o in outcomes},
      "seconds": round(time.monotonic() - start, 3),
      "ok": not mismatches,
  })
  return not mismatches


JOBS: dict[str, Callable[[Workdir], bool]] = {
    "judge_examples": judge_examples,
    "train": train,
    "sft": sft,
    "eval": eval_job,
    "pipeline": pipeline,
}

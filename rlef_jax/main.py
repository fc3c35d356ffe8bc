"""Entry point for every rlef_jax job: absl flags + gin recipes.

    python -m rlef_jax.main --gin_file=gin/tiny_cpu.gin \\
        [--gin_bindings='TrainerConfig.rounds = 4'] [--workdir=runs/demo]

A gin file names the job (`run.job = "pipeline"`) and configures it. Every
job writes `metrics.jsonl` (one JSON object per logged step) and a final
`report.json` into its work directory (a relative `--workdir` is relative to
the directory the command runs in), and exits non-zero when it failed.
Launching the same command again on the same workdir resumes training from
its latest checkpoint.

Jobs:
  train            RLEF: PPO on multi-turn episodes judged in gVisor (rl/trainer.py)
  sft              next-token loss on the last, successful response of each dialog
  eval             the evaluation driver (rlef_jax.evaluation.job.eval_job)
  pipeline         sft -> train (warm-started from the SFT model) -> evaluation
  judge_examples   judge the example problems and solutions shipped with
                   `sandbox_runner` in gVisor and check every verdict.

A bad setting (gin typo, missing gin file, unknown job, missing weights
folder, impossible mesh, unknown dataset) is one line on stderr, exit 2, no
traceback, before anything heavy starts.
"""

from __future__ import annotations

import dataclasses
import json
import logging as pylogging
import pathlib
import sys
import time
from typing import Any, Callable

import gin
from absl import app, flags, logging

from rlef_jax.workdir import Workdir

_GIN_FILE = flags.DEFINE_multi_string("gin_file", [], "Gin files, applied in order.")
_GIN_BINDINGS = flags.DEFINE_multi_string("gin_bindings", [], "Gin bindings, after the files.")
_WORKDIR = flags.DEFINE_string("workdir", None, "Overrides run.workdir (relative: to the cwd).")

# The project's gin/ folder: gin files are looked up in the cwd first, then here.
GIN_DIR = pathlib.Path(__file__).resolve().parent.parent / "gin"


@gin.configurable(denylist=["workdir"])
def judge_examples(workdir: Workdir, backend: str = "gvisor") -> bool:
  """Judges `sandbox_runner`'s shipped examples; True when every verdict is the expected one."""
  from sandbox_runner import demo  # pylint: disable=import-outside-toplevel

  start = time.monotonic()
  outcomes = demo.judge_examples(backend=backend)
  for step, outcome in enumerate(outcomes):
    workdir.log(step, **outcome.to_json())
  print(demo.format_table(outcomes))
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


def _trainer(path: pathlib.Path, model=None):
  from rlef_jax import launch  # pylint: disable=import-outside-toplevel
  from rlef_jax.rl import trainer  # pylint: disable=import-outside-toplevel

  return trainer.Trainer(path, launch.TrainerConfig(), model=model or launch.ModelSpec(),
                         ppo=launch.PPOConfig(), env=launch.EnvConfig(),
                         mesh=launch.MeshConfig(), judge=launch.JudgeSpec())


def _sft(path: pathlib.Path) -> dict[str, Any]:
  from rlef_jax import launch  # pylint: disable=import-outside-toplevel
  from rlef_jax.rl import sft  # pylint: disable=import-outside-toplevel

  return sft.run(path, launch.SFTConfig(), launch.ModelSpec(), launch.MeshConfig())


@gin.configurable(denylist=["workdir"])
def train(workdir: Workdir) -> bool:
  """RLEF from `ModelSpec` with `TrainerConfig`, `PPOConfig`, `EnvConfig`, ..."""
  report = _trainer(workdir.path).run()
  workdir.report(report)
  return report["ok"]


@gin.configurable(denylist=["workdir"])
def sft(workdir: Workdir) -> bool:
  """SFT of `ModelSpec` with `SFTConfig`; the result is `load_policy(workdir)`."""
  report = _sft(workdir.path)
  workdir.report(report)
  return report["ok"]


def eval_job(workdir: Workdir) -> bool:
  from rlef_jax.evaluation import job  # pylint: disable=import-outside-toplevel

  return job.eval_job(workdir)


def _bound(name: str) -> bool:
  try:
    gin.query_parameter(name)
    return True
  except ValueError:
    return False


@gin.configurable(denylist=["workdir"])
def pipeline(workdir: Workdir, run_sft: bool = True, run_eval: bool = True,
             claims: bool = False) -> bool:
  """SFT (in `sft/`), RLEF warm-started from it (in `rlef/`), then evaluation of both.

  `claims`: also test the paper's three claims on the evaluation
  (`rlef_jax.demo.add_claims`) and put them into both reports.

  Every stage resumes: a finished stage's checkpoint is reused, an interrupted
  one continues from its latest checkpoint.
  """
  from rlef_jax import launch  # pylint: disable=import-outside-toplevel

  start = time.monotonic()
  report: dict[str, Any] = {"job": "pipeline", "stages": {}}
  spec = launch.ModelSpec()
  # Every stage's settings are checked before the first one starts.
  _trainer(workdir.path / "rlef", spec).validate()
  if run_sft:
    from rlef_jax.rl import sft as sft_lib  # pylint: disable=import-outside-toplevel

    sft_lib.validate(launch.SFTConfig(), spec, launch.MeshConfig())
  if run_eval:
    launch.check_task(gin.query_parameter("eval_job.task") if _bound("eval_job.task")
                      else "rlef_bundled_test", "eval_job.task")
  if run_sft:
    t0 = time.monotonic()
    report["sft"] = _sft(workdir.path / "sft")
    report["stages"]["sft_s"] = time.monotonic() - t0
    spec = dataclasses.replace(spec, weights=str(workdir.path / "sft"))
  t0 = time.monotonic()
  report["train"] = _trainer(workdir.path / "rlef", spec).run()
  report["stages"]["train_s"] = time.monotonic() - t0
  if workdir.primary and (workdir.path / "rlef" / "metrics.jsonl").exists():
    from rlef_jax.evaluation import plots  # pylint: disable=import-outside-toplevel
    from rlef_jax.evaluation import report as report_lib  # pylint: disable=import-outside-toplevel

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
    from rlef_jax.evaluation import job  # pylint: disable=import-outside-toplevel

    t0 = time.monotonic()
    checkpoints = {"rlef": str(workdir.path / "rlef")}
    if run_sft:
      checkpoints = {"sft": str(workdir.path / "sft"), **checkpoints}
    elif spec.weights is not None:  # a shipped warm start: evaluated as "sft"
      checkpoints = {"sft": str(launch.resolve_weights(spec.weights)), **checkpoints}
    eval_dir = Workdir(workdir.path / "eval", primary=workdir.primary)
    try:
      eval_ok = job.eval_job(eval_dir, checkpoints=checkpoints)
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
  from rlef_jax.rl import logs  # pylint: disable=import-outside-toplevel

  report["peak_rss_mb"] = logs.peak_rss_mb()
  report["seconds"] = time.monotonic() - start
  report["ok"] = bool(report["train"]["ok"] and report.get("ok", True))
  workdir.report(report)
  if claims and run_eval and workdir.primary:
    from rlef_jax import demo  # pylint: disable=import-outside-toplevel

    for name, claim in demo.add_claims(workdir.path).items():
      print(f"claim {name}: held={claim['held']} difference={claim['difference']:+.3f} "
            f"ci95={claim['ci95']}")
  return report["ok"]


JOBS: dict[str, Callable[[Workdir], bool]] = {
    "judge_examples": judge_examples,
    "train": train,
    "sft": sft,
    "eval": eval_job,
    "pipeline": pipeline,
}


class UsageError(Exception):
  """A launch mistake reported as one line (no traceback)."""


@gin.configurable
def run(job: str = gin.REQUIRED, workdir: str = "runs/latest",
        compilation_cache: str | None = "compile_cache") -> bool:
  """Runs the named job in `workdir` (relative: to the directory the command runs in).

  `compilation_cache`: JAX's persistent compilation cache, a folder of the
  work directory (absolute: anywhere; None: off), so a relaunch compiles
  nothing it compiled before (`launch.enable_compilation_cache`).
  """
  if job not in JOBS:
    raise UsageError(f"unknown job {job!r}; known: {', '.join(sorted(JOBS))} "
                     "(set run.job in the gin file or with --gin_bindings)")
  import jax  # pylint: disable=import-outside-toplevel

  from rlef_jax import launch  # pylint: disable=import-outside-toplevel

  launch.initialize_distributed(launch.DistributedSpec())
  out = Workdir(launch.resolve_workdir(_WORKDIR.value or workdir),
                primary=jax.process_index() == 0)
  logging.info("job %s, workdir %s", job, out.path)
  if compilation_cache is not None:
    launch.enable_compilation_cache(out.path / compilation_cache)
  try:
    return JOBS[job](out)
  finally:
    out.close()


def resolve_gin_file(name: str) -> str:
  """`name` as given if it exists, else under the project's gin/ folder."""
  for path in (pathlib.Path(name), GIN_DIR / name, GIN_DIR / pathlib.Path(name).name):
    if path.is_file():
      return str(path)
  raise UsageError(f"gin file {name!r} not found (looked in {pathlib.Path.cwd()} and "
                   f"{GIN_DIR}); known: {', '.join(sorted(p.name for p in GIN_DIR.glob('*.gin')))}")


def register_configurables() -> None:
  """Imports every module with configurables, so gin can check every binding."""
  from rlef_jax import launch  # pylint: disable=import-outside-toplevel

  launch.register_all()
  try:
    from rlef_jax.evaluation import job  # noqa: F401  # pylint: disable=import-outside-toplevel,unused-import
  except ModuleNotFoundError as e:
    if not (e.name or "").startswith("rlef_jax.evaluation"):
      raise


def _parse(files: list[str], bindings: list[str]) -> None:
  paths = [resolve_gin_file(f) for f in files]
  gin.add_config_file_search_path(str(GIN_DIR))
  try:
    gin.parse_config_files_and_bindings(paths, bindings)
  except (ValueError, SyntaxError, KeyError, TypeError, OSError) as e:
    where = " ".join(str(e).split("\n  In call to configurable")[0].split())
    raise UsageError(f"bad gin config: {where} (check the spelling against the configurables "
                     "in rlef_jax/launch.py and the job's docstring)") from e


class _QuietLibraries(pylogging.Filter):
  """Drops INFO lines of orbax (dozens per checkpoint); warnings still show."""

  def filter(self, record: pylogging.LogRecord) -> bool:
    return record.levelno >= pylogging.WARNING or "/orbax/" not in record.pathname


def main(argv) -> None:
  pylogging.getLogger("absl").addFilter(_QuietLibraries())
  if len(argv) > 1:
    _fail(f"unexpected arguments {argv[1:]}; use --gin_file/--gin_bindings/--workdir")
  if not _GIN_FILE.value:
    _fail("give at least one --gin_file (see gin/)")
  from rlef_jax import launch  # pylint: disable=import-outside-toplevel
  from rlef_jax.checkpoints import CheckpointError  # pylint: disable=import-outside-toplevel

  try:
    register_configurables()
    _parse(_GIN_FILE.value, _GIN_BINDINGS.value)
    ok = run()
  except (UsageError, launch.LaunchError, CheckpointError) as e:
    # gin appends "In call to configurable ..." lines; the first part is the message.
    _fail(" ".join(str(e).split("\n  In call to configurable")[0].split()))
  sys.exit(0 if ok else 1)


def _fail(message: str) -> None:
  print(f"rlef_jax.main: error: {message}", file=sys.stderr, flush=True)
  sys.exit(2)


if __name__ == "__main__":
  app.run(main)

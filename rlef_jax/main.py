"""Entry point for every rlef_jax job: absl flags + gin recipes.

    python -m rlef_jax.main --gin_file=gin/tiny_cpu.gin \\
        [--gin_bindings='TrainerConfig.rounds = 4'] [--workdir=runs/demo]

A gin file names the job (`run.job = "pipeline"`) and configures it. Every
job writes `metrics.jsonl` (one JSON object per logged step) and a final
`report.json` into its work directory (a relative `--workdir` is relative to
the directory the command runs in), and exits non-zero when it failed.
Launching the same command again on the same workdir resumes training from
its latest checkpoint.

Jobs (rlef_jax/jobs.py builds each one's objects and runs its loop):
  train            RLEF: PPO on multi-turn episodes judged in gVisor (rl/trainer.py)
  sft              next-token loss on the last, successful response of each dialog
  eval             the evaluation driver (rlef_jax.jobs.eval_job)
  pipeline         sft -> train (warm-started from the SFT model) -> evaluation
  judge_examples   judge the example problems and solutions shipped with
                   `sandbox_runner` in gVisor and check every verdict.

A bad setting (gin typo, missing gin file, unknown job, missing weights
folder, impossible mesh, unknown dataset) is one line on stderr, exit 2, no
traceback, before anything heavy starts.
"""

from __future__ import annotations

import logging as pylogging
import pathlib
import re
import sys

import gin
import jax
from absl import app, flags, logging

from rlef_jax import jobs
from rlef_jax import launch
from rlef_jax.checkpoints import CheckpointError
from rlef_jax.jobs import JOBS  # noqa: F401  (the job table, by `run.job` name)
from rlef_jax.workdir import Workdir

_GIN_FILE = flags.DEFINE_multi_string("gin_file", [], "Gin files, applied in order.")
_GIN_BINDINGS = flags.DEFINE_multi_string("gin_bindings", [], "Gin bindings, after the files.")
_WORKDIR = flags.DEFINE_string("workdir", None, "Overrides run.workdir (relative: to the cwd).")

# The project's gin/ folder: gin files are looked up in the cwd first, then here.
GIN_DIR = pathlib.Path(__file__).resolve().parent.parent / "gin"


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
  if job not in jobs.JOBS:
    raise UsageError(f"unknown job {job!r}; known: {', '.join(sorted(jobs.JOBS))} "
                     "(set run.job in the gin file or with --gin_bindings)")
  launch.initialize_distributed(launch.DistributedSpec())
  out = Workdir(launch.resolve_workdir(_WORKDIR.value or workdir),
                primary=jax.process_index() == 0, config_text=gin.operative_config_str)
  logging.info("job %s, workdir %s", job, out.path)
  if compilation_cache is not None:
    launch.enable_compilation_cache(out.path / compilation_cache)
  try:
    return jobs.JOBS[job](out)
  finally:
    out.close()


def resolve_gin_file(name: str) -> str:
  """`name` as given if it exists, else under the project's gin/ folder."""
  for path in (pathlib.Path(name), GIN_DIR / name, GIN_DIR / pathlib.Path(name).name):
    if path.is_file():
      return str(path)
  raise UsageError(f"gin file {name!r} not found (looked in {pathlib.Path.cwd()} and "
                   f"{GIN_DIR}); known: {', '.join(sorted(p.name for p in GIN_DIR.glob('*.gin')))}")


def _parse(files: list[str], bindings: list[str]) -> None:
  paths = [resolve_gin_file(f) for f in files]
  gin.add_config_file_search_path(str(GIN_DIR))
  try:
    gin.parse_config_files_and_bindings(paths, bindings)
  except (ValueError, SyntaxError, KeyError, TypeError, OSError) as e:
    where = " ".join(str(e).split("\n  In call to configurable")[0].split())
    raise UsageError(f"bad gin config: {where} ({_moved_hint(where)})") from e


# Parameters that moved into one `SamplingSettings` per use (gin scope).
_MOVED = {f"{owner}.{name}": f"{scope}/SamplingSettings.{name}"
          for owner, scope in (("TrainerConfig", "train"), ("EvalConfig", "eval"))
          for name in ("temperature", "top_p", "top_k", "max_new_tokens")}


def _moved_hint(message: str) -> str:
  for old, new in _MOVED.items():
    owner, name = old.split(".")
    if f"'{owner}' doesn't have a parameter named '{name}'" in message:
      return (f"{old} moved: write {new} (base.gin binds {owner}.sampling = "
              f"@{new.split('.')[0]}())")
  return "check the spelling against the configurables in rlef_jax/launch.py and the job's docstring"


class _QuietLibraries(pylogging.Filter):
  """Drops INFO lines of orbax (dozens per checkpoint), and gin's resource
  reader's "Path not found: base.gin": gin tries every include name as a
  Python package path before the search paths (`GIN_DIR` is one), so every
  include of a recipe logged a false ERROR. A file that is really missing is
  still one clear error (gin's IOError, printed by `main`)."""

  def filter(self, record: pylogging.LogRecord) -> bool:
    if record.pathname.endswith(("gin/resource_reader.py", "gin\\resource_reader.py")):
      return record.levelno > pylogging.ERROR
    return record.levelno >= pylogging.WARNING or "/orbax/" not in record.pathname


def main(argv) -> None:
  quiet = _QuietLibraries()
  pylogging.getLogger("absl").addFilter(quiet)
  for handler in pylogging.getLogger().handlers:  # gin logs through the root logger
    handler.addFilter(quiet)
  if len(argv) > 1:
    _fail(f"unexpected arguments {argv[1:]}; use --gin_file/--gin_bindings/--workdir")
  if not _GIN_FILE.value:
    _fail("give at least one --gin_file (see gin/)")
  try:
    _parse(_GIN_FILE.value, _GIN_BINDINGS.value)
    ok = run()
  except (UsageError, launch.LaunchError, CheckpointError) as e:
    # gin appends "In call to configurable ..." lines; the first part is the message.
    _fail(" ".join(str(e).split("\n  In call to configurable")[0].split()))
  except (ValueError, TypeError) as e:
    # A settings dataclass refusing its values is bad input too: one line,
    # naming the configurable (and scope) gin was building. Anything else
    # keeps its traceback.
    origin = _config_origin(str(e))
    if origin is None:
      raise
    _fail(f"bad {origin}: " + " ".join(str(e).split("\n  In call to configurable")[0].split()))
  sys.exit(0 if ok else 1)


def _config_origin(message: str) -> str | None:
  """`scope/Name` of the settings class whose constructor raised, from gin's note."""
  match = re.search(r"\n  In call to configurable '(\w+)' \([^\n]*?\)(?: in scope '([\w/]+)')?",
                    message)
  if match is None or match.group(1) not in launch.SETTINGS:
    return None
  return f"{match.group(2)}/{match.group(1)}" if match.group(2) else match.group(1)


def _fail(message: str) -> None:
  print(f"rlef_jax.main: error: {message}", file=sys.stderr, flush=True)
  sys.exit(2)


if __name__ == "__main__":
  app.run(main)

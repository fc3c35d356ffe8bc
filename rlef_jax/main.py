"""Entry point for every rlef_jax job: absl flags + gin recipes.

    python -m rlef_jax.main --gin_file=gin/judge_examples.gin \\
        [--gin_bindings='run.workdir = "runs/demo"'] [--workdir=runs/demo]

A gin file names the job (`run.job = "judge_examples"`) and configures it.
Every job writes `metrics.jsonl` (one JSON object per logged step) and a final
`report.json` into its work directory, and exits non-zero when it failed.

Jobs:
  judge_examples   judge the example problems and solutions shipped with
                   `sandbox_runner` in gVisor and check every verdict.
The RL jobs (train, eval, sft) join this table as they land.
"""

from __future__ import annotations

import json
import pathlib
import sys
import time
from typing import Any, Callable

import gin
from absl import app, flags, logging

_GIN_FILE = flags.DEFINE_multi_string("gin_file", [], "Gin files, applied in order.")
_GIN_BINDINGS = flags.DEFINE_multi_string("gin_bindings", [], "Gin bindings, after the files.")
_WORKDIR = flags.DEFINE_string("workdir", None, "Overrides run.workdir.")


class Workdir:
  """A job's output folder: `metrics.jsonl` appended per step, `report.json` at the end."""

  def __init__(self, path: str | pathlib.Path):
    self.path = pathlib.Path(path)
    self.path.mkdir(parents=True, exist_ok=True)
    self._metrics = open(self.path / "metrics.jsonl", "a", encoding="utf-8")

  def log(self, step: int, **metrics: Any) -> None:
    self._metrics.write(json.dumps({"step": step, "time": time.time(), **metrics}) + "\n")
    self._metrics.flush()

  def report(self, report: dict[str, Any]) -> None:
    (self.path / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (self.path / "operative_config.gin").write_text(gin.operative_config_str())

  def close(self) -> None:
    self._metrics.close()


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


JOBS: dict[str, Callable[[Workdir], bool]] = {
    "judge_examples": judge_examples,
}


@gin.configurable
def run(job: str = gin.REQUIRED, workdir: str = "runs/latest") -> bool:
  """Runs the named job in `workdir`."""
  if job not in JOBS:
    raise ValueError(f"unknown job {job!r}; known: {', '.join(sorted(JOBS))}")
  out = Workdir(_WORKDIR.value or workdir)
  logging.info("job %s, workdir %s", job, out.path)
  try:
    return JOBS[job](out)
  finally:
    out.close()


def main(argv) -> None:
  del argv
  if not _GIN_FILE.value:
    raise app.UsageError("give at least one --gin_file (see gin/)")
  gin.parse_config_files_and_bindings(_GIN_FILE.value, _GIN_BINDINGS.value)
  sys.exit(0 if run() else 1)


if __name__ == "__main__":
  app.run(main)

"""Run logs: clu metric writers (TensorBoard + console), metrics.jsonl, memory.

Only the primary process (JAX process 0) writes; the others get a logger that
drops everything, so call sites need no `if process_index() == 0`.

On resume the JSON-lines files are cut back to the restored step, so a run
killed after logging a round but before checkpointing it logs that round once
(TensorBoard keeps the last value it sees for a step).

Example:

    from rlef_jax.rl import logs
    log = logs.RunLog(workdir, primary=jax.process_index() == 0, resume_step=3)
    log.scalars(4, {"reward_mean": 0.1, "update_s": 2.0})
    log.jsonl("rollouts.jsonl", [record.to_json() | {"round": 4}])
    log.close()
"""

from __future__ import annotations

import json
import os
import pathlib
import resource
import time
from typing import Any, Iterable, Mapping



def rss_mb() -> float:
  """Resident set size of this process now, MiB (Linux /proc; 0 elsewhere)."""
  try:
    with open("/proc/self/status", encoding="ascii") as f:
      for line in f:
        if line.startswith("VmRSS:"):
          return int(line.split()[1]) / 1024.0
  except OSError:
    pass
  return 0.0


def peak_rss_mb() -> float:
  """Peak resident set size of this process so far, MiB."""
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def truncate_jsonl(path: pathlib.Path, keep_upto: int, key: str = "step") -> int:
  """Drops the lines of `path` whose `key` exceeds `keep_upto`; returns lines dropped."""
  if not path.is_file():
    return 0
  kept, dropped = [], 0
  for line in path.read_text(encoding="utf-8").splitlines():
    try:
      ok = json.loads(line).get(key, 0) <= keep_upto
    except json.JSONDecodeError:  # a line cut by the kill
      ok = False
    if ok:
      kept.append(line)
    else:
      dropped += 1
  tmp = path.with_suffix(path.suffix + ".tmp")
  tmp.write_text("".join(l + "\n" for l in kept), encoding="utf-8")
  os.replace(tmp, path)
  return dropped


class RunLog:
  """Scalars to TensorBoard + console + metrics.jsonl; records to JSON-lines files.

  Args:
    workdir: the job's folder (TensorBoard events under `workdir/tensorboard`).
    primary: whether this process writes (JAX process 0).
    resume_step: if given, `metrics.jsonl` lines with a larger `step` and
      lines of `files` with a larger `round` are removed first.
    files: JSON-lines files (besides metrics.jsonl) that `jsonl` appends to.
  """

  def __init__(self, workdir: str | pathlib.Path, primary: bool = True,
               resume_step: int | None = None, files: Iterable[str] = ("rollouts.jsonl",)):
    self.workdir = pathlib.Path(workdir)
    self.primary = primary
    self._writer = None
    self._files: dict[str, Any] = {}
    if not primary:
      return
    self.workdir.mkdir(parents=True, exist_ok=True)
    if resume_step is not None:
      truncate_jsonl(self.workdir / "metrics.jsonl", resume_step, "step")
      for name in files:
        truncate_jsonl(self.workdir / name, resume_step, "round")
    # Imported here: clu's writers pull in TensorFlow (seconds), not needed to validate a launch.
    # Local import: heavy (clu's writers import TensorFlow); only TensorBoard needs them.
    from clu import metric_writers  # pylint: disable=import-outside-toplevel

    self._writer = metric_writers.create_default_writer(
        str(self.workdir / "tensorboard"), just_logging=False)
    self._metrics = open(self.workdir / "metrics.jsonl", "a", encoding="utf-8")

  def scalars(self, step: int, values: Mapping[str, Any]) -> None:
    if not self.primary:
      return
    numeric = {k: float(v) for k, v in values.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    self._writer.write_scalars(step, numeric)
    self._metrics.write(json.dumps({"step": step, "time": time.time(), **values}) + "\n")
    self._metrics.flush()

  def jsonl(self, name: str, rows: Iterable[Mapping[str, Any]]) -> None:
    if not self.primary:
      return
    if name not in self._files:
      self._files[name] = open(self.workdir / name, "a", encoding="utf-8")
    f = self._files[name]
    for row in rows:
      f.write(json.dumps(row) + "\n")
    f.flush()

  def flush(self) -> None:
    if self._writer is not None:
      self._writer.flush()

  def close(self) -> None:
    if not self.primary:
      return
    self._writer.flush()
    self._writer.close()
    self._metrics.close()
    for f in self._files.values():
      f.close()
    self._files.clear()

"""A job's output folder, shared by every job of `rlef_jax.main`.

Example:

    from rlef_jax.workdir import Workdir
    out = Workdir("runs/demo")
    out.log(0, loss=1.5)                 # one line of metrics.jsonl
    out.report({"ok": True})             # report.json + operative_config.gin
    out.close()
"""

from __future__ import annotations

import json
import pathlib
import time
from typing import Any

import gin


class Workdir:
  """A job's output folder: `metrics.jsonl` appended per step, `report.json` at the end.

  Only the primary process (JAX process 0) writes.
  """

  def __init__(self, path: str | pathlib.Path, primary: bool = True):
    self.path = pathlib.Path(path)
    self.primary = primary
    self._metrics = None
    if primary:
      self.path.mkdir(parents=True, exist_ok=True)

  def log(self, step: int, **metrics: Any) -> None:
    if not self.primary:
      return
    if self._metrics is None:
      self._metrics = open(self.path / "metrics.jsonl", "a", encoding="utf-8")
    self._metrics.write(json.dumps({"step": step, "time": time.time(), **metrics}) + "\n")
    self._metrics.flush()

  def report(self, report: dict[str, Any]) -> None:
    if not self.primary:
      return
    (self.path / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (self.path / "operative_config.gin").write_text(gin.operative_config_str())

  def close(self) -> None:
    if self._metrics is not None:
      self._metrics.close()

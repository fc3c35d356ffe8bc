"""A job's output folder, shared by every job of `rlef_jax.main`.

Example:

    from rlef_jax.workdir import Workdir
    out = Workdir("runs/demo")
    out.log(0, loss=1.5)                 # one line of metrics.jsonl
    out.report({"ok": True})             # report.json
    # A gin-launched job also writes the operative config beside it:
    out = Workdir("runs/demo", config_text=gin.operative_config_str)
    out.close()
"""

from __future__ import annotations

import json
import pathlib
import time
from typing import Any, Callable


class Workdir:
  """A job's output folder: `metrics.jsonl` appended per step, `report.json` at the end.

  Only the primary process (JAX process 0) writes. `config_text`, when given,
  is called at `report` time and its text written to `operative_config.gin`
  (the gin edge passes `gin.operative_config_str`).
  """

  def __init__(self, path: str | pathlib.Path, primary: bool = True,
               config_text: Callable[[], str] | None = None):
    self.path = pathlib.Path(path)
    self.primary = primary
    self.config_text = config_text
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
    if self.config_text is not None:
      (self.path / "operative_config.gin").write_text(self.config_text())

  def close(self) -> None:
    if self._metrics is not None:
      self._metrics.close()

"""Every notebook runs top to bottom, and matches tools/make_notebooks.py."""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

_PLOTS = ("solve_rate_vs_turns.png", "solve_rate_vs_budget.png", "before_after.png",
          "intervals.png")
# What a notebook must leave in its working directory.
_WRITES = {
    "ablations.ipynb": {"ablations_eval": ("report.json", "rollouts.jsonl", *_PLOTS),
                        "ablations_eval_scripted": ("report.json", *_PLOTS)},
}

# Runs the code cells in one namespace, as a kernel would, and names the cell
# that failed.
_RUNNER = """
import json, sys, traceback
cells = [c for c in json.load(open(sys.argv[1]))["cells"] if c["cell_type"] == "code"]
scope = {"__name__": "__main__"}
for i, cell in enumerate(cells):
  try:
    exec(compile("".join(cell["source"]), f"<cell {i}>", "exec"), scope)
  except BaseException:
    traceback.print_exc()
    sys.exit(f"code cell {i} failed")
"""


def test_notebooks_are_current():
  assert NOTEBOOKS, "notebooks/ holds no notebook"
  proc = subprocess.run([sys.executable, str(ROOT / "tools" / "make_notebooks.py"), "--check"],
                        capture_output=True, text=True)
  assert proc.returncode == 0, proc.stderr


@pytest.mark.gvisor
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(notebook, tmp_path):
  if shutil.which("runsc") is None or os.geteuid() != 0:
    pytest.skip("the notebooks judge in gVisor: needs runsc on PATH and root")
  # Reduced mode: notebooks that evaluate keep to a few problems and tokens.
  env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", RLEF_NOTEBOOK_REDUCED="1")
  proc = subprocess.run([sys.executable, "-c", _RUNNER, str(notebook)], cwd=tmp_path, env=env,
                        capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
  for folder, files in _WRITES.get(notebook.name, {}).items():
    for name in files:
      assert (tmp_path / folder / name).stat().st_size > 0, f"{notebook.name} wrote no {folder}/{name}"

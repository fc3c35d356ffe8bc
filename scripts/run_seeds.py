"""Runs the CPU demo (gin/tiny_cpu.gin) for several seeds and tabulates the claims.

Each seed is one `python -m rlef_jax.main --gin_file=gin/tiny_cpu.gin` run
(RLEF from the shipped warm start -> evaluation; the seed sets the value
head, the problem order, sampling and the bootstrap; the warm start is the
same for every seed, as the paper starts every run from one model; with
gin/tiny_cpu_scratch.gin the SFT stage is seeded too) in `<root>/seed<s>`; its claims are computed
from its evaluation rollouts (`rlef_jax.demo.add_claims`) and the table of
the three claims over seeds (per seed: difference and 95% bootstrap
interval; over seeds: the mean and a t interval) replaces the block between
the claims markers of docs/demo.md, with the machine and the wall times.

    python scripts/run_seeds.py                    # seeds 0 1 2
    python scripts/run_seeds.py --seeds 0 --gin_bindings 'TrainerConfig.rounds = 10'
    python scripts/run_seeds.py --table_only       # re-tabulate finished runs
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "demo.md"
BEGIN, END = "<!-- claims:begin -->", "<!-- claims:end -->"
CLAIMS = ("rlef_raises_solve_rate", "multi_turn_beats_independent", "feedback_matters")
# Two-sided 95% Student t quantiles by degrees of freedom.
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def seed_bindings(seed: int) -> list[str]:
  return [f"ModelSpec.seed = {seed}", f"SFTConfig.seed = {seed}",
          f"TrainerConfig.seed = {seed}", f"eval_job.seed = {seed}",
          f"sft_dialogs.seed = {seed}"]


def run_seed(seed: int, root: pathlib.Path, gin_file: str, extra: list[str]) -> dict:
  workdir = root / f"seed{seed}"
  cmd = [sys.executable, "-m", "rlef_jax.main", f"--gin_file={gin_file}",
         f"--workdir={workdir}"]
  for b in seed_bindings(seed) + extra:
    cmd.append(f"--gin_bindings={b}")
  print("+", " ".join(cmd), flush=True)
  start = time.monotonic()
  proc = subprocess.run(cmd, cwd=ROOT, check=False)
  wall = time.monotonic() - start
  (workdir / "wall_s.json").write_text(json.dumps({"wall_s": wall, "rc": proc.returncode}))
  return {"seed": seed, "wall_s": wall, "rc": proc.returncode}


def seed_claims(workdir: pathlib.Path) -> dict | None:
  from rlef_jax import demo  # pylint: disable=import-outside-toplevel
  if not (workdir / "eval" / "rollouts.jsonl").exists():
    return None
  return demo.add_claims(workdir)


def _fmt(x: float) -> str:
  return f"{100 * x:+.1f}"


def table(results: list[dict]) -> str:
  """The markdown block: per seed and over seeds, one row per claim."""
  done = [r for r in results if r.get("claims")]
  cpu = ""
  try:
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
               if l.startswith("model name"))
  except (OSError, StopIteration):
    pass
  lines = [f"Machine: {os.cpu_count()} CPU cores ({cpu or platform.processor()}), "
           f"Python {platform.python_version()}. Seeds run: "
           + ", ".join(f"{r['seed']} ({r['wall_s'] / 60:.1f} min, rc {r['rc']})"
                       for r in results if "wall_s" in r) + ".", ""]
  if not done:
    return "\n".join(lines + ["No seed finished its evaluation: no claims measured."])
  head = "| claim | " + " | ".join(f"seed {r['seed']}" for r in done) + " | mean over seeds | held |"
  lines += [head, "|" + "---|" * (len(done) + 3)]
  for name in CLAIMS:
    cells, diffs, held = [], [], []
    for r in done:
      c = r["claims"][name]
      diffs.append(c["difference"])
      held.append(c["held"])
      cells.append(f"{_fmt(c['difference'])} [{_fmt(c['ci95'][0])}, {_fmt(c['ci95'][1])}]"
                   + (" held" if c["held"] else " not held"))
    mean = float(np.mean(diffs))
    if len(diffs) > 1:
      half = T95.get(len(diffs) - 1, 1.96) * float(np.std(diffs, ddof=1)) / np.sqrt(len(diffs))
      over = f"{_fmt(mean)} [{_fmt(mean - half)}, {_fmt(mean + half)}]"
    else:
      over = f"{_fmt(mean)} (one seed)"
    lines.append(f"| {name} | " + " | ".join(cells) + f" | {over} | {sum(held)}/{len(held)} |")
  lines += ["", "Differences in points of held-out 1@3 (private tests); brackets: 95% "
            "paired bootstrap over problems per seed, t interval over seeds for the mean. "
            "`multi_turn_beats_independent` shows the growth of the multi-turn - "
            "independent gap from the SFT start to RLEF; it holds when that growth and the "
            "gap after RLEF are both above 0."]
  for r in done:
    sr = r.get("solve_rates") or []
    rows = [f"{x['checkpoint']}/{x['mode']} {100 * x['value']:.1f}" for x in sr
            if x.get("metric") == "1@3"]
    lines.append(f"- seed {r['seed']} 1@3: " + ", ".join(rows))
  return "\n".join(lines)


def write_doc(block: str) -> None:
  text = DOC.read_text() if DOC.exists() else f"# CPU demo\n\n{BEGIN}\n{END}\n"
  if BEGIN not in text:
    text += f"\n{BEGIN}\n{END}\n"
  pre, rest = text.split(BEGIN, 1)
  post = rest.split(END, 1)[1] if END in rest else ""
  DOC.write_text(f"{pre}{BEGIN}\n{block}\n{END}{post}")


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
  ap.add_argument("--root", default="runs/tiny_cpu_seeds")
  ap.add_argument("--gin_file", default="gin/tiny_cpu.gin")
  ap.add_argument("--gin_bindings", action="append", default=[])
  ap.add_argument("--table_only", action="store_true")
  args = ap.parse_args()
  root = (ROOT / args.root).resolve()
  results = []
  for seed in args.seeds:
    workdir = root / f"seed{seed}"
    if args.table_only:
      saved = workdir / "wall_s.json"
      r = {"seed": seed, **(json.loads(saved.read_text()) if saved.exists() else {})}
    else:
      r = run_seed(seed, root, args.gin_file, args.gin_bindings)
    r["claims"] = seed_claims(workdir)
    report = workdir / "eval" / "report.json"
    if report.exists():
      r["solve_rates"] = json.loads(report.read_text()).get("solve_rates")
    results.append(r)
    if r["claims"]:
      print(json.dumps({"seed": seed, **{k: {"difference": v["difference"], "ci95": v["ci95"],
                                              "held": v["held"]}
                                          for k, v in r["claims"].items()}}), flush=True)
  block = table(results)
  write_doc(block)
  print(block)


if __name__ == "__main__":
  main()

"""False `time_limit` verdicts of fast programs on a loaded host.

Synthetic problems have a 1 s limit; their reference solutions and their
non-slow bugs finish in ~0.05 s. Any `time_limit` among them is the host's,
not the program's. This probe judges those submissions (scoring runs, small
tests only) beside N busy-loop processes, once with `stall_reruns=0` (every
test judged once, as before the stall reruns) and once with the default, in
the same process:

* `false_time_limit`: submissions that got `time_limit` (should be 0);
* `stall_reruns`: tests judged again because the wall clock stopped them
  while they used little CPU time;
* `wall_p50/p99/max`: wall time of each test inside the sandbox (s).

    python benchmarks/judge_under_load.py --quick   # 1 round at loads 0 and 4, ~1 minute
    python benchmarks/judge_under_load.py           # 3 rounds at loads 0, 2, 6

Needs gVisor's runsc and root, like the judge.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys

import sandbox_runner
from rlef_jax.data import synthetic


def requests(problems: int = 8) -> list[sandbox_runner.JudgeRequest]:
  """Every fast submission of the first `problems` synthetic problems."""
  rows = synthetic.generate("train", problems, seed=0, large_test=False)
  out = []
  for row in rows:
    # The last incorrect solution is the deliberately slow one: left out.
    for program in [row["solutions"]["solution"][0]] + row["incorrect_solutions"]["solution"][:-1]:
      out.append(sandbox_runner.request_for_problem(
          row, program, tests=("public", "private"), stop_on_first_failure=True))
  return out


def judge_under_load(load: int, rounds: int, stall_reruns: int) -> dict:
  batch = requests()
  hogs = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(load)]
  walls, false_tl, reruns, n = [], 0, 0, 0
  try:
    with sandbox_runner.Judge(max_workers=2, stall_reruns=stall_reruns) as judge:
      for _ in range(rounds):
        for result in judge.run_batch(batch):
          n += 1
          false_tl += result.verdict is sandbox_runner.Verdict.TIME_LIMIT
          reruns += result.stall_reruns
          walls += [t.time_s for t in result.tests]
  finally:
    for hog in hogs:
      hog.kill()
      hog.wait()
  walls.sort()
  quantile = lambda p: round(walls[int(p * (len(walls) - 1))], 3)
  return {"load": load, "stall_reruns_setting": stall_reruns, "submissions": n,
          "false_time_limit": false_tl, "stall_reruns": reruns, "tests": len(walls),
          "wall_p50": quantile(0.5), "wall_p99": quantile(0.99), "wall_max": round(walls[-1], 3)}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--quick", action="store_true")
  parser.add_argument("--loads", type=int, nargs="*")
  parser.add_argument("--rounds", type=int)
  args = parser.parse_args()
  loads = args.loads if args.loads is not None else ([0, 4] if args.quick else [0, 2, 6])
  rounds = args.rounds or (1 if args.quick else 3)
  rows = [judge_under_load(load, rounds, reruns) for load in loads for reruns in (0, 1)]
  print(json.dumps({"benchmark": "judge_under_load", "machine": platform.processor() or
                    platform.machine(), "rows": rows}, indent=1))


if __name__ == "__main__":
  main()

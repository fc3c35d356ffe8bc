"""Command line: judge one program, prove the sandbox, or run the examples.

    python -m sandbox_runner judge --problem P.json --program S.py \\
        [--tests public|private|generated|all] [--backend gvisor|process] \\
        [--time-limit S] [--memory-mb M] [--stop-on-first-failure]
    python -m sandbox_runner selfcheck
    python -m sandbox_runner demo

`judge` prints one JSON object (see docs/design.md) and exits 0 whatever the
verdict; bad input (malformed problem JSON, no tests, a program that is not
UTF-8 or is empty) exits 2 with a one-line message; a judge that cannot work
exits 1. `demo` judges every solution in sandbox_runner/examples/ (named
`<problem>__<expected verdict>.py.txt`), prints a table and exits 0 only if
every verdict is the expected one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from sandbox_runner import demo
from sandbox_runner import selfcheck
from sandbox_runner.judge import Judge
from sandbox_runner.verdicts import BadInput, request_for_problem


def _judge(args) -> int:
  overrides = {}
  if args.time_limit is not None:
    overrides["time_limit_s"] = args.time_limit
  if args.memory_mb is not None:
    overrides["memory_mb"] = args.memory_mb
  if args.stop_on_first_failure:
    overrides["stop_on_first_failure"] = True
  problem, program = demo.read_problem(args.problem), demo.read_program(args.program)
  request = request_for_problem(problem, program, tests=args.tests, **overrides)
  with Judge(backend=args.backend, max_workers=1, pool_size=1) as judge:
    result = judge.run(request)
  print(json.dumps(result.to_json()))
  return 0


def _demo(args) -> int:
  start = time.monotonic()
  outcomes = demo.judge_examples(backend=args.backend)
  print(demo.format_table(outcomes))
  print(f"({time.monotonic() - start:.1f} s)")
  return 0 if all(o.ok for o in outcomes) else 1


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(prog="python -m sandbox_runner", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  commands = parser.add_subparsers(dest="command", required=True)
  judge = commands.add_parser("judge", help="judge one program against one problem")
  judge.add_argument("--problem", required=True, help="problem JSON (HF CodeContests row)")
  judge.add_argument("--program", required=True, help="the Python program to judge")
  judge.add_argument("--tests", default="public", choices=("public", "private", "generated", "all"))
  judge.add_argument("--time-limit", type=float, default=None, help="seconds per test")
  judge.add_argument("--memory-mb", type=int, default=None, help="MiB per test")
  judge.add_argument("--stop-on-first-failure", action="store_true")
  for sub in (judge, commands.add_parser("demo", help="judge the shipped examples")):
    sub.add_argument("--backend", default="gvisor", choices=("gvisor", "process"))
  commands.add_parser("selfcheck", help="prove the sandbox's limits on this machine")
  args = parser.parse_args(argv)
  try:
    if args.command == "judge":
      return _judge(args)
    if args.command == "demo":
      return _demo(args)
    return 0 if selfcheck.run(sys.stdout) else 1
  except BadInput as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  except (OSError, RuntimeError) as e:
    print(f"error: the judge could not work: {e}", file=sys.stderr)
    return 1


if __name__ == "__main__":
  sys.exit(main())

"""Command line: judge one program, prove the sandbox, or run the examples.

    python -m sandbox_runner judge --problem P.json --program S.py \\
        [--tests public|private|generated|all] [--backend gvisor|process] \\
        [--time-limit S] [--memory-mb M] [--stop-on-first-failure]
    python -m sandbox_runner selfcheck
    python -m sandbox_runner demo

`judge` prints one JSON object (see DESIGN.md) and exits 0 whatever the
verdict; bad input (malformed problem JSON, no tests, a program that is not
UTF-8 or is empty) exits 2 with a one-line message; a judge that cannot work
exits 1. `demo` judges every solution in sandbox_runner/examples/ (named
`<problem>__<expected verdict>.py.txt`), prints a table and exits 0 only if
every verdict is the expected one.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

from sandbox_runner import selfcheck
from sandbox_runner.judge import Judge
from sandbox_runner.verdicts import BadInput, request_for_problem

EXAMPLES = pathlib.Path(__file__).parent / "examples"


def _read_program(path: str) -> str:
  try:
    data = pathlib.Path(path).read_bytes()
  except OSError as e:
    raise BadInput(f"cannot read program {path}: {e.strerror}") from None
  try:
    return data.decode("utf-8")
  except UnicodeDecodeError as e:
    raise BadInput(f"program {path} is not UTF-8 ({e.reason} at byte {e.start})") from None


def _read_problem(path: str) -> dict:
  try:
    with open(path, "rb") as f:
      return json.load(f)
  except OSError as e:
    raise BadInput(f"cannot read problem {path}: {e.strerror}") from None
  except ValueError as e:
    raise BadInput(f"problem {path} is not valid JSON: {e}") from None


def _judge(args) -> int:
  overrides = {}
  if args.time_limit is not None:
    overrides["time_limit_s"] = args.time_limit
  if args.memory_mb is not None:
    overrides["memory_mb"] = args.memory_mb
  if args.stop_on_first_failure:
    overrides["stop_on_first_failure"] = True
  request = request_for_problem(_read_problem(args.problem), _read_program(args.program),
                                tests=args.tests, **overrides)
  with Judge(backend=args.backend, max_workers=1, pool_size=1) as judge:
    result = judge.run(request)
  print(json.dumps(result.to_json()))
  return 0


def _demo(args) -> int:
  cases = []
  for path in sorted(EXAMPLES.glob("*__*.py.txt")):
    problem_name, expected = path.name[:-len(".py.txt")].split("__")
    problem = _read_problem(str(EXAMPLES / f"{problem_name}.json"))
    cases.append((path.name, expected,
                  request_for_problem(problem, _read_program(str(path)), tests="all")))
  start = time.monotonic()
  with Judge(backend=args.backend) as judge:
    results = judge.run_batch([request for _, _, request in cases])
  failures = 0
  print(f"{'solution':36s} {'expected':14s} {'verdict':14s} passed")
  for (name, expected, _), result in zip(cases, results):
    ok = result.verdict.value == expected
    failures += not ok
    print(f"{name:36s} {expected:14s} {result.verdict.value:14s} "
          f"{result.passed}/{result.total}{'' if ok else '   <-- MISMATCH'}")
  print(f"{len(cases)} solutions judged in {time.monotonic() - start:.1f} s; "
        f"{failures} mismatches")
  return 1 if failures else 0


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

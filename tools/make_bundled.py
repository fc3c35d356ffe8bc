"""Builds rlef_jax/data/bundled/{train,test}.jsonl from tools/bundled/p*.py.

Each problem module (see tools/bundled/README.md for its fields) holds the
statement, correct and incorrect Python 3 solutions and seeded test-input
generators. The expected outputs come from running the first correct solution
(in a plain subprocess, not a sandbox: these are our own programs). A full
build also cross-checks them: every other correct solution must agree on every
test, every `SLOW` brute force must agree on every test it finishes within the
time limit (and run out of time on at least one), every incorrect solution
must fail at least one test, and the example outputs written in the statement
must be what the correct solution prints.

    python tools/make_bundled.py            # verify, then rewrite the JSONL
    python tools/make_bundled.py --check    # exit 1 if the JSONL is stale
    python tools/make_bundled.py --only p07 # verify some problems, write nothing
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import importlib.util
import json
import os
import pathlib
import random
import subprocess
import sys
import types

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox_runner import compare  # noqa: E402

PROBLEMS_DIR = ROOT / "tools" / "bundled"
OUT_DIR = ROOT / "rlef_jax" / "data" / "bundled"
PYTHON3 = 3  # CodeContests language label.
UNKNOWN_SOURCE = 0
TEST_EVERY = 4  # Every 4th problem (by number) goes to the test split.

# Runs one program on many inputs in one interpreter (an exec per input, with
# fresh globals and in-memory stdin/stdout): a process per test would make the
# build several times slower. Reads a JSON request from stdin, writes results.
_DRIVER = r"""
import io, json, signal, sys, time
req = json.load(sys.stdin)
out = sys.stdout
class Timeout(BaseException):
    pass
def on_alarm(*_):
    raise Timeout()
signal.signal(signal.SIGALRM, on_alarm)
code = compile(req["code"], "solution.py", "exec")
results = []
for text in req["inputs"]:
    sys.stdin = io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8")
    buf = io.BytesIO()
    sys.stdout = io.TextIOWrapper(buf, encoding="utf-8", write_through=True)
    status = "ok"
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, req["timeout"])
    try:
        exec(code, {"__name__": "__main__"})
    except SystemExit as e:
        if e.code not in (None, 0):
            status = "error"
    except Timeout:
        status = "timeout"
    except BaseException as e:
        status = "error: " + type(e).__name__
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    elapsed = time.perf_counter() - start
    sys.stdout.flush()
    sys.setrecursionlimit(1000)
    results.append({"status": status, "stdout": buf.getvalue().decode("utf-8", "replace"),
                    "time": elapsed})
out.write(json.dumps(results))
"""


@dataclasses.dataclass(frozen=True)
class Problem:
  number: int
  module: types.ModuleType
  public: list[str]
  private: list[str]
  generated: list[str]

  @property
  def inputs(self) -> list[str]:
    return self.public + self.private + self.generated

  @property
  def time_limit_s(self) -> int:
    return getattr(self.module, "TIME_LIMIT_S", 2)


def load_problems(only: tuple[str, ...] = ()) -> list[Problem]:
  """Every tools/bundled/pNN_*.py, in number order, with its seeded inputs."""
  problems = []
  for path in sorted(PROBLEMS_DIR.glob("p[0-9][0-9]*_*.py")):
    if only and not any(path.stem.startswith(o) for o in only):
      continue
    spec = importlib.util.spec_from_file_location(f"bundled_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # A string seed is hashed with SHA-512: the same on every machine and run.
    rng = random.Random(f"rlef-bundled/{path.stem}")
    problems.append(Problem(
        number=int(path.stem[1:].split("_")[0]), module=module,
        public=[i for i, _ in module.EXAMPLES],
        private=module.private_inputs(rng), generated=module.generated_inputs(rng)))
  return problems


def run_program(code: str, inputs: list[str], timeout_s: float) -> list[dict]:
  """Runs `code` on each input; per test: status, stdout and seconds."""
  request = json.dumps({"code": code, "inputs": inputs, "timeout": timeout_s})
  proc = subprocess.run([sys.executable, "-c", _DRIVER], input=request, text=True,
                        capture_output=True, timeout=timeout_s * len(inputs) + 60,
                        check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
  return json.loads(proc.stdout)


def statement(module: types.ModuleType) -> str:
  """The CodeContests-style description: story, Input, Output, Examples, Note."""
  parts = [module.STORY.strip(), "Input", module.INPUT.strip(), "Output",
           module.OUTPUT.strip(), "Examples" if len(module.EXAMPLES) > 1 else "Example"]
  for given, expected in module.EXAMPLES:
    # Two blank lines between an example's input and output, as in CodeContests.
    parts += ["Input", given.rstrip("\n") + "\n", "Output", expected.rstrip("\n")]
  if getattr(module, "NOTE", ""):
    parts += ["Note", module.NOTE.strip()]
  return "\n\n".join(parts) + "\n"


def _tests(inputs: list[str], outputs: list[str]) -> dict:
  return {"input": inputs, "output": outputs}


def _solutions(codes: list[str]) -> dict:
  return {"language": [PYTHON3] * len(codes), "solution": [c.strip("\n") + "\n" for c in codes]}


def make_row(problem: Problem, outputs: list[str]) -> dict:
  """One problem in the Hugging Face `deepmind/code_contests` row layout."""
  m = problem.module
  n_pub, n_priv = len(problem.public), len(problem.private)
  return {
      "name": f"rlef/{problem.number:03d} {m.NAME}",
      "description": statement(m),
      "public_tests": _tests(problem.public, outputs[:n_pub]),
      "private_tests": _tests(problem.private, outputs[n_pub:n_pub + n_priv]),
      "generated_tests": _tests(problem.generated, outputs[n_pub + n_priv:]),
      "source": UNKNOWN_SOURCE,
      "difficulty": m.DIFFICULTY,
      "solutions": _solutions(m.CORRECT),
      "incorrect_solutions": _solutions(m.INCORRECT + getattr(m, "SLOW", [])),
      "cf_contest_id": 0,
      "cf_index": "",
      "cf_points": 0.0,
      "cf_rating": m.CF_RATING,
      "cf_tags": list(m.TAGS),
      "is_description_translated": False,
      "untranslated_description": "",
      "time_limit": {"seconds": problem.time_limit_s, "nanos": 0},
      "memory_limit_bytes": getattr(m, "MEMORY_MB", 256) * 2**20,
      "input_file": "",
      "output_file": "",
  }


def reference_outputs(problem: Problem) -> tuple[list[str], float]:
  """Outputs of the first correct solution, and its slowest test in seconds."""
  results = run_program(problem.module.CORRECT[0], problem.inputs, problem.time_limit_s * 5)
  bad = [i for i, r in enumerate(results) if r["status"] != "ok"]
  if bad:
    raise AssertionError(f"p{problem.number:02d}: reference fails on tests {bad}: "
                         f"{results[bad[0]]['status']}")
  return [r["stdout"] for r in results], max(r["time"] for r in results)


def _agree(module: types.ModuleType, got: str, expected: str) -> bool:
  """Correct solutions must print the same tokens (within 1e-5 if REAL_OUTPUT)."""
  if getattr(module, "REAL_OUTPUT", False):
    return compare.outputs_match(got, expected)
  return compare.tokens(got) == compare.tokens(expected)


def verify(problem: Problem, outputs: list[str]) -> list[str]:
  """The cross-checks of the module docstring; returns the failures found."""
  m, tag, errors = problem.module, f"p{problem.number:02d}", []
  for k, (_, expected) in enumerate(m.EXAMPLES):
    if compare.tokens(outputs[k]) != compare.tokens(expected):
      errors.append(f"{tag}: example {k} says {expected!r}, solution prints {outputs[k]!r}")
  limit = problem.time_limit_s
  for j, code in enumerate(m.CORRECT[1:], 1):
    for k, r in enumerate(run_program(code, problem.inputs, limit * 5)):
      if r["status"] != "ok" or not _agree(m, r["stdout"], outputs[k]):
        errors.append(f"{tag}: correct solution {j} disagrees on test {k} ({r['status']})")
  for j, code in enumerate(m.INCORRECT):
    results = run_program(code, problem.inputs, limit)
    if all(r["status"] == "ok" and compare.outputs_match(r["stdout"], o)
           for r, o in zip(results, outputs)):
      errors.append(f"{tag}: incorrect solution {j} passes every test")
  for j, code in enumerate(getattr(m, "SLOW", [])):
    results = run_program(code, problem.inputs, limit)
    if not any(r["status"] == "timeout" for r in results):
      errors.append(f"{tag}: slow solution {j} finishes every test within {limit} s")
    for k, (r, o) in enumerate(zip(results, outputs)):
      if r["status"] == "ok" and not _agree(m, r["stdout"], o):
        errors.append(f"{tag}: slow solution {j} (a brute force) disagrees on test {k}")
  return errors


def build(problems: list[Problem], check_only: bool) -> tuple[dict[str, str], list[str]]:
  """The JSONL text per split, and the verification failures (none if check_only)."""
  def one(problem):
    outputs, slowest = reference_outputs(problem)
    errors = [] if check_only else verify(problem, outputs)
    return make_row(problem, outputs), slowest, errors

  with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
    done = list(pool.map(one, problems))
  splits, errors = {"train": [], "test": []}, []
  for problem, (row, slowest, errs) in zip(problems, done):
    split = "test" if problem.number % TEST_EVERY == 0 else "train"
    splits[split].append(json.dumps(row))
    errors += errs
    if not check_only:
      print(f"{row['name']:<44} {split:<5} tests {len(problem.inputs):>3}  "
            f"slowest {slowest:6.3f} s of {problem.time_limit_s} s")
  return {s: "\n".join(rows) + "\n" for s, rows in splits.items()}, errors


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--check", action="store_true",
                      help="regenerate without cross-checks; fail if the JSONL differs")
  parser.add_argument("--only", nargs="*", default=(),
                      help="verify only these problems (file-name prefixes); write nothing")
  args = parser.parse_args()
  texts, errors = build(load_problems(tuple(args.only)), check_only=args.check)
  if args.check:
    stale = [s for s, t in texts.items() if (OUT_DIR / f"{s}.jsonl").read_text() != t]
    if stale:
      print(f"stale: {stale}; run `python tools/make_bundled.py`", file=sys.stderr)
    return 1 if stale else 0
  for e in errors:
    print("FAIL", e, file=sys.stderr)
  if errors or args.only:
    return 1 if errors else 0
  OUT_DIR.mkdir(parents=True, exist_ok=True)
  for split, text in texts.items():
    (OUT_DIR / f"{split}.jsonl").write_text(text)
    print(f"wrote {OUT_DIR / split}.jsonl ({text.count(chr(10))} problems, "
          f"{len(text) / 1e6:.2f} MB)")
  return 0


if __name__ == "__main__":
  sys.exit(main())

"""The shipped examples: problems and solutions whose verdicts are known.

`sandbox_runner/examples/` holds problems (`<problem>.json`, Hugging Face
CodeContests rows) and solutions named `<problem>__<expected verdict>.py.txt`.
Judging them all is the project's smoke test of a machine's sandbox.

Example:

    from sandbox_runner import demo
    outcomes = demo.judge_examples()
    print(demo.format_table(outcomes))
    assert all(o.ok for o in outcomes)
"""

from __future__ import annotations

import dataclasses
import json
import pathlib

from sandbox_runner.judge import Judge
from sandbox_runner.verdicts import BadInput, request_for_problem

EXAMPLES = pathlib.Path(__file__).parent / "examples"


@dataclasses.dataclass(frozen=True)
class Outcome:
  """One judged example solution."""

  name: str
  expected: str
  verdict: str
  passed: int
  total: int

  @property
  def ok(self) -> bool:
    return self.verdict == self.expected

  def to_json(self) -> dict:
    return {**dataclasses.asdict(self), "ok": self.ok}


def read_problem(path: str | pathlib.Path) -> dict:
  """A problem JSON file; BadInput with the reason when it cannot be read."""
  try:
    with open(path, "rb") as f:
      return json.load(f)
  except OSError as e:
    raise BadInput(f"cannot read problem {path}: {e.strerror}") from None
  except ValueError as e:
    raise BadInput(f"problem {path} is not valid JSON: {e}") from None


def read_program(path: str | pathlib.Path) -> str:
  """A program file as text; BadInput when it cannot be read or is not UTF-8."""
  try:
    data = pathlib.Path(path).read_bytes()
  except OSError as e:
    raise BadInput(f"cannot read program {path}: {e.strerror}") from None
  try:
    return data.decode("utf-8")
  except UnicodeDecodeError as e:
    raise BadInput(f"program {path} is not UTF-8 ({e.reason} at byte {e.start})") from None


def judge_examples(backend: str = "gvisor", examples: pathlib.Path = EXAMPLES) -> list[Outcome]:
  """Judges every example solution on all of its problem's tests, in one batch."""
  cases = []
  for path in sorted(examples.glob("*__*.py.txt")):
    problem_name, expected = path.name[:-len(".py.txt")].split("__")
    problem = read_problem(examples / f"{problem_name}.json")
    cases.append((path.name, expected, request_for_problem(problem, read_program(path),
                                                           tests="all")))
  if not cases:
    raise BadInput(f"no example solutions (*__<verdict>.py.txt) in {examples}")
  with Judge(backend=backend) as judge:
    results = judge.run_batch([request for _, _, request in cases])
  return [Outcome(name, expected, result.verdict.value, result.passed, result.total)
          for (name, expected, _), result in zip(cases, results)]


def format_table(outcomes: list[Outcome]) -> str:
  """A plain-text table, mismatches marked."""
  lines = [f"{'solution':36s} {'expected':14s} {'verdict':14s} passed"]
  for o in outcomes:
    lines.append(f"{o.name:36s} {o.expected:14s} {o.verdict:14s} {o.passed}/{o.total}"
                 f"{'' if o.ok else '   <-- MISMATCH'}")
  bad = sum(not o.ok for o in outcomes)
  lines.append(f"{len(outcomes)} solutions judged; {bad} mismatches")
  return "\n".join(lines)

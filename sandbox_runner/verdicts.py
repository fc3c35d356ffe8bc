"""The judge's vocabulary: verdicts, requests and results (no I/O here).

A request is one program and its tests; a result holds one `TestResult` per
test that ran, in order, and the overall verdict (the first test that was not
accepted decides it). `JudgeResult.to_json()` is the object the CLI prints
(see docs/design.md).

Example:

    from sandbox_runner import JudgeRequest, TestCase
    req = JudgeRequest("print(int(input()) * 2)", [TestCase("2\\n", "4\\n")])
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Literal, Mapping, Sequence

DEFAULT_TIME_LIMIT_S = 10.0
DEFAULT_MEMORY_MB = 1024
Style = Literal["stdio", "assert"]


class BadInput(ValueError):
  """A problem, program or request the judge refuses; the message says why."""


class Verdict(str, enum.Enum):
  """Outcome of one test, or of a whole submission."""

  ACCEPTED = "accepted"
  WRONG_ANSWER = "wrong_answer"
  RUNTIME_ERROR = "runtime_error"
  TIME_LIMIT = "time_limit"
  MEMORY_LIMIT = "memory_limit"
  OUTPUT_LIMIT = "output_limit"
  SYNTAX_ERROR = "syntax_error"
  # The judge could not run the program (sandbox failed to start or died,
  # protocol broken): never a statement about the program itself.
  INFRA_ERROR = "infra_error"

  def __str__(self) -> str:
    return self.value


@dataclasses.dataclass(frozen=True)
class TestCase:
  """stdin and expected stdout; for style "assert", `input` is code appended
  to the program (e.g. HumanEval's `check` + `check(entry_point)`) and
  `expected_output` is ""."""

  __test__ = False  # Not a pytest class.

  input: str
  expected_output: str = ""


@dataclasses.dataclass(frozen=True)
class JudgeRequest:
  """One submission: a program, its tests, the test style and the limits.

  Attributes:
    program: Python source; must be non-empty valid Unicode (callers that may
      hold no code treat that as "no valid code" before judging).
    tests: run in order.
    style: "stdio" feeds `input` as stdin and compares stdout on the host;
      "assert" runs program + "\\n" + `input` and accepts a clean exit.
    time_limit_s: per test, CPU and wall clock.
    memory_mb: per test address-space limit.
    stop_on_first_failure: stop at the first failing test (scoring runs,
      which only need pass/fail); False runs them all (feedback runs).
    capture_chars: characters of stdout/stderr each TestResult keeps; None:
      the judge's `feedback_cap` when every test runs, and small captures when
      stopping at the first failure (4096 for the failing test, 256 for
      passing ones), so a batch of scoring runs cannot hold gigabytes.
  """

  program: str
  tests: Sequence[TestCase]
  style: Style = "stdio"
  time_limit_s: float = DEFAULT_TIME_LIMIT_S
  memory_mb: int = DEFAULT_MEMORY_MB
  stop_on_first_failure: bool = False
  capture_chars: int | None = None

  def __post_init__(self):
    if not isinstance(self.program, str):
      raise BadInput(f"program must be text, not {type(self.program).__name__}")
    try:
      self.program.encode("utf-8")
    except UnicodeEncodeError as e:
      raise BadInput(f"program is not valid UTF-8 text: {e.reason} at {e.start}") from None
    if not self.program.strip():
      raise BadInput("program is empty")
    tests = tuple(self.tests)
    if not tests:
      raise BadInput("request has no tests")
    for i, t in enumerate(tests):
      if not (isinstance(t, TestCase) and isinstance(t.input, str)
              and isinstance(t.expected_output, str)):
        raise BadInput(f"test {i} is not a TestCase of two strings: {t!r:.80}")
    object.__setattr__(self, "tests", tests)
    if self.style not in ("stdio", "assert"):
      raise BadInput(f"style must be 'stdio' or 'assert', not {self.style!r}")
    if not 0 < self.time_limit_s <= 600:
      raise BadInput(f"time_limit_s must be in (0, 600], not {self.time_limit_s!r}")
    if not (isinstance(self.memory_mb, int) and 16 <= self.memory_mb <= 65536):
      raise BadInput(f"memory_mb must be an int in [16, 65536], not {self.memory_mb!r}")
    if self.capture_chars is not None and not (isinstance(self.capture_chars, int)
                                               and self.capture_chars >= 0):
      raise BadInput(f"capture_chars must be None or an int >= 0, not {self.capture_chars!r}")


@dataclasses.dataclass(frozen=True)
class TestResult:
  """One test: what feedback needs.

  Attributes:
    verdict: this test's verdict.
    time_s: wall time of the test inside the sandbox.
    stdout: captured stdout (capped; decoded with replacement characters).
    stderr: captured stderr (capped).
    traceback: for runtime errors, the traceback trimmed to the user's code
      (file "solution.py"); also the compiler message for syntax errors.
    exit_code: the exit status, or minus the signal number; None if unknown.
  """

  __test__ = False

  verdict: Verdict
  time_s: float = 0.0
  stdout: str = ""
  stderr: str = ""
  traceback: str | None = None
  exit_code: int | None = None

  def to_json(self) -> dict[str, Any]:
    return {"verdict": self.verdict.value, "time_s": round(self.time_s, 4),
            "stdout": self.stdout, "stderr": self.stderr,
            "traceback": self.traceback, "exit_code": self.exit_code}


@dataclasses.dataclass(frozen=True)
class JudgeResult:
  """A whole submission.

  Attributes:
    verdict: the first non-accepted test's verdict, else accepted.
    passed: tests accepted.
    total: tests in the request (also when the run stopped early).
    tests: the tests that ran, in order.
    infra_attempts: sandboxes that failed before this result (retries).
    infra_detail: what went wrong with the infrastructure, if anything did.
    sandbox_ids: the sandboxes (runsc container ids) that ran it, in order.
    stall_reruns: tests run again because the wall clock stopped them while
      they used little CPU time (`Judge.stall_reruns`); only the last run of
      a test counts.
  """

  verdict: Verdict
  passed: int
  total: int
  tests: list[TestResult]
  infra_attempts: int = 0
  infra_detail: str | None = None
  sandbox_ids: tuple[str, ...] = ()
  stall_reruns: int = 0

  @property
  def accepted(self) -> bool:
    return self.verdict is Verdict.ACCEPTED

  def to_json(self) -> dict[str, Any]:
    """The JSON-ready dict the CLI prints (docs/design.md), plus extra keys."""
    return {"verdict": self.verdict.value, "passed": self.passed, "total": self.total,
            "tests": [t.to_json() for t in self.tests],
            "infra_attempts": self.infra_attempts, "infra_detail": self.infra_detail,
            "sandbox_ids": list(self.sandbox_ids), "stall_reruns": self.stall_reruns}

  @classmethod
  def from_tests(cls, tests: list[TestResult], total: int, **kwargs) -> "JudgeResult":
    verdict = next((t.verdict for t in tests if t.verdict is not Verdict.ACCEPTED),
                   Verdict.ACCEPTED)
    if verdict is Verdict.ACCEPTED and len(tests) < total:
      raise ValueError(f"only {len(tests)} of {total} tests ran, all accepted")
    passed = sum(t.verdict is Verdict.ACCEPTED for t in tests)
    return cls(verdict, passed, total, tests, **kwargs)



def _number(value: Any, what: str) -> float:
  if isinstance(value, bool) or not isinstance(value, (int, float)):
    raise BadInput(f"{what} must be a number, not {value!r:.60}")
  return value


def _limits(problem: Mapping[str, Any]) -> dict[str, Any]:
  """time_limit_s / memory_mb from a CodeContests row (absent or 0 = default)."""
  limits = {}
  tl = problem.get("time_limit")
  if tl is not None:
    if not isinstance(tl, Mapping):
      raise BadInput(f"time_limit must be {{seconds, nanos}} or null, not {tl!r:.60}")
    seconds = (_number(tl.get("seconds") or 0, "time_limit.seconds")
               + _number(tl.get("nanos") or 0, "time_limit.nanos") / 1e9)
    if seconds < 0:
      raise BadInput(f"time_limit is negative: {seconds}")
    if seconds > 0:
      limits["time_limit_s"] = seconds
  mem = problem.get("memory_limit_bytes")
  if mem:
    mem = _number(mem, "memory_limit_bytes")
    limits["memory_mb"] = max(16, -(-int(mem) // 2**20))
  return limits


_SPLITS = ("public", "private", "generated")


def _tests_of(problem: Mapping[str, Any], split: str) -> list[TestCase]:
  key = f"{split}_tests"
  block = problem.get(key)
  if block is None:
    return []
  if not isinstance(block, Mapping) or "input" not in block or "output" not in block:
    raise BadInput(f"{key} must be {{input: [...], output: [...]}}")
  inputs, outputs = list(block["input"] or []), list(block["output"] or [])
  if len(inputs) != len(outputs):
    raise BadInput(f"{key} has {len(inputs)} inputs but {len(outputs)} outputs")
  for i, (a, b) in enumerate(zip(inputs, outputs)):
    if not (isinstance(a, str) and isinstance(b, str)):
      raise BadInput(f"{key}[{i}] input and output must be strings")
  return [TestCase(a, b) for a, b in zip(inputs, outputs)]


def request_for_problem(problem: Mapping[str, Any], program: str,
                        tests: str | Sequence[str] = ("public",),
                        **overrides: Any) -> JudgeRequest:
  """A stdio request from a Hugging Face CodeContests row.

  Args:
    problem: the row (`public_tests`, `private_tests`, `generated_tests`,
      `time_limit`, `memory_limit_bytes`; other keys are ignored).
    program: the Python source to judge.
    tests: "public" | "private" | "generated" | "all", or a sequence of them;
      the tests run in that order.
    **overrides: JudgeRequest fields that win over the problem's values.

  Raises:
    BadInput: the row is malformed or selects no tests.
  """
  if not isinstance(problem, Mapping):
    raise BadInput(f"problem must be a JSON object, not {type(problem).__name__}")
  splits = (tests,) if isinstance(tests, str) else tuple(tests)
  if "all" in splits:
    splits = _SPLITS
  unknown = [s for s in splits if s not in _SPLITS]
  if unknown or not splits:
    raise BadInput(f"tests must be among public|private|generated|all, not {tests!r}")
  cases = [case for split in splits for case in _tests_of(problem, split)]
  if not cases:
    raise BadInput(f"problem {problem.get('name', '?')!r} has no {'/'.join(splits)} tests")
  fields = {**_limits(problem), "tests": cases, **overrides}
  return JudgeRequest(program=program, **fields)

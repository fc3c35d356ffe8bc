"""How a problem row is prompted, judged and given feedback (CodeContests or HumanEval).

A CodeContests row gets the paper's competitive-programming prompt, feedback
runs on `cfg.feedback_tests` (all tests run) and scoring on `cfg.score_tests`
(stopping at the first failure). A HumanEval record (`name` "HumanEval/...")
gets the HumanEval prompt, feedback runs on its check split into one test
per assert (`humaneval.assert_tests`) and the score is the whole check.

Example:

    task = make_task(row, EnvConfig())       # BadInput if the row is unusable
    req = task.feedback_request(code, cfg)
    text = task.render(req, judge.run(req), cfg, tok)
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from sandbox_runner import BadInput, JudgeRequest, JudgeResult, request_for_problem

from rlef_jax.data import humaneval
from rlef_jax.env import feedback as fb
from rlef_jax.env.config import EnvConfig



@dataclasses.dataclass(frozen=True)
class Task:
  """Request builders and feedback renderer of one row (CodeContests or HumanEval)."""

  row: Mapping[str, Any]
  prompt: str
  asserts: tuple[str, ...] | None  # HumanEval: the asserts as shown in feedback
  assert_tests: tuple | None  # HumanEval: one TestCase per assert

  def feedback_request(self, code: str, cfg: EnvConfig) -> JudgeRequest:
    if self.asserts is not None:  # the check split into its asserts, all run
      whole = request_for_problem(self.row, code, tests="private", style="assert")
      return dataclasses.replace(whole, tests=self.assert_tests)
    return request_for_problem(self.row, code, tests=cfg.feedback_tests)

  def score_request(self, code: str, cfg: EnvConfig) -> JudgeRequest:
    style = humaneval.test_style(self.row)
    tests = ("private",) if style == "assert" else cfg.score_tests
    return request_for_problem(self.row, code, tests=tests, style=style,
                               stop_on_first_failure=True)

  def render(self, request: JudgeRequest, result: JudgeResult, cfg: EnvConfig, tokenizer) -> str:
    caps = dict(max_field_chars=cfg.max_field_chars, tokenizer=tokenizer,
                max_tokens=cfg.max_feedback_tokens)
    if self.asserts is not None:
      return fb.assert_feedback(self.asserts, result, kind="humaneval", **caps)
    return fb.execution_feedback(request.tests, result, **caps)


def make_task(row: Mapping[str, Any], cfg: EnvConfig) -> Task:
  """The row's task; raises BadInput/ValueError/KeyError with the reason if unusable."""
  if not isinstance(row, Mapping):
    raise BadInput(f"a problem must be a mapping, not {type(row).__name__}")
  description = row.get("description")
  if not isinstance(description, str) or not description.strip():
    raise BadInput("no description")
  if isinstance(row.get("name"), str) and humaneval.test_style(row) == "assert":
    shown, tests = humaneval.assert_tests(row)
    task = Task(row, fb.humaneval_prompt(description), tuple(shown), tuple(tests))
  else:
    task = Task(row, fb.initial_prompt(description), None, None)
  task.feedback_request("pass", cfg)  # BadInput when a split is missing or malformed
  task.score_request("pass", cfg)
  return task

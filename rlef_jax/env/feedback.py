"""The user turns of an RLEF episode, in the paper's wording (docs/rlef_method.md §1).

`initial_prompt` is turn 1; `execution_feedback` renders a judged run of the
public tests as the next user turn: one bullet per failing test (wrong answer
with expected and observed output, runtime error with the trimmed traceback,
`Execution took too long.`, `Out of memory.`), passing tests not listed, then
`Give it another try.` and the format instruction. Every bullet form, header
and footer is cut out of the verbatim templates in `templates.py`, so the
wording cannot drift from the paper's.

Caps (§1.6, our choice following Meta's later code): each input, expected or
observed output shown keeps its first `max_field_chars` characters, a trace
its last ones (`...` marks the cut); with a tokenizer, the whole message is
held to `max_tokens` by listing fewer failing tests (and, if even one does
not fit, cutting that bullet).

HumanEval and MBPP use one `- Failure:` / `- Success:` line per assert
(`assert_feedback`); `rlef_jax.data.humaneval.assert_tests` splits a
HumanEval check into its asserts.

Example:

    from sandbox_runner import Judge, request_for_problem
    from rlef_jax.env import feedback
    text = feedback.initial_prompt(row["description"])
    req = request_for_problem(row, code, tests="public")
    message = feedback.execution_feedback(req.tests, judge.run(req))
"""

from __future__ import annotations

import re
import string
from typing import Any, Sequence

from sandbox_runner import JudgeResult, TestCase, TestResult, Verdict

from rlef_jax.env import templates

MAX_FIELD_CHARS = 512
MAX_FEEDBACK_TOKENS = 1024
ELLIPSIS = "..."

FORMAT_INSTRUCTION = templates.CODECONTESTS_INITIAL_PROMPT.split("\n\n", 1)[1]
GIVE_IT_ANOTHER_TRY = "Give it another try."
# Our choice (§1.4): the parse-failure turn has the feedback's shape.
PARSE_FAILURE = f"Could not parse your code.\n\n{GIVE_IT_ANOTHER_TRY}\n{FORMAT_INSTRUCTION}"
# The "no feedback" ablation: the retry line only, as the issue words it.
NO_FEEDBACK = GIVE_IT_ANOTHER_TRY


def _parts(template: str) -> tuple[str, list[string.Template], str]:
  """(header, bullet templates, footer) of a feedback template."""
  header, bullets, footer = template.split("\n\n")
  return header, [string.Template(b) for b in re.split(r"\n(?=- )", bullets)], footer


_CC_HEADER, _CC_BULLETS, _CC_FOOTER = _parts(templates.CODECONTESTS_FEEDBACK)
_CC_WRONG, _CC_TRACE, _CC_TIMEOUT, _CC_MEMORY = _CC_BULLETS
_HE_HEADER, _HE_BULLETS, _HE_FOOTER = _parts(templates.HUMANEVAL_FEEDBACK)
_MBPP_HEADER, _MBPP_BULLETS, _MBPP_FOOTER = _parts(templates.MBPP_FEEDBACK)
assert _CC_FOOTER.startswith(GIVE_IT_ANOTHER_TRY) and _HE_FOOTER == GIVE_IT_ANOTHER_TRY
assert FORMAT_INSTRUCTION == _CC_FOOTER.split("\n", 1)[1]


def initial_prompt(description: str) -> str:
  """Turn 1 for a CodeContests-style problem (the template appends the `.`)."""
  return string.Template(templates.CODECONTESTS_INITIAL_PROMPT).substitute(problem=description)


def humaneval_prompt(prompt: str) -> str:
  """Turn 1 for HumanEval: `prompt` is the signature and docstring."""
  return string.Template(templates.HUMANEVAL_INITIAL_PROMPT).substitute(problem=prompt)


def mbpp_prompt(description: str, tests: Sequence[str]) -> str:
  """Turn 1 for MBPP: the statement and its asserts, one per line."""
  return string.Template(templates.MBPP_INITIAL_PROMPT).substitute(
      problem=description, test="\n".join(tests))


def cap_head(text: str, limit: int = MAX_FIELD_CHARS) -> str:
  """The first `limit` characters, `...` appended when something was cut."""
  return text if len(text) <= limit else text[:limit] + ELLIPSIS


def cap_tail(text: str, limit: int = MAX_FIELD_CHARS) -> str:
  """The last `limit` characters (a trace's end names the error)."""
  return text if len(text) <= limit else ELLIPSIS + text[-limit:]


def _trace(result: TestResult) -> str:
  trace = result.traceback if result.traceback else result.stderr
  return trace.rstrip("\n") or f"{result.verdict.value} (exit code {result.exit_code})"


def _cc_bullet(test: TestCase, result: TestResult, cap: int) -> str:
  fields: dict[str, Any] = {"input": cap_head(test.input, cap)}
  v = result.verdict
  if v in (Verdict.WRONG_ANSWER, Verdict.OUTPUT_LIMIT):
    # Output limit: shown as a wrong answer with the (capped) output it printed.
    return _CC_WRONG.substitute(fields, expected_output=cap_head(test.expected_output, cap),
                                observed_output=cap_head(result.stdout, cap))
  if v is Verdict.TIME_LIMIT:
    return _CC_TIMEOUT.substitute(fields)
  if v is Verdict.MEMORY_LIMIT:
    return _CC_MEMORY.substitute(fields)
  if v in (Verdict.RUNTIME_ERROR, Verdict.SYNTAX_ERROR):
    return _CC_TRACE.substitute(fields, stacktrace=cap_tail(_trace(result), cap))
  raise ValueError(f"no feedback for a test with verdict {v.value!r}")


def _message(header: str, bullets: Sequence[str], footer: str, tokenizer, max_tokens) -> str:
  """The message with as many bullets as fit in `max_tokens` (at least one, cut if need be)."""
  def join(items):
    return f"{header}\n\n" + "\n".join(items) + f"\n\n{footer}"

  text = join(bullets)
  if tokenizer is None or max_tokens is None or len(tokenizer.encode(text)) <= max_tokens:
    return text
  lo, hi = 1, len(bullets)  # the largest count that fits, by bisection
  while lo < hi:
    mid = (lo + hi + 1) // 2
    fits = len(tokenizer.encode(join(bullets[:mid]))) <= max_tokens
    lo, hi = (mid, hi) if fits else (lo, mid - 1)
  if len(tokenizer.encode(join(bullets[:lo]))) <= max_tokens:
    return join(bullets[:lo])
  first = bullets[0]
  lo, hi = 0, len(first)  # the longest prefix of the first bullet that fits
  while lo < hi:
    mid = (lo + hi + 1) // 2
    fits = len(tokenizer.encode(join([first[:mid] + ELLIPSIS]))) <= max_tokens
    lo, hi = (mid, hi) if fits else (lo, mid - 1)
  return join([first[:lo] + ELLIPSIS])


def _ran(tests: Sequence[TestCase], result: JudgeResult) -> list[tuple[TestCase, TestResult]]:
  tests = list(tests)
  if result.verdict is Verdict.INFRA_ERROR:
    raise ValueError("an infra_error result says nothing about the program: no feedback")
  if len(result.tests) > len(tests):
    raise ValueError(f"{len(result.tests)} test results for {len(tests)} tests")
  return list(zip(tests, result.tests))


def execution_feedback(tests: Sequence[TestCase], result: JudgeResult, *,
                       max_field_chars: int = MAX_FIELD_CHARS, tokenizer=None,
                       max_tokens: int | None = MAX_FEEDBACK_TOKENS) -> str:
  """The CodeContests feedback turn for `result`, the run of `tests`.

  Args:
    tests: the `TestCase`s of the request, in order.
    result: their `JudgeResult`; a test that did not run is not listed.
    max_field_chars: cap on each input/output/trace shown.
    tokenizer, max_tokens: with both, the message is at most `max_tokens` ids.

  Raises:
    ValueError: nothing failed, or the result is an infra error.
  """
  failing = [(t, r) for t, r in _ran(tests, result) if r.verdict is not Verdict.ACCEPTED]
  if not failing:
    raise ValueError("every test passed: there is no failure to report")
  bullets = [_cc_bullet(t, r, max_field_chars) for t, r in failing]
  return _message(_CC_HEADER, bullets, _CC_FOOTER, tokenizer, max_tokens)


def _assertion_error(result: TestResult) -> str:
  """The exception line of a failed assert (`AssertionError` or `AssertionError: msg`)."""
  lines = [l for l in _trace(result).splitlines() if l.strip()]
  return lines[-1].strip() if lines else "AssertionError"


def _assert_bullet(bullets: Sequence[string.Template], test: str, result: TestResult,
                   cap: int, error_key: str) -> str:
  failure_error, failure_trace, failure_timeout, success = bullets
  v, shown = result.verdict, cap_head(test, cap)
  if v is Verdict.ACCEPTED:
    return success.substitute(test=shown)
  if v is Verdict.WRONG_ANSWER:
    error = cap_tail(_assertion_error(result), cap)
    return failure_error.substitute({"test": shown, error_key: error})
  if v is Verdict.TIME_LIMIT:
    return failure_timeout.substitute(test=shown)
  if v is Verdict.MEMORY_LIMIT:  # Not in the paper's template: the trace slot, our wording.
    return failure_trace.substitute(test=shown, stacktrace="Out of memory.")
  if v is Verdict.OUTPUT_LIMIT:
    return failure_trace.substitute(test=shown, stacktrace="Output limit exceeded.")
  if v in (Verdict.RUNTIME_ERROR, Verdict.SYNTAX_ERROR):
    return failure_trace.substitute(test=shown, stacktrace=cap_tail(_trace(result), cap))
  raise ValueError(f"no feedback for a test with verdict {v.value!r}")


def assert_feedback(asserts: Sequence[str], result: JudgeResult, *, kind: str = "humaneval",
                    max_field_chars: int = MAX_FIELD_CHARS, tokenizer=None,
                    max_tokens: int | None = MAX_FEEDBACK_TOKENS) -> str:
  """HumanEval / MBPP feedback: one Failure or Success line per assert that ran.

  Args:
    asserts: the assert statements as shown to the model, one per test of the
      request (`humaneval.assert_tests`).
    result: the judged run (style "assert", one test per assert).
    kind: "humaneval" (ends with "Give it another try.") or "mbpp" (adds the
      format instruction).
  """
  if kind not in ("humaneval", "mbpp"):
    raise ValueError(f"kind must be 'humaneval' or 'mbpp', not {kind!r}")
  ran = _ran([TestCase(a) for a in asserts], result)
  if all(r.verdict is Verdict.ACCEPTED for _, r in ran) and len(ran) == len(asserts):
    raise ValueError("every assert passed: there is no failure to report")
  if kind == "humaneval":
    header, bullets, footer, key = _HE_HEADER, _HE_BULLETS, _HE_FOOTER, "assertion_error"
  else:
    header, bullets, footer, key = _MBPP_HEADER, _MBPP_BULLETS, _MBPP_FOOTER, "error"
  lines = [_assert_bullet(bullets, t.input, r, max_field_chars, key) for t, r in ran]
  return _message(header, lines, footer, tokenizer, max_tokens)

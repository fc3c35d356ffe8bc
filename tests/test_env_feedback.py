"""Golden tests of the episode's user turns (text and ids) against the paper's templates."""

import pathlib
import zlib

import numpy as np

import pytest
from sandbox_runner import JudgeResult, TestCase, TestResult, Verdict

from rlef_jax import tokenizer as tokenizers
from rlef_jax.data import humaneval
from rlef_jax.env import code, feedback, templates
from rlef_jax.env.dialog import Dialog
from rlef_jax.env.policy import Sample

SHARED = pathlib.Path(__file__).resolve().parents[2] / "shared" / "paper_templates"
FORMAT = ("Your code should be enclosed in triple backticks like so: ```python YOUR CODE HERE ```. "
          "Use the backticks for your code only.")
A = Verdict.ACCEPTED


def _result(*tests: TestResult, total=None) -> JudgeResult:
  return JudgeResult.from_tests(list(tests), total or len(tests))


@pytest.mark.skipif(not SHARED.is_dir(), reason="the team's paper_templates folder is not here")
def test_templates_are_the_papers_byte_for_byte():
  files = sorted(p.name for p in SHARED.iterdir())
  assert sorted(templates.FILES) == files
  for name, text in templates.FILES.items():
    assert text == (SHARED / name).read_text(), name


def test_initial_prompts():
  assert feedback.initial_prompt("Add two numbers") == (
      "Provide a Python solution for the following competitive programming question: "
      f"Add two numbers.\n\n{FORMAT}")
  assert feedback.humaneval_prompt("def f(x):\n") == (
      "Write a solution to the following problem and make sure that it passes the tests:\n"
      "def f(x):\n")
  assert feedback.mbpp_prompt("Double it.", ["assert f(1) == 2", "assert f(2) == 4"]) == (
      "Provide a Python solution for the following problem: Double it.\n"
      "Your code should pass these tests:\n\nassert f(1) == 2\nassert f(2) == 4\n\n" + FORMAT)


def test_wrong_answer_is_the_papers_example():
  test = TestCase("4\n1 1\n999999999 1000000000\n8 26\n1 999999999\n", "0\n1\n12\n499999999\n")
  got = TestResult(Verdict.WRONG_ANSWER, stdout="0\n1\n13\n499999999\n")
  text = feedback.execution_feedback([test], _result(got))
  assert text == templates.EXAMPLE_FEEDBACK_WRONG_ANSWER


def test_every_failure_kind_one_bullet_each_passing_tests_not_listed():
  tests = [TestCase(f"in{i}\n", f"out{i}\n") for i in range(6)]
  result = _result(
      TestResult(A, stdout="out0\n"),
      TestResult(Verdict.WRONG_ANSWER, stdout="bad\n"),
      TestResult(Verdict.RUNTIME_ERROR, traceback="Traceback (most recent call last):\n"
                 '  File "solution.py", line 1, in <module>\nZeroDivisionError: division by zero\n'),
      TestResult(Verdict.TIME_LIMIT),
      TestResult(Verdict.MEMORY_LIMIT),
      TestResult(A, stdout="out5\n"))
  assert feedback.execution_feedback(tests, result) == (
      "Your code failed the following tests:\n\n"
      "- input `in1\n` failed:\nExpected output `out1\n` but got `bad\n`\n"
      "- input `in2\n` failed:\nTraceback (most recent call last):\n"
      '  File "solution.py", line 1, in <module>\nZeroDivisionError: division by zero\n'
      "- input `in3\n` failed: Execution took too long.\n"
      "- input `in4\n` failed: Out of memory.\n\n"
      f"Give it another try.\n{FORMAT}")


def test_syntax_error_and_stopped_runs():
  tests = [TestCase("1\n", "2\n"), TestCase("2\n", "4\n")]
  trace = '  File "solution.py", line 1\n    print(2 *\n         ^\nSyntaxError: \'(\' was never closed'
  result = _result(TestResult(Verdict.SYNTAX_ERROR, traceback=trace), total=2)
  assert feedback.execution_feedback(tests, result) == (
      f"Your code failed the following tests:\n\n- input `1\n` failed:\n{trace}\n\n"
      f"Give it another try.\n{FORMAT}")


def test_nothing_to_report_and_infra_refused():
  tests = [TestCase("1\n", "1\n")]
  with pytest.raises(ValueError, match="every test passed"):
    feedback.execution_feedback(tests, _result(TestResult(A)))
  infra = JudgeResult(Verdict.INFRA_ERROR, 0, 1, [])
  with pytest.raises(ValueError, match="infra_error"):
    feedback.execution_feedback(tests, infra)


def test_field_caps_head_for_data_tail_for_traces():
  long_in, long_out = "x" * 600 + "\n", "y" * 700
  trace = "Traceback (most recent call last):\n" + "  frame\n" * 200 + "ValueError: boom"
  tests = [TestCase(long_in, long_out), TestCase("z\n", "1\n")]
  result = _result(TestResult(Verdict.WRONG_ANSWER, stdout="w" * 513),
                   TestResult(Verdict.RUNTIME_ERROR, traceback=trace))
  text = feedback.execution_feedback(tests, result, tokenizer=None)
  assert f"- input `{'x' * 512}...` failed:\n" in text
  assert f"Expected output `{'y' * 512}...` but got `{'w' * 512}...`" in text
  shown = "..." + trace[-512:]
  assert f"- input `z\n` failed:\n{shown}\n\nGive it another try." in text
  assert text.count("ValueError: boom") == 1
  assert feedback.cap_head("abc", 3) == "abc" and feedback.cap_tail("abcd", 3) == "...bcd"


def test_whole_message_token_cap():
  tok = tokenizers.load_tiny_tokenizer()
  tests = [TestCase(f"{i} " * 40 + "\n", f"{i}\n") for i in range(30)]
  result = _result(*[TestResult(Verdict.WRONG_ANSWER, stdout="no\n") for _ in tests])
  full = feedback.execution_feedback(tests, result, tokenizer=tok, max_tokens=None)
  capped = feedback.execution_feedback(tests, result, tokenizer=tok, max_tokens=300)
  assert len(tok.encode(full)) > 300 >= len(tok.encode(capped))
  bullets = capped.count("- input `")
  assert 1 <= bullets < 30
  # The longest prefix of the failing tests that fits: one more would not.
  one_more = feedback.execution_feedback(tests[:bullets + 1], _result(*result.tests[:bullets + 1]),
                                         tokenizer=tok, max_tokens=None)
  assert len(tok.encode(one_more)) > 300
  assert capped.startswith("Your code failed the following tests:\n\n- input `0 0 ")
  assert capped.endswith(f"\n\nGive it another try.\n{FORMAT}")
  # One bullet that alone exceeds the cap is cut, header and footer kept.
  huge = feedback.execution_feedback([TestCase("9 " * 2000, "1\n")],
                                     _result(TestResult(Verdict.WRONG_ANSWER, stdout="0\n")),
                                     tokenizer=tok, max_tokens=120, max_field_chars=4000)
  assert len(tok.encode(huge)) <= 120 and huge.endswith(FORMAT) and "...\n\nGive it" in huge


def test_parse_failure_and_no_feedback_turns():
  assert feedback.PARSE_FAILURE == f"Could not parse your code.\n\nGive it another try.\n{FORMAT}"
  assert feedback.NO_FEEDBACK == "Give it another try."


def test_humaneval_per_assert_feedback_golden():
  asserts = ["assert add(0, 1) == 1", "assert add(2, 3) == 5", "assert add(1, 1) == 2",
             "assert add(5, 7) == 12"]
  result = _result(
      TestResult(A),
      TestResult(Verdict.WRONG_ANSWER, traceback='Traceback (most recent call last):\n  File '
                 '"<tests>", line 5, in check\nAssertionError\n'),
      TestResult(Verdict.RUNTIME_ERROR, traceback="Traceback (most recent call last):\n"
                 "NameError: name 'y' is not defined"),
      TestResult(Verdict.TIME_LIMIT))
  assert feedback.assert_feedback(asserts, result) == (
      "Your code failed some test cases:\n\n"
      "- Success: `assert add(0, 1) == 1`\n"
      "- Failure: `assert add(2, 3) == 5`:\n`AssertionError`\n"
      "- Failure: `assert add(1, 1) == 2`:\nTraceback (most recent call last):\n"
      "NameError: name 'y' is not defined\n"
      "- Failure: `assert add(5, 7) == 12`:\nExecution took too long.\n\n"
      "Give it another try.")
  mbpp = feedback.assert_feedback(asserts[:2], _result(*result.tests[:2]), kind="mbpp")
  assert mbpp == ("Your code failed some test cases:\n\n- Success: `assert add(0, 1) == 1`\n"
                  "- Failure: `assert add(2, 3) == 5`:\n`AssertionError`\n\n"
                  f"Give it another try.\n{FORMAT}")


def test_humaneval_check_splits_into_its_asserts():
  row = next(r for r in humaneval.problems() if r["name"] == "HumanEval/53")
  shown, tests = humaneval.assert_tests(row)
  assert shown[:5] == ["assert add(0, 1) == 1", "assert add(1, 0) == 1", "assert add(2, 3) == 5",
                       "assert add(5, 7) == 12", "assert add(7, 5) == 12"]
  assert shown[5].startswith("for i in range(100):\n") and len(shown) == 6
  # Each test is the check with the set-up (import random) and exactly one asserting statement.
  assert tests[1].input.count("assert") == 1 and "import random" in tests[1].input
  assert tests[1].input.endswith("\n\ncheck(add)\n")
  program = row["solutions"]["solution"][0]
  for t in tests:
    exec(compile(program + "\n" + t.input, "t", "exec"), {})  # the canonical solution passes
  with pytest.raises(AssertionError):
    exec(compile("def add(x, y):\n  return x - y\n" + tests[0].input, "t", "exec"), {})
  exec(compile("def add(x, y):\n  return x - y\n" + tests[1].input, "t", "exec"), {})  # 1 - 0 == 1


def test_dialog_ids_are_the_chat_format_and_spliced_as_sampled():
  tok = tokenizers.load_tiny_tokenizer()
  prompt = feedback.initial_prompt("Print 1")
  d = Dialog.start(tok, prompt)
  answer = "```python\nprint(2)\n```"
  ids = tok.encode(answer) + [tok.eot_id]
  d.add_response(Sample(ids, [-0.5] * len(ids), answer, True), 0, tok)
  fb_text = feedback.execution_feedback(
      [TestCase("\n", "1\n")], _result(TestResult(Verdict.WRONG_ANSWER, stdout="2\n")))
  d.add_user(fb_text, tok)
  messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer},
              {"role": "user", "content": fb_text}]
  assert d.ids == tok.render_dialog(messages)
  assert d.messages == messages
  assert tok.decode(d.ids) == (
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
      "Provide a Python solution for the following competitive programming question: Print 1.\n\n"
      f"{FORMAT}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
      "```python\nprint(2)\n```<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
      "Your code failed the following tests:\n\n- input `\n` failed:\n"
      "Expected output `1\n` but got `2\n`\n\n"
      f"Give it another try.\n{FORMAT}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
  header = tok.render_header("assistant")
  for vp in d.value_positions:
    assert d.ids[vp - len(header) + 1:vp + 1] == header
  start = d.value_positions[0] + 1
  assert d.ids[start:start + len(ids)] == ids
  assert [i for i, m in enumerate(d.response_mask) if m] == list(range(start, start + len(ids)))
  assert d.logprobs[start:start + len(ids)] == [-0.5] * len(ids)
  assert set(d.turn_index[start:start + len(ids)]) == {0} and d.turn_index.count(0) == len(ids)


def test_cut_response_is_closed_unsampled_and_ids_never_retokenized():
  tok = tokenizers.load_tiny_tokenizer()
  d = Dialog.start(tok, "p")
  # Ids that decode to text whose re-encoding differs (a split merge): kept as sampled.
  pieces = tok.encode("pr") + tok.encode("int")
  text = tok.decode(pieces)
  assert text == "print" and tok.encode(text) != pieces
  d.add_response(Sample(pieces, [-1.0] * len(pieces), text, stopped=False), 0, tok)
  assert d.ids[-len(pieces) - 1:-1] == pieces and d.ids[-1] == tok.eot_id
  assert d.response_mask[-1] is False and d.response_mask[-2] is True
  with pytest.raises(ValueError, match="does not follow"):
    d.add_response(Sample([1], [0.0], "x", True), 0, tok)


@pytest.mark.parametrize("text, want", [
    ("Here:\n```python\nprint(1)\n```\nand ```python\nprint(2)\n```", "print(1)\n"),
    ("```\nx = 1\n```", "x = 1\n"),
    ("```cpp\nint main(){}\n```\n```python\nprint(3)\n```", "print(3)\n"),
    ("```py\nprint(4)\n```", "print(4)\n"),
    ("no code at all", None),
    ("```python\nprint(5)\n", None),  # cut off inside its block
    ("```python\n   \n```", None),
    ("```python YOUR CODE HERE ```", None),  # the instruction's inline form has no block
])
def test_extract_code(text, want):
  assert code.extract_code(text) == want


def test_valid_code_compiles_and_never_runs(tmp_path):
  marker = tmp_path / "ran"
  assert code.is_valid_code(f"open({str(marker)!r}, 'w').write('x')\n")
  assert not marker.exists()
  assert not code.is_valid_code("print(2 *")
  assert not code.is_valid_code(None) and not code.is_valid_code("  \n")
  assert not code.is_valid_code("x = 1\0")


def _trace_result(verdict, **kw):
  return _result(TestResult(verdict, **kw))


_TRACE = 'Traceback (most recent call last):\n  File "solution.py", line 1\nKeyError: 3'
# Every feedback turn kind, its exact text, and the crc32 of the whole dialog's ids (golden:
# it changes only if the wording, the chat format or the tokenizer does).
FEEDBACK_KINDS = {
    "wrong_answer": (lambda: feedback.execution_feedback(
        [TestCase("1 2\n", "3\n")], _trace_result(Verdict.WRONG_ANSWER, stdout="4\n")),
        "- input `1 2\n` failed:\nExpected output `3\n` but got `4\n`"),
    "runtime_error": (lambda: feedback.execution_feedback(
        [TestCase("1 2\n", "3\n")], _trace_result(Verdict.RUNTIME_ERROR, traceback=_TRACE)),
        f"- input `1 2\n` failed:\n{_TRACE}"),
    "time_limit": (lambda: feedback.execution_feedback(
        [TestCase("1 2\n", "3\n")], _trace_result(Verdict.TIME_LIMIT)),
        "- input `1 2\n` failed: Execution took too long."),
    "memory_limit": (lambda: feedback.execution_feedback(
        [TestCase("1 2\n", "3\n")], _trace_result(Verdict.MEMORY_LIMIT)),
        "- input `1 2\n` failed: Out of memory."),
    "truncated": (lambda: feedback.execution_feedback(
        [TestCase("7" * 600, "3\n")], _trace_result(Verdict.WRONG_ANSWER, stdout="4\n")),
        f"- input `{'7' * 512}...` failed:\nExpected output `3\n` but got `4\n`"),
}


@pytest.mark.parametrize("kind", sorted(FEEDBACK_KINDS) + ["parse_failure", "no_feedback",
                                                          "humaneval"])
def test_dialog_golden_for_every_feedback_kind(kind):
  tok = tokenizers.load_tiny_tokenizer()
  if kind in FEEDBACK_KINDS:
    make, bullet = FEEDBACK_KINDS[kind]
    text = make()
    assert text == (f"Your code failed the following tests:\n\n{bullet}\n\n"
                    f"Give it another try.\n{FORMAT}")
  elif kind == "parse_failure":
    text = feedback.PARSE_FAILURE
  elif kind == "no_feedback":
    text = feedback.NO_FEEDBACK
  else:
    text = feedback.assert_feedback(["assert f(1) == 2"], _trace_result(
        Verdict.WRONG_ANSWER, traceback="Traceback (most recent call last):\nAssertionError"))
    assert text == ("Your code failed some test cases:\n\n- Failure: `assert f(1) == 2`:\n"
                    "`AssertionError`\n\nGive it another try.")
  prompt = feedback.initial_prompt("Add two numbers")
  d = Dialog.start(tok, prompt)
  answer = "```python\nprint(4)\n```"
  ids = tok.encode(answer) + [tok.eot_id]
  d.add_response(Sample(ids, [0.0] * len(ids), answer, True), 0, tok)
  d.add_user(text, tok)
  assert d.ids == tok.render_dialog([{"role": "user", "content": prompt},
                                     {"role": "assistant", "content": answer},
                                     {"role": "user", "content": text}])
  feedback_ids = tok.render_message({"role": "user", "content": text})
  header = tok.render_header("assistant")
  user_turn = slice(d.value_positions[0] + 1 + len(ids), d.value_positions[1] + 1 - len(header))
  assert d.ids[user_turn] == feedback_ids
  assert tok.decode(d.ids).endswith(
      f"<|start_header_id|>user<|end_header_id|>\n\n{text}<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\n")
  assert (len(d.ids), zlib.crc32(np.asarray(d.ids, np.int32).tobytes())) == DIALOG_GOLDEN[kind]


DIALOG_GOLDEN = {
    "humaneval": (141, 515347429), "memory_limit": (176, 4267842903),
    "no_feedback": (110, 3941733613), "parse_failure": (161, 1777706781),
    "runtime_error": (199, 1935770796), "time_limit": (179, 1312489570),
    "truncated": (523, 1790968902), "wrong_answer": (185, 1883962862),
}

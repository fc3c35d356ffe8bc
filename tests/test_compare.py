"""The output rule (DeepMind code_contests `OutputsMatch`) and request parsing."""

import pytest

from sandbox_runner import compare
from sandbox_runner import verdicts as v


@pytest.mark.parametrize("got, expected", [
    ("1 2 3\n", "1 2 3"),
    ("YES\n", "yes"),                       # ASCII case is ignored
    ("  a\t\tb\r\n\n", "a b"),              # any run of separators, ends trimmed
    ("a\vb", "a b"),                        # \v separates
    ("1.000001", "1"),                      # |a - b| = 1e-6 < 1e-5
    ("0.1 0.2", "0.100009 0.199991"),
    ("1e5", "100000"),                      # the reference's number parsing
    ("-0", "0"),
    (".5", "0.5"),
    ("", ""),
    ("\n \n", ""),
    ("9007199254740993", "9007199254740992"),  # above 2**53: compared as doubles
])
def test_match(got, expected):
  assert compare.outputs_match(got, expected)


@pytest.mark.parametrize("got, expected", [
    ("1 2", "1 2 3"),                       # different lengths
    ("1 2 3", "1 2"),
    ("", "0"),
    ("a\fb", "a b"),                        # form feed is not a separator
    ("1.00001", "1"),                       # |a - b| = 1e-5 is not < 1e-5
    ("1.0001", "1"),
    ("1", "one"),                           # number vs string
    ("nan", "NaN0"),
    ("inf", "1e400"),                       # not finite: compared as strings
    ("1_0", "10"),                          # Python's float() accepts it; the rule does not
    ("Ä", "ä"),                             # only ASCII is case-folded
    ("0x10", "16"),
    ("yes no", "no yes"),
])
def test_mismatch(got, expected):
  assert not compare.outputs_match(got, expected)


def test_tokens():
  assert compare.tokens(" A\tb\r\nC\v\fd ") == ["a", "b", "c", "\fd"]


def _row(**kwargs):
  row = {"name": "p", "public_tests": {"input": ["1\n"], "output": ["2\n"]},
         "private_tests": {"input": ["2\n", "3\n"], "output": ["4\n", "6\n"]},
         "generated_tests": {"input": [], "output": []},
         "time_limit": {"seconds": 2, "nanos": 500_000_000}, "memory_limit_bytes": 256 << 20}
  row.update(kwargs)
  return row


def test_request_for_problem_reads_the_row():
  req = v.request_for_problem(_row(), "print(1)", tests="all")
  assert [t.input for t in req.tests] == ["1\n", "2\n", "3\n"]
  assert req.time_limit_s == 2.5 and req.memory_mb == 256
  assert v.request_for_problem(_row(), "print(1)").tests == (v.TestCase("1\n", "2\n"),)
  req = v.request_for_problem(_row(time_limit=None, memory_limit_bytes=0), "x=1",
                              tests=("private", "public"), stop_on_first_failure=True)
  assert [t.input for t in req.tests] == ["2\n", "3\n", "1\n"]
  assert (req.time_limit_s, req.memory_mb) == (v.DEFAULT_TIME_LIMIT_S, v.DEFAULT_MEMORY_MB)
  assert req.stop_on_first_failure
  assert v.request_for_problem(_row(), "x=1", time_limit_s=1.0).time_limit_s == 1.0


@pytest.mark.parametrize("row, program, tests, message", [
    (_row(), "print(1)", "generated", "no generated tests"),
    (_row(public_tests={"input": ["1"], "output": []}), "x", "public", "1 inputs but 0 outputs"),
    (_row(public_tests=[1, 2]), "x", "public", "public_tests must be"),
    (_row(public_tests={"input": [1], "output": ["1"]}), "x", "public", "must be strings"),
    (_row(time_limit="2s"), "x", "public", "time_limit must be"),
    (_row(memory_limit_bytes="big"), "x", "public", "must be a number"),
    (_row(), "x", "secret", "tests must be among"),
    (["not", "a", "row"], "x", "public", "must be a JSON object"),
    (_row(), "", "public", "program is empty"),
    (_row(), " \n\t", "public", "program is empty"),
    (_row(), "print('\udcff')", "public", "not valid UTF-8"),
    (_row(), b"print(1)", "public", "program must be text"),
])
def test_bad_input(row, program, tests, message):
  with pytest.raises(v.BadInput, match=message):
    v.request_for_problem(row, program, tests=tests)


def test_result_verdict_is_first_failure():
  a = v.TestResult(v.Verdict.ACCEPTED)
  t = v.TestResult(v.Verdict.TIME_LIMIT)
  w = v.TestResult(v.Verdict.WRONG_ANSWER)
  result = v.JudgeResult.from_tests([a, t, w], total=4)
  assert (result.verdict, result.passed, result.total) == (v.Verdict.TIME_LIMIT, 1, 4)
  data = result.to_json()
  assert data["verdict"] == "time_limit" and [x["verdict"] for x in data["tests"]] == [
      "accepted", "time_limit", "wrong_answer"]
  assert set(data["tests"][0]) >= {"verdict", "time_s", "stdout", "stderr"}
  with pytest.raises(ValueError):
    v.JudgeResult.from_tests([a], total=2)

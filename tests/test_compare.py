"""The output rule (DeepMind code_contests `OutputsMatch`) and request parsing."""

import random
import re
import time

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
    ("nan inf", "NaN INF"),                 # equal token lists match as lists
    ("+5", "5"),                            # SimpleAtod takes one leading +
    ("5.", "5"),
    ("1e-400", "0"),                        # underflow is 0
    (b"\xff 1", b"\xff 1.000001"),          # raw bytes compared as bytes
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
    ("inf", "1e400"),                       # both infinite: inf - inf is NaN
    ("1_0", "10"),                          # Python's float() accepts it; the rule does not
    ("Ä", "ä"),                             # only ASCII is case-folded
    ("0x10", "16"),
    ("yes no", "no yes"),
    ("\uff11\uff12", "12"),                   # fullwidth digits are not digits
    ("\u0661", "1"),                         # Arabic-Indic digit one
    ("nan 1", "nan 1.000001"),              # NaN never matches pair by pair
    ("1e400 1", "1e400 1.000001"),          # nor does infinity (inf - inf is NaN)
    ("+-5", "-5"),
    ("1e", "1"),
    (".", "0"),
    (b"\xff", b"\xfe"),                     # invalid UTF-8 is not folded together
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


# ---------------------------------------------------------------- fuzz vs. the reference


def _ref_simple_atod(token: bytes):
  """absl::SimpleAtod as its definition reads (written independently of
  compare.py: an anchored pattern over ASCII classes, fine on short tokens)."""
  t = token
  if t.startswith(b"+"):
    t = t[1:]
    if t.startswith(b"-"):
      return None
  m = re.fullmatch(rb"(-?)((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)", t)
  if m:
    return float(m.group(0).decode("ascii"))
  m = re.fullmatch(rb"(-?)(inf|infinity|nan|nan\([A-Za-z0-9_]*\))", t, re.IGNORECASE)
  if m:
    v = float("nan") if m.group(2).lower().startswith(b"nan") else float("inf")
    return -v if m.group(1) else v
  return None


def _ref_outputs_match(output: bytes, expected: bytes) -> bool:
  """DeepMind's OutputsMatch, from its definition: whole lists, then pairs."""
  def split_lower(s):
    return [p.lower() for p in re.split(rb"[ \n\t\r\v]", s) if p]
  a, b = split_lower(output), split_lower(expected)
  if a == b:
    return True
  if len(a) != len(b):
    return False
  def values_match(x, y):
    dx, dy = _ref_simple_atod(x), _ref_simple_atod(y)
    if dx is None or dy is None:
      return x == y
    return abs(dx - dy) < 1e-5
  return all(values_match(x, y) for x, y in zip(a, b))


_PIECES = [b"0", b"1", b"9", b"12", b"-", b"+", b".", b"e", b"E", b"e-", b"1e5", b"100000",
           b"0.5", b".5", b"5.", b"1.000001", b"1.00001", b"inf", b"INF", b"nan", b"NaN",
           b"infinity", b"nan(x_1)", b"nan(", b")", b"yes", b"YES", b"a", b"\xc3\x84",
           "\uff11".encode(), "\u0661".encode(), "\u00b2".encode(), b"_", b"0x1", b"1_0",
           b"\xff", b"\x00", b" ", b"\n", b"\t", b"\r", b"\v", b"\f", b"  ", b"\r\n",
           b"9007199254740993", b"1e400", b"-0", b"00", b"1e-400"]


def _random_output(rng, n):
  return b"".join(rng.choice(_PIECES) for _ in range(rng.randrange(n)))


def _mutate(rng, data: bytes) -> bytes:
  data = bytearray(data)
  for _ in range(rng.randrange(1, 4)):
    op = rng.randrange(4)
    if op == 0 and data:
      del data[rng.randrange(len(data))]
    elif op == 1:
      data[rng.randrange(len(data) + 1):0] = rng.choice(_PIECES)
    elif op == 2 and data:
      data[rng.randrange(len(data))] = rng.choice(b"0123456789 .eE-+\n\x0bAz")
    else:
      data += rng.choice(_PIECES)
  return bytes(data)


def test_fuzz_against_the_reference_rule():
  rng = random.Random(19)
  cases = 0
  for _ in range(20000):
    expected = _random_output(rng, 12)
    got = _mutate(rng, expected) if rng.random() < 0.7 else _random_output(rng, 12)
    want = _ref_outputs_match(got, expected)
    assert compare.outputs_match(got, expected) is want, (got, expected)
    cases += want
  assert cases > 500  # The generator reaches accepting pairs too, not only rejections.


@pytest.mark.parametrize("token", [b"1", b"+1", b"-1", b"+-1", b"-+1", b"1.", b".1", b".",
                                   b"1e5", b"1e+5", b"1e-5", b"1e", b"e1", b"1.e1", b".e1",
                                   b"inf", b"-infinity", b"+nan", b"nan()", b"nan(a_9)",
                                   b"nan(a", b"nan)", b"infinit", b"1e5.5", b"\xef\xbc\x91",
                                   b"1_000", b"0x10", b"--1", b"1-", b"99" * 400])
def test_number_test_is_simple_atod(token):
  want, got = _ref_simple_atod(token), compare.as_number(token)
  assert (want is None) == (got is None), token
  if want is not None and want == want:
    assert want == got


def test_pathological_lines_are_linear():
  # The quadratic case of the old pattern, and its big brother: digits then a
  # non-digit, against a short expected output and against itself.
  for n in (40_000, 4 << 20):
    line = b"7" * n + b"x"
    start = time.process_time()
    assert not compare.outputs_match(line, b"7")
    assert compare.outputs_match(line, line)
    assert not compare.outputs_match(line + b"\n", b"7" * n + b"y")
    took = time.process_time() - start
    # Not a speed measurement (benchmarks do those): a bound no load reaches
    # for linear work (~10 ms here), where the old quadratic pattern took hours.
    assert took < 60.0, (n, took)


def test_comparison_stops_once_decided(monkeypatch):
  # Counts the tokens read from each output: the scan of `got` stops at the
  # expected output's count + 1, or at the first pair that decides it.
  counts = {}
  orig = compare.iter_tokens

  def counting(data):
    for t in orig(data):
      counts[id(data)] = counts.get(id(data), 0) + 1
      yield t

  monkeypatch.setattr(compare, "iter_tokens", counting)
  got = b"1 2 " + b"9 " * (1 << 20)
  assert not compare.outputs_match(got, b"1 2")
  assert counts[id(got)] == 3
  counts.clear()
  got, expected = b"0 " + b"9 " * (1 << 20), b"1 " + b"9 " * (1 << 20)
  assert not compare.outputs_match(got, expected)
  assert counts[id(got)] == 1 and counts[id(expected)] == 1
  counts.clear()
  got = b"1 " * 1000
  assert compare.outputs_match(got, b"1.000001 " * 1000)
  assert counts[id(got)] == 1000


def test_size_cap():
  assert not compare.outputs_match(b"1 " * 10, b"1 " * 10, max_bytes=19)
  assert compare.outputs_match(b"1 " * 10, b"1 " * 10, max_bytes=20)

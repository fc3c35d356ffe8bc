"""The Judge's API through gVisor: styles, stopping, limits, batching, CLI."""

import json
import os
import pathlib
import shutil
import subprocess
import warnings
import sys

import pytest

import sandbox_runner as sr

ROOT = pathlib.Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.gvisor,
    pytest.mark.skipif(shutil.which("runsc") is None, reason="gVisor runsc is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="runsc run needs root here"),
]
DOUBLE = "print(2 * int(input()))"


@pytest.fixture(scope="module")
def judge():
  with sr.Judge(max_workers=2, pool_size=3) as j:
    yield j
  assert not os.path.exists(j.runsc_root)


def _tests(*pairs):
  return [sr.TestCase(a, b) for a, b in pairs]


def test_stop_on_first_failure_or_run_all(judge):
  tests = _tests(("1", "2"), ("2", "5"), ("3", "6"))
  stop = judge.run(sr.JudgeRequest(DOUBLE, tests, stop_on_first_failure=True))
  assert [t.verdict for t in stop.tests] == [sr.Verdict.ACCEPTED, sr.Verdict.WRONG_ANSWER]
  assert (stop.verdict, stop.passed, stop.total) == (sr.Verdict.WRONG_ANSWER, 1, 3)
  full = judge.run(sr.JudgeRequest(DOUBLE, tests))
  assert [t.verdict.value for t in full.tests] == ["accepted", "wrong_answer", "accepted"]
  assert [t.stdout for t in full.tests] == ["2\n", "4\n", "6\n"]
  assert (full.passed, full.total) == (2, 3)


def test_syntax_error_for_every_test(judge):
  tests = _tests(("1", "2"), ("2", "4"))
  result = judge.run(sr.JudgeRequest("print(2 *", tests))
  assert [t.verdict for t in result.tests] == [sr.Verdict.SYNTAX_ERROR] * 2
  assert 'File "solution.py", line 1' in result.tests[0].traceback
  stop = judge.run(sr.JudgeRequest("print(2 *", tests, stop_on_first_failure=True))
  assert len(stop.tests) == 1 and stop.total == 2


def test_traceback_is_trimmed_to_the_users_code(judge):
  program = "def f(x):\n  return 1 // x\n\nprint(f(int(input())))\n"
  result = judge.run(sr.JudgeRequest(program, _tests(("0", "1"))))
  tb = result.tests[0].traceback
  assert result.verdict is sr.Verdict.RUNTIME_ERROR
  assert tb.startswith("Traceback (most recent call last):\n  File \"solution.py\", line 4")
  assert "return 1 // x" in tb
  assert tb.rstrip().endswith("ZeroDivisionError: integer division or modulo by zero")
  assert "harness" not in tb and "judge" not in tb


HUMANEVAL_PROGRAM = "def add(a, b):\n  return a + b\n"
HUMANEVAL_CHECK = ("def check(candidate):\n  assert candidate(2, 3) == 5\n"
                   "  assert candidate(-1, 1) == 0\n\ncheck(add)\n")


@pytest.mark.parametrize("program, verdict", [
    (HUMANEVAL_PROGRAM, "accepted"),
    ("def add(a, b):\n  return a - b\n", "wrong_answer"),
    ("def add(a, b):\n  return a + c\n", "runtime_error"),
    # Leaving before the appended tests run is not passing them.
    ("import sys\ndef add(a, b):\n  return 0\nsys.exit(0)\n", "runtime_error"),
    ("import os\ndef add(a, b):\n  return 0\nos._exit(0)\n", "runtime_error"),
    ("def add(a, b)\n  return a + b\n", "syntax_error"),
])
def test_assert_style(judge, program, verdict):
  result = judge.run(sr.JudgeRequest(program, [sr.TestCase(HUMANEVAL_CHECK, "")], style="assert"))
  assert result.verdict.value == verdict, result.tests


def test_problem_limits_override_defaults(judge):
  row = json.loads((ROOT / "sandbox_runner/examples/a_plus_b.json").read_text())
  slow = "import time\ntime.sleep(1.5)\na, b = map(int, input().split())\nprint(a + b)\n"
  assert judge.run(sr.request_for_problem(row, slow)).verdict is sr.Verdict.TIME_LIMIT
  row["time_limit"] = None
  assert judge.run(sr.request_for_problem(row, slow)).verdict is sr.Verdict.ACCEPTED
  hungry = "x = bytearray(100 << 20)\na, b = map(int, input().split())\nprint(a + b)\n"
  row["memory_limit_bytes"] = 64 << 20
  assert judge.run(sr.request_for_problem(row, hungry)).verdict is sr.Verdict.MEMORY_LIMIT
  row["memory_limit_bytes"] = 0
  assert judge.run(sr.request_for_problem(row, hungry)).verdict is sr.Verdict.ACCEPTED


def test_run_batch_keeps_order(judge):
  programs = [DOUBLE, "print(0)", "raise SystemExit(1)", "print(", DOUBLE,
              "import time\nwhile 1: pass"]
  want = ["accepted", "wrong_answer", "runtime_error", "syntax_error", "accepted", "time_limit"]
  requests = [sr.JudgeRequest(p, _tests(("4", "8"), ("5", "10")), time_limit_s=1.0)
              for p in programs]
  assert [r.verdict.value for r in judge.run_batch(requests)] == want


def test_memory_above_the_ceiling_is_bad_input(judge):
  with pytest.raises(sr.BadInput, match="ceiling"):
    judge.run(sr.JudgeRequest(DOUBLE, _tests(("1", "2")), memory_mb=8192))


def test_process_backend_warns_every_time(capfd):
  for _ in range(2):
    with sr.Judge(backend="process", max_workers=1, pool_size=1) as j:
      result = j.run(sr.JudgeRequest(DOUBLE, _tests(("4", "8"), ("1", "3"))))
    assert [t.verdict.value for t in result.tests] == ["accepted", "wrong_answer"]
    assert "NO isolation" in capfd.readouterr().err


def test_process_backend_harness_sets_its_own_rlimits():
  # The harness applies them itself: no preexec_fn runs Python between fork
  # and exec in this process, whose JAX threads would make that unsafe.
  import jax  # pylint: disable=g-import-not-at-top
  jax.numpy.ones(4).block_until_ready()  # JAX's threads are up
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with sr.Judge(backend="process", max_workers=1, pool_size=0) as j:
      limits = j.readback()["rlimits"]
  assert not [w for w in caught if "fork" in str(w.message)]
  want = sr.SandboxLimits().rlimits()
  assert limits["as"] == [want["as"]] * 2 and limits["fsize"] == [want["fsize"]] * 2
  assert limits["core"] == [0, 0]


def _cli(*args, stdin=None):
  return subprocess.run([sys.executable, "-m", "sandbox_runner", *args], cwd=ROOT,
                        capture_output=True, text=True, timeout=120, check=False)


def test_cli_judge_prints_the_contract_json(tmp_path):
  program = tmp_path / "s.py"
  program.write_text("a, b = map(int, input().split())\nprint(a + b)\n")
  out = _cli("judge", "--problem", "sandbox_runner/examples/a_plus_b.json",
             "--program", str(program), "--tests", "all")
  assert out.returncode == 0, out.stderr
  data = json.loads(out.stdout)
  assert (data["verdict"], data["passed"], data["total"]) == ("accepted", 6, 6)
  assert set(data["tests"][0]) >= {"verdict", "time_s", "stdout", "stderr"}


@pytest.mark.parametrize("problem, program, message", [
    ("{not json", b"print(1)", "is not valid JSON"),
    ('{"name": "x", "public_tests": {"input": [], "output": []}}', b"print(1)",
     "has no public tests"),
    ('{"name": "x"}', b"print(1)", "has no public tests"),
    ('{"public_tests": {"input": ["1"], "output": ["1"]}}', b"print('\xff')", "is not UTF-8"),
    ('{"public_tests": {"input": ["1"], "output": ["1"]}}', b"", "program is empty"),
    ('[1, 2]', b"print(1)", "must be a JSON object"),
])
def test_cli_bad_input_is_one_clear_line(tmp_path, problem, program, message):
  (tmp_path / "p.json").write_text(problem)
  (tmp_path / "s.py").write_bytes(program)
  out = _cli("judge", "--problem", str(tmp_path / "p.json"), "--program", str(tmp_path / "s.py"))
  assert out.returncode == 2
  assert message in out.stderr and "Traceback" not in out.stderr
  assert out.stdout == ""


def test_cli_demo_gets_every_expected_verdict():
  out = _cli("demo")
  assert out.returncode == 0, out.stdout + out.stderr
  assert "0 mismatches" in out.stdout


def test_judge_from_several_threads_at_once(judge):
  """run, run_batch and submit from five threads on one Judge, interleaved."""
  import concurrent.futures  # pylint: disable=g-import-not-at-top
  cases = [(DOUBLE, "accepted"), ("print(0)", "wrong_answer"), ("print(", "syntax_error"),
           ("raise SystemExit(3)", "runtime_error")]

  def request(i):
    program, _ = cases[i % len(cases)]
    return sr.JudgeRequest(program, _tests((str(i), str(2 * i)), (str(i + 1), str(2 * i + 2))))

  def worker(k):
    got = []
    for i in range(k * 4, k * 4 + 4):
      if i % 3 == 0:
        got.append(judge.run(request(i)).verdict.value)
      elif i % 3 == 1:
        got.append(judge.submit(request(i)).result(timeout=120).verdict.value)
      else:
        got += [r.verdict.value for r in judge.run_batch([request(i)])]
    return got

  with concurrent.futures.ThreadPoolExecutor(5) as threads:
    outcomes = list(threads.map(worker, range(5)))
  assert outcomes == [[cases[i % len(cases)][1] for i in range(k * 4, k * 4 + 4)]
                      for k in range(5)]


def test_submit_returns_a_future_and_refuses_bad_requests_at_once(judge):
  future = judge.submit(sr.JudgeRequest(DOUBLE, _tests(("3", "6"))))
  assert future.result(timeout=120).verdict is sr.Verdict.ACCEPTED
  with pytest.raises(sr.BadInput):
    judge.submit("print(1)")


def test_scoring_runs_keep_small_captures(judge):
  # 1 MB of output per test: a feedback run keeps feedback_cap characters of
  # each; a run that stops at the first failure keeps only a little.
  program = "n = int(input())\nprint('x' * 1_000_000)\nprint(n)\n"
  tests = _tests(("1", "x" * 1_000_000 + "\n1"), ("2", "x" * 1_000_000 + "\n2"),
                 ("3", "wrong"))
  full = judge.run(sr.JudgeRequest(program, tests))
  assert [len(t.stdout) for t in full.tests] == [judge.feedback_cap] * 3
  stop = judge.run(sr.JudgeRequest(program, tests, stop_on_first_failure=True))
  assert [t.verdict.value for t in stop.tests] == ["accepted", "accepted", "wrong_answer"]
  assert [len(t.stdout) for t in stop.tests] == [256, 256, 4096]
  chosen = judge.run(sr.JudgeRequest(program, tests, stop_on_first_failure=True,
                                     capture_chars=10))
  assert [len(t.stdout) for t in chosen.tests] == [10] * 3
  with pytest.raises(sr.BadInput):
    sr.JudgeRequest(program, tests, capture_chars=-1)


def test_boot_workers_scale_with_the_pool(judge):
  assert judge.boot_workers == 3  # pool_size=3
  with sr.Judge(backend="process", max_workers=6) as j:
    assert j.boot_workers == 7

"""A host that stalls a sandbox mid-test does not turn a fast program into
`time_limit` (CI saw one such false verdict); a program that sleeps or
computes past its limit still gets `time_limit`.

The stall is real: `runsc pause` freezes the sandbox (the program, its
harness and gVisor's kernel) for longer than the test's limit while the wall
clock runs on, as an overloaded or swapping host does. On resume a race
decides its shape: the harness kills the program at its deadline (exit -9,
what stop 26's CI saw) or the program ends first, past the limit (exit 0,
what stop 27's CI saw). Both are stalls; the second is also made
deterministic below by rewriting the harness's reply.
"""

import os
import shutil
import subprocess
import threading
import time

import pytest

import sandbox_runner as sr
from sandbox_runner import sandbox

pytestmark = [
    pytest.mark.gvisor,
    pytest.mark.skipif(shutil.which("runsc") is None, reason="gVisor runsc is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="runsc run needs root here"),
]
FAST = "import time\ntime.sleep(0.4)\nprint(input())\n"  # 0.4 s wall, ~0 CPU.
REQUEST = sr.JudgeRequest(FAST, [sr.TestCase("a", "a"), sr.TestCase("b", "b")],
                          time_limit_s=1.0)


def _pause_first_test(judge, monkeypatch, seconds=1.6):
  """Freezes the sandbox 0.1 s into the request's first test, for `seconds`."""
  exchange, paused = sandbox.Sandbox.exchange, []

  def freeze(name):
    time.sleep(0.1)
    runsc = ["runsc", f"--root={judge.runsc_root}"]
    subprocess.run(runsc + ["pause", name], check=True, capture_output=True)
    time.sleep(seconds)
    subprocess.run(runsc + ["resume", name], check=True, capture_output=True)

  def stalled_exchange(box, header, blobs, deadline):
    if header.get("op") == "test" and not paused:
      paused.append(threading.Thread(target=freeze, args=(box.name,)))
      paused[0].start()
    return exchange(box, header, blobs, deadline)

  monkeypatch.setattr(sandbox.Sandbox, "exchange", stalled_exchange)
  return paused


def test_a_stalled_test_is_run_again_and_counts_once(monkeypatch):
  with sr.Judge(max_workers=1, pool_size=1) as judge:
    paused = _pause_first_test(judge, monkeypatch)
    result = judge.run(REQUEST)
    paused[0].join()
  assert result.verdict is sr.Verdict.ACCEPTED, result.to_json()
  assert (result.passed, result.total, len(result.tests)) == (2, 2, 2)
  assert result.stall_reruns == 1 and result.to_json()["stall_reruns"] == 1
  assert result.tests[0].time_s < 1.0  # The run that counts is the second.


def test_without_reruns_the_stall_is_a_false_time_limit(monkeypatch):
  # What CI saw (a fast program over the wall clock): the reason reruns
  # exist. If this stops failing, the stall did not happen.
  with sr.Judge(max_workers=1, pool_size=1, stall_reruns=0) as judge:
    paused = _pause_first_test(judge, monkeypatch)
    result = judge.run(REQUEST)
    paused[0].join()
  first = result.tests[0]
  assert result.verdict is sr.Verdict.TIME_LIMIT, result.to_json()
  assert result.stall_reruns == 0 and first.verdict is sr.Verdict.TIME_LIMIT
  assert first.time_s >= 1.0, result.to_json()
  killed = first.exit_code == -9
  ended_late = first.exit_code == 0 and first.stdout.strip() == "a"
  assert killed or ended_late, result.to_json()


def _end_first_test_late(monkeypatch, wall_s=1.7):
  """The race's other shape, made certain: the first test's program ended
  (exit 0, right output, ~no CPU) but the harness saw it end `wall_s` late."""
  exchange, late = sandbox.Sandbox.exchange, []

  def ended_late(box, header, blobs, deadline):
    reply, out = exchange(box, header, blobs, deadline)
    if header.get("op") == "test" and not late:
      assert reply["status"] == "exited" and reply["cpu_s"] < 0.5, reply
      late.append(reply["wall_s"])
      reply = dict(reply, wall_s=wall_s)
    return reply, out

  monkeypatch.setattr(sandbox.Sandbox, "exchange", ended_late)
  return late


@pytest.mark.parametrize("reruns", [0, 1])
def test_a_program_that_ended_after_a_stall_is_run_again(monkeypatch, reruns):
  with sr.Judge(max_workers=1, pool_size=1, stall_reruns=reruns) as judge:
    late = _end_first_test_late(monkeypatch)
    result = judge.run(REQUEST)
  assert len(late) == 1 and result.stall_reruns == reruns, result.to_json()
  if reruns:
    assert result.verdict is sr.Verdict.ACCEPTED, result.to_json()
    assert result.tests[0].time_s < 1.0
  else:
    assert result.verdict is sr.Verdict.TIME_LIMIT, result.to_json()
    assert (result.tests[0].exit_code, result.tests[0].time_s) == (0, 1.7)


def test_a_program_that_sends_itself_sigxcpu_is_not_rerun():
  request = sr.JudgeRequest("import os, signal\nos.kill(os.getpid(), signal.SIGXCPU)\n",
                            [sr.TestCase("", "x")], time_limit_s=1.0)
  with sr.Judge(max_workers=1, pool_size=1, stall_reruns=2) as judge:
    result = judge.run(request)
  assert result.verdict is sr.Verdict.TIME_LIMIT, result.to_json()
  assert result.stall_reruns == 0


@pytest.mark.parametrize("reruns", [0, 1, 2])
def test_a_sleeper_is_still_time_limit_after_its_reruns(reruns):
  request = sr.JudgeRequest("import time\ntime.sleep(60)", [sr.TestCase("", "x")] * 3,
                            time_limit_s=0.5, stop_on_first_failure=True)
  with sr.Judge(max_workers=1, pool_size=1, stall_reruns=reruns) as judge:
    start = time.monotonic()
    result = judge.run(request)
    elapsed = time.monotonic() - start
  assert result.verdict is sr.Verdict.TIME_LIMIT, result.to_json()
  assert (len(result.tests), result.stall_reruns) == (1, reruns)
  assert elapsed >= 0.5 * (1 + reruns)  # Each run waited out the limit.


def test_a_program_that_computes_is_never_rerun():
  request = sr.JudgeRequest("while True:\n  pass\n", [sr.TestCase("", "x")],
                            time_limit_s=1.0)
  with sr.Judge(max_workers=1, pool_size=1, stall_reruns=3) as judge:
    result = judge.run(request)
  assert result.verdict is sr.Verdict.TIME_LIMIT
  assert result.stall_reruns == 0


@pytest.mark.parametrize("bad", [-1, 1.5, True, "1"])
def test_bad_stall_reruns_is_refused(bad):
  with pytest.raises(ValueError, match="stall_reruns"):
    sr.Judge(stall_reruns=bad)

"""Infrastructure faults become `infra_error` after bounded retries, never a
wrong answer: runsc missing, runsc failing, a harness that never starts, a
sandbox killed mid-run, and limits that did not take effect (fail closed)."""

import json
import os
import shutil
import subprocess
import threading
import time

import pytest

import sandbox_runner as sr
from sandbox_runner import oci
from sandbox_runner import sandbox

pytestmark = [
    pytest.mark.gvisor,
    pytest.mark.skipif(shutil.which("runsc") is None, reason="gVisor runsc is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="runsc run needs root here"),
]
REQUEST = sr.JudgeRequest("import time\ntime.sleep(1.5)\nprint(input())",
                          [sr.TestCase("hi\n", "hi\n")] * 2)


def _infra(judge, retries):
  result = judge.run(REQUEST)
  assert result.verdict is sr.Verdict.INFRA_ERROR
  assert result.infra_attempts == retries + 1
  assert all(t.verdict is not sr.Verdict.WRONG_ANSWER for t in result.tests)
  return result


def test_runsc_missing(tmp_path):
  with sr.Judge(runsc_path=str(tmp_path / "no-runsc"), retries=2, max_workers=1, pool_size=1) as j:
    result = _infra(j, retries=2)
  assert "cannot start" in result.infra_detail


def test_runsc_failing_to_start(tmp_path):
  fake = tmp_path / "runsc"
  fake.write_text("#!/bin/sh\necho 'runsc: cannot create sandbox' >&2\nexit 1\n")
  fake.chmod(0o755)
  with sr.Judge(runsc_path=str(fake), retries=1, max_workers=1, pool_size=1) as j:
    result = _infra(j, retries=1)
  assert "cannot create sandbox" in result.infra_detail


def test_harness_never_starts():
  with sr.Judge(interpreter="/bin/true", retries=1, max_workers=1, pool_size=1) as j:
    _infra(j, retries=1)


def _kill_all_containers(judge, stop, once):
  while not stop.is_set():
    for name in judge.leftover_containers():
      subprocess.run(["runsc", f"--root={judge.runsc_root}", "kill", name, "KILL"],
                     capture_output=True, check=False)
    if once:
      return
    time.sleep(0.1)


@pytest.mark.parametrize("once", [True, False], ids=["killed_once", "killed_always"])
def test_sandbox_killed_mid_run(once):
  with sr.Judge(retries=3, max_workers=1, pool_size=1) as judge:
    judge.run(sr.JudgeRequest("print(1)", [sr.TestCase("", "1")]))  # Pool warm.
    stop = threading.Event()

    def killer():
      time.sleep(0.5)
      _kill_all_containers(judge, stop, once)

    thread = threading.Thread(target=killer)
    thread.start()
    result = judge.run(REQUEST)
    stop.set()
    thread.join()
    assert result.infra_attempts >= 1
    if once:
      assert result.verdict is sr.Verdict.ACCEPTED, result
    else:
      assert result.verdict is sr.Verdict.INFRA_ERROR
      assert result.infra_attempts == 4
    assert all(t.verdict is not sr.Verdict.WRONG_ANSWER for t in result.tests)
    good = judge.run(sr.JudgeRequest("print(input())", [sr.TestCase("x", "x")]))
    assert good.verdict is sr.Verdict.ACCEPTED


def test_limits_that_did_not_take_effect_fail_closed(tmp_path):
  limits = oci.SandboxLimits()
  launcher = sandbox.GVisorLauncher(str(tmp_path / "j"), limits, "/usr/bin/python3")
  config = json.loads((tmp_path / "j/bundle/config.json").read_text())
  for rlimit in config["process"]["rlimits"]:
    if rlimit["type"] == "RLIMIT_NPROC":
      rlimit["soft"] = rlimit["hard"] = 4096   # As if the runtime ignored ours.
  (tmp_path / "j/bundle/config.json").write_text(json.dumps(config))
  with pytest.raises(sandbox.InfraFault, match="RLIMIT_NPROC is \\[4096, 4096\\], wanted 32"):
    launcher.start()
  assert launcher.leftovers() == []


def test_readback_check_catches_each_difference():
  limits = oci.SandboxLimits()
  good = {"rlimits": {k: [v, v] for k, v in limits.rlimits().items()}, "pid": 1,
          "interfaces": ["lo"], "root_writable": False,
          "scratch_bytes": {"/tmp": limits.tmp_mb << 20, "/dev/shm": limits.shm_mb << 20}}
  assert oci.check_readback(good, limits) == []
  for key, bad in [("pid", 7), ("interfaces", ["eth0", "lo"]), ("root_writable", True),
                   ("scratch_bytes", {"/tmp": 1 << 40, "/dev/shm": 16 << 20}),
                   ("rlimits", dict(good["rlimits"], nofile=[1024, 4096]))]:
    assert len(oci.check_readback(dict(good, **{key: bad}), limits)) == 1, key


def test_test_limits_that_did_not_take_effect_fail_closed():
  # The sandbox's ceiling is 2048 MiB; the judge is told 4096, so a test's
  # RLIMIT_AS of 3000 MiB cannot be set inside: the child says so on the
  # report pipe's first byte, before any program code runs. infra_error after
  # bounded retries; the same program exiting with the old reserved status
  # (121) itself is its own runtime_error.
  with sr.Judge(retries=1, max_workers=1, pool_size=1,
                limits=oci.SandboxLimits(memory_ceiling_mb=2048)) as judge:
    judge.limits = oci.SandboxLimits(memory_ceiling_mb=4096)
    result = judge.run(sr.JudgeRequest("print(input())", [sr.TestCase("x", "x")], memory_mb=3000))
    assert result.verdict is sr.Verdict.INFRA_ERROR and result.infra_attempts == 2
    assert "did not take effect" in result.infra_detail
    own = judge.run(sr.JudgeRequest("raise SystemExit(121)", [sr.TestCase("x", "x")]))
    assert own.verdict is sr.Verdict.RUNTIME_ERROR and own.infra_attempts == 0

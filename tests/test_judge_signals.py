"""SIGTERM / SIGINT clean up: in the CLI and in any process holding a Judge.

A process is stopped while a sandbox judges a sleeping program; afterwards
its judge temp dir, its runsc containers, its runsc processes and its memory
cgroups must be gone, and the process must have ended the way the signal
ends it (SIGTERM: killed by SIGTERM; SIGINT: KeyboardInterrupt).
"""

import glob
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
pytestmark = [
    pytest.mark.gvisor,
    pytest.mark.skipif(shutil.which("runsc") is None, reason="gVisor runsc is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="runsc run needs root here"),
]

_HOLDER = """
import sandbox_runner as sr
with sr.Judge(max_workers=1, pool_size=1) as judge:
  print("judging", judge.runsc_root, flush=True)
  judge.run(sr.JudgeRequest("import time\\ntime.sleep(60)", [sr.TestCase("", "x")],
                            time_limit_s=30.0))
"""


def _cgroups(prefix: str) -> list[str]:
  return [d for d in glob.glob("/sys/fs/cgroup/**/rlef-*", recursive=True)
          if os.path.basename(d).startswith(prefix)]


def _runsc_processes(root: str) -> list[list[bytes]]:
  """The argv of every process of runsc under this judge's root."""
  found = []
  for entry in os.listdir("/proc"):
    try:
      argv = pathlib.Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
    except OSError:
      continue
    if f"--root={root}".encode() in argv:
      found.append(argv)
  return found


def _default_sigint() -> None:
  """A shell starts background jobs with SIGINT ignored, and children inherit
  that (Python then installs no KeyboardInterrupt handler): run the judge as
  a foreground process would, whatever way the suite was launched."""
  signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stop_while_judging(argv: list[str], signum: int, tmp: str):
  env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=tmp)
  proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                          cwd=str(ROOT), preexec_fn=_default_sigint)
  try:
    deadline = time.monotonic() + 60
    workdirs = []
    while time.monotonic() < deadline and not workdirs:
      workdirs = glob.glob(os.path.join(tmp, "rlef-judge-*"))
      time.sleep(0.2)
    assert workdirs, "the judge never started"
    root = os.path.join(workdirs[0], "state")
    # Wait until the program is inside a sandbox (its container is running).
    while time.monotonic() < deadline and not _runsc_processes(root):
      time.sleep(0.2)
    time.sleep(2.0)  # The test is under way in the sandbox.
    running = _runsc_processes(root)
    assert running, "no sandbox was running when the signal came"
    # Container names (`runsc ... run --bundle B NAME`): the cgroups' names.
    prefixes = {a[-2].decode().rsplit("-", 1)[0] for a in running if b"run" in a}
    assert prefixes and all(p.startswith("rlef-") for p in prefixes), running
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
  finally:
    if proc.poll() is None:
      proc.kill()
      proc.wait()
  return proc.returncode, out, err, workdirs[0], root, prefixes


@pytest.mark.parametrize("how", ["cli", "library"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_leaves_nothing_behind(tmp_path, how, signum):
  if how == "cli":
    problem = tmp_path / "p.json"
    problem.write_text('{"name": "p", "public_tests": {"input": [""], "output": ["x"]}, '
                       '"time_limit": {"seconds": 30, "nanos": 0}}')
    program = tmp_path / "s.py"
    program.write_text("import time\ntime.sleep(60)\n")
    argv = [sys.executable, "-m", "sandbox_runner", "judge", "--problem", str(problem),
            "--program", str(program)]
  else:
    argv = [sys.executable, "-c", _HOLDER]
  # A short TMPDIR: runsc keeps unix sockets under its root (108-byte paths).
  tmp = tempfile.mkdtemp(prefix="rlef-sig-", dir="/tmp")
  try:
    code, _, err, workdir, root, prefixes = _stop_while_judging(argv, signum, tmp)
  finally:
    leftover = os.listdir(tmp)
    shutil.rmtree(tmp, ignore_errors=True)
  if signum == signal.SIGTERM:
    assert code == -signal.SIGTERM, err[-2000:]
  else:
    assert code != 0 and b"KeyboardInterrupt" in err, err[-2000:]
  assert leftover == [], leftover
  assert not os.path.exists(workdir)
  assert _runsc_processes(root) == []
  for prefix in prefixes:
    assert _cgroups(prefix) == [], prefix

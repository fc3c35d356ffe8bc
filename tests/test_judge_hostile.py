"""Hostile programs through the gVisor judge: right verdict, nothing escapes.

Each file in tests/hostile/ (`*.py.txt`: data, not modules) declares its
expected verdict in a header (`# expect: ...`; optional: `# input:` and
`# output:` as Python expressions, `# time_limit:`, `# memory_mb:`,
`# tests:`). After each program: its sandbox is
gone from `runsc list`, the host's process table and its cgroups, no host secret was
visible, the host canary file is intact, and a known-good submission is
still accepted. At the end, closing the judge leaves no container, process,
mount or temp dir.
"""

import os
import pathlib
import re
import shutil
import subprocess

import pytest

import sandbox_runner as sr
from sandbox_runner import sandbox

HOSTILE = sorted((pathlib.Path(__file__).parent / "hostile").glob("*.py.txt"))
SECRET = "rlef-host-secret-5b1c0a"
pytestmark = [
    pytest.mark.gvisor,
    pytest.mark.skipif(shutil.which("runsc") is None, reason="gVisor runsc is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="runsc run needs root here"),
]


def _header(path: pathlib.Path) -> dict[str, str]:
  text = path.read_bytes().decode("utf-8", "surrogateescape")
  return dict(re.findall(r"^# (\w+): (.*)$", text, re.M))


def _default_time_limit(meta: dict[str, str]) -> float:
  # Short where the limit is the point; generous elsewhere, so that a loaded
  # machine cannot turn a crash or a large output into a timeout.
  return 2.0 if meta["expect"] == "time_limit" else 10.0


def _request(path: pathlib.Path) -> sr.JudgeRequest:
  meta = _header(path)
  # The headers are our own test data, written as Python expressions.
  stdin = eval(meta.get("input", '""'))  # pylint: disable=eval-used
  expected = eval(meta.get("output", '"ok"'))  # pylint: disable=eval-used
  test = sr.TestCase(stdin, expected)
  return sr.JudgeRequest(path.read_bytes().decode("utf-8"), [test] * int(meta.get("tests", 1)),
                         time_limit_s=float(meta.get("time_limit", _default_time_limit(meta))),
                         memory_mb=int(meta.get("memory_mb", 256)))


def _processes() -> dict[int, tuple[int, str]]:
  """pid -> (ppid, cmdline) of every host process."""
  procs = {}
  for entry in os.listdir("/proc"):
    if not entry.isdigit():
      continue
    try:
      cmdline = pathlib.Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
      ppid = int(pathlib.Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
      continue
    procs[int(entry)] = (ppid, cmdline.decode("utf-8", "replace"))
  return procs


def _descendants(root_pid: int) -> list[str]:
  procs = _processes()
  found, frontier = [], {root_pid}
  while frontier:
    children = {p for p, (ppid, _) in procs.items() if ppid in frontier}
    found += [procs[p][1] for p in children]
    frontier = children
  return found


def _cgroups_named(name: str) -> list[str]:
  """Cgroup dirs called `name`; tolerant of the pool's cgroups coming and going."""
  found = []
  for top, dirs, _ in os.walk("/sys/fs/cgroup", onerror=lambda e: None):
    found += [os.path.join(top, d) for d in dirs if d == name]
  return found


def _mounts() -> str:
  return pathlib.Path("/proc/self/mounts").read_text()


@pytest.fixture(scope="module")
def host(tmp_path_factory):
  canary = tmp_path_factory.mktemp("canary") / "canary.txt"
  canary.write_text(SECRET)
  os.environ["RLEF_TEST_SECRET"] = SECRET
  mounts_before = _mounts()
  # A smaller whole-sandbox memory limit keeps the multi-process memory bomb cheap.
  judge = sr.Judge(max_workers=1, pool_size=2, retries=1,
                   limits=sr.SandboxLimits(memory_ceiling_mb=2048, sandbox_memory_mb=2560))
  root, workdir = judge.runsc_root, os.path.dirname(judge.runsc_root)
  yield judge, canary
  judge.close()
  del os.environ["RLEF_TEST_SECRET"]
  assert not os.path.exists(workdir), "judge temp dir left behind"
  assert _descendants(os.getpid()) == [], "processes left behind"
  assert _mounts() == mounts_before, "mounts changed"
  listed = subprocess.run(["runsc", f"--root={root}", "list", "-quiet"],
                          capture_output=True, text=True, check=False).stdout.split()
  assert listed == [], f"containers left behind: {listed}"


def test_there_are_enough_hostile_programs():
  assert len(HOSTILE) >= 30


@pytest.mark.parametrize("path", HOSTILE, ids=[p.name[:-len(".py.txt")] for p in HOSTILE])
def test_hostile(host, path):
  judge, canary = host
  expect = _header(path)["expect"]
  result = judge.run(_request(path))
  assert result.verdict.value == expect, (result.tests[:1], result.infra_detail)
  assert result.infra_attempts == (2 if expect == "infra_error" else 0)
  # The sandboxes it ran in are gone, on runsc's books and in the host's.
  listed = judge.leftover_containers()
  commands = [cmd for _, cmd in _processes().values()]
  for name in result.sandbox_ids:
    assert name not in listed
    assert not any(name in cmd for cmd in commands), f"{name} still has host processes"
    assert not _cgroups_named(name), f"{name}'s cgroup left"
  for test in result.tests:
    assert SECRET not in test.stdout + test.stderr
  assert canary.read_text() == SECRET
  good = judge.run(sr.JudgeRequest("print(sum(map(int, input().split())))",
                                   [sr.TestCase("2 3\n", "5\n")] * 2))
  assert good.verdict is sr.Verdict.ACCEPTED, good


def test_memory_bomb_in_later_test_keeps_earlier_results(host):
  judge, _ = host
  bomb = (pathlib.Path(__file__).parent / "hostile" / "memory_bomb_processes.py.txt").read_text()
  program = "if input() == 'bomb':\n" + "".join(f"  {line}\n" for line in bomb.splitlines())
  program += "else:\n  print('ok')\n"
  tests = [sr.TestCase("fine", "ok"), sr.TestCase("bomb", "ok"), sr.TestCase("fine", "ok")]
  result = judge.run(sr.JudgeRequest(program, tests, time_limit_s=10.0, memory_mb=1000))
  assert [t.verdict for t in result.tests] == [sr.Verdict.ACCEPTED, sr.Verdict.MEMORY_LIMIT,
                                               sr.Verdict.ACCEPTED]
  assert result.verdict is sr.Verdict.MEMORY_LIMIT and result.infra_attempts == 0


def test_program_that_kills_every_sandbox_is_guilty(host, monkeypatch):
  """Sandbox deaths with no known cause, every retry, while one test runs."""
  judge, _ = host
  # As on a host whose cgroup gives no OOM counter: only the repetition tells.
  monkeypatch.setattr(sandbox.Sandbox, "killed_for_memory", lambda self: False)
  bomb = (pathlib.Path(__file__).parent / "hostile" / "memory_bomb_processes.py.txt").read_text()
  result = judge.run(sr.JudgeRequest(bomb, [sr.TestCase("", "ok")] * 2, time_limit_s=10.0,
                                     memory_mb=1000))
  assert result.verdict is sr.Verdict.RUNTIME_ERROR, result.infra_detail
  assert result.infra_attempts == judge.retries + 1
  assert "kills its sandbox" in result.tests[-1].traceback

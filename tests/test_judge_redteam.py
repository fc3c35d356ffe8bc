"""Red-team programs: each tries to forge its verdict or provoke `infra_error`.

In RL the judged programs come from the policy being optimised against the
judge: a program-caused `infra_error` is a dropped episode (no -1), and a
forged `accepted` is a +1, so both are reward hacks. Each file in
tests/redteam/ (`*.py.txt`) declares its verdict like tests/hostile/
(`# expect:`, `# tests:`, `# input:`, `# output:`, `# time_limit:`,
`# memory_mb:`), plus `# style: assert` (the checks are `CHECK` below, for an
`add(a, b)`) and `# oom_evidence: hidden` (judged as on a host without the
cgroup's OOM counter). The programs are judged in one batch, each followed
by a known-good submission, through one Judge; afterwards no container,
process or cgroup of theirs is left. A seeded property test composes random
attacks (exit statuses, forged reports, exceptions by name, floods) and
checks that none is `infra_error` and no wrong program is accepted.
"""

import os
import pathlib
import random
import re
import shutil
import subprocess

import pytest

import sandbox_runner as sr
from sandbox_runner import sandbox

REDTEAM = sorted((pathlib.Path(__file__).parent / "redteam").glob("*.py.txt"))
HOSTILE = sorted((pathlib.Path(__file__).parent / "hostile").glob("*.py.txt"))
CHECK = ("def check(candidate):\n  assert candidate(2, 3) == 5\n"
         "  assert candidate(-1, 1) == 0\n\ncheck(add)\n")
GOOD = sr.JudgeRequest("print(sum(map(int, input().split())))", [sr.TestCase("2 3\n", "5\n")] * 2)
pytestmark = [
    pytest.mark.gvisor,
    pytest.mark.skipif(shutil.which("runsc") is None, reason="gVisor runsc is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="runsc run needs root here"),
]


def _header(path: pathlib.Path) -> dict[str, str]:
  return dict(re.findall(r"^# (\w+): (.*)$", path.read_text(), re.M))


def _request(path: pathlib.Path) -> sr.JudgeRequest:
  meta = _header(path)
  if meta.get("style") == "assert":
    test = sr.TestCase(CHECK, "")
  else:
    # The headers are our own test data, written as Python expressions.
    test = sr.TestCase(eval(meta.get("input", '""')),  # pylint: disable=eval-used
                       eval(meta.get("output", '"ok"')))  # pylint: disable=eval-used
  limit = 2.0 if meta["expect"] == "time_limit" else 10.0
  return sr.JudgeRequest(path.read_text(), [test] * int(meta.get("tests", 1)),
                         style=meta.get("style", "stdio"),
                         time_limit_s=float(meta.get("time_limit", limit)),
                         memory_mb=int(meta.get("memory_mb", 256)))


def _host_leftovers(judge, names) -> list[str]:
  listed = set(judge.leftover_containers())
  commands = []
  for entry in os.listdir("/proc"):
    try:
      commands.append(pathlib.Path(f"/proc/{entry}/cmdline").read_bytes())
    except OSError:
      continue
  cgroups = {d for _, dirs, _ in os.walk("/sys/fs/cgroup", onerror=lambda e: None) for d in dirs}
  # Whole arguments only: rlef-x-5 must not match the pool's rlef-x-50.
  args = {arg for c in commands for arg in c.split(b"\0")}
  return [n for n in names if n in listed or n in cgroups
          or any(a == n.encode() or a.endswith(b"/" + n.encode()) for a in args)]


@pytest.fixture(scope="module")
def judge():
  j = sr.Judge(max_workers=2, pool_size=3, retries=1,
               limits=sr.SandboxLimits(memory_ceiling_mb=2048, sandbox_memory_mb=2560))
  yield j
  root = j.runsc_root
  j.close()
  listed = subprocess.run(["runsc", f"--root={root}", "list", "-quiet"],
                          capture_output=True, text=True, check=False).stdout.split()
  assert listed == [], f"containers left behind: {listed}"


@pytest.fixture(scope="module")
def batch(judge):
  """Every red-team program (evidence visible) judged in one batch, each one
  followed by a known-good submission: path -> (result, the good one's)."""
  paths = [p for p in REDTEAM if _header(p).get("oom_evidence") != "hidden"]
  requests = [r for p in paths for r in (_request(p), GOOD)]
  results = judge.run_batch(requests)
  return {p: (results[2 * i], results[2 * i + 1]) for i, p in enumerate(paths)}


def test_there_are_enough_redteam_programs():
  styles = [_header(p).get("style", "stdio") for p in REDTEAM]
  assert len(REDTEAM) >= 20
  assert styles.count("assert") >= 8 and styles.count("stdio") >= 8


def test_no_program_expects_infra_error():
  # The verdicts below are checked per program; none may be infra_error.
  for path in REDTEAM + HOSTILE:
    assert _header(path)["expect"] != "infra_error", path.name


@pytest.mark.parametrize("path", [p for p in REDTEAM if _header(p).get("oom_evidence") != "hidden"],
                         ids=lambda p: p.name[:-len(".py.txt")])
def test_redteam(judge, batch, path):
  result, good = batch[path]
  assert result.verdict.value == _header(path)["expect"], (result.tests[-1:], result.infra_detail)
  assert result.infra_attempts == 0, result.infra_detail
  assert good.verdict is sr.Verdict.ACCEPTED, good
  assert _host_leftovers(judge, result.sandbox_ids) == []


@pytest.mark.parametrize("hidden", [True, False], ids=["evidence_hidden", "evidence_seen"])
def test_pid_aware_sandbox_killer(judge, monkeypatch, hidden):
  """Dies at a different test on every retry (test 1, then 2, then ...): the
  old rule (same test every time) called that infra_error."""
  path = next(p for p in REDTEAM if p.name.startswith("pid_aware_sandbox_killer"))
  if hidden:
    monkeypatch.setattr(sandbox.Sandbox, "killed_for_memory", lambda self: False)
  result = judge.run(_request(path))
  assert result.tests[0].verdict is sr.Verdict.ACCEPTED
  if hidden:
    assert result.verdict is sr.Verdict.RUNTIME_ERROR, result.infra_detail
    assert result.infra_attempts == judge.retries + 1
    assert "kills its sandbox" in result.tests[-1].traceback
    assert "tests [1, 2]" in result.tests[-1].traceback  # Died at a different test each time.
  else:
    # Not retried: memory_limit where it died, the rest in fresh sandboxes.
    assert [t.verdict for t in result.tests] == [sr.Verdict.ACCEPTED, sr.Verdict.MEMORY_LIMIT] * 2
    assert result.infra_attempts == 0
  assert _host_leftovers(judge, result.sandbox_ids) == []
  assert judge.run(GOOD).verdict is sr.Verdict.ACCEPTED


# Attack pieces for the property test: (code, whether the program still
# gives the right answer afterwards).
_ATTACKS = [
    "import os\nos._exit({code})\n",
    "raise SystemExit({code})\n",
    "class {name}(Exception):\n  pass\nraise {name}('x')\n",
    "import os\nfor fd in range(3, 64):\n  try:\n    os.write(fd, b'{{\"done\": true, "
    "\"exception\": \"{name}\"}}\\n')\n  except OSError:\n    pass\n",
    "import os\nfor fd in range(3, 8):\n  try:\n    os.write(fd, b'[' * {size})\n"
    "  except OSError:\n    pass\n",
    "import os\nos.makedirs('/tmp/' + '/'.join(['d'] * {depth}), exist_ok=True)\n",
]


def _random_program(rng: random.Random) -> tuple[sr.JudgeRequest, bool]:
  """A program that runs one random attack at one random test, and answers
  rightly or not; returns it and whether it is entirely right."""
  n_tests = rng.randint(2, 4)
  at = rng.randrange(n_tests)
  attack = rng.choice(_ATTACKS).format(
      code=rng.choice([0, 1, 2, 121, 124, 137, 255, rng.randrange(256)]),
      name=rng.choice(["MemoryError", "AssertionError", "SyntaxError", "InfraFault"]),
      size=rng.choice([10, 1000, 1 << 20]), depth=rng.choice([5, 200]))
  right = rng.random() < 0.5
  indented = "".join(f"  {line}\n" for line in attack.splitlines())
  style = rng.choice(["stdio", "assert"])
  answer = "a + b" if right else "a - b"
  if style == "assert":
    program = f"def add(a, b):\n  return {answer}\nif {at} == {at}:\n{indented}"
    tests = [sr.TestCase(CHECK, "")] * n_tests
  else:
    program = (f"a, b, t = map(int, input().split())\nif t == {at}:\n{indented}"
               f"print({answer})\n")
    tests = [sr.TestCase(f"{i + 2} 3 {i}\n", f"{i + 5}\n") for i in range(n_tests)]
  harmless = attack.startswith("import os\nos.makedirs") or "[' * " in attack or \
      "os.write(fd, b'{" in attack
  return (sr.JudgeRequest(program, tests, style=style, time_limit_s=10.0, memory_mb=256),
          right and harmless)


def test_property_random_attacks_never_infra_error_nor_forged_accepts(judge):
  rng = random.Random(1234)
  programs = [_random_program(rng) for _ in range(16)]
  results = judge.run_batch([r for r, _ in programs])
  for (request, right), result in zip(programs, results):
    assert result.verdict is not sr.Verdict.INFRA_ERROR, (request.program, result.infra_detail)
    assert result.infra_attempts == 0, (request.program, result.infra_detail)
    if right:  # A right answer after a harmless attack (its checks ran) passes.
      assert result.verdict is sr.Verdict.ACCEPTED, (request.program, result.tests)
    else:
      assert result.verdict is not sr.Verdict.ACCEPTED, request.program


# Pollution a test can leave for the next (each piece runs after the answer).
_POLLUTE = [
    "import ctypes\nlibc = ctypes.CDLL(None)\nlibc.shmget({key}, 4096, 0o1666)\n"
    "libc.semget({key}, 1, 0o1666)\nlibc.msgget({key}, 0o1666)\n",
    "import ctypes, os\nrt = ctypes.CDLL('librt.so.1')\n"
    "rt.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]\n"
    "rt.mq_open(b'/q{key}', os.O_CREAT | os.O_RDWR, 0o666, None)\n",
    "import socket\ns = socket.socket(socket.AF_UNIX)\ntry:\n  s.bind('\\0a{key}')\n  s.listen(1)\n"
    "except OSError:\n  pass\nimport os\nif os.fork() == 0:\n  os.setsid()\n  import time\n"
    "  time.sleep(60)\n",
    "import socket\nl = socket.socket()\nl.bind(('127.0.0.1', 40000 + {key} % 1000))\nl.listen(1)\n"
    "c = socket.create_connection(l.getsockname())\na, _ = l.accept()\na.close()\nc.close()\n",
    "import os\nopen('/tmp/f{key}', 'w').write('x')\nopen('/dev/shm/g{key}', 'w').write('y')\n",
    "x = [bytearray(1 << 20) for _ in range({key} % 64)]\n",
]
# Run first by every test: what the previous tests could have left.
_PROBE = """
import ctypes, os, socket
stale = []
libc = ctypes.CDLL(None)
for key in KEYS:  # gVisor has no /proc/sysvipc: ask for each key instead.
  if libc.shmget(key, 0, 0) >= 0 or libc.semget(key, 0, 0) >= 0 or libc.msgget(key, 0) >= 0:
    stale.append("sysv")
if os.listdir("/tmp") or os.listdir("/dev/shm"):
  stale.append("files")
mine = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()
        and os.stat("/proc/" + p).st_uid == os.getuid()]
if mine:
  stale.append("processes")
rt = ctypes.CDLL("librt.so.1", use_errno=True)
rt.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
for key in KEYS:
  if rt.mq_open(b"/q%d" % key, os.O_RDONLY, 0, None) >= 0:
    stale.append("mqueue")
  try:
    socket.socket(socket.AF_UNIX).connect("\\0a%d" % key)
    stale.append("abstract socket")
  except OSError:
    pass
  s = socket.socket()
  try:
    s.bind(("127.0.0.1", 40000 + key % 1000))
  except OSError:
    stale.append("port")
  s.close()
"""


def test_property_correct_program_accepted_whatever_earlier_tests_did(judge):
  """Each program answers every test rightly, but only if nothing an earlier
  test did is visible (the probe), and then leaves random pollution behind."""
  rng = random.Random(19)
  requests = []
  for _ in range(6):
    n_tests = rng.randint(3, 5)
    keys = [rng.randrange(1, 1 << 20) for _ in range(n_tests)]
    body = []
    for i, key in enumerate(keys):
      pieces = rng.sample(_POLLUTE, rng.randint(1, 3))
      body.append(f"if t == {i}:\n" + "".join(
          "".join(f"  {line}\n" for line in p.format(key=key).splitlines()) for p in pieces))
    program = (f"KEYS = {keys}\n" + _PROBE +
               "a, b, t = map(int, input().split())\n"
               "print(a + b if not stale else 'stale ' + ' '.join(stale), flush=True)\n"
               + "".join(body))
    tests = [sr.TestCase(f"{i} 3 {i}\n", f"{i + 3}\n") for i in range(n_tests)]
    requests.append(sr.JudgeRequest(program, tests, time_limit_s=10.0, memory_mb=256))
  for request, result in zip(requests, judge.run_batch(requests)):
    assert result.verdict is sr.Verdict.ACCEPTED, (request.program, result.tests)
    assert _host_leftovers(judge, result.sandbox_ids) == []


def test_pathological_output_beside_a_correct_submission(judge):
  """One program prints 8 MiB of digits ending in a letter (quadratic for a
  backtracking number pattern, hours at this size); the correct submission
  judged beside it in the same batch is accepted, and both finish."""
  bomb = sr.JudgeRequest("import sys\nsys.stdout.write('7' * (8 << 20) + 'x')\n",
                         [sr.TestCase("", "7")] * 3, time_limit_s=10.0)
  good = sr.JudgeRequest("print(sum(map(int, input().split())))",
                         [sr.TestCase(f"{i} 3\n", f"{i + 3}\n") for i in range(20)],
                         time_limit_s=2.0)
  results = judge.run_batch([bomb, good, bomb])
  assert [r.verdict for r in results] == [sr.Verdict.WRONG_ANSWER, sr.Verdict.ACCEPTED,
                                          sr.Verdict.WRONG_ANSWER], results
  assert all(r.infra_attempts == 0 for r in results)


def test_every_test_starts_from_the_same_address_space(judge):
  """The harness does not grow across tests: a child's size at its first
  line is the same after tests with large inputs and outputs (it grew
  25 -> 195 MB over a submission before: later tests hit memory_limit)."""
  program = ("import sys\n"
             "vm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmSize')]\n"
             "n = int(sys.stdin.read().split()[0])\n"
             "sys.stdout.write('x' * n + '\\n')\n"
             "sys.stderr.write(vm[0] + '\\n')\n")
  sizes = [10, 8 << 20, 10, 24 << 20, 10, 4 << 20, 10, 10]
  tests = [sr.TestCase(f"{n} " + "y" * min(n // 2, 12 << 20), "z") for n in sizes]
  result = judge.run(sr.JudgeRequest(program, tests, time_limit_s=10.0, memory_mb=512))
  kib = [int(t.stderr.split()[0]) for t in result.tests]
  assert len(kib) == len(sizes), result
  # A page or so of the program's own stdin object (a pipe or a memory file)
  # is all that may differ; before, tens of MiB.
  assert max(kib) - min(kib) <= 64, kib

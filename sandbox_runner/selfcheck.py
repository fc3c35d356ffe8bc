"""Proves, on this machine, that the sandbox's limits hold.

Boots a sandbox, prints what the harness read back from inside (rlimits, uid,
network interfaces, read-only root, tmpfs sizes: the judge refuses sandboxes
where these differ from the spec), then runs one probe program per limit
and checks its verdict. `python -m sandbox_runner selfcheck` exits 0 only
if every probe got the verdict that proves its limit.

Example:

    from sandbox_runner import selfcheck
    ok = selfcheck.run(sys.stdout)
"""

from __future__ import annotations

import time
from typing import TextIO

from sandbox_runner.judge import Judge
from sandbox_runner.verdicts import JudgeRequest, TestCase, Verdict

# (what it proves, program, expected stdout, verdict).
PROBES = [
    ("runs as the unprivileged uid", "import os; print(os.getuid(), os.getgid())",
     "65534 65534", Verdict.ACCEPTED),
    ("wall clock stops a sleeper", "import time; time.sleep(60)", "", Verdict.TIME_LIMIT),
    ("CPU limit stops a spinner that ignores SIGXCPU",
     "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True: pass", "",
     Verdict.TIME_LIMIT),
    ("address space stops a 2 GB allocation", "x = bytearray(2 << 30)", "", Verdict.MEMORY_LIMIT),
    ("RLIMIT_NPROC stops a fork bomb", "import os\nwhile True: os.fork()", "",
     Verdict.RUNTIME_ERROR),
    ("no network", "import socket; socket.create_connection(('1.1.1.1', 53), 3)", "",
     Verdict.RUNTIME_ERROR),
    ("read-only root", "open('/x', 'w')", "", Verdict.RUNTIME_ERROR),
    ("read-only interpreter dirs", "open('/usr/lib/x', 'w')", "", Verdict.RUNTIME_ERROR),
    ("RLIMIT_FSIZE and the /tmp size cap a file",
     "open('/tmp/f', 'wb').write(b'x' * (80 << 20))", "", Verdict.RUNTIME_ERROR),
    ("RLIMIT_NOFILE caps open files", "fs = [open('/dev/null') for _ in range(1000)]", "",
     Verdict.RUNTIME_ERROR),
    ("no host files", "open('/etc/passwd')", "", Verdict.RUNTIME_ERROR),
    ("stdout cap", "while True: print('y' * 1000)", "", Verdict.OUTPUT_LIMIT),
]


def run(out: TextIO, **judge_kwargs) -> bool:
  """Prints the readback and the probe table; True if every probe held."""
  with Judge(max_workers=2, pool_size=2, **judge_kwargs) as judge:
    ready = judge.readback()
    print("readback from inside a fresh sandbox (accepted by the judge):", file=out)
    for key, value in ready.items():
      print(f"  {key}: {value}", file=out)
    requests = [JudgeRequest(program, [TestCase("", expected)], time_limit_s=3.0,
                             memory_mb=256) for _, program, expected, _ in PROBES]
    start = time.monotonic()
    results = judge.run_batch(requests)
    print(f"\n{'probe':50s} {'verdict':14s} ok   ({time.monotonic() - start:.1f} s)", file=out)
    all_ok = True
    for (what, _, _, want), result in zip(PROBES, results):
      ok = result.verdict is want
      all_ok &= ok
      mark = "yes" if ok else f"NO (wanted {want.value})"
      print(f"{what:50s} {result.verdict.value:14s} {mark}", file=out)
  print("\nselfcheck: " + ("all limits hold" if all_ok else "FAILED"), file=out)
  return all_ok

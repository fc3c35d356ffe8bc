"""The in-sandbox test runner: stdlib only, one process per submission.

The host starts `python3 -I -S harness.py --mode=sandbox` as the sandbox's init
process (PID 1, sandbox-root) and talks to it over stdin/stdout in frames:
a JSON header line whose "blobs" lists the byte lengths of raw payloads that
follow. The harness first reports what it sees (`ready`: rlimits, uid, mounts,
network) so the host can refuse a sandbox whose limits did not take effect.
Then, per submission:

    host -> {"op": "program", "style", "time_limit_s", "memory_mb", blobs: [src]}
    harness -> {"ok": true} | {"syntax_error": "..."} | {"compile_failed": {...}}
    host -> {"op": "test", blobs: [stdin or assert checks]}   (repeated)
    harness -> {"status", "exit_code", "signal", "wall_s", "cpu_s", "exception",
                "in_tests", "done", "fresh", blobs: [stdout, stderr, traceback]}

Each test runs in a forked child that drops to the judged uid, applies the
per-test rlimits, checks they took effect and execs the user's code in a fresh
`__main__`. Nothing the program can write is trusted for the verdict:

* exit status and CPU time come from `wait4` here; stdout/stderr from capped
  pipes;
* "the limits took effect" is the report pipe's first byte, written before
  the program's first line (an exit status could be the program's own choice);
* the exception kind (MemoryError / AssertionError, by identity with the
  builtins) and, in assert style, "the checks ran to their end" come on a
  report pipe, in lines that must start with a per-test nonce. The nonce is
  made here after the fork (no copy in the child's memory) and waits in the
  checks pipe behind the checks; the child reads it only after the program,
  the checks, the traceback formatting and the exit handlers ran. Lines
  without it (forged reports, floods, parser bombs) are ignored, the pipe is
  drained past its cap, and every parse is total.

After every test all judged processes are killed (`kill(-1)` as PID 1: double
forks and `setsid` do not escape) and /tmp and /dev/shm are emptied
iteratively (two descriptors whatever the depth, links never followed, within
a budget: past it the reply says `fresh` and the host uses a new sandbox for
the next test). Expected outputs never come here.

`--mode=process` (the unsandboxed backend) skips the uid switch and the
`kill(-1)` sweep, which would hit the host; it kills the test's process group.
"""

import builtins
import fcntl
import gc
import json
import linecache
import mmap
import os
import resource
import select
import signal
import sys
import time
import traceback
import types

USER_FILE = "solution.py"
TEST_FILE = "tests.py"
_CHUNK = 1 << 16
_PIPE_BUF = 4096
# The test child's descriptors besides 0-2: its report (write; its first byte,
# written before the program runs, says whether the limits took effect) and
# the checks and the nonce (read).
_REPORT_FD, _CHECKS_FD = 3, 4
# Assert style: the program process answers the checker's calls (fd 4 in,
# fd 5 out); the checks themselves never enter it.
_REPLIES_FD = 5
_RPC_LINE_CAP = 16 << 20
# Memory held for the judge's own end of a test (see _run_user_code).
_RESERVE = 2 << 20
# Test inputs up to this go to the child as a memory file (harness._run_child).
_MEMFD_MAX = 16 << 20
_GATE_OK = b"1"
_NONCE_LEN = 32
# The child's request for the nonce, on the report pipe.
_ASK = b"\n\x00rlef-nonce?\n"
# Caps of what a child can make the harness hold (the report pipe is drained
# past its cap and dropped), and of the cleanup between tests.
TRACEBACK_CAP = 32 << 10
_REPORT_CAP = TRACEBACK_CAP + (8 << 10)
_CLEAN_ENTRIES = 200_000
_CLEAN_S = 2.0  # Well inside the host's grace (judge.GRACE_S) after a test.
# The builtin classes, kept before any program runs (it may rebind the names).
_MEMORY_ERROR, _ASSERTION_ERROR = MemoryError, AssertionError
# Each sandbox-mode test child gets a fresh IPC namespace (SysV shm, sem, msg;
# POSIX message queues) and network namespace (sockets, abstract unix
# sockets, TCP TIME_WAIT, ports): nothing there can carry from one test to
# the next (docs/judge.md). Python 3.11 has no os.unshare: libc's, by ctypes.
_CLONE_NEWIPC, _CLONE_NEWNET = 0x08000000, 0x40000000
_RLIMITS = {"nproc": resource.RLIMIT_NPROC, "as": resource.RLIMIT_AS,
            "nofile": resource.RLIMIT_NOFILE, "fsize": resource.RLIMIT_FSIZE,
            "cpu": resource.RLIMIT_CPU, "core": resource.RLIMIT_CORE}


# ---------------------------------------------------------------- framing


_LEN_DIGITS = 10  # Host -> harness: the header's byte length, ASCII, zero-padded.


def read_header(fd: int = 0) -> dict | None:
  """One header from the host, read to its last byte and no further.

  Unbuffered on purpose: the blobs after it stay in the pipe until asked
  for, so an assert-style test's checks are read off fd 0 by the checker
  process (harness `_checker_child`) and never enter this process.
  """
  size = _read_exact(fd, _LEN_DIGITS)
  if not size:
    return None
  if len(size) != _LEN_DIGITS or not size.isdigit():
    raise ValueError(f"broken frame length {size!r}")
  return json.loads(_read_exact(fd, int(size)))


def frame_bytes(header: dict, blobs=()) -> bytes:
  """A host -> harness frame (`read_header`, then the blobs)."""
  line = json.dumps(dict(header, blobs=[len(b) for b in blobs])).encode()
  return b"".join([b"%0*d" % (_LEN_DIGITS, len(line)), line, *blobs])


def write_frame(stream, header: dict, blobs: list[bytes] = ()) -> None:
  header = dict(header, blobs=[len(b) for b in blobs])
  stream.write(json.dumps(header).encode() + b"\n")
  for b in blobs:
    stream.write(b)
  stream.flush()


# ---------------------------------------------------------------- readback


def readback(scratch_dirs: list[str]) -> dict:
  """What this process can observe about its own confinement."""
  limits = {name: list(resource.getrlimit(r)) for name, r in _RLIMITS.items()}
  try:
    with open("/proc/net/dev") as f:
      interfaces = sorted(l.split(":")[0].strip() for l in f.readlines()[2:])
  except OSError:
    interfaces = None
  root_writable = True
  try:
    os.mkdir("/.probe")
    os.rmdir("/.probe")
  except OSError:
    root_writable = False
  sizes = {}
  for d in scratch_dirs:
    st = os.statvfs(d)
    sizes[d] = st.f_blocks * st.f_frsize
  return {"rlimits": limits, "uid": os.getuid(), "gid": os.getgid(), "pid": os.getpid(),
          "interfaces": interfaces, "root_writable": root_writable, "scratch_bytes": sizes,
          "python": list(sys.version_info[:3])}


# ---------------------------------------------------------------- the child


def _child_limits(memory_mb: int, time_limit_s: float, caps: dict) -> dict:
  cpu = int(time_limit_s) + 1
  return {"as": memory_mb << 20, "cpu": cpu, "nproc": caps["nproc"],
          "nofile": caps["nofile"], "fsize": caps["fsize"], "core": 0}


def _libc_unshare():
  """libc's unshare(2), or None where it cannot be had."""
  try:
    import ctypes  # pylint: disable=g-import-not-at-top
    libc = ctypes.CDLL(None, use_errno=True)
    fn = libc.unshare
    fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
  except (ImportError, OSError, AttributeError):
    return None

  def unshare(flags: int) -> None:
    if fn(flags) != 0:
      errno = ctypes.get_errno()
      raise OSError(errno, f"unshare({flags:#x}): {os.strerror(errno)}")

  return unshare


def _libc_malloc_control():
  """Fixes glibc's malloc thresholds and returns `malloc_trim` (or None).

  glibc raises its mmap threshold each time a large block is freed, so after
  one test's 20 MiB input the next large buffers come from the heap and stay
  there: every later test child was forked from a bigger harness (25 -> 195
  MB measured), and could reuse that freed heap beyond its RLIMIT_AS. Fixed
  thresholds keep large buffers in their own mappings (returned on free),
  and `malloc_trim(0)` after each test gives back the rest.
  """
  try:
    import ctypes  # pylint: disable=g-import-not-at-top
    libc = ctypes.CDLL(None)
    for option, value in ((-3, 128 << 10), (-1, 128 << 10)):  # M_MMAP_ / M_TRIM_THRESHOLD
      libc.mallopt(option, value)
    trim = libc.malloc_trim
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim
  except (ImportError, OSError, AttributeError):
    return None


def _no_unshare(flags: int) -> None:
  raise OSError(f"unshare({flags:#x}) is not available (no ctypes/libc)")


def _enter_child(fds: dict, limits: dict, uid: int | None, workdir: str,
                 unshare=None) -> None:
  """Becomes the judged process: fds, session, limits, uid; verifies them.

  The verdict on the limits is the report pipe's first byte (`_GATE_OK`, or
  b"F" and why), written before any of the program's code runs: the program
  can only write after it, so nothing it does can say "limits failed" (an
  exit status could: the program picks its own).
  """
  signal.set_wakeup_fd(-1)
  signal.signal(signal.SIGCHLD, signal.SIG_DFL)
  os.setsid()
  targets = [(0, fds["stdin"]), (1, fds["stdout"]), (2, fds["stderr"]),
             (_REPORT_FD, fds["report"]), (_CHECKS_FD, fds["checks"])]
  if "replies" in fds:  # Assert style: fd 4 brings calls, fd 5 takes replies.
    targets.append((_REPLIES_FD, fds["replies"]))
    # A source at or below fd 5 could be overwritten by an earlier dup2:
    # every source moves above the targets first.
    moved = [(t, fcntl.fcntl(fd, fcntl.F_DUPFD, 16)) for t, fd in targets]
    for fd in fds["all"]:
      os.close(fd)
    for target, fd in moved:
      os.dup2(fd, target)
      os.close(fd)
  else:
    for target, fd in targets:
      os.dup2(fd, target)
    # The harness's own descriptors above 4 are exactly this test's pipe ends
    # (closed by number, not listed: every syscall is expensive under gVisor's
    # ptrace platform; the wake pipe sits at 3-4 and was just replaced).
    for fd in fds["all"]:
      os.close(fd)
  if unshare is not None:
    # Before the uid drop (it needs the sandbox's root); a failure fails the
    # gate below, so no test runs with the previous tests' IPC or sockets.
    unshare(_CLONE_NEWIPC | _CLONE_NEWNET)
  for name, value in limits.items():
    # CPU: the soft limit sends SIGXCPU, one second later the hard one kills.
    hard = value + 1 if name == "cpu" else value
    resource.setrlimit(_RLIMITS[name], (value, hard))
  if uid is not None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
  os.chdir(workdir)
  seen = {n: resource.getrlimit(_RLIMITS[n]) for n in limits}
  wrong = {n: got for n, got in seen.items() if got[0] != limits[n]}
  if wrong or (uid is not None and (os.getuid(), os.geteuid()) != (uid, uid)):
    raise RuntimeError(f"limits did not take effect: {wrong}, uid {os.getuid()}")
  os.write(_REPORT_FD, _GATE_OK)


def _child(kind: str, fds: dict, limits: dict, uid: int | None, workdir: str,
           source: str, unshare=None) -> None:
  """The forked child: never returns."""
  try:
    _enter_child(fds, limits, uid, workdir, unshare)
  except BaseException as e:  # pylint: disable=broad-except
    try:
      os.write(_REPORT_FD, b"F" + repr(e).encode("utf-8", "replace")[:1000])
    finally:
      os._exit(1)
  try:
    if kind == "compile":
      _compile_child()
    _run_user_code(source, kind == "assert")
  finally:
    os._exit(1)


def _trimmed_traceback(exc: BaseException) -> str:
  """The traceback from the first frame of the user's code on (capped)."""
  try:
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename not in (USER_FILE, TEST_FILE):
      tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb))
  except BaseException:  # pylint: disable=broad-except
    # A program-defined __str__ that raises, or worse.
    text = f"{_safe_name(exc)}: <the exception could not be formatted>\n"
  return cap_escaped(text, TRACEBACK_CAP)


def cap_escaped(text: str, cap: int) -> str:
  """`text`, cut in its middle so that its JSON form (`json.dumps`, ASCII
  escapes: up to 12 bytes a character) is at most `cap` bytes.

  The cap is on what crosses the pipe, decided before the escaping: a
  character cap let a long non-ASCII line grow sixfold past the report's cap.
  """
  if len(text) * 12 + 2 <= cap or len(json.dumps(text)) <= cap:
    return text
  marker = "\n[... traceback truncated ...]\n"
  keep = max(0, (cap - len(json.dumps(marker))) // 2)
  head, tail = text[:keep], text[-keep:] if keep else ""
  # Each pass at least halves the excess; a few passes at most.
  while len(json.dumps(head)) + len(json.dumps(tail)) > keep * 2 + 4 and (head or tail):
    head, tail = head[:len(head) * 3 // 4], tail[max(1, len(tail) // 4):]
  return head + marker + tail


def _safe_name(exc: BaseException) -> str:
  name = type(exc).__name__
  return name[:100] if isinstance(name, str) else "?"


def _exception_kind(exc: BaseException) -> str:
  """What the judge reads from an exception; by identity with the builtin
  classes captured at start-up, so a program's own `class MemoryError` is
  just an exception."""
  if type(exc) is _MEMORY_ERROR:  # pylint: disable=unidiomatic-typecheck
    return "MemoryError"
  if isinstance(exc, _ASSERTION_ERROR):
    return "AssertionError"
  return "other"


def _read_exact(fd: int, n: int) -> bytes:
  """Up to `n` bytes from `fd` (fewer only at end of file)."""
  chunks, got = [], 0
  while got < n:
    chunk = os.read(fd, min(n - got, 1 << 20))
    if not chunk:
      break
    chunks.append(chunk)
    got += len(chunk)
  return b"".join(chunks)


def _conclude(record: dict, code: int, report: bool = True) -> None:
  """Reports with the per-test nonce, then exits (`report=False`: just exits).

  The nonce does not exist in this process until now: the child asks for it
  (`_ASK` on the report pipe) after the program, the checks, their traceback
  and the exit handlers ran, and the harness sends it down the checks pipe.

  Before it is asked for, what could still run the program's code in this
  process is switched off (trace and profile hooks, signal handlers, the
  collector and its callbacks). Threads cannot be stopped, and one that runs
  while the nonce is in the pipe or in this frame could forge with it, so a
  process with any other thread still alive (a daemon) asks for no nonce and
  reports nothing: its checks are not certified, its exception kind not
  known (our rule; docs/judge.md). What remains (code that patched this
  module's own functions) is the shared-interpreter limit of assert-style
  judging: docs/judge.md, threat model.
  """
  code = int.__and__(code, 0xFF) if type(code) is int else 1  # pylint: disable=unidiomatic-typecheck
  if not report:
    os._exit(code)
  try:
    sys.settrace(None)
    sys.setprofile(None)
    signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    gc.disable()
    if len(os.listdir("/proc/self/task")) > 1:
      os.write(2, b"\njudge: threads still running at exit: no report (docs/judge.md)\n")
      os._exit(code)
    os.set_blocking(_CHECKS_FD, True)  # The program may have changed it.
    _write_all(_REPORT_FD, _ASK)
    nonce = _read_exact(_CHECKS_FD, _NONCE_LEN)
    # Two lines: what decides the verdict (small: always within the cap),
    # then the traceback (capped in escaped bytes), so no traceback, however
    # long or non-ASCII, can take the exception's kind with it.
    record = dict(record)
    tb = record.pop("traceback", None)
    line = json.dumps(record).encode("ascii")
    if isinstance(tb, str):
      line += b"\n" + nonce + b" " + json.dumps({"traceback": tb}).encode("ascii")
    _write_all(_REPORT_FD, nonce + b" " + line + b"\n")
  except BaseException:  # pylint: disable=broad-except
    pass  # The program closed or replaced the judge's fds: no report, no proof.
  os._exit(code)


def _write_all(fd: int, data: bytes) -> None:
  view = memoryview(data)
  while view:
    view = view[os.write(fd, view):]


def _compile_child() -> None:
  """Compiles the source on stdin (the compiler runs none of it)."""
  try:
    compile(sys.stdin.buffer.read().decode("utf-8"), USER_FILE, "exec")
  except BaseException as e:  # pylint: disable=broad-except
    _conclude({"exception": type(e).__name__[:100], "traceback": _trimmed_traceback(e)}, 1)
  _conclude({"done": True}, 0)


def _run_user_code(source: str, assert_style: bool) -> None:
  """Execs the program (then, assert style, the checks) in one fresh __main__."""
  sys.stdin = open(0, "r", encoding="utf-8", errors="surrogateescape", closefd=False)
  sys.stdout = open(1, "w", encoding="utf-8", errors="surrogateescape", closefd=False)
  sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace",
                    closefd=False, buffering=1)
  sys.argv = [USER_FILE]
  main = types.ModuleType("__main__")
  main.__dict__.update(__builtins__=builtins, __file__=USER_FILE)
  sys.modules["__main__"] = main
  code, record = 0, {"done": False}
  # Freed the moment the program's code is over (before the traceback, the
  # exit handlers and the report are made), so a program that ends on a
  # MemoryError at its RLIMIT_AS still leaves room to say so.
  # An untouched anonymous mapping: address space (what RLIMIT_AS counts)
  # without a page fault (a zeroed bytearray costs 512 of them, ~15 ms a
  # test under gVisor's ptrace platform).
  reserve = [mmap.mmap(-1, _RESERVE)]
  try:
    linecache.cache[USER_FILE] = (len(source), None, source.splitlines(True), USER_FILE)
    exec(compile(source, USER_FILE, "exec"), main.__dict__)
    if assert_style:
      # The program's top-level code is done: now (only now) it answers the
      # checker's calls, from its own process; the checks stay there.
      _serve_calls(main.__dict__)
    record["done"] = True
  except SystemExit as e:
    reserve.clear()
    code = _exit_status(e)
  except BaseException as e:  # pylint: disable=broad-except
    reserve.clear()
    tb = _trimmed_traceback(e)
    record.update(exception=_exception_kind(e), name=_safe_name(e), traceback=tb,
                  in_tests=_in_tests(e))
    if assert_style:
      # Told to the checker, which reports it (the kind of a failure only:
      # nothing the program says there can make a test pass).
      _send_line(_REPLIES_FD, {"id": 0, "raised": record["exception"], "traceback": tb})
    try:
      sys.stderr.write(tb)
    except BaseException:  # pylint: disable=broad-except
      pass
    code = 1
  reserve.clear()
  _finalize()
  # In stdio style only an exception has anything to report (its kind and
  # traceback); a clean exit is judged by its status and stdout alone.
  _conclude(record, code, report="exception" in record and not assert_style)


def _exit_status(exc: BaseException) -> int:
  """The status CPython would exit with for this SystemExit, as an exact int.

  The `code` attribute is read once, as CPython's `_Py_HandleSystemExit`
  does; an int (subclass) is then reduced with `int.__and__` itself, which
  reads the integer's own digits as CPython's `PyLong_AsLong` does (a
  subclass's `__and__`, `__index__`, `__eq__` or `__bool__` never runs, and
  the result is an exact int). Like CPython: None is 0, an int is its value
  mod 256, anything else is printed to stderr and is 1. The status the host
  sees is still the one `wait4` reads after `os._exit` of this exact int.
  """
  try:
    value = exc.code  # Once, as CPython reads it (a property runs once).
  except BaseException:  # pylint: disable=broad-except
    return 1
  if value is None:
    return 0
  if issubclass(type(value), int):  # The real type and MRO (not __class__).
    try:
      status = int.__and__(value, 0xFF)
    except BaseException:  # pylint: disable=broad-except
      return 1
    return status if type(status) is int else 1  # pylint: disable=unidiomatic-typecheck
  try:
    print(value, file=sys.stderr)
  except BaseException:  # pylint: disable=broad-except
    pass
  return 1


def _finalize() -> None:
  """What a normal interpreter exit does: join threads, atexit, flush."""
  try:
    threading = sys.modules.get("threading")
    if threading is not None:
      threading._shutdown()  # pylint: disable=protected-access
    import atexit  # pylint: disable=g-import-not-at-top
    atexit._run_exitfuncs()  # pylint: disable=protected-access
  except BaseException:  # pylint: disable=broad-except
    pass
  for stream in (sys.stdout, sys.stderr):
    try:
      stream.flush()
    except BaseException:  # pylint: disable=broad-except
      pass  # Output lost to a closed stdout is the program's own doing.


def _in_tests(exc: BaseException) -> bool:
  try:
    tb, filename = exc.__traceback__, None
    while tb is not None:
      if tb.tb_frame.f_code.co_filename in (USER_FILE, TEST_FILE):
        filename = filename or tb.tb_frame.f_code.co_filename
      tb = tb.tb_next
    return filename == TEST_FILE
  except BaseException:  # pylint: disable=broad-except
    return False


def parse_report(data: bytes, nonce: bytes) -> dict:
  """The child's report: only lines that start with this test's nonce count.

  Total: any bytes give a dict (a program can write anything to the report
  pipe, but not the nonce, which it never saw). Several authentic lines are
  combined conservatively (done only if all say so; the first exception).
  """
  out: dict = {"done": False}
  records = []
  prefix = nonce + b" "
  for line in data.split(b"\n"):
    if not line.startswith(prefix) or len(line) > _REPORT_CAP:
      continue
    try:
      record = json.loads(line[len(prefix):])
    except (ValueError, RecursionError, MemoryError, UnicodeDecodeError):
      continue
    if isinstance(record, dict):
      records.append(record)
  tracebacks = [r for r in records if set(r) == {"traceback"}]
  records = [r for r in records if set(r) != {"traceback"}]
  if not records:
    return out
  out["done"] = all(r.get("done") is True for r in records)
  for r in records:
    if "exception" in r:
      out["exception"] = _text(r.get("exception"), 100)
      out["in_tests"] = r.get("in_tests") is True
      tb = tracebacks[0].get("traceback") if tracebacks else r.get("traceback")
      out["traceback"] = _text(tb, TRACEBACK_CAP + 100)
      break
  return out


def _text(value, cap: int) -> str:
  return value[:cap] if isinstance(value, str) else ""


# ---------------------------------------------------------------- assert style: two processes
#
# The checks run in a checker process (harness code, another uid) that reads
# them off the host pipe itself and never runs the program's code; the
# program runs in its own process, forked after the checker has read them
# from a harness that never held them, and answers calls by name once its
# top-level code has finished. Values cross as tagged JSON: the checker only
# ever holds exact builtin values, so no method of the program's (`__eq__`,
# `__and__`) runs where the checks are, and the program cannot see the
# checks, their constants or the caller's frame.

_TAGS = ("T", "S", "F", "D", "B", "C", "R")


def encode_value(value, depth: int = 0):
  """A JSON-able form of builtin values (tuples, sets, dicts, bytes, ...)."""
  if depth > 200:
    raise ValueError("value nested too deep")
  t = type(value)
  if value is None or t in (bool, str):
    return value
  if t is int:
    return value if -(1 << 53) < value < (1 << 53) else {"I": int.__repr__(value)}
  if t is float:
    return {"R": float.__repr__(value)}
  if t is list:
    return [encode_value(v, depth + 1) for v in value]
  if t is tuple:
    return {"T": [encode_value(v, depth + 1) for v in value]}
  if t in (set, frozenset):
    return {"S" if t is set else "F": [encode_value(v, depth + 1) for v in value]}
  if t is dict:
    return {"D": [[encode_value(k, depth + 1), encode_value(v, depth + 1)]
                  for k, v in value.items()]}
  if t is bytes:
    return {"B": value.hex()}
  if t is complex:
    return {"C": [float.__repr__(value.real), float.__repr__(value.imag)]}
  # Subclasses of builtins become their base values (read with the base
  # class's own methods, so nothing of the subclass runs in the checker).
  for base in (bool, int, float, str, bytes, tuple, list):
    if isinstance(value, base):
      return encode_value(base(value) if base is not int else int.__index__(value), depth)
  raise TypeError(f"a {t.__name__[:100]} cannot cross to the checker")


def decode_value(data, depth: int = 0):
  """`encode_value`'s inverse: only exact builtin values come out."""
  if depth > 200:
    raise ValueError("value nested too deep")
  t = type(data)
  if data is None or t in (bool, str):
    return data
  if t is int:
    return data
  if t is list:
    return [decode_value(v, depth + 1) for v in data]
  if t is not dict or len(data) != 1:
    raise ValueError(f"not an encoded value: {t.__name__}")
  (tag, body), = data.items()
  if tag == "I" and type(body) is str and len(body) < 5000:
    return int(body)
  if tag == "R" and type(body) is str and len(body) < 40:
    return float(body)
  if tag == "B" and type(body) is str:
    return bytes.fromhex(body)
  if tag == "C" and type(body) is list and len(body) == 2 and all(type(x) is str for x in body):
    return complex(float(body[0]), float(body[1]))
  if type(body) is not list:
    raise ValueError(f"bad encoded value {tag!r}")
  items = [decode_value(v, depth + 1) for v in body] if tag != "D" else None
  if tag == "T":
    return tuple(items)
  if tag == "S":
    return set(items)
  if tag == "F":
    return frozenset(items)
  if tag == "D":
    out = {}
    for pair in body:
      if type(pair) is not list or len(pair) != 2:
        raise ValueError("bad dict item")
      out[decode_value(pair[0], depth + 1)] = decode_value(pair[1], depth + 1)
    return out
  raise ValueError(f"bad encoded value {tag!r}")


def _send_line(fd: int, message: dict) -> None:
  try:
    _write_all(fd, json.dumps(message).encode("ascii") + b"\n")
  except BaseException:  # pylint: disable=broad-except
    pass  # The other side is gone or the value would not encode.


class _LineReader:
  """Lines from a pipe, each capped (a longer one is an error, not a hang)."""

  def __init__(self, fd: int):
    self.fd, self.buffer = fd, bytearray()

  def line(self) -> bytes | None:
    while True:
      end = self.buffer.find(b"\n")
      if end >= 0:
        out = bytes(self.buffer[:end])
        del self.buffer[:end + 1]
        return out
      if len(self.buffer) > _RPC_LINE_CAP:
        raise ValueError("a message over the cap")
      chunk = os.read(self.fd, 1 << 16)
      if not chunk:
        return None
      self.buffer += chunk


def _serve_calls(names: dict) -> None:
  """The program's side: answers the checker until it hangs up (EOF).

  Every reply carries its request's id: the checker skips any other line,
  so whatever else the program writes there (junk, forged replies) can at
  most stand for its own answers, which it chooses anyway.
  """
  for fd in (_CHECKS_FD, _REPLIES_FD):
    os.set_blocking(fd, True)  # The program may have changed them.
  _send_line(_REPLIES_FD, {"id": 0, "ready": True})
  reader = _LineReader(_CHECKS_FD)
  while True:
    line = reader.line()
    if line is None:
      return
    request = json.loads(line)
    try:
      ident = request["id"]
      target = names[request["name"]]
      if request["op"] == "get" and callable(target):
        reply = {"callable": True}
      elif request["op"] == "get":
        reply = {"value": encode_value(target)}
      else:
        result = target(*decode_value(request["args"]), **decode_value(request["kwargs"]))
        reply = {"value": encode_value(result)}
    except KeyError:
      reply = {"missing": True}
    except BaseException as e:  # pylint: disable=broad-except
      if isinstance(e, SystemExit):
        raise
      reply = {"raised": _exception_kind(e), "traceback": _trimmed_traceback(e)}
    reply["id"] = request.get("id")
    try:
      data = json.dumps(reply).encode("ascii")
    except (TypeError, ValueError, RecursionError) as e:
      data = json.dumps({"raised": "other", "traceback": f"judge: {e}"[:1000]}).encode()
    _write_all(_REPLIES_FD, data + b"\n")


class _CandidateFailed(Exception):
  """The program's function raised, or its process stopped answering."""

  def __init__(self, kind: str, traceback_text: str):
    super().__init__(traceback_text[-2000:])
    self.kind, self.traceback_text = kind, traceback_text


class _Remote:
  """The checker's side of the calls into the program's process."""

  def __init__(self, calls_fd: int, replies_fd: int):
    self.calls_fd, self.reader = calls_fd, _LineReader(replies_fd)
    self.last_id = 0

  def ask(self, request: dict) -> dict:
    self.last_id += 1
    try:
      _write_all(self.calls_fd,
                 json.dumps(dict(request, id=self.last_id)).encode("ascii") + b"\n")
    except OSError:
      raise _CandidateFailed("other", "the program's process is gone") from None
    return self.answer(self.last_id)

  def answer(self, ident: int = 0) -> dict:
    """The reply to request `ident` (0: "ready"); other lines are skipped."""
    while True:
      line = self.reader.line()
      if line is None:
        raise _CandidateFailed("other", "the program's process ended before the checks did")
      try:
        reply = json.loads(line)
      except (ValueError, RecursionError):
        continue
      if type(reply) is dict and type(reply.get("id")) is int and reply["id"] == ident:
        break
    if "raised" in reply:
      kind = reply.get("raised")
      tb = reply.get("traceback")
      raise _CandidateFailed(kind if kind in ("MemoryError", "AssertionError") else "other",
                             tb if type(tb) is str else "")
    return reply


class _RemoteFunction:
  """A function of the program's, called across the process boundary."""

  def __init__(self, remote: _Remote, name: str):
    self._remote, self.__name__ = remote, name

  def __call__(self, *args, **kwargs):
    reply = self._remote.ask({"op": "call", "name": self.__name__,
                              "args": encode_value(list(args)),
                              "kwargs": encode_value(dict(kwargs))})
    if "missing" in reply:
      raise NameError(f"name {self.__name__!r} is not defined by the program")
    return decode_value(reply.get("value"))

  def __repr__(self):
    return f"<program function {self.__name__}>"


class _ProgramNames(dict):
  """The checks' globals: their own names, then the builtins, then, for a
  name neither defines, the program's (a function, or a value copy)."""

  def __init__(self, remote: _Remote):
    super().__init__(__builtins__=builtins, __name__="__main__", __file__=TEST_FILE)
    self._remote = remote

  def __missing__(self, name):
    if not isinstance(name, str) or hasattr(builtins, name):
      raise KeyError(name)
    reply = self._remote.ask({"op": "get", "name": name})
    if "missing" in reply:
      raise KeyError(name)
    value = _RemoteFunction(self._remote, name) if reply.get("callable") is True \
        else decode_value(reply.get("value"))
    self[name] = value
    return value


def _checker_child(size: int, fds: dict, limits: dict, uid: int | None) -> None:
  """The checker: reads the checks off the host pipe (fd 0), acks on its
  report pipe, drops to its own uid, waits for the program to finish its
  top-level code, runs the checks, reports, exits. Never returns."""
  record: dict = {"done": False}
  try:
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    checks = _read_exact(0, size)
    if len(checks) != size:
      raise RuntimeError("the checks did not arrive whole")
    os.write(fds["report"], _GATE_OK)
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1):  # The host's pipes: not the checker's business.
      os.dup2(null, target)
    os.close(null)
    for fd in fds["close"]:
      os.close(fd)
    os.setsid()
    for name, value in limits.items():
      hard = value + 1 if name == "cpu" else value
      resource.setrlimit(_RLIMITS[name], (value, hard))
    if uid is not None:
      os.setgroups([])
      os.setgid(uid)
      os.setuid(uid)
    remote = _Remote(fds["calls"], fds["replies"])
    source = checks.decode("utf-8")
    del checks
    ready = remote.answer()  # The program's top-level code has finished.
    if ready.get("ready") is not True:
      raise _CandidateFailed("other", "the program did not start answering")
    linecache.cache[TEST_FILE] = (len(source), None, source.splitlines(True), TEST_FILE)
    exec(compile(source, TEST_FILE, "exec"), _ProgramNames(remote))  # pylint: disable=exec-used
    record["done"] = True
  except _CandidateFailed as e:
    record.update(exception=e.kind, in_tests=False,
                  traceback=cap_escaped(e.traceback_text, TRACEBACK_CAP))
  except BaseException as e:  # pylint: disable=broad-except
    kind = "AssertionError" if isinstance(e, AssertionError) else (
        "MemoryError" if type(e) is MemoryError else "other")  # pylint: disable=unidiomatic-typecheck
    record.update(exception=kind, in_tests=kind == "AssertionError",
                  traceback=_trimmed_traceback(e))
  try:
    tb = record.pop("traceback", None)
    line = json.dumps(record).encode("ascii") + b"\n"
    if isinstance(tb, str):
      line += json.dumps({"traceback": tb}).encode("ascii") + b"\n"
    _write_all(fds["report"], line)
  finally:
    os._exit(0)


# ---------------------------------------------------------------- the parent


class Harness:
  """Runs one submission's tests, one forked child per test."""

  def __init__(self, mode: str, uid: int | None, caps: dict, scratch: list[str],
               stdout_cap: int, stderr_cap: int):
    self.mode, self.uid, self.caps, self.scratch = mode, uid, caps, scratch
    self.stdout_cap, self.stderr_cap = stdout_cap, stderr_cap
    self.program = None
    # Sandbox mode: every test child in fresh IPC and network namespaces (a
    # child that cannot get them fails its gate: an infrastructure fault).
    self._unshare = None
    if mode == "sandbox":
      self._unshare = _libc_unshare() or _no_unshare
    self._trim = _libc_malloc_control()
    # SIGCHLD wakes the supervising select() through this pipe the moment a
    # test exits (no polling interval on every test's critical path).
    self._wake, wake_w = os.pipe()
    for fd in (self._wake, wake_w):
      os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)

  def set_program(self, header: dict, source: bytes) -> dict:
    self.program = dict(header, source=source.decode("utf-8"))
    result = self._run_child("compile", [source])
    if result["status"] in ("limits_failed", "harness_fault"):
      result.pop("stdout"), result.pop("stderr")
      return {"compile_failed": result}
    if result["status"] == "exited" and result["exit_code"] == 0 and result.get("done"):
      return {"ok": True}
    if result["status"] == "exited" and result.get("exception"):
      # SyntaxError, or ValueError/RecursionError/MemoryError from the compiler.
      return {"syntax_error": result["traceback"]}
    result.pop("stdout"), result.pop("stderr")
    return {"compile_failed": result}

  def run_test(self, held: list[bytes]) -> tuple[dict, list[bytes]]:
    """Runs one stdio test; `held` holds its input (emptied before the fork)."""
    return self._blobs(self._run_child(self.program["style"], held))

  def run_assert_test(self, size: int) -> tuple[dict, list[bytes]]:
    """Runs one assert-style test whose checks (`size` bytes) wait on fd 0.

    The checker is forked first and reads them off the host pipe itself;
    the program's process is forked after that, from this process, which
    never held them (no copy in its memory, buffers or descriptors).
    """
    limits = _child_limits(self.program["memory_mb"], self.program["time_limit_s"], self.caps)
    report_r, report_w = os.pipe()
    calls_r, calls_w = os.pipe()
    replies_r, replies_w = os.pipe()
    # Another uid than the program's: it can neither signal nor trace nor
    # read the checker's memory.
    checker_uid = None if self.uid is None else self.uid - 1
    gc.freeze()
    start = time.monotonic()
    cpid = os.fork()
    if cpid == 0:
      _checker_child(size, {"report": report_w, "calls": calls_w, "replies": replies_r,
                            "close": [report_r, calls_r, replies_w]}, limits, checker_uid)
    os.close(report_w)
    ack = os.read(report_r, 1)  # The checks are off the host pipe.
    if ack != _GATE_OK:
      for fd in (report_r, calls_r, calls_w, replies_r, replies_w):
        os.close(fd)
      _kill_and_reap(cpid)
      raise RuntimeError("the checker did not take the checks")
    os.close(calls_w)
    os.close(replies_r)
    result = self._run_child("assert", [b""], rpc=(calls_r, replies_w),
                             checker=(cpid, report_r), start=start)
    return self._blobs(result)

  @staticmethod
  def _blobs(result: dict) -> tuple[dict, list[bytes]]:
    blobs = [result.pop("stdout"), result.pop("stderr"),
             result.pop("traceback", "").encode("utf-8", "replace")]
    return result, blobs

  def _run_child(self, kind: str, held: list[bytes], rpc: tuple | None = None,
                 checker: tuple | None = None, start: float | None = None) -> dict:
    """Forks one child (assert style: beside the running checker)."""
    limits = _child_limits(self.program["memory_mb"], self.program["time_limit_s"], self.caps)
    names = ("stdin", "stdout", "stderr", "report") + (() if rpc else ("checks",))
    pipes = {name: os.pipe() for name in names}
    child_fds = {"stdin": pipes["stdin"][0], "stdout": pipes["stdout"][1],
                 "stderr": pipes["stderr"][1], "report": pipes["report"][1]}
    every = [fd for pair in pipes.values() for fd in pair]
    if rpc:
      child_fds.update(checks=rpc[0], replies=rpc[1])
      every += [*rpc, checker[1]]
    else:
      child_fds["checks"] = pipes["checks"][0]
      if min(every) <= _CHECKS_FD:
        raise RuntimeError(f"pipe descriptors {every} collide with the child's 0-{_CHECKS_FD}")
    workdir = self.scratch[0] if self.scratch else os.getcwd()
    # Input goes in before the fork: the child then never blocks on it (each
    # block and wake-up is costly under gVisor). Beyond a pipe's worth it goes
    # into a memory file that becomes the child's stdin, and this process
    # drops its copy first: every test is forked from the same address space
    # (up to _MEMFD_MAX; a larger input is written through the pipe, and
    # stays here meanwhile).
    stdin = held.pop()
    if _PIPE_BUF < len(stdin) <= _MEMFD_MAX:
      memfd = os.memfd_create("stdin", 0)
      _write_all(memfd, stdin)
      os.lseek(memfd, 0, os.SEEK_SET)
      del stdin
      for fd in pipes.pop("stdin"):
        os.close(fd)
      child_fds["stdin"] = memfd
      every = [fd for pair in pipes.values() for fd in pair] + [memfd] + (
          [*rpc, checker[1]] if rpc else [])
      writers = {}
    else:
      writers = {pipes["stdin"][1]: _prefill(pipes["stdin"][1], stdin)}
      del stdin
    if not rpc:
      # Stays open for the nonce, sent when the child asks.
      writers[pipes["checks"][1]] = [b"", 0, True]
    # Frozen objects are never scanned by the child's collector, so it does
    # not write to (and copy, under gVisor: one fault per page) the harness's
    # whole heap.
    gc.freeze()
    start = time.monotonic() if start is None else start
    pid = os.fork()
    if pid == 0:
      _child(kind, dict(child_fds, all=every), limits, self.uid, workdir,
             self.program["source"], self._unshare)
    for fd in child_fds.values():
      os.close(fd)
    # The nonce exists only after the fork, so no copy of it is in the child's
    # memory, and it enters the checks pipe only when the child asks for it.
    nonce = os.urandom(_NONCE_LEN // 2).hex().encode()
    result = self._supervise(pid, pipes, writers, start, self.program["time_limit_s"], nonce,
                             checker)
    result["fresh"] = not self._sweep(pid)
    return result

  def trim(self, moved: int) -> None:
    """Gives freed memory back, so the next test forks from the same size.

    Only after a test that moved over 1 MiB (input + outputs): below that,
    with fixed malloc thresholds, nothing grew, and a trim costs ~5 ms of
    the sandbox's CPU a test under gVisor's ptrace platform.
    """
    if moved > (1 << 20):
      gc.collect()
      if self._trim is not None:
        self._trim(0)

  def _supervise(self, pid, pipes, writers: dict, start: float, limit: float,
                 nonce: bytes, checker: tuple | None = None) -> dict:
    """Feeds stdin and checks, drains outputs and report until exit, timeout
    or cap. Every capture is capped; the report is drained and dropped beyond
    its cap (a flood there changes nothing). Assert style, `checker` is the
    checker's (pid, report pipe): both processes are waited for."""
    out = {"stdout": bytearray(), "stderr": bytearray(), "report": bytearray()}
    caps = {"stdout": self.stdout_cap, "stderr": self.stderr_cap, "report": _REPORT_CAP,
            "checker": _REPORT_CAP}
    readers = {pipes[n][0]: n for n in out}
    if checker:
      out["checker"] = bytearray()
      readers[checker[1]] = "checker"
    checks_fd, tail = pipes["checks"][1] if "checks" in pipes else None, b""
    for fd, (data, offset, keep) in list(writers.items()):
      if offset >= len(data) and not keep:
        os.close(fd)
        del writers[fd]
    deadline = start + limit
    reason, waited = None, None
    # The checker's end: None while it runs (no checker: nothing to wait for).
    checker_waited = None if checker else (0, None)
    ended = False
    while True:
      if waited is None:
        got, status, usage = os.wait4(pid, os.WNOHANG)
        if got:
          waited = (status, usage, time.monotonic())
      if checker_waited is None:
        got, cstatus, cusage = os.wait4(checker[0], os.WNOHANG)
        if got:
          checker_waited = (cstatus, cusage)
        elif waited is not None and time.monotonic() > waited[2] + 1.0:
          # The program's process is gone: the checker has its answer (EOF)
          # or none is coming.
          checker_waited = _kill_and_reap(checker[0])
      if waited is not None and checker_waited is not None and not ended:
        # Nothing of the test may outlive it, nor keep its pipes open.
        ended = True
        self._kill_rest(pid)
        for fd in list(writers):
          os.close(fd)
          del writers[fd]
      if waited is not None and checker_waited is not None and not readers:
        break
      now = time.monotonic()
      if waited is None and now >= deadline:
        reason = "timeout"
        break
      if waited is not None and now >= deadline + 1:
        break  # Writers that cannot be killed: give up on the rest of the output.
      wait_s = deadline - now if waited is None else deadline + 1 - now
      if waited is not None and checker_waited is None:
        wait_s = min(wait_s, max(0.0, waited[2] + 1.0 - now) + 0.01)
      pending = [fd for fd, (data, offset, _) in writers.items() if offset < len(data)]
      r, w, _ = select.select([*readers, self._wake], pending, [], wait_s)
      if self._wake in r:
        r.remove(self._wake)
        _drain(self._wake)
      for fd in w:
        data, offset, keep = writers[fd]
        try:
          offset += os.write(fd, data[offset:offset + _CHUNK])
        except BlockingIOError:
          pass
        except BrokenPipeError:
          offset = len(data)  # The program stopped reading: fine.
        writers[fd][1] = offset
        if offset >= len(data) and not keep:
          os.close(fd)
          del writers[fd]
      for fd in r:
        name = readers[fd]
        chunk = os.read(fd, _CHUNK)
        if not chunk:
          os.close(fd)
          del readers[fd]
          continue
        if len(out[name]) <= caps[name]:
          out[name] += chunk
        if name == "report":
          # Seen past the cap too: a flood before the request must not hide it.
          if checks_fd in writers and writers[checks_fd][2] and _ASK in tail + chunk:
            writers[checks_fd][0] = writers[checks_fd][0][writers[checks_fd][1]:] + nonce
            writers[checks_fd][1:] = [0, False]
          tail = chunk[-len(_ASK):]
        if name in ("stdout", "stderr") and len(out[name]) > caps[name]:
          reason = "output_limit"
      if reason:
        break
    if waited is None:
      os.kill(pid, signal.SIGKILL)
      _, status, usage = os.wait4(pid, 0)
      waited = (status, usage, time.monotonic())
    if checker_waited is None:
      checker_waited = _kill_and_reap(checker[0])
    for fd in list(readers) + list(writers):
      os.close(fd)
    status, usage, end = waited
    if checker_waited[1] is not None:  # The checks' CPU time is the test's too.
      usage = _Usage(usage.ru_utime + checker_waited[1].ru_utime,
                     usage.ru_stime + checker_waited[1].ru_stime)
    result = {"status": reason or ("exited" if os.WIFEXITED(status) else "signaled"),
              "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
              "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
              "wall_s": end - start, "cpu_s": usage.ru_utime + usage.ru_stime,
              "stdout": bytes(out["stdout"][:self.stdout_cap]),
              "stderr": bytes(out["stderr"][:self.stderr_cap])}
    gate = bytes(out["report"][:1])
    if gate == b"F":
      result["status"] = "limits_failed"
      result["detail"] = bytes(out["report"][1:1000]).decode("utf-8", "replace")
    elif gate != _GATE_OK and reason is None:
      # The child died before the program's code could run: not the program.
      result["status"] = "harness_fault"
    if gate == _GATE_OK and checker:
      result.update(parse_checker_report(bytes(out["checker"])))  # Its ack was read.
    elif gate == _GATE_OK:
      result.update(parse_report(bytes(out["report"][1:]), nonce))
    return result

  def _kill_rest(self, pid: int) -> None:
    if self.mode == "sandbox":
      if os.getpid() != 1:
        raise RuntimeError("kill(-1) outside a sandbox would hit the host")
      try:
        os.kill(-1, signal.SIGKILL)
      except ProcessLookupError:
        pass
    else:
      try:
        os.killpg(pid, signal.SIGKILL)
      except (ProcessLookupError, PermissionError):
        pass

  def _sweep(self, pid: int) -> bool:
    """Kills and reaps whatever the test left, and empties the scratch dirs.

    Returns False when the scratch dirs could not be emptied within the
    budget: the host then runs the next test in a fresh sandbox.
    """
    self._kill_rest(pid)
    if self.mode == "sandbox":
      while True:
        try:
          os.waitpid(-1, 0)
        except ChildProcessError:
          break
    budget = [_CLEAN_ENTRIES, time.monotonic() + _CLEAN_S]
    clean = True
    for d in self.scratch:
      try:
        clean &= empty_dir(d, budget)
      except OSError:
        clean = False
    return clean


class _Usage:
  def __init__(self, ru_utime: float, ru_stime: float):
    self.ru_utime, self.ru_stime = ru_utime, ru_stime


def _kill_and_reap(pid: int) -> tuple:
  """SIGKILL and wait for one child: its (status, rusage)."""
  try:
    os.kill(pid, signal.SIGKILL)
  except ProcessLookupError:
    pass
  try:
    _, status, usage = os.wait4(pid, 0)
  except ChildProcessError:
    return (0, None)
  return (status, usage)


def parse_checker_report(data: bytes) -> dict:
  """The checker's report (harness code, another uid: trusted, but parsed
  totally all the same): its first line decides, a second one may hold the
  traceback."""
  out: dict = {"done": False}
  lines = data.split(b"\n")
  try:
    record = json.loads(lines[0]) if len(lines[0]) <= _REPORT_CAP else None
  except (ValueError, RecursionError, MemoryError, UnicodeDecodeError):
    record = None
  if not isinstance(record, dict):
    return out
  out["done"] = record.get("done") is True
  if "exception" in record:
    out["exception"] = _text(record.get("exception"), 100)
    out["in_tests"] = record.get("in_tests") is True
    try:
      tb = json.loads(lines[1]).get("traceback") if len(lines) > 1 and lines[1] else ""
    except (ValueError, RecursionError, MemoryError, UnicodeDecodeError, AttributeError):
      tb = ""
    out["traceback"] = _text(tb, TRACEBACK_CAP + 100)
  return out


def _prefill(fd: int, data: bytes, keep: bool = False) -> list:
  """Writes what fits without blocking; returns [data, offset written, keep
  open when done], with b"" for data when it all fitted (nothing kept; no
  copy of a large input)."""
  if len(data) <= _PIPE_BUF:
    # Fits an empty pipe whatever its capacity (at least a page): one blocking
    # write, and none of the two fcntl calls that non-blocking mode costs.
    if data:
      os.write(fd, data)
    return [b"", 0, keep]
  os.set_blocking(fd, False)
  offset = 0
  try:
    offset = os.write(fd, data[:_CHUNK])
  except BlockingIOError:
    pass
  return [data, offset, keep]


def _drain(fd: int) -> None:
  try:
    while os.read(fd, 4096):
      pass
  except BlockingIOError:
    pass


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def empty_dir(path: str, budget: list) -> bool:
  """Removes everything under `path` (not `path`): iterative, at most two
  open descriptors whatever the depth, never follows a link, undoes chmod
  traps. `budget` = [entries left, monotonic deadline], shared across calls;
  returns False when it ran out (the caller must not trust the dir then).
  """
  if not os.listdir(path):
    return True  # The common case, in the fewest syscalls.
  fd = os.open(path, _DIR_FLAGS)
  depth = 0
  try:
    while True:
      descend = None
      with os.scandir(fd) as entries:
        names = []
        for entry in entries:
          names.append((entry.name, entry.is_dir(follow_symlinks=False)))
          if len(names) >= 1024:
            break
      for name, is_dir in names:
        budget[0] -= 1
        if budget[0] < 0 or time.monotonic() > budget[1]:
          return False
        if not is_dir:
          os.unlink(name, dir_fd=fd)
          continue
        try:
          os.rmdir(name, dir_fd=fd)
        except OSError:  # Not empty (or a trap): go down into it.
          descend = name
          break
      if descend is not None:
        try:
          os.chmod(descend, 0o700, dir_fd=fd, follow_symlinks=False)
        except (OSError, NotImplementedError):
          pass
        child = os.open(descend, _DIR_FLAGS, dir_fd=fd)
        os.close(fd)
        fd, depth = child, depth + 1
        continue
      if names:
        continue  # That batch is gone; list again.
      if depth == 0:
        return True
      parent = os.open("..", _DIR_FLAGS, dir_fd=fd)
      os.close(fd)
      fd, depth = parent, depth - 1
  finally:
    os.close(fd)


def _parse_args(argv: list[str]) -> dict:
  """`--key=value` flags; argparse would add to every sandbox's boot time."""
  args = {"mode": None, "uid": None, "scratch": [], "rlimit": [], "stdout-cap": 32 << 20,
          "stderr-cap": 4 << 20}
  for arg in argv:
    key, _, value = arg[2:].partition("=")
    if key not in args or not arg.startswith("--"):
      raise SystemExit(f"harness: unknown argument {arg!r}")
    if key in ("scratch", "rlimit"):
      args[key].append(value)
    else:
      args[key] = value if key == "mode" else int(value)
  if args["mode"] not in ("sandbox", "process"):
    raise SystemExit("harness: --mode=sandbox|process is required")
  return args


def _restore_site() -> None:
  """What `site` gives a program, except `.pth` files: the harness starts with
  -S because site's start-up (mostly `.pth` files) is ~20 ms of every boot."""
  import site  # pylint: disable=g-import-not-at-top
  sys.path.extend(p for p in site.getsitepackages() if os.path.isdir(p) and p not in sys.path)
  site.setquit()
  site.setcopyright()
  site.sethelper()


def main(argv=None) -> int:
  args = _parse_args(sys.argv[1:] if argv is None else argv)
  # `--rlimit=name:value` (process mode, where no OCI spec sets them): applied
  # here rather than by the host in a `preexec_fn`, which would run Python
  # between fork and exec in the host's (multithreaded, JAX) process.
  for spec in args["rlimit"]:
    name, _, value = spec.partition(":")
    resource.setrlimit(_RLIMITS[name], (int(value), int(value)))
  if sys.flags.no_site:
    _restore_site()
  soft = {n: resource.getrlimit(r)[0] for n, r in _RLIMITS.items()}
  harness = Harness(args["mode"], args["uid"], soft, args["scratch"], args["stdout-cap"],
                    args["stderr-cap"])
  stdout = sys.stdout.buffer
  write_frame(stdout, {"ready": readback(args["scratch"])})
  while True:
    header = read_header(0)
    if header is None:
      return 0
    sizes = header.get("blobs", [])
    if header["op"] == "program":
      write_frame(stdout, harness.set_program(header, _read_exact(0, sizes[0])))
      continue
    if header["op"] == "test" and harness.program["style"] == "assert":
      # The checks stay in the pipe: the checker reads them (never this process).
      reply, out = harness.run_assert_test(sizes[0])
    elif header["op"] == "test":
      reply, out = harness.run_test([_read_exact(0, sizes[0])])
    else:
      raise ValueError(f"unknown op {header['op']!r}")
    write_frame(stdout, reply, out)
    moved = sum(sizes) + sum(len(b) for b in out)
    del reply, out
    harness.trim(moved)  # While the host compares: off the next test's path.


if __name__ == "__main__":
  sys.exit(main())

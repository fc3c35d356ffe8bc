"""The in-sandbox test runner: stdlib only, one process per submission.

The host starts `python3 -I -S harness.py --mode=sandbox` as the sandbox's init
process (PID 1, sandbox-root) and talks to it over stdin/stdout in frames:
a JSON header line whose "blobs" lists the byte lengths of raw payloads that
follow. The harness first reports what it sees (`ready`: rlimits, uid, mounts,
network) so the host can refuse a sandbox whose limits did not take effect.
Then, per submission:

    host -> {"op": "program", "style", "time_limit_s", "memory_mb", blobs: [src]}
    harness -> {"ok": true} | {"syntax_error": "..."}   (compiled in a child)
    host -> {"op": "test", blobs: [stdin or assert snippet]}   (repeated)
    harness -> {"status", "exit_code", "wall_s", "cpu_s", "exception",
                "traceback", "done", blobs: [stdout, stderr]}

Each test runs in a forked child that drops to the judged uid, applies the
per-test rlimits, checks they took effect and execs the user's code in a fresh
`__main__`; stdin is fed and stdout/stderr are read concurrently, with caps.
After every test all judged processes are killed (`kill(-1)` as PID 1: double
forks and `setsid` do not escape) and /tmp and /dev/shm are emptied, so no
state survives into the next test. Expected outputs never come here.

`--mode=process` (the unsandboxed backend) skips the uid switch and the
`kill(-1)` sweep, which would hit the host; it kills the test's process group.
"""

import builtins
import gc
import json
import linecache
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
_STATUS_FD = 3
# Exit code of a child whose limits did not take effect (fail closed).
_LIMITS_FAILED = 121
_RLIMITS = {"nproc": resource.RLIMIT_NPROC, "as": resource.RLIMIT_AS,
            "nofile": resource.RLIMIT_NOFILE, "fsize": resource.RLIMIT_FSIZE,
            "cpu": resource.RLIMIT_CPU, "core": resource.RLIMIT_CORE}


# ---------------------------------------------------------------- framing


def read_frame(stream) -> tuple[dict | None, list[bytes]]:
  line = stream.readline()
  if not line:
    return None, []
  header = json.loads(line)
  blobs = [stream.read(n) for n in header.get("blobs", [])]
  return header, blobs


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


def _enter_child(fds: dict, limits: dict, uid: int | None, workdir: str) -> None:
  """Becomes the judged process: fds, session, limits, uid; verifies them."""
  signal.set_wakeup_fd(-1)
  signal.signal(signal.SIGCHLD, signal.SIG_DFL)
  os.setsid()
  for target, fd in ((0, fds["stdin"]), (1, fds["stdout"]), (2, fds["stderr"]),
                     (_STATUS_FD, fds["status"])):
    os.dup2(fd, target)
  # The harness's own pipe ends; listed, not closerange(): every syscall is
  # expensive under gVisor's ptrace platform.
  for name in os.listdir("/proc/self/fd"):
    if int(name) > _STATUS_FD:
      try:
        os.close(int(name))
      except OSError:
        pass
  for name, value in limits.items():
    # CPU: the soft limit sends SIGXCPU, one second later the hard one kills.
    hard = value + 1 if name == "cpu" else value
    resource.setrlimit(_RLIMITS[name], (value, hard))
  if uid is not None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
  os.chdir(workdir)
  wrong = {n: resource.getrlimit(_RLIMITS[n]) for n, v in limits.items()
           if resource.getrlimit(_RLIMITS[n])[0] != v}
  if wrong or (uid is not None and (os.getuid(), os.geteuid()) != (uid, uid)):
    os.write(2, f"harness: limits did not take effect: {wrong}\n".encode())
    os._exit(_LIMITS_FAILED)


def _trimmed_traceback(exc: BaseException) -> str:
  """The traceback from the first frame of the user's code on."""
  tb = exc.__traceback__
  while tb is not None and tb.tb_frame.f_code.co_filename not in (USER_FILE, TEST_FILE):
    tb = tb.tb_next
  return "".join(traceback.format_exception(type(exc), exc, tb))


def _report(status: dict) -> None:
  try:
    os.write(_STATUS_FD, (json.dumps(status) + "\n").encode())
  except OSError:
    pass  # The user closed the status fd; the exit code still tells.


def _run_user_code(sources: list[tuple[str, str]]) -> None:
  """Execs each (filename, source) in one fresh __main__ and exits."""
  sys.stdin = open(0, "r", encoding="utf-8", errors="surrogateescape", closefd=False)
  sys.stdout = open(1, "w", encoding="utf-8", errors="surrogateescape", closefd=False)
  sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace",
                    closefd=False, buffering=1)
  sys.argv = [USER_FILE]
  main = types.ModuleType("__main__")
  main.__dict__.update(__builtins__=builtins, __file__=USER_FILE)
  sys.modules["__main__"] = main
  code = 0
  try:
    for filename, source in sources:
      linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
      exec(compile(source, filename, "exec"), main.__dict__)
    _report({"done": True})
  except SystemExit as e:
    code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    if not isinstance(e.code, int) and e.code is not None:
      print(e.code, file=sys.stderr)
  except BaseException as e:  # pylint: disable=broad-except
    tb = _trimmed_traceback(e)
    _report({"exception": type(e).__name__, "traceback": tb,
             "in_tests": e.__traceback__ is not None and _in_tests(e)})
    try:
      sys.stderr.write(tb)
    except BaseException:  # pylint: disable=broad-except
      pass
    code = 1
  _finalize()
  os._exit(code & 0xFF)


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
  tb, filename = exc.__traceback__, None
  while tb is not None:
    if tb.tb_frame.f_code.co_filename in (USER_FILE, TEST_FILE):
      filename = filename or tb.tb_frame.f_code.co_filename
    tb = tb.tb_next
  return filename == TEST_FILE


# ---------------------------------------------------------------- the parent


class Harness:
  """Runs one submission's tests, one forked child per test."""

  def __init__(self, mode: str, uid: int | None, caps: dict, scratch: list[str],
               stdout_cap: int, stderr_cap: int):
    self.mode, self.uid, self.caps, self.scratch = mode, uid, caps, scratch
    self.stdout_cap, self.stderr_cap = stdout_cap, stderr_cap
    self.program = None
    # SIGCHLD wakes the supervising select() through this pipe the moment a
    # test exits (no polling interval on every test's critical path).
    self._wake, wake_w = os.pipe()
    for fd in (self._wake, wake_w):
      os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)

  def set_program(self, header: dict, source: bytes) -> dict:
    self.program = dict(header, source=source.decode("utf-8"))
    check = ("import sys\nsrc = sys.stdin.read()\n"
             f"compile(src, {USER_FILE!r}, 'exec')\n")
    result = self._run_child([("<harness>", check)], source)
    if result["status"] == "exited" and result["exit_code"] == 0:
      return {"ok": True}
    if result["status"] == "exited" and result.get("exception"):
      # SyntaxError, or ValueError/RecursionError/MemoryError from the compiler.
      return {"syntax_error": result["traceback"]}
    result.pop("stdout"), result.pop("stderr")
    return {"compile_failed": result}

  def run_test(self, data: bytes) -> tuple[dict, list[bytes]]:
    source = self.program["source"]
    if self.program["style"] == "assert":
      sources, stdin = [(USER_FILE, source), (TEST_FILE, data.decode("utf-8"))], b""
    else:
      sources, stdin = [(USER_FILE, source)], data
    result = self._run_child(sources, stdin)
    blobs = [result.pop("stdout"), result.pop("stderr")]
    return result, blobs

  def _run_child(self, sources, stdin: bytes) -> dict:
    limits = _child_limits(self.program["memory_mb"], self.program["time_limit_s"], self.caps)
    pipes = {name: os.pipe() for name in ("stdin", "stdout", "stderr", "status")}
    child_fds = {"stdin": pipes["stdin"][0], "stdout": pipes["stdout"][1],
                 "stderr": pipes["stderr"][1], "status": pipes["status"][1]}
    workdir = self.scratch[0] if self.scratch else os.getcwd()
    # Frozen objects are never scanned by the child's collector, so it does
    # not write to (and copy, under gVisor: one fault per page) the harness's
    # whole heap.
    gc.freeze()
    # Input that fits the pipe goes in before the fork: the child then never
    # blocks on stdin (each block and wake-up is costly under gVisor).
    writer = pipes["stdin"][1]
    os.set_blocking(writer, False)
    try:
      offset = os.write(writer, stdin[:_CHUNK]) if stdin else 0
    except BlockingIOError:
      offset = 0
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
      try:
        _enter_child(child_fds, limits, self.uid, workdir)
        _run_user_code(sources)
      finally:
        os._exit(_LIMITS_FAILED)
    for fd in child_fds.values():
      os.close(fd)
    result = self._supervise(pid, pipes, stdin, offset, start, self.program["time_limit_s"])
    self._sweep(pid)
    return result

  def _supervise(self, pid, pipes, stdin: bytes, offset: int, start: float,
                 limit: float) -> dict:
    """Feeds stdin, drains outputs and status until exit, timeout or cap."""
    out = {"stdout": bytearray(), "stderr": bytearray(), "status": bytearray()}
    caps = {"stdout": self.stdout_cap, "stderr": self.stderr_cap, "status": 1 << 20}
    readers = {pipes[n][0]: n for n in out}
    writer = pipes["stdin"][1]
    if offset >= len(stdin):
      os.close(writer)
      writer = None
    deadline = start + limit
    reason, waited = None, None
    while True:
      if waited is None:
        got, status, usage = os.wait4(pid, os.WNOHANG)
        if got:
          waited = (status, usage, time.monotonic())
          # Nothing of the test may outlive it, nor keep its pipes open.
          self._kill_rest(pid)
      if waited is not None and not readers:
        break
      now = time.monotonic()
      if waited is None and now >= deadline:
        reason = "timeout"
        break
      if waited is not None and now >= deadline + 1:
        break  # Writers that cannot be killed: give up on the rest of the output.
      wait_s = deadline - now if waited is None else deadline + 1 - now
      r, w, _ = select.select([*readers, self._wake], [writer] if writer is not None else [],
                              [], wait_s)
      if self._wake in r:
        r.remove(self._wake)
        _drain(self._wake)
      if w:
        try:
          offset += os.write(writer, stdin[offset:offset + _CHUNK])
        except BlockingIOError:
          pass
        except BrokenPipeError:
          offset = len(stdin)  # The program stopped reading: fine.
        if offset >= len(stdin):
          os.close(writer)
          writer = None
      for fd in r:
        name = readers[fd]
        chunk = os.read(fd, _CHUNK)
        if not chunk:
          os.close(fd)
          del readers[fd]
          continue
        out[name] += chunk
        if len(out[name]) > caps[name] and name != "status":
          reason = "output_limit"
      if reason:
        break
    if waited is None:
      os.kill(pid, signal.SIGKILL)
      _, status, usage = os.wait4(pid, 0)
      waited = (status, usage, time.monotonic())
    for fd in list(readers) + ([writer] if writer is not None else []):
      os.close(fd)
    status, usage, end = waited
    result = {"status": reason or ("exited" if os.WIFEXITED(status) else "signaled"),
              "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
              "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
              "wall_s": end - start, "cpu_s": usage.ru_utime + usage.ru_stime,
              "stdout": bytes(out["stdout"][:self.stdout_cap]),
              "stderr": bytes(out["stderr"][:self.stderr_cap])}
    if result["exit_code"] == _LIMITS_FAILED:
      result["status"] = "limits_failed"
    for line in bytes(out["status"]).decode("utf-8", "replace").splitlines():
      try:
        record = json.loads(line)
      except ValueError:
        continue  # Anything the program itself wrote there.
      if isinstance(record, dict):
        result.update({k: record[k] for k in ("done", "exception", "traceback", "in_tests")
                       if k in record})
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

  def _sweep(self, pid: int) -> None:
    """Kills and reaps whatever the test left, and empties the scratch dirs."""
    self._kill_rest(pid)
    if self.mode == "sandbox":
      while True:
        try:
          os.waitpid(-1, 0)
        except ChildProcessError:
          break
    for d in self.scratch:
      for name in os.listdir(d):
        path = os.path.join(d, name)
        if os.path.isdir(path) and not os.path.islink(path):
          _rmtree(path)
        else:
          os.unlink(path)


def _drain(fd: int) -> None:
  try:
    while os.read(fd, 4096):
      pass
  except BlockingIOError:
    pass


def _rmtree(path: str) -> None:
  # Python 3.12 renamed onerror (deprecated) to onexc; same handler for both.
  # Imported here: rarely needed, and shutil's imports cost every boot ~10 ms.
  import shutil  # pylint: disable=g-import-not-at-top
  hook = "onexc" if sys.version_info >= (3, 12) else "onerror"
  shutil.rmtree(path, **{hook: _force_remove})


def _force_remove(func, path, _):
  """Undoes a test's chmod traps (a dir made unreadable) and retries."""
  os.chmod(os.path.dirname(path), 0o700)
  if os.path.isdir(path) and not os.path.islink(path):
    os.chmod(path, 0o700)
    _rmtree(path)
  else:
    func(path)


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
  stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
  write_frame(stdout, {"ready": readback(args["scratch"])})
  while True:
    header, blobs = read_frame(stdin)
    if header is None:
      return 0
    if header["op"] == "program":
      write_frame(stdout, harness.set_program(header, blobs[0]))
    elif header["op"] == "test":
      reply, out = harness.run_test(blobs[0])
      write_frame(stdout, reply, out)
    else:
      raise ValueError(f"unknown op {header['op']!r}")


if __name__ == "__main__":
  sys.exit(main())

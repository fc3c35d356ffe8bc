"""Host side of one sandbox: start it, talk to its harness, destroy it.

`GVisorLauncher` starts `runsc run` on a shared bundle (the spec of `oci.py`)
with the harness as init; `ProcessLauncher` starts the harness as a plain
subprocess (no isolation). Both give a `Sandbox`, which frames requests to
the harness with a deadline on every exchange: when the deadline passes the
host kills the sandbox from outside (`runsc kill`, then `runsc delete
--force`) and raises `HostTimeout`; anything else that goes wrong (runsc
missing, early exit, a broken frame, limits that did not take effect) is an
`InfraFault`. `Pool` keeps sandboxes booted ahead of use, each used once.

Each gVisor sandbox runs in a host memory cgroup that the launcher creates
itself (`MemoryCgroup`) before `runsc run`: runsc 20221219 joins a cgroup that
already exists at its default path (the container id under the controller's
mount) without changing or deleting it. So the host sets the limit, reads
back that the sandbox joined it, and can still read the cgroup's OOM-kill
counter after the sandbox died: a sandbox the host killed for the program's
memory is told apart from one that failed on its own
(`Sandbox.killed_for_memory`).

Example:

    launcher = GVisorLauncher(workdir, limits, interpreter="/usr/bin/python3")
    with Pool(launcher, size=3) as pool:
      box = pool.get()
      box.exchange({"op": "program", ...}, [source], deadline)
      box.destroy()
"""

from __future__ import annotations

import concurrent.futures
import itertools
import json
import os
import queue
import select
import shutil
import subprocess
import threading
import time
import uuid
from typing import Any, Sequence

from sandbox_runner import harness as harness_module
from sandbox_runner import oci

BOOT_TIMEOUT_S = 20.0
_CHUNK = 1 << 16
# A header line from the harness is small; the blobs are capped outputs (plus
# this for the traceback).
_HEADER_CAP = 1 << 20
_BLOBS_SLACK = 4 << 20


class InfraFault(Exception):
  """The sandbox, not the program, failed: retry elsewhere, never score it."""


class HostTimeout(Exception):
  """The host's wall clock ran out and the sandbox was killed from outside."""


class MemoryCgroup:
  """The host memory cgroup (v1 or v2) of one sandbox, made before it starts."""

  def __init__(self, name: str, limit_bytes: int, mount: str = "/sys/fs/cgroup"):
    v1 = os.path.join(mount, "memory")
    if os.path.exists(os.path.join(v1, "memory.limit_in_bytes")):
      self.path = os.path.join(v1, name)
      self._limit_file, self._events_file = "memory.limit_in_bytes", "memory.oom_control"
    elif "memory" in _read(os.path.join(mount, "cgroup.controllers")).split():
      self.path = os.path.join(mount, name)
      self._limit_file, self._events_file = "memory.max", "memory.events"
    else:
      raise InfraFault(f"no memory cgroup controller under {mount}: the sandbox-wide "
                       "memory limit cannot be set")
    try:
      os.mkdir(self.path)
      with open(os.path.join(self.path, self._limit_file), "w") as f:
        f.write(str(limit_bytes))
      seen = _read(os.path.join(self.path, self._limit_file)).strip()
    except OSError as e:
      self.remove()
      raise InfraFault(f"cannot set up memory cgroup {self.path}: {e}") from e
    if seen != str(limit_bytes):
      self.remove()
      raise InfraFault(f"memory cgroup {self.path} limit is {seen}, wanted {limit_bytes}")

  def joined(self) -> bool:
    """Whether any process (the sandbox's) is in the cgroup."""
    return bool(_read(os.path.join(self.path, "cgroup.procs")).split())

  def oom_kills(self) -> int:
    """Processes the host's OOM killer killed in this cgroup (`oom_kill N`)."""
    for line in _read(os.path.join(self.path, self._events_file)).splitlines():
      key, _, value = line.partition(" ")
      if key == "oom_kill":
        return int(value)
    return 0

  def remove(self) -> None:
    # A killed sandbox's processes can take a moment to leave the cgroup.
    for _ in range(50):
      try:
        os.rmdir(self.path)
        return
      except FileNotFoundError:
        return
      except OSError:
        time.sleep(0.05)


def _read(path: str) -> str:
  try:
    with open(path) as f:
      return f.read()
  except OSError:
    return ""


class Sandbox:
  """One started harness process and its framed pipes; used once."""

  def __init__(self, proc: subprocess.Popen, name: str, stderr_path: str,
               kill=None, cleanup=None, cgroup: MemoryCgroup | None = None):
    self.proc, self.name, self.cgroup = proc, name, cgroup
    self._kill, self._cleanup, self._stderr_path = kill, cleanup, stderr_path
    self._buffer = bytearray()
    self.ready: dict[str, Any] = {}
    self.blobs_cap = 64 << 20  # The launcher sets it from its limits.
    # Re-entrant: a signal handler (Judge.abort) may destroy a box in the
    # thread that is already inside destroy().
    self._lock = threading.RLock()
    self._destroyed = False
    self.on_destroy = None  # The launcher's bookkeeping of live sandboxes.
    os.set_blocking(proc.stdout.fileno(), False)
    os.set_blocking(proc.stdin.fileno(), False)

  def exchange(self, header: dict, blobs: Sequence[bytes], deadline: float
               ) -> tuple[dict, list[bytes]]:
    """Sends one frame and returns the reply frame, all before `deadline`."""
    self._write(harness_module.frame_bytes(header, blobs), deadline)
    reply = self.read_frame(deadline)
    lengths = reply.get("blobs", [])
    if not (isinstance(lengths, list) and all(type(n) is int and n >= 0 for n in lengths)
            and sum(lengths) <= self.blobs_cap):
      raise InfraFault(f"{self.name}: broken frame from harness: blobs {str(lengths)[:200]}")
    return reply, [self._read_exact(n, deadline) for n in lengths]

  def read_frame(self, deadline: float) -> dict:
    """One header line; total: whatever arrives is a dict or an InfraFault."""
    line = self._read_line(deadline)
    try:
      reply = json.loads(line)
    except (ValueError, RecursionError, MemoryError) as e:
      raise InfraFault(f"{self.name}: broken frame from harness: {line[:200]!r}") from e
    if not isinstance(reply, dict):
      raise InfraFault(f"{self.name}: broken frame from harness: {line[:200]!r}")
    return reply

  def _write(self, data: bytes, deadline: float) -> None:
    view, fd = memoryview(data), self.proc.stdin.fileno()
    while view:
      self._wait(fd, deadline, write=True)
      try:
        n = os.write(fd, view[:_CHUNK])
      except BlockingIOError:
        continue
      except (BrokenPipeError, OSError) as e:
        raise InfraFault(f"{self.name}: harness gone while writing ({e}); {self.diagnostics()}")
      view = view[n:]

  def _fill(self, deadline: float) -> None:
    fd = self.proc.stdout.fileno()
    self._wait(fd, deadline, write=False)
    try:
      chunk = os.read(fd, _CHUNK)
    except BlockingIOError:
      return
    if not chunk:
      raise InfraFault(f"{self.name}: harness exited mid-exchange; {self.diagnostics()}")
    self._buffer += chunk

  def _read_line(self, deadline: float) -> bytes:
    while (end := self._buffer.find(b"\n")) < 0:
      if len(self._buffer) > _HEADER_CAP:
        raise InfraFault(f"{self.name}: header line from harness over {_HEADER_CAP} bytes")
      self._fill(deadline)
    line = bytes(self._buffer[:end])
    del self._buffer[:end + 1]
    return line

  def _read_exact(self, n: int, deadline: float) -> bytes:
    while len(self._buffer) < n:
      self._fill(deadline)
    data = bytes(self._buffer[:n])
    del self._buffer[:n]
    return data

  def _wait(self, fd: int, deadline: float, write: bool) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
      self.destroy()
      raise HostTimeout(f"{self.name}: no answer before the host's deadline")
    poller = select.poll()
    poller.register(fd, select.POLLOUT if write else select.POLLIN)
    poller.poll(remaining * 1000)

  def killed_for_memory(self) -> bool:
    """Whether the host's OOM killer ended this (dead) sandbox: the program's doing.

    Only the judged program allocates inside a started sandbox, so an OOM kill
    in its cgroup is the program exceeding the sandbox-wide memory limit.
    """
    try:
      self.proc.wait(5)  # The kill has landed once runsc saw its sandbox die.
    except subprocess.TimeoutExpired:
      pass
    return self.oom_kills() > 0

  def oom_kills(self) -> int:
    """Host OOM kills in this sandbox so far (a live sandbox can lose a process)."""
    return 0 if self.cgroup is None else self.cgroup.oom_kills()

  def diagnostics(self) -> str:
    try:
      with open(self._stderr_path, "rb") as f:
        return "stderr: " + f.read()[-2000:].decode("utf-8", "replace")
    except OSError:
      return "no stderr"

  def finish(self, timeout: float = 5.0) -> None:
    """Lets the harness exit cleanly (end of input), then destroys."""
    try:
      self.proc.stdin.close()
      self.proc.wait(timeout)
    except (OSError, subprocess.TimeoutExpired):
      pass
    self.destroy()

  def destroy(self) -> None:
    with self._lock:
      if self._destroyed:
        return
      self._destroyed = True
    if self._kill is not None:
      self._kill(self)
    if self.proc.poll() is None:
      self.proc.kill()
    self.proc.wait()
    if self._cleanup is not None:
      self._cleanup()
    if self.cgroup is not None:
      self.cgroup.remove()
    for stream in (self.proc.stdin, self.proc.stdout):
      try:
        stream.close()
      except OSError:
        pass
    try:
      os.unlink(self._stderr_path)
    except OSError:
      pass
    if self.on_destroy is not None:
      self.on_destroy(self)


def _blobs_cap(limits: oci.SandboxLimits) -> int:
  return ((limits.stdout_cap_mb + limits.stderr_cap_mb) << 20) + _BLOBS_SLACK


class _LiveSet:
  """The sandboxes a launcher started and nobody destroyed yet (for `abort`)."""

  def __init__(self):
    self._boxes: set = set()
    self._lock = threading.Lock()

  def add(self, box: Sandbox) -> None:
    box.on_destroy = self.discard
    with self._lock:
      self._boxes.add(box)

  def discard(self, box: Sandbox) -> None:
    with self._lock:
      self._boxes.discard(box)

  def snapshot(self) -> list:
    with self._lock:
      return list(self._boxes)


class GVisorLauncher:
  """Starts sandboxes with `runsc run` from one shared, read-only bundle."""

  def __init__(self, workdir: str, limits: oci.SandboxLimits, interpreter: str,
               runsc_path: str = "runsc", platform: str = "ptrace",
               ro_mounts: Sequence[str] = oci.DEFAULT_RO_MOUNTS,
               extra_flags: Sequence[str] = ()):
    self.limits, self.runsc = limits, runsc_path
    self.root = os.path.join(workdir, "state")
    self.bundle = os.path.join(workdir, "bundle")
    self.logs = os.path.join(workdir, "logs")
    harness_dir = os.path.join(workdir, "harness")
    for d in (self.root, os.path.join(self.bundle, "rootfs"), harness_dir, self.logs):
      os.makedirs(d, mode=0o755)
    shutil.copy(harness_module.__file__, os.path.join(harness_dir, "harness.py"))
    # Readable by the sandbox's root (the harness) only: the judged uid does not
    # get the protocol's source to read (docs/judge.md, threat model).
    os.chmod(os.path.join(harness_dir, "harness.py"), 0o600)
    with open(os.path.join(self.bundle, "config.json"), "w") as f:
      json.dump(oci.spec(limits, harness_dir, interpreter, ro_mounts), f, indent=1)
    self.flags = [f"--root={self.root}", "--network=none", f"--platform={platform}",
                  *extra_flags]
    self._ids = itertools.count()
    self._prefix = uuid.uuid4().hex[:8]
    self.live = _LiveSet()

  def start(self) -> Sandbox:
    name = f"rlef-{self._prefix}-{next(self._ids)}"
    stderr_path = os.path.join(self.logs, name)
    argv = [self.runsc, *self.flags, "run", "--bundle", self.bundle, name]
    cgroup = MemoryCgroup(name, self.limits.sandbox_memory_mb << 20)
    with open(stderr_path, "wb") as err:
      try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=err, start_new_session=True)
      except OSError as e:
        cgroup.remove()
        raise InfraFault(f"cannot start {self.runsc}: {e}") from e
    box = Sandbox(proc, name, stderr_path, kill=self._kill, cgroup=cgroup)
    self.live.add(box)
    box.blobs_cap = _blobs_cap(self.limits)
    try:
      ready = box.read_frame(time.monotonic() + BOOT_TIMEOUT_S).get("ready", {})
    except HostTimeout as e:
      raise InfraFault(f"{name}: sandbox did not boot: {e}") from e
    except InfraFault:
      box.destroy()
      raise
    box.ready = ready
    problems = oci.check_readback(ready, self.limits)
    if not cgroup.joined():
      problems.append(f"the sandbox is not in its memory cgroup {cgroup.path}")
    if problems:
      box.destroy()
      raise InfraFault(f"{name}: sandbox limits did not take effect: {'; '.join(problems)}")
    return box

  def _kill(self, box: Sandbox) -> None:
    if box.proc.poll() is not None:
      return
    for command in (["kill", box.name, "KILL"], ["delete", "--force", box.name]):
      try:
        subprocess.run([self.runsc, f"--root={self.root}", *command], timeout=10,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
      except (OSError, subprocess.TimeoutExpired):
        pass

  def leftovers(self) -> list[str]:
    """Containers still known under this judge's runsc root."""
    if not os.path.isdir(self.root):
      return []
    try:
      out = subprocess.run([self.runsc, f"--root={self.root}", "list", "-quiet"],
                           capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
      return []  # No runsc, no containers of ours.
    return out.stdout.split()

  def cleanup(self) -> None:
    for name in self.leftovers():
      subprocess.run([self.runsc, f"--root={self.root}", "delete", "--force", name],
                     capture_output=True, timeout=20, check=False)


class ProcessLauncher:
  """The harness as a plain subprocess: rlimits, no isolation at all."""

  def __init__(self, workdir: str, limits: oci.SandboxLimits, interpreter: str):
    self.workdir, self.limits, self.interpreter = workdir, limits, interpreter
    self._ids = itertools.count()
    self.live = _LiveSet()

  def start(self) -> Sandbox:
    name = f"process-{next(self._ids)}"
    scratch = os.path.join(self.workdir, name)
    os.makedirs(scratch)
    stderr_path = scratch + ".stderr"
    argv = [self.interpreter, "-I", "-S", harness_module.__file__, "--mode=process",
            f"--scratch={scratch}", f"--stdout-cap={self.limits.stdout_cap_mb << 20}",
            f"--stderr-cap={self.limits.stderr_cap_mb << 20}"]
    limits = self.limits.rlimits()
    del limits["nproc"]  # Per-uid on a shared host: it would throttle the host's user.
    # The harness sets them on itself first thing (no preexec_fn: no Python
    # runs between fork and exec in this multithreaded process).
    argv += [f"--rlimit={key}:{value}" for key, value in limits.items()]

    with open(stderr_path, "wb") as err:
      try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=err, cwd=scratch,
                                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
                                     "HOME": scratch, "PYTHONDONTWRITEBYTECODE": "1"})
      except OSError as e:
        raise InfraFault(f"cannot start {self.interpreter}: {e}") from e
    box = Sandbox(proc, name, stderr_path,
                  cleanup=lambda: shutil.rmtree(scratch, ignore_errors=True))
    self.live.add(box)
    box.blobs_cap = _blobs_cap(self.limits)
    try:
      box.ready = box.read_frame(time.monotonic() + BOOT_TIMEOUT_S).get("ready", {})
    except (InfraFault, HostTimeout) as e:
      box.destroy()
      raise InfraFault(f"{name}: harness did not start: {e}") from e
    return box

  def leftovers(self) -> list[str]:
    return []

  def cleanup(self) -> None:
    pass


class Pool:
  """Sandboxes booted ahead; `get()` hands each out once and boots a successor.

  With `size=0` nothing is booted ahead: `get()` boots in the caller's thread.
  """

  def __init__(self, launcher, size: int, boot_workers: int = 1):
    self._launcher = launcher
    self._size = size
    self._ready: queue.Queue = queue.Queue()
    self._boots = concurrent.futures.ThreadPoolExecutor(boot_workers,
                                                        thread_name_prefix="sandbox-boot")
    self._closed = False
    for _ in range(size):
      self._boots.submit(self._boot)

  def _boot(self) -> None:
    if self._closed:
      return
    try:
      box = self._launcher.start()
    except Exception as e:  # pylint: disable=broad-except
      self._ready.put(e if isinstance(e, InfraFault) else InfraFault(f"boot failed: {e!r}"))
      return
    self._ready.put(box)

  def get(self, timeout: float = BOOT_TIMEOUT_S * 3) -> Sandbox:
    """A fresh sandbox; raises InfraFault when none could be booted."""
    if self._closed:
      raise InfraFault("the judge is closed")
    if self._size == 0:
      return self._launcher.start()  # No pool: boot on the caller's time.
    self._boots.submit(self._boot)
    try:
      item = self._ready.get(timeout=timeout)
    except queue.Empty:
      raise InfraFault(f"no sandbox booted within {timeout:.0f} s") from None
    if isinstance(item, Exception):
      raise item
    return item

  def abort(self) -> None:
    """Now, from any thread or a signal handler: no new boots, boots in
    flight finished (so none outlives this), every live sandbox destroyed
    (pooled, or in a worker's hands: its exchange fails at once)."""
    self._closed = True
    self._boots.shutdown(wait=True, cancel_futures=True)
    for box in self._launcher.live.snapshot():
      box.destroy()
    self._launcher.cleanup()

  def close(self) -> None:
    self._closed = True
    self._boots.shutdown(wait=True, cancel_futures=True)
    while True:
      try:
        item = self._ready.get_nowait()
      except queue.Empty:
        break
      if isinstance(item, Sandbox):
        item.finish()
    self._launcher.cleanup()

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()

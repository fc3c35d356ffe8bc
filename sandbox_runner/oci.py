"""The OCI runtime spec (`config.json`) of one judge sandbox, and its check.

The sandbox is an empty read-only root with only the interpreter's
directories bind-mounted read-only, the harness directory read-only at
/judge, size-capped tmpfs on /tmp and /dev/shm, no network (runsc is started
with `--network=none` and the spec adds a fresh network namespace), rlimits for
processes, address space, open files and file size, no core dumps, no host
environment, and a host cgroup memory limit for the whole sandbox. The
harness is the sandbox's init process, as sandbox-root with a handful of
capabilities (switch uid, kill, clean up); it runs every test as the
unprivileged `limits.uid`, where `RLIMIT_NPROC` is enforced (it is not for
uid 0). `linux.resources.pids` is deliberately unset: it would count gVisor's
own threads and kill the sandbox kernel (docs/sandbox_notes.md).

`check_readback` compares what the harness observed inside with what the spec
asked for; any difference fails the sandbox closed.

Example:

    limits = oci.SandboxLimits(memory_ceiling_mb=2048)
    spec = oci.spec(limits, harness_dir="/tmp/j/harness", interpreter="/usr/bin/python3")
    json.dump(spec, open("bundle/config.json", "w"))
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Sequence

HARNESS_MOUNT = "/judge"
SCRATCH_DIRS = ("/tmp", "/dev/shm")
DEFAULT_RO_MOUNTS = ("/usr", "/lib", "/lib64", "/bin")
# CAP_SYS_ADMIN: for unshare(CLONE_NEWIPC | CLONE_NEWNET) per test (harness.py);
# the test child drops every capability with its uid switch (setuid from 0).
_CAPABILITIES = ["CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_FOWNER",
                 "CAP_SYS_ADMIN"]


@dataclasses.dataclass(frozen=True)
class SandboxLimits:
  """Ceilings of one sandbox; per-test limits are lowered from these inside.

  Attributes:
    uid: the unprivileged uid (and gid) the tests run as.
    nproc: processes + threads of that uid (fork and thread bombs stop here).
    memory_ceiling_mb: RLIMIT_AS of the sandbox; a request may ask up to this.
    sandbox_memory_mb: the host cgroup's memory limit for the whole sandbox
      (gVisor's kernel included): RLIMIT_AS bounds one process, this bounds
      many. The host kills a sandbox that reaches it: `memory_limit`.
    nofile: open files per process.
    fsize_mb: largest file a test may write.
    tmp_mb: size of the /tmp tmpfs.
    shm_mb: size of the /dev/shm tmpfs.
    stdout_cap_mb: stdout beyond this is `output_limit`.
    stderr_cap_mb: stderr beyond this is `output_limit`.
  """

  uid: int = 65534
  nproc: int = 32
  memory_ceiling_mb: int = 4096
  sandbox_memory_mb: int = 4608
  nofile: int = 64
  fsize_mb: int = 64
  tmp_mb: int = 64
  shm_mb: int = 16
  stdout_cap_mb: int = 32
  stderr_cap_mb: int = 4

  def rlimits(self) -> dict[str, int]:
    return {"nproc": self.nproc, "as": self.memory_ceiling_mb << 20,
            "nofile": self.nofile, "fsize": self.fsize_mb << 20, "core": 0}


def harness_argv(interpreter: str, limits: SandboxLimits) -> list[str]:
  argv = [interpreter, "-I", "-S", f"{HARNESS_MOUNT}/harness.py", "--mode=sandbox",
          f"--uid={limits.uid}", f"--stdout-cap={limits.stdout_cap_mb << 20}",
          f"--stderr-cap={limits.stderr_cap_mb << 20}"]
  return argv + [f"--scratch={d}" for d in SCRATCH_DIRS]


def spec(limits: SandboxLimits, harness_dir: str, interpreter: str,
         ro_mounts: Sequence[str] = DEFAULT_RO_MOUNTS) -> dict[str, Any]:
  """The config.json of a sandbox whose init process is the harness."""
  rlimits = [{"type": f"RLIMIT_{name.upper()}", "hard": value, "soft": value}
             for name, value in limits.rlimits().items()]
  binds = [{"destination": path, "type": "bind", "source": path,
            "options": ["rbind", "ro", "nosuid", "nodev"]}
           for path in ro_mounts if os.path.exists(path)]
  return {
      "ociVersion": "1.0.2",
      "process": {
          "terminal": False,
          "user": {"uid": 0, "gid": 0},
          "args": harness_argv(interpreter, limits),
          "env": ["PATH=/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/tmp",
                  "PYTHONDONTWRITEBYTECODE=1", "MALLOC_ARENA_MAX=2"],
          "cwd": "/tmp",
          "rlimits": rlimits,
          "noNewPrivileges": True,
          "capabilities": {k: list(_CAPABILITIES) for k in
                           ("bounding", "effective", "permitted")},
      },
      "root": {"path": "rootfs", "readonly": True},
      "hostname": "sandbox",
      "mounts": [
          {"destination": "/proc", "type": "proc", "source": "proc"},
          *binds,
          {"destination": HARNESS_MOUNT, "type": "bind", "source": harness_dir,
           "options": ["rbind", "ro", "nosuid", "nodev"]},
          {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
           "options": ["nosuid", "nodev", f"size={limits.tmp_mb}m", "mode=1777"]},
          {"destination": "/dev/shm", "type": "tmpfs", "source": "tmpfs",
           "options": ["nosuid", "nodev", f"size={limits.shm_mb}m", "mode=1777"]},
      ],
      "linux": {"namespaces": [{"type": t} for t in
                               ("pid", "network", "ipc", "uts", "mount")],
                "resources": {"memory": {"limit": limits.sandbox_memory_mb << 20}}},
  }


def check_readback(ready: dict[str, Any], limits: SandboxLimits) -> list[str]:
  """Differences between what the harness saw inside and what was asked."""
  problems = []
  seen = ready.get("rlimits", {})
  for name, value in limits.rlimits().items():
    if seen.get(name) != [value, value]:
      problems.append(f"RLIMIT_{name.upper()} is {seen.get(name)}, wanted {value}")
  if ready.get("pid") != 1:
    problems.append(f"harness is pid {ready.get('pid')}, not the sandbox's init")
  if ready.get("interfaces") not in (["lo"], []):
    problems.append(f"network interfaces present: {ready.get('interfaces')}")
  if ready.get("root_writable") is not False:
    problems.append("the root filesystem is writable")
  sizes = ready.get("scratch_bytes", {})
  for path, mb in (("/tmp", limits.tmp_mb), ("/dev/shm", limits.shm_mb)):
    if sizes.get(path) != mb << 20:
      problems.append(f"{path} holds {sizes.get(path)} bytes, wanted {mb} MiB")
  return problems

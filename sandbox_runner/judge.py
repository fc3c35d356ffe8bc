"""The judge: runs submissions in fresh gVisor sandboxes and scores them.

One submission = one sandbox from a pool booted ahead of use. The host sends
the program, then one test input at a time; the harness inside runs it in a
forked child and sends back its outputs and exit status; the host compares
the output with the expected one (which never enters the sandbox) and decides
the verdict. Every exchange has a host-side wall-clock deadline (the test's
limit plus a grace period): past it the sandbox is killed from outside, the
test is `time_limit`, and the remaining tests continue in a fresh sandbox. A
sandbox the host OOM-killed for the program's memory (its cgroup says so) is
`memory_limit` for that test, not retried. A sandbox that fails for any other
reason is retried with a fresh one up to `retries` times; then the submission
is `infra_error` (never a wrong answer) unless every attempt died during the
same test and a control program passes on a fresh sandbox: the program kills
its sandbox, `runtime_error` (`Judge._guilty`).

Example:

    from sandbox_runner import Judge, JudgeRequest, TestCase
    with Judge() as judge:
      result = judge.run(JudgeRequest("print(input())", [TestCase("hi", "hi")]))
      result.verdict   # Verdict.ACCEPTED
      results = judge.run_batch([request_a, request_b])
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import weakref
from typing import Sequence

from sandbox_runner import compare
from sandbox_runner import oci
from sandbox_runner import sandbox
# The request/result types live in verdicts.py (no I/O); the package
# re-exports them, and so does this module for `from sandbox_runner.judge import ...`.
from sandbox_runner.verdicts import (BadInput, JudgeRequest, JudgeResult, TestCase,
                                     TestResult, Verdict, request_for_problem)

__all__ = ["BadInput", "Judge", "JudgeRequest", "JudgeResult", "TestCase", "TestResult",
           "Verdict", "request_for_problem"]

# Host deadline = the test's limit + this: the harness kills the test itself at
# the limit and answers well within it unless the sandbox is wedged.
GRACE_S = 5.0
# Assumed slowest rate of moving a test's input into the sandbox.
_BYTES_PER_S = 20e6
# A test over the wall clock (stopped at it, or ended after it) is a stall, not
# the program's time, when its processes used under this fraction of the limit
# in CPU time (`Judge.stall_reruns`).
STALL_CPU_FRACTION = 0.5
# What stop_on_first_failure runs keep of each output (`JudgeRequest.capture_chars`
# overrides): the failing test's start, and a little of each passing test, so a
# batch of scoring runs holds kilobytes per submission, not the outputs.
SCORING_CAPTURE = 4096
SCORING_CAPTURE_PASSED = 256
PROCESS_WARNING = ("WARNING: sandbox_runner backend='process' runs untrusted code as a "
                   "plain subprocess with rlimits only: NO isolation from this host.")


class _SignalCleanup:
  """SIGTERM / SIGINT in a process that holds Judges: abort them, then let
  the signal do what it did before (a training job is preempted with SIGTERM;
  without this, its sandboxes, memory cgroups and temp dir outlive it).

  Installed by the first Judge made in the main thread (handlers can only be
  set there), over whatever handler was there: a previous Python handler is
  called after the cleanup, the default action is taken again (re-raised with
  the default handler), and an ignored signal stays ignored (no cleanup).
  One per process: the signal dispositions are process-wide.
  """

  def __init__(self):
    self._judges: weakref.WeakSet = weakref.WeakSet()
    self._previous: dict = {}
    self._lock = threading.RLock()  # The handler runs in the thread it interrupts.

  def register(self, judge: "Judge") -> None:
    with self._lock:
      self._judges.add(judge)
      if threading.current_thread() is not threading.main_thread():
        return
      for signum in (signal.SIGTERM, signal.SIGINT):
        current = signal.getsignal(signum)
        if current is self._handle or current in (signal.SIG_IGN, None):
          continue
        self._previous[signum] = current
        signal.signal(signum, self._handle)

  def unregister(self, judge: "Judge") -> None:
    with self._lock:
      self._judges.discard(judge)

  def _handle(self, signum, frame) -> None:
    for judge in list(self._judges):
      judge.abort()
    previous = self._previous.get(signum, signal.SIG_DFL)
    if callable(previous):
      previous(signum, frame)
      return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)  # The default action, now that nothing is left.


_SIGNALS = _SignalCleanup()


class _ProgramFault(sandbox.InfraFault):
  """The sandbox died, or its harness broke the protocol, while the program was
  in it (at test `test_index`): retried, then blamed by evidence (`_guilty`)."""

  def __init__(self, test_index: int, message: str):
    super().__init__(message)
    self.test_index = test_index


class Judge:
  """Judges `JudgeRequest`s; thread-safe; close() (or `with`) cleans up.

  `run`, `run_batch` and `submit` never raise for anything a program did:
  every outcome is a `JudgeResult` (only a malformed request is `BadInput`).

  Args:
    backend: "gvisor" (default) or "process" (no isolation; warns on start).
    max_workers: submissions judged at once by `run_batch`/`submit` (default:
      host CPUs).
    pool_size: sandboxes kept booted ahead (default: max_workers + 1; 0 boots
      each sandbox when it is needed).
    runsc_path: the gVisor `runsc` binary.
    platform: gVisor platform ("ptrace" here; "systrap"/"kvm" where they work).
    retries: fresh sandboxes tried after an infrastructure fault.
    interpreter: the Python that runs the harness and the programs inside.
    limits: sandbox ceilings (uid, processes, memory ceiling, files, caps).
    feedback_cap: characters of stdout/stderr kept in each TestResult of a run
      that runs every test (see `JudgeRequest.capture_chars`).
    ro_mounts: host directories the interpreter needs, mounted read-only.
    runsc_flags: extra global flags for runsc.
    boot_workers: sandboxes booted at the same time to refill the pool
      (default: the pool's size, so a burst of `get`s is refilled at once).
    stall_reruns: times a test is run again, in the same sandbox, when it
      went over the wall clock (the harness stopped it there, or it ended
      after it) while its processes had used under `STALL_CPU_FRACTION` of
      the limit in CPU time: the host stalled the
      sandbox (a loaded or paused machine), or the program sleeps or waits.
      Only the last run counts, so a sleeper is still `time_limit` (after
      `1 + stall_reruns` runs); a program that computes is never rerun.
      `JudgeResult.stall_reruns` counts them. 0 judges every test once.
  """

  def __init__(self, backend: str = "gvisor", max_workers: int | None = None,
               pool_size: int | None = None, runsc_path: str = "runsc",
               platform: str = "ptrace", retries: int = 2,
               interpreter: str = "/usr/bin/python3",
               limits: oci.SandboxLimits = oci.SandboxLimits(),
               feedback_cap: int = 1 << 16,
               ro_mounts: Sequence[str] = oci.DEFAULT_RO_MOUNTS,
               runsc_flags: Sequence[str] = (), boot_workers: int | None = None,
               stall_reruns: int = 1):
    if isinstance(stall_reruns, bool) or not isinstance(stall_reruns, int) or stall_reruns < 0:
      raise ValueError(f"stall_reruns must be an int >= 0, not {stall_reruns!r}")
    self.backend, self.retries, self.limits = backend, retries, limits
    self.stall_reruns = stall_reruns
    self.feedback_cap = feedback_cap
    self.max_workers = max_workers or os.cpu_count() or 1
    pool_size = self.max_workers + 1 if pool_size is None else pool_size
    self.boot_workers = boot_workers or max(1, pool_size)
    self._workdir = tempfile.mkdtemp(prefix="rlef-judge-")
    os.chmod(self._workdir, 0o755)
    try:
      if backend == "gvisor":
        resolved = shutil.which(runsc_path) or runsc_path
        self._launcher = sandbox.GVisorLauncher(self._workdir, limits, interpreter, resolved,
                                                platform, ro_mounts, runsc_flags)
      elif backend == "process":
        print(PROCESS_WARNING, file=sys.stderr, flush=True)
        self._launcher = sandbox.ProcessLauncher(self._workdir, limits, interpreter)
      else:
        raise ValueError(f"backend must be 'gvisor' or 'process', not {backend!r}")
      self._pool = sandbox.Pool(self._launcher, pool_size, self.boot_workers)
    except BaseException:
      shutil.rmtree(self._workdir, ignore_errors=True)
      raise
    self._batch = concurrent.futures.ThreadPoolExecutor(self.max_workers,
                                                        thread_name_prefix="judge")
    _SIGNALS.register(self)

  @property
  def runsc_root(self) -> str | None:
    """The runsc `--root` state directory of this judge (gvisor backend)."""
    return getattr(self._launcher, "root", None)

  def readback(self) -> dict:
    """What a freshly booted sandbox reported about its own confinement."""
    box = self._launcher.start()
    try:
      return dict(box.ready)
    finally:
      box.finish()

  def leftover_containers(self) -> list[str]:
    return self._launcher.leftovers()

  def run(self, request: JudgeRequest) -> JudgeResult:
    """Judges one submission (see the module docstring)."""
    self._check(request)
    try:
      return self._run(request)
    except Exception as e:  # pylint: disable=broad-except
      # A bug of the judge's own outside any sandbox attempt (those become
      # faults below): reported, never raised into the caller's batch.
      return JudgeResult(Verdict.INFRA_ERROR, 0, len(request.tests), [], infra_attempts=1,
                         infra_detail=f"judge error: {e!r}"[:2000])

  def submit(self, request: JudgeRequest) -> concurrent.futures.Future:
    """Queues one submission on the judge's workers: a Future[JudgeResult].

    The future never holds an exception for anything the program did; a
    malformed request raises BadInput here, at once.
    """
    self._check(request)
    return self._batch.submit(self.run, request)

  def _run(self, request: JudgeRequest) -> JudgeResult:
    results: list[TestResult] = []
    faults: list[str] = []
    at: list[int | None] = []  # Test index of each fault with the program in the sandbox.
    used: list[str] = []
    reruns = [0]  # Stall reruns so far, over every sandbox of this submission.
    # Room for one stall rerun of a test; more come out of the tests' grace.
    submission_end = time.monotonic() + sum(self._test_budget(request, t)
                                            for t in request.tests) + request.time_limit_s + GRACE_S
    while len(results) < len(request.tests):
      box = None
      try:
        box = self._pool.get()
        used.append(box.name)
        done = self._attempt(box, request, results, submission_end, reruns)
        box.finish()
        if done:
          break
      except sandbox.InfraFault as e:
        faults.append(str(e)[:2000])
        at.append(e.test_index if isinstance(e, _ProgramFault) else None)
        if len(faults) > self.retries:
          if self._guilty(faults, at):
            results.append(TestResult(
                Verdict.RUNTIME_ERROR, traceback=(
                    f"the sandbox died or its harness failed while this program ran, on "
                    f"{len(faults)} fresh sandboxes in a row (tests {sorted(set(at))}), and a "
                    "control program then ran fine: the program kills its sandbox")))
            break
          passed = sum(t.verdict is Verdict.ACCEPTED for t in results)
          return JudgeResult(Verdict.INFRA_ERROR, passed, len(request.tests), results,
                             infra_attempts=len(faults),
                             infra_detail=" | ".join(faults), sandbox_ids=tuple(used),
                             stall_reruns=reruns[0])
      finally:
        if box is not None:
          box.destroy()
    return JudgeResult.from_tests(results, len(request.tests), infra_attempts=len(faults),
                                  infra_detail=" | ".join(faults) or None,
                                  sandbox_ids=tuple(used), stall_reruns=reruns[0])

  def _guilty(self, faults: list[str], at: list[int | None]) -> bool:
    """The rule for blaming the program: by evidence, not by pattern.

    Guilty when every attempt failed while the program was in its sandbox
    (deaths or protocol faults, at whichever tests: a program can tell its
    tests and its sandboxes apart), and a control program then passes on a
    fresh sandbox (the infrastructure works). Faults no program could cause
    (boot failures, runsc missing, limits that did not take effect) and a
    failing control stay `infra_error`; the control's failure goes into the
    detail, not the attempt count.
    """
    if any(i is None for i in at):
      return False
    control = JudgeRequest("print(input())", [TestCase("ok", "ok")], time_limit_s=10.0)
    box = None
    try:
      box = self._pool.get()
      results: list[TestResult] = []
      self._attempt(box, control, results, time.monotonic() + 30.0, [0])
      box.finish()
      if [t.verdict for t in results] == [Verdict.ACCEPTED]:
        return True
      faults[-1] += f" | control program: {results}"
    except sandbox.InfraFault as e:
      faults[-1] += f" | control program failed too: {e}"
    finally:
      if box is not None:
        box.destroy()
    return False

  def run_batch(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
    """Judges many submissions concurrently; results in request order."""
    for request in requests:
      self._check(request)
    return list(self._batch.map(self.run, requests))

  def _check(self, request: JudgeRequest) -> None:
    if not isinstance(request, JudgeRequest):
      raise BadInput(f"expected a JudgeRequest, not {type(request).__name__}")
    if request.memory_mb > self.limits.memory_ceiling_mb:
      raise BadInput(f"memory_mb={request.memory_mb} is above this judge's ceiling "
                     f"({self.limits.memory_ceiling_mb}); raise SandboxLimits.memory_ceiling_mb")

  def _test_budget(self, request: JudgeRequest, test: TestCase) -> float:
    return request.time_limit_s + GRACE_S + len(test.input) / _BYTES_PER_S

  def _attempt(self, box: sandbox.Sandbox, request: JudgeRequest,
               results: list[TestResult], submission_end: float, reruns: list[int]) -> bool:
    """`_run_in`, with anything unexpected once the program is in the sandbox
    (a broken reply, a host-side parse of what it influenced) turned into a
    `_ProgramFault`: retried and blamed by evidence, never raised."""
    try:
      return self._run_in(box, request, results, submission_end, reruns)
    except sandbox.InfraFault:
      raise
    except Exception as e:  # pylint: disable=broad-except
      raise _ProgramFault(len(results), f"{box.name}: judge failed on a reply: {e!r}") from e

  def _run_in(self, box: sandbox.Sandbox, request: JudgeRequest,
              results: list[TestResult], submission_end: float, reruns: list[int]) -> bool:
    """Runs the remaining tests in `box`, appending to `results`.

    Returns True when judging is over (syntax error or stop at a failure);
    False when tests remain for a fresh sandbox (the host's wall clock killed
    this one, or the harness could not guarantee a clean one).
    """
    program = request.program.encode("utf-8")
    header = {"op": "program", "style": request.style,
              "time_limit_s": request.time_limit_s, "memory_mb": request.memory_mb}
    deadline = min(submission_end, time.monotonic() + request.time_limit_s + GRACE_S)
    try:
      reply, _ = box.exchange(header, [program], deadline)
    except sandbox.HostTimeout as e:
      raise _ProgramFault(len(results), f"compiling took longer than the host allows: {e}") from e
    except sandbox.InfraFault as e:
      raise _ProgramFault(len(results), str(e)) from e
    if "syntax_error" in reply:
      n = 1 if request.stop_on_first_failure else len(request.tests) - len(results)
      results.extend(TestResult(Verdict.SYNTAX_ERROR, traceback=_text(reply["syntax_error"]))
                     for _ in range(n))
      return True
    if "ok" not in reply:
      failed = reply.get("compile_failed")
      if not isinstance(failed, dict):
        raise _ProgramFault(len(results), f"{box.name}: harness refused the program: "
                            f"{str(reply)[:500]}")
      if failed.get("status") == "limits_failed":
        raise sandbox.InfraFault(f"{box.name}: compile limits did not take effect: "
                                 f"{str(failed.get('detail'))[:500]}")
      if failed.get("status") == "harness_fault":
        raise _ProgramFault(len(results), f"{box.name}: the compile child died early")
      results.extend(self._verdict(failed, b"", b"", b"", None, request)
                     for _ in range(1 if request.stop_on_first_failure
                                    else len(request.tests) - len(results)))
      return True
    tests = iter(request.tests[len(results):])
    test = next(tests, None)
    runs = 0  # Runs of `test` so far in this sandbox.
    while test is not None:
      start = time.monotonic()
      deadline = min(submission_end, start + self._test_budget(request, test))
      try:
        reply, blobs = box.exchange({"op": "test"}, [test.input.encode("utf-8")], deadline)
      except sandbox.HostTimeout:
        results.append(TestResult(Verdict.TIME_LIMIT, time.monotonic() - start,
                                  traceback="killed by the host's wall clock"))
        return request.stop_on_first_failure or len(results) == len(request.tests)
      except sandbox.InfraFault as e:
        if not box.killed_for_memory():
          raise _ProgramFault(len(results), str(e)) from e
        reply, blobs = None, []
      if reply is None or box.oom_kills():
        # Not retried (a fresh sandbox would die the same way), and a sandbox
        # that lost a process to the host's OOM killer is not reused.
        results.append(TestResult(
            Verdict.MEMORY_LIMIT, time.monotonic() - start,
            traceback=f"the program's processes together exceeded the sandbox's memory "
                      f"({self.limits.sandbox_memory_mb} MiB); the host's OOM killer ended them"))
        return request.stop_on_first_failure or len(results) == len(request.tests)
      if reply.get("status") == "limits_failed":
        raise sandbox.InfraFault(f"{box.name}: test limits did not take effect: "
                                 f"{str(reply.get('detail'))[:500]}")
      if reply.get("status") == "harness_fault" or len(blobs) != 3:
        raise _ProgramFault(len(results), f"{box.name}: the harness failed a test: "
                            f"{str(reply)[:500]}")
      result = self._verdict(reply, *blobs, test, request)
      runs += 1
      if (runs <= self.stall_reruns and reply.get("fresh") is not True
          and self._stalled(result, reply, request)):
        reruns[0] += 1
        continue
      results.append(result)
      test, runs = next(tests, None), 0
      if request.stop_on_first_failure and result.verdict is not Verdict.ACCEPTED:
        return True
      if reply.get("fresh") is True:
        # The harness could not empty /tmp within its budget: no state may
        # carry over, so the remaining tests go to a fresh sandbox.
        return len(results) == len(request.tests)
    return True

  @staticmethod
  def _stalled(result: TestResult, reply: dict, request: JudgeRequest) -> bool:
    """Over the wall clock with little CPU used: not the program's time (or a
    sleeper's, which a rerun stops again).

    A stall has two shapes, decided by a race when the host resumes the
    sandbox: the harness kills the program at its deadline (`timeout`, exit
    -9), or the program ends first and its wall time is over the limit. A
    `time_limit` by CPU time has CPU time over the limit; `SIGXCPU` is one
    whatever the CPU time says (a program can send it to itself).
    """
    return (result.verdict is Verdict.TIME_LIMIT
            and _int(reply.get("signal")) != signal.SIGXCPU
            and _num(reply.get("cpu_s")) < STALL_CPU_FRACTION * request.time_limit_s)

  def _verdict(self, reply: dict, out: bytes, err: bytes, tb: bytes, test: TestCase | None,
               request: JudgeRequest) -> TestResult:
    """The one place where a raw run becomes a verdict."""
    stdout = out.decode("utf-8", "replace")
    limit = request.time_limit_s
    status, exception = reply.get("status"), reply.get("exception")
    sig, code = _int(reply.get("signal")), _int(reply.get("exit_code"))
    wall, cpu = _num(reply.get("wall_s")), _num(reply.get("cpu_s"))
    if status == "timeout" or wall > limit or cpu > limit or sig == signal.SIGXCPU:
      verdict = Verdict.TIME_LIMIT
    elif status == "output_limit":
      verdict = Verdict.OUTPUT_LIMIT
    elif exception == "MemoryError":
      verdict = Verdict.MEMORY_LIMIT
    elif status != "exited" or code != 0 or exception:
      in_tests = reply.get("in_tests") is True and exception == "AssertionError"
      verdict = Verdict.WRONG_ANSWER if in_tests else Verdict.RUNTIME_ERROR
    elif request.style == "assert":
      # A program that exits before the appended checks ran to their end has
      # not passed them; only the nonce-bearing report says they did.
      verdict = Verdict.ACCEPTED if reply.get("done") is True else Verdict.RUNTIME_ERROR
    else:
      matched = test is not None and compare.outputs_match(out, test.expected_output)
      verdict = Verdict.ACCEPTED if matched else Verdict.WRONG_ANSWER
    cap = self._capture(request, verdict)
    traceback = tb.decode("utf-8", "replace") if tb else _text(reply.get("traceback")) or None
    return TestResult(verdict, wall, stdout[:cap], err.decode("utf-8", "replace")[:cap],
                      traceback[:max(cap, 4096)] if traceback else None,
                      -sig if sig else code)

  def _capture(self, request: JudgeRequest, verdict: Verdict) -> int:
    """Characters of each output a TestResult keeps (see JudgeRequest.capture_chars)."""
    if request.capture_chars is not None:
      return request.capture_chars
    if not request.stop_on_first_failure:
      return self.feedback_cap
    return SCORING_CAPTURE if verdict is not Verdict.ACCEPTED else SCORING_CAPTURE_PASSED

  def close(self) -> None:
    """Stops the pool; leaves no containers, processes or files behind."""
    try:
      self._batch.shutdown(wait=True)
      self._pool.close()
    finally:
      _SIGNALS.unregister(self)
      shutil.rmtree(self._workdir, ignore_errors=True)

  def abort(self) -> None:
    """Close now, without waiting for submissions being judged: every
    sandbox, cgroup and the temp dir removed (their results become
    `infra_error`). Safe from a signal handler; SIGTERM/SIGINT call it."""
    try:
      self._batch.shutdown(wait=False, cancel_futures=True)
      self._pool.abort()
    finally:
      _SIGNALS.unregister(self)
      shutil.rmtree(self._workdir, ignore_errors=True)

  def __enter__(self) -> "Judge":
    return self

  def __exit__(self, *exc) -> None:
    self.close()


def _num(value) -> float:
  return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _int(value) -> int | None:
  return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value) -> str:
  return value if isinstance(value, str) else ""

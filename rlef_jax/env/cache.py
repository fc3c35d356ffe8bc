"""Asynchronous judging for the environment, with a verdict cache.

`JudgeClient.submit(request)` returns a `Future[JudgeResult]` at once: a
cached verdict, the future of an identical request already in flight, or a
new run of the thread-safe `judge.run` on a host thread pool (the judge's
own `submit` is used when it has one). The main thread keeps sampling while
the futures run: that is the overlap of judging and sampling.

The cache key is everything that decides a verdict: program text, the tests
(inputs and expected outputs), style, time and memory limits and
`stop_on_first_failure`. `infra_error` results are never cached. A cached
verdict can differ from a fresh one where the program's behaviour is not a
function of that key: a run near its time (or memory) limit may pass once and
time out the next time on a loaded host, and a program that reads the clock,
randomness or its pid is not deterministic. See docs/env.md.

Example:

    client = JudgeClient(judge, VerdictCache())
    future = client.submit(request_for_problem(row, code, tests="public"))
    future.result().verdict, client.stats()["cache_hit_rate"]
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from typing import Hashable

from sandbox_runner import JudgeRequest, JudgeResult, Verdict


def cache_key(request: JudgeRequest) -> Hashable:
  """What decides a verdict (see the module docstring)."""
  return (request.program, tuple((t.input, t.expected_output) for t in request.tests),
          request.style, float(request.time_limit_s), int(request.memory_mb),
          bool(request.stop_on_first_failure))


class VerdictCache:
  """A thread-safe map from `cache_key` to `JudgeResult`, kept across calls."""

  def __init__(self, max_entries: int = 1 << 16):
    self.max_entries = max_entries
    self._results: dict[Hashable, JudgeResult] = {}
    self._lock = threading.Lock()

  def get(self, key: Hashable) -> JudgeResult | None:
    with self._lock:
      return self._results.get(key)

  def put(self, key: Hashable, result: JudgeResult) -> None:
    if result.verdict is Verdict.INFRA_ERROR:
      return
    with self._lock:
      if len(self._results) >= self.max_entries:  # oldest first (dicts keep insertion order)
        self._results.pop(next(iter(self._results)))
      self._results[key] = result

  def __len__(self) -> int:
    return len(self._results)


class JudgeClient:
  """Futures of judged requests, deduplicated and cached.

  Args:
    judge: a `sandbox_runner.Judge` (or anything with a thread-safe `run`).
    cache: a `VerdictCache` (identical requests in flight are also judged
      once), or None: every request is judged afresh.
    max_workers: host threads running `judge.run` (default: the judge's).
  """

  def __init__(self, judge, cache: VerdictCache | None = None, max_workers: int | None = None):
    self.judge, self.cache = judge, cache
    self._own_submit = getattr(judge, "submit", None)
    workers = max_workers or getattr(judge, "max_workers", None) or 2
    self._pool = (None if self._own_submit is not None else
                  concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="env-judge"))
    self._inflight: dict[Hashable, concurrent.futures.Future] = {}
    # Re-entrant: a callback added to an already finished future runs at once, under the lock.
    self._lock = threading.RLock()
    self.requests = self.cache_hits = self.inflight_hits = self.judged = 0
    # Summed submit-to-result time of the judged requests (queueing included: with the
    # judge's own submit the run itself cannot be timed from outside).
    self.latency_s = 0.0

  def submit(self, request: JudgeRequest) -> concurrent.futures.Future:
    key = cache_key(request)
    with self._lock:
      self.requests += 1
      cached = self.cache.get(key) if self.cache is not None else None
      if cached is not None:
        self.cache_hits += 1
        done = concurrent.futures.Future()
        done.set_result(cached)
        return done
      if self.cache is not None and key in self._inflight:
        self.inflight_hits += 1
        return self._inflight[key]
      self.judged += 1
      start = time.monotonic()
      future = (self._own_submit(request) if self._own_submit is not None
                else self._pool.submit(self.judge.run, request))
      future.add_done_callback(lambda _, s=start: self._add_latency(time.monotonic() - s))
      self._inflight[key] = future
    future.add_done_callback(lambda f, k=key: self._finish(k, f))
    return future

  def _add_latency(self, seconds: float) -> None:
    with self._lock:
      self.latency_s += seconds

  def _finish(self, key: Hashable, future: concurrent.futures.Future) -> None:
    with self._lock:
      self._inflight.pop(key, None)
    if self.cache is not None and not future.cancelled() and future.exception() is None:
      self.cache.put(key, future.result())

  def stats(self) -> dict[str, float]:
    hits = self.cache_hits + self.inflight_hits
    return {"judge_requests": float(self.requests), "judge_runs": float(self.judged),
            "cache_hits": float(hits),
            "cache_hit_rate": hits / self.requests if self.requests else 0.0,
            "judge_latency_s": self.latency_s}

  def close(self) -> None:
    if self._pool is not None:
      self._pool.shutdown(wait=True, cancel_futures=True)

  def __enter__(self) -> "JudgeClient":
    return self

  def __exit__(self, *exc) -> None:
    self.close()

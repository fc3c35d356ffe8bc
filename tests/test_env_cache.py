"""JudgeClient and VerdictCache: asynchronous submits, in-flight dedupe, what is cached."""

import threading
import time

from sandbox_runner import JudgeRequest, JudgeResult, TestCase, TestResult, Verdict

from rlef_jax.env.cache import JudgeClient, VerdictCache, cache_key


class SlowJudge:
  """Sleeps per run; counts runs and the most runs at once."""

  max_workers = 4

  def __init__(self, seconds=0.2, verdict=Verdict.ACCEPTED):
    self.seconds, self.verdict = seconds, verdict
    self.runs = self.active = self.peak = 0
    self._lock = threading.Lock()

  def run(self, request):
    with self._lock:
      self.runs += 1
      self.active += 1
      self.peak = max(self.peak, self.active)
    time.sleep(self.seconds)
    with self._lock:
      self.active -= 1
    if self.verdict is Verdict.INFRA_ERROR:
      return JudgeResult(Verdict.INFRA_ERROR, 0, len(request.tests), [])
    return JudgeResult.from_tests([TestResult(self.verdict) for _ in request.tests],
                                  len(request.tests))


def _req(program="print(1)", **kw):
  return JudgeRequest(program, [TestCase("", "1\n")], **kw)


def test_submit_returns_at_once_and_runs_in_parallel():
  judge = SlowJudge()
  with JudgeClient(judge, None) as client:
    start = time.monotonic()
    futures = [client.submit(_req(f"print({i})")) for i in range(4)]
    assert time.monotonic() - start < 0.1  # nothing waited for
    assert all(f.result().accepted for f in futures)
    assert time.monotonic() - start < 0.6 and judge.peak >= 2
  assert judge.runs == 4 and client.stats()["cache_hit_rate"] == 0


def test_identical_requests_in_flight_and_later_are_judged_once():
  judge = SlowJudge()
  with JudgeClient(judge, VerdictCache()) as client:
    first = [client.submit(_req()) for _ in range(3)]
    results = [f.result() for f in first]
    later = client.submit(_req()).result()
    assert judge.runs == 1 and all(r is results[0] for r in results) and later is results[0]
    # Any part of the key makes another request: limits, style of stopping, tests.
    client.submit(_req(time_limit_s=2.0)).result()
    client.submit(_req(stop_on_first_failure=True)).result()
    client.submit(JudgeRequest("print(1)", [TestCase("", "2\n")])).result()
    assert judge.runs == 4
    stats = client.stats()
  assert stats["judge_requests"] == 7 and stats["cache_hit_rate"] == 3 / 7


def test_infra_errors_are_not_cached_and_no_cache_means_fresh_runs():
  judge = SlowJudge(0.01, Verdict.INFRA_ERROR)
  cache = VerdictCache()
  with JudgeClient(judge, cache) as client:
    client.submit(_req()).result()
    client.submit(_req()).result()
  assert judge.runs == 2 and len(cache) == 0
  judge = SlowJudge(0.01)
  with JudgeClient(judge, None) as client:
    client.submit(_req()).result()
    client.submit(_req()).result()
  assert judge.runs == 2


def test_cache_is_bounded_oldest_first():
  cache = VerdictCache(max_entries=2)
  ok = JudgeResult(Verdict.ACCEPTED, 1, 1, [TestResult(Verdict.ACCEPTED)])
  keys = [cache_key(_req(f"print({i})")) for i in range(3)]
  for k in keys:
    cache.put(k, ok)
  assert len(cache) == 2 and cache.get(keys[0]) is None and cache.get(keys[2]) is ok


def test_uses_the_judges_own_submit_when_it_has_one():
  import concurrent.futures

  class SubmitJudge(SlowJudge):
    def __init__(self):
      super().__init__(0.01)
      self.pool = concurrent.futures.ThreadPoolExecutor(2)
      self.submitted = 0

    def submit(self, request):
      self.submitted += 1
      return self.pool.submit(self.run, request)

  judge = SubmitJudge()
  with JudgeClient(judge, VerdictCache()) as client:
    assert client.submit(_req()).result().accepted
    assert client.submit(_req()).result().accepted
  judge.pool.shutdown()
  assert judge.submitted == 1 and judge.runs == 1

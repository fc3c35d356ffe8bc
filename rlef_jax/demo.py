"""The CPU demo's data sources and its three claims (docs/demo.md).

Data: `train_problems` / `test_problems` (the RLEF pool and the held-out
evaluation split of `rlef_jax.data.synthetic`) and `sft_dialogs` (the warm
start's dialogs, some of them repairs with real execution feedback:
`build_sft_dialogs`, `repair_feedback`), named in gin/tiny_cpu.gin as
`"rlef_jax.demo:train_problems"` etc. Their sizes are gin-configurable here,
at the edge; the generator itself takes plain arguments.

Claims (the paper's, measured on the held-out split with `1@3`), computed
from the evaluation's `rollouts.jsonl` with a paired bootstrap over problems
(the same problems under both arms of a difference):

  rlef_raises_solve_rate        rlef multi_turn - sft multi_turn >= 0.15
  multi_turn_beats_independent  rlef (multi_turn - independent) > 0, and more
                                than at the sft start (difference of gaps > 0)
  feedback_matters              rlef multi_turn - random_feedback > 0

and, from the training run's metrics.jsonl, `training_curve`: the training
solve rate of the first and the last five rounds (the curve rises when the
last five average more).

A claim holds when its measured difference meets the bar and the lower end
of its 95% interval is above 0.

Example:

    from rlef_jax import demo
    claims = demo.claims(report.read_rollouts("W/eval/rollouts.jsonl"),
                         json.load(open("W/eval/report.json"))["evals"])
    demo.add_claims("W")   # writes them into W/report.json and W/eval/report.json
"""

from __future__ import annotations

import json
import pathlib
from typing import Any, Mapping, Sequence

import random

import gin
import numpy as np
import sandbox_runner
from sandbox_runner import JudgeResult, TestResult, Verdict, compare

from rlef_jax.data import synthetic
from rlef_jax.env import code as code_lib
from rlef_jax.env import feedback
from rlef_jax.evaluation import metrics, report
from rlef_jax.evaluation.report import public_vs_private, training_curve  # noqa: F401  (the demo's API)

RISE_BAR = 0.15
METRIC = "1@3"
RESAMPLES = 1000


@gin.configurable(denylist=["split"])
def train_problems(split: str | None = None, num: int = 1000, seed: int = 0,
                   fuse: bool = True) -> list[dict]:
  """The RLEF training pool: `num` synthetic train-split problems."""
  del split
  return synthetic.generate("train", num, seed, fuse=fuse)


@gin.configurable(denylist=["split"])
def test_problems(split: str | None = None, num: int = 100, seed: int = 0,
                  fuse: bool = True) -> list[dict]:
  """The held-out evaluation problems (compositions with a held-out pair)."""
  del split
  return synthetic.generate("test", num, seed, fuse=fuse)


@gin.configurable(denylist=["split"])
def dev_problems(split: str | None = None, num: int = 100, seed: int = 0,
                 fuse: bool = True) -> list[dict]:
  """New problems of the training grammar (compositions no train problem holds)."""
  del split
  return synthetic.generate("dev", num, seed, fuse=fuse)


@gin.configurable
def sft_dialogs(num: int = 1500, repair_fraction: float = 0.25, seed: int = 0,
                problem_seed: int = 1, fuse: bool = True,
                second_failure_fraction: float = 0.0) -> list[list[dict[str, str]]]:
  """Warm-start dialogs from `num` train-split problems of `problem_seed`.

  `problem_seed` differs from the RLEF pool's so the warm start has not seen
  the exact problems RLEF trains on (only their distribution). Repairs hold
  one failed attempt, or two with probability `second_failure_fraction`.
  """
  rows = synthetic.generate("train", num, problem_seed, large_test=False, fuse=fuse)
  return build_sft_dialogs(rows, repair_fraction=repair_fraction, seed=seed,
                           second_failure_fraction=second_failure_fraction)


# ------------------------------------------------------------ SFT dialogs


def local_result(tests, code: str):
  """A `JudgeResult` of trusted generated `code`, run in-process.

  The generator's own programs only: it stands in for the sandbox when the
  SFT data needs the feedback of a wrong answer (whose message depends only
  on the tests and the printed output). Returns None when the program raises
  (its traceback would differ from the sandbox's; such bugs are not used).
  """
  results = []
  for test in tests:
    try:
      out = synthetic.run_program(code, test.input)
    except Exception:  # pylint: disable=broad-except
      return None
    ok = compare.outputs_match(out, test.expected_output)
    results.append(TestResult(Verdict.ACCEPTED if ok else Verdict.WRONG_ANSWER,
                              stdout=out, exit_code=0))
  passed = sum(r.verdict is Verdict.ACCEPTED for r in results)
  first_bad = next((r.verdict for r in results if r.verdict is not Verdict.ACCEPTED),
                   Verdict.ACCEPTED)
  return JudgeResult(first_bad, passed, len(results), results)


def repair_feedback(row: dict[str, Any], code: str, judge=None, tokenizer=None) -> str | None:
  """The execution-feedback turn for `code` on `row`'s public tests, or None.

  None when `code` passes every public test (nothing to report) or, without
  a `judge`, raises in-process. With a `sandbox_runner.Judge`, the real one.
  """
  request = sandbox_runner.request_for_problem(row, code, tests="public")
  result = judge.run(request) if judge is not None else local_result(request.tests, code)
  if result is None or result.accepted:
    return None
  return feedback.execution_feedback(request.tests, result, tokenizer=tokenizer)


def build_sft_dialogs(rows: Sequence[dict[str, Any]], *, repair_fraction: float = 0.3,
                second_failure_fraction: float = 0.0, seed: int = 0, judge=None,
                tokenizer=None) -> list[list[dict[str, str]]]:
  """Chat dialogs for the warm start, one per row; learn the LAST turn only.

  A plain dialog is the turn-1 prompt and the canonical answer. With
  probability `repair_fraction` (and a stored bug that fails a public test)
  the dialog is a repair: prompt, a buggy answer, its real execution
  feedback (`rlef_jax.env.feedback.execution_feedback`), the canonical
  answer. A repair holds two failed attempts (two different bugs, each with
  its feedback: the context of an RLEF third turn) with probability
  `second_failure_fraction` when the row has two such bugs. The buggy
  answers are context, not targets: train on the final assistant message only.
  """
  rng = random.Random(f"rlef-synthetic-sft/{seed}")
  out = []
  for row in rows:
    prompt = {"role": "user", "content": feedback.initial_prompt(row["description"])}
    answer = {"role": "assistant", "content": code_lib.fence(row["solutions"]["solution"][0])}
    dialog = [prompt, answer]
    if rng.random() < repair_fraction:
      bugs = list(row["incorrect_solutions"]["solution"])
      rng.shuffle(bugs)
      attempts = 2 if rng.random() < second_failure_fraction else 1
      failed = []
      for bug in bugs:
        text = repair_feedback(row, bug, judge, tokenizer)
        if text is not None:
          failed += [{"role": "assistant", "content": code_lib.fence(bug)},
                     {"role": "user", "content": text}]
          if len(failed) == 2 * attempts:
            break
      if failed:
        dialog = [prompt, *failed, answer]
    out.append(dialog)
  return out


# ----------------------------------------------------------------- claims


def _values(records, evals, checkpoint, mode, split, metric):
  group = [r for r in records if r["checkpoint"] == checkpoint and r["mode"] == mode
           and r["split"] == split]
  if not group:
    raise ValueError(f"no rollouts for {checkpoint}/{mode}/{split}")
  spec = evals[group[0]["eval"]]
  turns = 1 if mode == "independent" else int(spec["turn_limit"])
  values, _ = report.problem_values(group, metrics.parse_metric(metric), turns)
  return values


def _paired(terms: Sequence[tuple[float, dict[str, float]]], resamples: int, seed: int):
  """Mean and 95% bootstrap interval of sum(c * v[p]) over shared problems p."""
  names = sorted(set.intersection(*(set(v) for _, v in terms)))
  if not names:
    raise ValueError("the arms of a claim share no problem")
  diff = np.zeros(len(names))
  for c, v in terms:
    diff += c * np.array([v[p] for p in names])
  picks = np.random.default_rng(seed).integers(0, len(names), (resamples, len(names)))
  lo, hi = np.quantile(diff[picks].mean(axis=1), [0.025, 0.975])
  return float(diff.mean()), [float(lo), float(hi)], len(names)


def claims(records: Sequence[Mapping[str, Any]], evals: Mapping[str, Mapping[str, Any]],
           split: str = "test", metric: str = METRIC, seed: int = 0,
           resamples: int = RESAMPLES, before: str = "sft", after: str = "rlef") -> dict:
  """The three claims, each {claim, difference, ci95, bar, held, problems}."""
  v = {(c, m): _values(records, evals, c, m, split, metric)
       for c in (before, after) for m in ("multi_turn", "independent", "random_feedback")}

  def claim(text, terms, bar):
    diff, ci, n = _paired(terms, resamples, seed)
    return {"claim": text, "difference": diff, "ci95": ci, "bar": bar,
            "held": bool(diff >= bar and ci[0] > 0), "problems": n, "metric": metric,
            "split": split}

  rise = claim(f"{after} multi_turn {metric} exceeds {before} multi_turn by at least "
               f"{RISE_BAR:.2f}", [(1, v[after, "multi_turn"]), (-1, v[before, "multi_turn"])],
               RISE_BAR)
  gap_after = claim(f"{after}: multi_turn {metric} exceeds independent at equal budget",
                    [(1, v[after, "multi_turn"]), (-1, v[after, "independent"])], 0.0)
  gap_growth = claim(f"the multi_turn - independent gap is larger after {after} than at "
                     f"{before}", [(1, v[after, "multi_turn"]), (-1, v[after, "independent"]),
                                   (-1, v[before, "multi_turn"]), (1, v[before, "independent"])],
                     0.0)
  beats = {"claim": gap_after["claim"] + "; " + gap_growth["claim"],
           "held": gap_after["held"] and gap_growth["held"],
           "gap_after": gap_after, "gap_growth": gap_growth,
           "difference": gap_growth["difference"], "ci95": gap_growth["ci95"]}
  feedback = claim(f"{after}: random feedback scores lower than true feedback ({metric})",
                   [(1, v[after, "multi_turn"]), (-1, v[after, "random_feedback"])], 0.0)
  return {"rlef_raises_solve_rate": rise, "multi_turn_beats_independent": beats,
          "feedback_matters": feedback}


def add_claims(workdir: str | pathlib.Path, **kwargs) -> dict:
  """Computes the claims of a pipeline run and writes them into its reports.

  Reads `<workdir>/eval/rollouts.jsonl` and `<workdir>/eval/report.json`;
  adds `"claims"` to that report and to `<workdir>/report.json` (when it
  exists). Returns the claims.
  """
  workdir = pathlib.Path(workdir)
  eval_report_path = workdir / "eval" / "report.json"
  eval_report = json.loads(eval_report_path.read_text())
  split = kwargs.pop("split", eval_report.get("split", "test"))
  out = claims(report.read_rollouts(workdir / "eval" / "rollouts.jsonl"), eval_report["evals"],
               split=split, **kwargs)
  for path in (eval_report_path, workdir / "report.json"):
    if path.exists():
      saved = json.loads(path.read_text())
      saved["claims"] = out
      path.write_text(json.dumps(saved, indent=2) + "\n")
  return out


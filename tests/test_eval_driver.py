"""The eval driver and job through the real gVisor judge, with scripted policies.

A scripted policy makes every solve rate known in advance: per problem, one
first-turn answer in three is a reference solution, the others print a wrong
answer; a later turn is the reference solution only when the feedback shows
this problem's own public input (true feedback does; random and no feedback
do not). Every number in report.json is then checked against those values and
against a recomputation from rollouts.jsonl that shares no code with
`rlef_jax.evaluation.report`.
"""

import collections
import itertools
import json
import os
import shutil

import pytest

from rlef_jax import jobs
from rlef_jax import tokenizer as tokenizers
from rlef_jax.data import problems as problem_sources
from rlef_jax.env.policy import ScriptedPolicy
from rlef_jax.evaluation import driver, metrics, report, stats

pytestmark = pytest.mark.gvisor
TOK = tokenizers.load_tiny_tokenizer()
WRONG = "```python\nprint('no idea')\n```"


@pytest.fixture(scope="module", autouse=True)
def _needs_gvisor():
  if shutil.which("runsc") is None or os.geteuid() != 0:
    pytest.skip("needs runsc on PATH and root")


def _reference(row):
  return "```python\n" + row["solutions"]["solution"][0] + "\n```"


def _feedback_script():
  calls = collections.Counter()

  def respond(row, turn, messages):
    if turn == 1:
      calls[row["name"]] += 1
      return _reference(row) if calls[row["name"]] % 3 == 1 else WRONG
    shown = f"input `{row['public_tests']['input'][0].strip()}"
    return _reference(row) if shown in messages[-1]["content"] else WRONG

  return respond


def _plain(record, turns):
  """(public passed, solved) of the rollout cut at `turns`, read straight from the JSON."""
  turn = record["turns"][min(turns, len(record["turns"])) - 1]
  score = turn["score"] or (record["final"] if turn is record["turns"][-1] else None)
  public = turn["public"] is not None and turn["public"]["verdict"] == "accepted"
  return public, score is not None and score["verdict"] == "accepted"


def _one_of_k(cut, k):
  """1@k by enumeration: every k-subset submits a random public-passing sample if any."""
  values = []
  for subset in itertools.combinations(cut, k):
    pool = [s for p, s in subset if p] or [s for _, s in subset]
    values.append(sum(pool) / len(pool))
  return sum(values) / len(values)


CFG = driver.EvalConfig(name="scripted", metrics=("1@2", "pass@1", "2@4"), rollouts=3,
                        turn_limit=2, turn_limits=(1, 3), episodes_per_call=9)


@pytest.fixture(scope="module")
def scripted_run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("eval_scripted")
  respond = _feedback_script()
  ok = jobs.eval_job(str(workdir), task="rlef_bundled_test", limit=3, evals=[CFG],
                     checkpoints={"scripted": None}, shard=False,
                     policy_factory=lambda config, params, tok, cfg: ScriptedPolicy(respond, tok))
  assert ok
  saved = json.loads((workdir / "report.json").read_text())
  return workdir, saved, report.read_rollouts(workdir / "rollouts.jsonl")


def _value(saved, mode, metric):
  found = [r for r in saved["solve_rates"] if r["mode"] == mode and r["metric"] == metric]
  assert len(found) == 1, (mode, metric)
  return found[0]


def test_scripted_solve_rates_are_the_known_ones(scripted_run):
  _, saved, _ = scripted_run
  third = pytest.approx(1 / 3)
  for mode in report.MODES:
    assert _value(saved, mode, "pass@1")["value"] == third
  # true feedback: every rollout solved by its second turn
  for metric in ("1@2", "2@4", "turn_limit=2:1@2", "turn_limit=3:1@3"):
    assert _value(saved, "multi_turn", metric)["value"] == pytest.approx(1.0)
  assert _value(saved, "multi_turn", "turn_limit=1:1@1")["value"] == third
  # random or no feedback: the second turn never helps
  for mode in ("random_feedback", "no_feedback"):
    assert _value(saved, mode, "1@2")["value"] == third
  # independent: 6 samples, 2 correct (both pass the public tests, the others do not)
  assert _value(saved, "independent", "1@2")["value"] == pytest.approx(1 - 6 / 15)
  assert _value(saved, "independent", "2@4")["value"] == pytest.approx(1 - 1 / 15)
  diffs = {(tuple(c["a"]), tuple(c["b"]), c["metric"]): c["difference"]
           for c in saved["comparisons"]}
  truth = diffs[("scripted", "multi_turn"), ("scripted", "random_feedback"), "1@2"]
  assert truth == pytest.approx(2 / 3)
  row = _value(saved, "independent", "1@2")
  assert (row["problems"], row["rollouts"], row["checkpoint"], row["split"]) == (
      3, 18, "scripted", "test")
  assert sorted(row) == sorted(report.ROW_KEYS)


def test_every_number_is_reproduced_from_rollouts_jsonl(scripted_run):
  workdir, saved, records = scripted_run
  assert report.solve_rates(records, saved["evals"]) == saved["solve_rates"]
  groups = collections.defaultdict(lambda: collections.defaultdict(list))
  for record in records:
    assert record["dropped"] is None
    groups[record["mode"]][record["problem"]].append(record)
  checked = 0
  for row in saved["solve_rates"]:
    metric = metrics.parse_metric(row["metric"])
    if metric.n != 1 and not row["metric"].startswith("pass@"):
      continue
    mode_turns = 1 if row["mode"] == "independent" else 2
    turns = metric.turn_limit or mode_turns
    per_problem = []
    for name, recs in sorted(groups[row["mode"]].items()):
      cut = [_plain(r, turns) for r in recs]
      if metric.k // turns == 1:          # one rollout, one submission: its mean
        per_problem.append(sum(s for _, s in cut) / len(cut))
      else:                               # 1@k single-turn: public first, by hand
        per_problem.append(_one_of_k(cut, metric.k))
    assert row["value"] == pytest.approx(sum(per_problem) / len(per_problem)), row
    assert row["ci95"] == list(stats.bootstrap_ci(per_problem, seed=0))
    assert row["ci95"][0] <= row["value"] <= row["ci95"][1]
    assert row["rollouts"] == sum(len(v) for v in groups[row["mode"]].values())
    checked += 1
  assert checked >= 15
  lines = (workdir / "metrics.jsonl").read_text().splitlines()
  assert len(lines) == len(saved["solve_rates"])


def test_plots_and_summary_are_written(scripted_run):
  workdir, saved, _ = scripted_run
  assert sorted(saved["plots"]) == ["before_after.png", "intervals.png",
                                    "solve_rate_vs_budget.png", "solve_rate_vs_turns.png"]
  for name in saved["plots"]:
    assert (workdir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  summary = (workdir / "summary.md").read_text()
  assert "![solve_rate_vs_turns](solve_rate_vs_turns.png)" in summary
  assert "| scripted | test | independent | 1@2 | 60.0 |" in summary
  assert 'src="intervals.png"' in (workdir / "summary.html").read_text()


def test_records_carry_per_turn_code_and_verdicts(scripted_run):
  _, _, records = scripted_run
  multi = [r for r in records if r["mode"] == "multi_turn"]
  assert len(multi) == 9 and all(r["max_turns"] == 3 and r["turn_limit"] == 2 for r in multi)
  for r in multi:
    for turn in r["turns"]:
      assert turn["code"] is not None and turn["public"]["total"] >= 1
      assert turn["score"]["total"] >= 1      # scored every turn
    assert r["solved"] == (r["turns"][-1]["score"]["verdict"] == "accepted")
  assert sorted({r["rollout"] for r in multi}) == [0, 1, 2]


def test_a_turn_limit_cut_equals_a_shorter_run():
  """The sweep's premise: the first t turns of a longer rollout are a t-turn rollout."""
  rows = problem_sources.bundled_problems("test")[:2]

  def respond(row, turn, messages):
    return WRONG if turn < 3 else _reference(row)

  import jax  # pylint: disable=import-outside-toplevel
  from sandbox_runner import Judge  # pylint: disable=import-outside-toplevel

  short = driver.EvalConfig(name="short", metrics=("1@2",), modes=("multi_turn",), rollouts=1,
                            turn_limit=2, turn_limits=())
  long = driver.EvalConfig(name="long", metrics=("1@2",), modes=("multi_turn",), rollouts=1,
                           turn_limit=2, turn_limits=(4,))
  with Judge() as judge:
    runs = [driver.run(cfg, problems=rows, judge=judge, tokenizer=TOK, rng=jax.random.key(0),
                       policy=ScriptedPolicy(respond, TOK)) for cfg in (short, long)]
  assert [r["max_turns"] for r in runs[1].records] == [4, 4]
  for a, b in zip(runs[0].records, runs[1].records):
    assert len(a["turns"]) == 2 and len(b["turns"]) == 3     # solved at turn 3
    assert a["turns"][0] == b["turns"][0]
    assert {**a["turns"][1], "feedback": None} == {**b["turns"][1], "feedback": None}
  assert runs[0].rows[0]["value"] == runs[1].rows[0]["value"] == 0.0
  assert runs[1].rows[-1]["metric"] == "turn_limit=4:1@4" and runs[1].rows[-1]["value"] == 1.0

"""The demo's claims: paired differences of the report's own rows, and the data sources."""

import json

import pytest

from rlef_jax import demo
from rlef_jax.evaluation import report

EVALS = {"1at3": {"metrics": {"multi_turn": ["1@3"], "independent": ["1@3"],
                              "random_feedback": ["1@3"]},
                  "turn_limit": 3, "seed": 0, "bootstrap_resamples": 200}}


def _turn(ok):
  verdict = {"verdict": "accepted" if ok else "wrong_answer", "passed": 1, "total": 1}
  return {"response": "", "code": "print(1)", "valid": True, "public": verdict,
          "score": verdict, "feedback": None}


def _records(rates, problems=40):
  """Records where (checkpoint, mode) solves the first rates[...] of the problems
  (independent: with the first of its three samples)."""
  out = []
  for (checkpoint, mode), rate in rates.items():
    for p in range(problems):
      episodes = 3 if mode == "independent" else 1
      for e in range(episodes):
        ok = p < round(rate * problems) and e == 0
        turns = [_turn(ok)] if ok or mode == "independent" else [_turn(False)] * 3
        out.append({"eval": "1at3", "checkpoint": checkpoint, "split": "test", "mode": mode,
                    "problem": f"p{p}", "episode": e, "turns": turns, "final": turns[-1]["score"],
                    "solved": ok, "dropped": None, "max_turns": 1 if mode == "independent" else 3})
  return out


def _row_value(rows, checkpoint, mode):
  return next(r["value"] for r in rows if r["checkpoint"] == checkpoint and r["mode"] == mode)


def test_claim_differences_are_the_rows_differences():
  rates = {("sft", "multi_turn"): 0.2, ("sft", "independent"): 0.2,
           ("sft", "random_feedback"): 0.2, ("rlef", "multi_turn"): 0.8,
           ("rlef", "independent"): 0.3, ("rlef", "random_feedback"): 0.3}
  records = _records(rates)
  rows = report.solve_rates(records, EVALS)
  out = demo.claims(records, EVALS)
  rise = out["rlef_raises_solve_rate"]
  assert rise["difference"] == pytest.approx(
      _row_value(rows, "rlef", "multi_turn") - _row_value(rows, "sft", "multi_turn"))
  assert rise["ci95"][0] < rise["difference"] < rise["ci95"][1]
  growth = out["multi_turn_beats_independent"]["gap_growth"]
  assert growth["difference"] == pytest.approx(
      _row_value(rows, "rlef", "multi_turn") - _row_value(rows, "rlef", "independent")
      - _row_value(rows, "sft", "multi_turn") + _row_value(rows, "sft", "independent"))
  assert all(c["held"] for c in out.values())


def test_claims_fail_when_nothing_changes():
  same = {(c, m): 0.4 for c in ("sft", "rlef")
          for m in ("multi_turn", "independent", "random_feedback")}
  out = demo.claims(_records(same), EVALS)
  assert not any(c["held"] for c in out.values())
  # A rise that is real but under the bar does not hold either.
  small = {**same, ("rlef", "multi_turn"): 0.5}
  rise = demo.claims(_records(small, problems=100), EVALS)["rlef_raises_solve_rate"]
  assert rise["ci95"][0] > 0 and rise["difference"] < demo.RISE_BAR and not rise["held"]


def test_add_claims_writes_both_reports(tmp_path):
  rates = {(c, m): 0.5 for c in ("sft", "rlef")
           for m in ("multi_turn", "independent", "random_feedback")}
  (tmp_path / "eval").mkdir()
  report.append_rollouts(tmp_path / "eval" / "rollouts.jsonl", _records(rates))
  (tmp_path / "eval" / "report.json").write_text(json.dumps({"evals": EVALS, "split": "test"}))
  (tmp_path / "report.json").write_text(json.dumps({"job": "pipeline"}))
  out = demo.add_claims(tmp_path)
  for path in (tmp_path / "report.json", tmp_path / "eval" / "report.json"):
    assert json.loads(path.read_text())["claims"] == json.loads(json.dumps(out))


def test_data_sources_are_the_synthetic_splits():
  train = demo.train_problems(num=3)
  test = demo.test_problems("test", num=2)
  dev = demo.dev_problems("dev", num=2)
  assert all(r["name"].startswith("synthetic/dev/") for r in dev)
  assert all(r["name"].startswith("synthetic/train/") for r in train)
  assert all(r["name"].startswith("synthetic/test/") for r in test)
  dialogs = demo.sft_dialogs(num=8, repair_fraction=0.5)
  assert len(dialogs) == 8 and all(d[-1]["role"] == "assistant" for d in dialogs)
  twice = demo.sft_dialogs(num=8, repair_fraction=1.0, second_failure_fraction=1.0)
  assert any(len(d) == 6 for d in twice)


def test_training_curve_and_public_vs_private(tmp_path):
  from rlef_jax.evaluation import plots
  rows = [{"step": 2 * i, "train/reward": -1 + 0.1 * i, "train/solve_rate": 0.05 * i,
           "train/valid_code_rate": 0.9} for i in range(12)]
  rows.insert(3, {"step": 5, "ppo/approx_kl": 0.01})
  path = tmp_path / "metrics.jsonl"
  path.write_text("".join(json.dumps(r) + "\n" for r in rows))
  curve = demo.training_curve(path)
  assert curve["solve_rate"] == [0.05 * i for i in range(12)]
  assert curve["first_solve_rate"] == pytest.approx(0.1)
  assert curve["last_solve_rate"] == pytest.approx(0.45)
  assert curve["rises"]
  assert plots.training_curves(path, tmp_path / "c.png").stat().st_size > 1000
  flat = tmp_path / "flat.jsonl"
  flat.write_text("".join(json.dumps({"step": i, "train/solve_rate": 0.3}) + "\n"
                          for i in range(10)))
  assert not demo.training_curve(flat)["rises"]

  def rec(public, solved, dropped=None):
    return {"turns": [{"public": {"verdict": "wrong_answer"}}, {"public": {"verdict": public}}],
            "solved": solved, "dropped": dropped}
  counts = demo.public_vs_private([rec("accepted", True), rec("accepted", False),
                                   rec("wrong_answer", False), rec("accepted", True, "infra")])
  assert counts == {"episodes": 3, "public_passes": 2, "solved": 1, "private_given_public": 0.5}


def test_tiny_cpu_recipe_parses_and_names_the_demo_sources():
  import gin
  from rlef_jax import launch
  from rlef_jax import main as rlef_main
  with gin.unlock_config():
    gin.clear_config()
    try:
      rlef_main._parse([str(rlef_main.GIN_DIR / "tiny_cpu.gin")], [])  # pylint: disable=protected-access
      sources = {"TrainerConfig.train_task": "rlef_jax.demo:train_problems",
                 "eval_job.task": "rlef_jax.demo:test_problems"}
      for key, want in sources.items():
        assert gin.query_parameter(key) == want
        launch.check_task(want, key)
      assert gin.query_parameter("run.job") == "pipeline"
      # The main job starts from the shipped warm start, not from its own SFT.
      assert gin.query_parameter("pipeline.run_sft") is False
      assert launch.ModelSpec().weights == "tiny-warm-start"
      gin.clear_config()
      # The warm start's recipe and the from-scratch pipeline name the SFT source.
      for recipe, job in (("tiny_sft.gin", "sft"), ("tiny_cpu_scratch.gin", "pipeline")):
        rlef_main._parse([str(rlef_main.GIN_DIR / recipe)], [])  # pylint: disable=protected-access
        assert gin.query_parameter("SFTConfig.source") == "rlef_jax.demo:sft_dialogs"
        assert gin.query_parameter("SFTConfig.task") == "rlef_jax.demo:train_problems"
        assert gin.query_parameter("run.job") == job
        gin.clear_config()
      rlef_main._parse([str(rlef_main.GIN_DIR / "tiny_cpu.gin")], [])  # pylint: disable=protected-access
      assert set(gin.query_parameter("EvalConfig.modes")) == {
          "multi_turn", "independent", "random_feedback"}
      assert gin.query_parameter("EvalConfig.metrics") == ("1@3",)
      assert gin.query_parameter("EvalConfig.score_tests") == ("private",)
    finally:
      gin.clear_config()

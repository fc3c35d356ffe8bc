"""The shipped warm start is what its recipe makes, and never saw a test problem.

`rlef_jax/assets/warm_start/` is gin/tiny_sft.gin's SFT of the tiny Llama,
exported with `rlef_jax.tools.export_warm_start`. These tests tie the files to
the recipe: the recipe's hash, the model config, the loss on the recipe's
first dialogs (recomputed here from the generator), and the split the data
came from.
"""

import ast
import inspect
import json
import pathlib
import re

import jax
import numpy as np
import pytest

from rlef_jax import demo, launch
from rlef_jax import main  # noqa: F401  (registers `run`, which the recipes bind)
from rlef_jax.checkpoints import hf
from rlef_jax.data import synthetic
from rlef_jax.models import configs
from rlef_jax.tools import export_warm_start as ews

ROOT = pathlib.Path(__file__).resolve().parent.parent
FOLDER = launch.NAMED_WEIGHTS["tiny-warm-start"]
RECIPE = ROOT / "gin" / "tiny_sft.gin"


@pytest.fixture(scope="module")
def provenance():
  return json.loads((FOLDER / "provenance.json").read_text())


@pytest.fixture(scope="module")
def recipe():
  """The recipe's gin bindings (parsed, then cleared for the other tests)."""
  import gin  # pylint: disable=import-outside-toplevel
  ews.parse_recipe(RECIPE)
  bound = {"sft": launch.SFTConfig(), "model": launch.ModelSpec(),
           "num": gin.query_parameter("sft_dialogs.num"),
           "repair_fraction": gin.query_parameter("sft_dialogs.repair_fraction"),
           "second": gin.query_parameter("sft_dialogs.second_failure_fraction"),
           "problem_seed": gin.query_parameter("sft_dialogs.problem_seed"),
           "seed": gin.query_parameter("sft_dialogs.seed")}
  gin.clear_config()
  return bound


def test_the_files_are_the_recipes(provenance, recipe):
  assert provenance["recipe"] == "gin/tiny_sft.gin"
  assert provenance["recipe_sha256"] == ews.sha256(RECIPE), (
      "gin/tiny_sft.gin changed since the warm start was exported: retrain it "
      "(python -m rlef_jax.main --gin_file=gin/tiny_sft.gin) and re-export")
  # base.gin is shared by every recipe and changes for other jobs (the sampling
  # settings moved there): what must not change is what the SFT job read.
  # `test_the_sft_job_reads_the_settings_it_ran_with` checks that, value by value.
  assert provenance["generator"]["version"] == synthetic.GENERATOR_VERSION
  assert provenance["generator"]["problem_seed"] == recipe["problem_seed"]
  assert provenance["generator"]["problems"] == recipe["num"]
  assert provenance["steps"] == recipe["sft"].steps
  assert provenance["dialog_views"] == recipe["sft"].steps * recipe["sft"].batch_size
  assert provenance["tokens_seen"] > provenance["target_tokens"] > 0
  assert not provenance["git"]["dirty"] or provenance["git"]["commit"]
  # The architecture is the recipe's fresh model.
  config = hf.read_config(FOLDER)
  want = launch.model_config(recipe["model"])
  assert config.to_hf_dict() == want.to_hf_dict()
  assert configs.get("tiny").to_hf_dict() == want.to_hf_dict()


def _recorded_settings(operative_config: str) -> list[tuple[str, str, object]]:
  out = []
  for line in operative_config.splitlines():
    match = re.fullmatch(r"(\w+)\.(\w+) = (.+)", line)
    if match:
      out.append((match.group(1), match.group(2), ast.literal_eval(match.group(3))))
  return out


def test_the_sft_job_reads_the_settings_it_ran_with(provenance):
  """Every setting in the export's operative config has the same value when the
  recipe is parsed today (with today's base.gin): bound, or the library default."""
  import gin  # pylint: disable=import-outside-toplevel

  recorded = _recorded_settings(provenance["operative_config"])
  assert len(recorded) > 30 and {name for name, _, _ in recorded} >= {"SFTConfig", "ModelSpec"}
  functions = {"run": main.run, "sft_dialogs": demo.sft_dialogs}
  ews.parse_recipe(RECIPE)
  try:
    for name, param, value in recorded:
      if name in launch.SETTINGS:
        now = getattr(getattr(launch, name)(), param)
      else:
        try:
          now = gin.query_parameter(f"{name}.{param}")
        except ValueError:  # unbound: the function's own default
          now = inspect.signature(functions[name]).parameters[param].default
      assert now == value, f"{name}.{param} is {now!r} today; the warm start ran with {value!r}"
  finally:
    gin.clear_config()


def test_loss_on_the_recipes_first_dialogs_is_the_recorded_one(provenance, recipe):
  # The generator is prefix-stable: the recipe's first dialogs are these.
  dialogs = demo.sft_dialogs(num=2 * ews.FIXED_BATCH, repair_fraction=recipe["repair_fraction"],
                             seed=recipe["seed"], problem_seed=recipe["problem_seed"],
                             second_failure_fraction=recipe["second"])
  tok = launch.build_tokenizer(recipe["model"])
  batch = ews.fixed_batch(recipe["sft"], tok, dialogs)
  config, params = hf.load_hf_llama(FOLDER)
  loss = ews.fixed_batch_loss(config, params, batch)
  assert loss == pytest.approx(provenance["fixed_batch_loss"], abs=2e-5)
  # And a fresh model of the same recipe is far from it: the weights are trained.
  fresh = jax.tree.map(np.asarray, launch.build_model(recipe["model"])[1])
  assert ews.fixed_batch_loss(config, fresh, batch) > 5 * max(loss, 0.05)


def test_no_dev_or_test_problem_is_in_the_training_data(provenance):
  gen = provenance["generator"]
  assert gen["split"] == "train"
  comps = synthetic.compositions("train", gen["problems"], seed=gen["problem_seed"])
  logic = {c.logic() for c, _ in comps}
  assert len(logic) == gen["problems"]
  assert not any(synthetic.held_out_pairs(c) or synthetic.dev_bucket(c) for c, _ in comps)
  for split in ("dev", "test"):
    evaluated = {c.logic() for c, _ in synthetic.compositions(split, 200, seed=0)}
    assert not evaluated & logic, split


def test_attach_adds_only_sft_rows_and_notes(tmp_path):
  before = {"name": "tiny-warm-start", "fixed_batch_loss": 0.25, "notes": ["old"],
            "solve_rates": [{"checkpoint": "sft", "split": "dev", "mode": "multi_turn",
                             "metric": "1@3", "value": 0.1}]}
  (tmp_path / "provenance.json").write_text(json.dumps(before))
  rows = [{"checkpoint": "sft", "split": "dev", "mode": "multi_turn", "metric": "1@3",
           "value": 0.48},
          {"checkpoint": "rlef", "split": "dev", "mode": "multi_turn", "metric": "1@3",
           "value": 0.9}]
  (tmp_path / "report.json").write_text(json.dumps({"solve_rates": rows}))
  prov = ews.attach(tmp_path, [tmp_path / "report.json"], ["measured"])
  assert [r["value"] for r in prov["solve_rates"]] == [0.48]  # replaced; rlef row left out
  assert prov["notes"] == ["old", "measured"] and prov["fixed_batch_loss"] == 0.25
  (tmp_path / "bad.json").write_text(json.dumps({"job": "sft"}))
  with pytest.raises(ValueError, match="not an evaluation report"):
    ews.attach(tmp_path, [tmp_path / "bad.json"])

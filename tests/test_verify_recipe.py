"""verify_recipe on small stand-ins: compiles from abstract shapes, sizes memory, rejects what cannot fit."""

import importlib.util
import json

import jax
import pytest

from rlef_jax.tools import capacity, verify_recipe

STAND_IN = """
include 'base.gin'
import rlef_jax.tools.target
run.job = "train"
ModelSpec.preset = "tiny"
ModelSpec.overrides = {"num_layers": 1, "attention_chunk": 32}
ModelSpec.compute_dtype = "bfloat16"
ModelSpec.sampler_dtype = "bfloat16"
ModelSpec.remat = "full"
MeshConfig.data = 1
MeshConfig.fsdp = -1
MeshConfig.tensor = 2
PPOConfig.num_minibatches = 2
PPOConfig.logits_chunk = 32
EnvConfig.max_turns = 2
EnvConfig.context_budget = 64
TrainerConfig.problems_per_round = 16
TrainerConfig.rollouts_per_problem = 1
train/SamplingSettings.max_new_tokens = 16
RecipeTarget.topology = "8xh100"
RecipeTarget.sampler_tensor = 2
RecipeTarget.prompt_len = 32
"""


def _recipe(tmp_path, text=STAND_IN, name="stand_in"):
  path = tmp_path / f"{name}.gin"
  path.write_text(text)
  return str(path)


def test_stand_in_compiles_and_fits_on_eight_virtual_devices(tmp_path):
  if jax.device_count() < 8:
    pytest.skip("needs 8 (virtual) devices; conftest sets them up for CPU")
  recipe = verify_recipe.load_recipe([_recipe(tmp_path)])
  lines = []
  report = verify_recipe.verify(recipe, log=lines.append)
  assert report["fits"] and report["estimate"] and report["topology"] == "8xh100"
  assert set(report["programs"]) == {"prefill", "decode", "update"}
  for name, prog in report["programs"].items():
    assert "error" not in prog, (name, prog)
    assert prog["peak_bytes"] >= prog["argument_bytes"] > 0
  # The update's FSDP gathers weights; the sampler's tensor parallelism reduces partial sums.
  assert report["programs"]["update"]["collectives"]["all-gather"] > 0
  assert report["programs"]["decode"]["collectives"]["all-reduce"] > 0
  assert report["meshes"] == {"training": {"data": 1, "fsdp": 4, "tensor": 2},
                              "sampler": {"data": 4, "fsdp": 1, "tensor": 2}}
  res = report["resident_bytes"]
  # f32 master weights, two f32 AdamW moments per weight, a bf16 sampler copy.
  assert res["policy_opt_state"] >= 2 * res["policy_params"] - 64
  assert report["per_device_bytes"] >= sum(res.values()) - res["kv_cache"]
  assert report["bound"] in ("sampling", "judging", "update")
  assert any("per device" in line for line in lines)
  json.dumps(report)


def test_an_impossible_target_is_rejected_with_the_bytes_it_needs(tmp_path, capsys):
  text = STAND_IN.replace('ModelSpec.preset = "tiny"', 'ModelSpec.preset = "llama3_1_70b"').replace(
      '"num_layers": 1, ', "")
  path = _recipe(tmp_path, text, "seventy_b")
  code = verify_recipe.main(["--gin_file", path, "--topology", "1xh100", "--programs", "none"])
  out = capsys.readouterr().out.strip().splitlines()
  report = json.loads(out[-1])
  assert code == 1 and not report["fits"]
  assert report["device_bytes"] == 80 * 10**9
  # f32 master weights + two AdamW moments: 12 bytes per parameter, policy and value.
  assert report["per_device_bytes"] > 2 * 12 * 70e9
  assert set(report) >= {"recipe", "topology", "fits", "per_device_bytes", "device_bytes",
                         "programs", "bound"}
  assert any("DOES NOT FIT" in line for line in out)


def test_topology_names():
  assert capacity.topology("v5p-128").num_devices == 64
  assert capacity.topology("v5p-128").tpu_topology == "v5p:4x4x4"
  assert capacity.topology("v5e-256").tpu_topology == "v5e:16x16"
  assert capacity.topology("v5e-1").chip.hbm_bytes == 16 << 30
  assert capacity.topology("8xh100").estimate
  with pytest.raises(ValueError, match="unknown"):
    capacity.topology("v5e-3")


@pytest.mark.skipif(importlib.util.find_spec("libtpu") is None,
                    reason='the TPU compiler is optional: pip install "jax[tpu]==<jax version>"')
def test_stand_in_sampler_compiles_with_the_tpu_compiler(tmp_path):
  recipe = verify_recipe.load_recipe([_recipe(tmp_path)], ["RecipeTarget.topology = 'v5e-4'"])
  report = verify_recipe.verify(recipe, log=lambda _: None, compile_programs=("prefill", "decode"))
  assert report["fits"] and not report["estimate"] and report["topology"] == "v5e-4"
  assert report["programs"]["decode"]["peak_bytes"] > 0

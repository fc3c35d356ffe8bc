"""gin/smollm2_135m_1gpu.gin on CPU with cut budgets: every stage of the GPU
recipe runs (the real SmolLM2 GGUF, RLEF rounds judged in gVisor, the
evaluation of "sft" and "rlef", the claims), only smaller."""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from rlef_jax.checkpoints import CheckpointError, resolve_gguf

ROOT = pathlib.Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.gvisor,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("runsc") is None, reason="gVisor runsc is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="runsc run needs root here"),
]
pytest.importorskip("gguf", reason="ggml's gguf package is not installed (test extra)")

CUT = [
    # Two lagged rounds of 2 problems x 2 rollouts, short answers, on one device,
    # in float32 (XLA:CPU emulates bfloat16 matmuls: the GPU's dtypes cost minutes here).
    "MeshConfig.fsdp = 1",
    "ModelSpec.compute_dtype = 'float32'",
    "ModelSpec.sampler_dtype = 'float32'",
    "train_problems.num = 8",
    "TrainerConfig.rounds = 2",
    "TrainerConfig.problems_per_round = 2",
    "TrainerConfig.rollouts_per_problem = 2",
    "train/SamplingSettings.max_new_tokens = 12",
    "TrainerConfig.checkpoint_every = 1",
    "EnvConfig.max_turns = 2",
    "PPOConfig.num_minibatches = 1",
    "test_problems.num = 2",
    "eval/SamplingSettings.max_new_tokens = 12",
    "EvalConfig.bootstrap_resamples = 50",
]


def test_the_gpu_recipe_runs_every_stage_on_cpu(tmp_path):
  try:
    resolve_gguf("smollm2-135m-instruct")
  except CheckpointError as e:
    pytest.skip(f"SmolLM2 GGUF not installed: {e}")
  args = [sys.executable, "-m", "rlef_jax.main", "--gin_file=gin/smollm2_135m_1gpu.gin",
          f"--workdir={tmp_path}"] + [f"--gin_bindings={b}" for b in CUT]
  proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=1500)
  assert proc.returncode == 0, proc.stderr[-4000:]
  report = json.loads((tmp_path / "report.json").read_text())
  assert report["ok"] and report["train"]["optimizer_steps"] == 2
  # Both checkpoints evaluated in the three modes, on the same problems.
  rows = {(r["checkpoint"], r["mode"]) for r in report["solve_rates"] if r["metric"] == "1@3"}
  assert rows == {(c, m) for c in ("sft", "rlef")
                  for m in ("multi_turn", "independent", "random_feedback")}
  assert set(report["claims"]) >= {"rlef_raises_solve_rate", "multi_turn_beats_independent",
                                   "feedback_matters"}
  # The start is the shipped GGUF model itself, the result the RLEF workdir.
  assert report["train"]["final"]["train/episodes"] == 4
  evaluated = json.loads((tmp_path / "eval" / "report.json").read_text())["checkpoints"]
  assert evaluated == {"sft": None, "rlef": str(tmp_path / "rlef")}

"""The main entry point: gin recipe in, metrics.jsonl + report.json out."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _main(*args, cwd=ROOT):
  env = dict(os.environ, PYTHONPATH=str(ROOT))
  return subprocess.run([sys.executable, "-m", "rlef_jax.main", *args], cwd=cwd, env=env,
                        capture_output=True, text=True, timeout=300)


@pytest.mark.gvisor
def test_judge_examples_job_writes_metrics_and_report(tmp_path):
  proc = _main("--gin_file=gin/judge_examples.gin", f"--workdir={tmp_path}")
  assert proc.returncode == 0, proc.stdout + proc.stderr
  report = json.loads((tmp_path / "report.json").read_text())
  assert report["ok"] and report["backend"] == "gvisor" and report["mismatches"] == []
  metrics = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
  assert len(metrics) == report["solutions"] >= 8
  assert {m["verdict"] for m in metrics} >= {"accepted", "wrong_answer", "time_limit",
                                             "runtime_error", "syntax_error", "memory_limit"}
  assert all(m["ok"] for m in metrics)
  assert "judge_examples.backend = 'gvisor'" in (tmp_path / "operative_config.gin").read_text()
  assert "0 mismatches" in proc.stdout


def test_unknown_job_is_a_clear_error(tmp_path):
  proc = _main("--gin_file=gin/judge_examples.gin", "--gin_bindings=run.job = 'nope'",
               f"--workdir={tmp_path}")
  assert proc.returncode != 0
  assert "unknown job 'nope'; known: eval, judge_examples, pipeline, sft, train" in proc.stderr


def test_missing_gin_file_is_a_usage_error():
  proc = _main()
  assert proc.returncode != 0
  assert "give at least one --gin_file" in proc.stderr


# --- one clear line, no traceback, before any heavy work ------------------------------

CI = "--gin_file=gin/tiny_cpu_ci.gin"
BAD_INPUTS = {
    "gin_typo_in_binding": ([CI, "--gin_bindings=TrainerConfg.rounds = 2"],
                            "No configurable matching 'TrainerConfg'"),
    "gin_typo_in_file": (["--gin_file={typo}"],
                         "doesn't have a parameter named 'roundz'"),
    "missing_gin_file": (["--gin_file=gin/no_such_recipe.gin"],
                         "gin file 'gin/no_such_recipe.gin' not found"),
    "unknown_job": ([CI, "--gin_bindings=run.job = 'trian'"], "unknown job 'trian'; known:"),
    "missing_weights": ([CI, "--gin_bindings=ModelSpec.weights = 'no/such/weights'"],
                        "ModelSpec.weights = 'no/such/weights': no such folder"),
    "missing_gguf": ([CI, "--gin_bindings=ModelSpec.weights = 'no/such/model.gguf'"],
                     "no/such/model.gguf: no such GGUF file"),
    "impossible_mesh": ([CI, "--gin_bindings=MeshConfig.fsdp = 3",
                         "--gin_bindings=MeshConfig.data = 5"],
                        "xla_force_host_platform_device_count=N"),
    "moved_sampling_setting": ([CI, "--gin_bindings=TrainerConfig.temperature = 0.5"],
                               "TrainerConfig.temperature moved: write "
                               "train/SamplingSettings.temperature"),
    # The pipeline's last stage is checked before its first (no SFT, no RLEF).
    "bad_sampling_setting": ([CI, "--gin_bindings=eval/SamplingSettings.top_p = 0.0"],
                             "bad eval/SamplingSettings: top_p must lie in (0, 1]"),
    "bad_eval_metric": ([CI, "--gin_bindings=EvalConfig.metrics = ('top@3',)"],
                        "bad EvalConfig: unknown metric 'top@3'"),
    "unknown_dataset": ([CI, "--gin_bindings=TrainerConfig.train_task = 'code_contest_train'"],
                        "TrainerConfig.train_task = 'code_contest_train' is not a dataset"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_clear_line(tmp_path, case):
  args, message = BAD_INPUTS[case]
  typo = tmp_path / "typo.gin"
  typo.write_text("include 'tiny_cpu_ci.gin'\nTrainerConfig.roundz = 2\n")
  args = [a.format(typo=typo) for a in args]
  proc = _main(*args, f"--workdir={tmp_path / 'w'}")
  assert proc.returncode == 2, proc.stderr[-3000:]
  assert "Traceback" not in proc.stderr
  # gin's resource reader tried each include as a package path first and logged
  # a false "Path not found: base.gin"; main filters it.
  assert "Path not found" not in proc.stderr, proc.stderr[-3000:]
  last = proc.stderr.strip().splitlines()[-1]
  assert last.startswith("rlef_jax.main: error: ") and message in last, last
  if case == "gin_typo_in_file":
    assert f'In file "{typo}", line 2' in last
  # Nothing heavy started: no checkpoint, no judge, no log.
  assert not (tmp_path / "w" / "sft").exists() and not (tmp_path / "w" / "rlef").exists()


def test_relative_workdir_is_relative_to_the_cwd(tmp_path):
  # The job starts (its workdir is made) and then stops at the bad dataset.
  proc = _main(f"--gin_file={ROOT / 'gin/tiny_cpu_ci.gin'}",
               "--gin_bindings=TrainerConfig.train_task = 'nope'", "--workdir=rel/out",
               cwd=tmp_path)
  assert proc.returncode == 2 and "is not a dataset" in proc.stderr
  assert (tmp_path / "rel" / "out").is_dir()
  assert not (ROOT / "rel").exists()


@pytest.mark.gvisor
def test_ci_pipeline_runs_every_stage(tmp_path):
  proc = subprocess.run([sys.executable, "-m", "rlef_jax.main", "--gin_file=gin/tiny_cpu_ci.gin",
                         f"--workdir={tmp_path}"], cwd=ROOT,
                        env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True,
                        text=True, timeout=1200)
  assert proc.returncode == 0, proc.stderr[-4000:]
  report = json.loads((tmp_path / "report.json").read_text())
  assert report["job"] == "pipeline" and report["ok"]
  assert set(report["stages"]) == {"sft_s", "train_s", "eval_s"}
  assert report["sft"]["steps"] == 4 and report["sft"]["final_loss"] > 0
  train = report["train"]
  assert train["rounds"] == 2 and train["optimizer_steps"] == 2 * 2 and train["lag"] == 1
  assert [t["round"] for t in report["timings"]] == [1, 2]
  assert all(t["wall_s"] > 0 and t["update_s"] > 0 for t in report["timings"])
  overlap = report["overlap"]
  assert overlap["wall_s"] > 0 and overlap["max_of_parts_s"] <= overlap["sum_of_parts_s"]
  assert report["peak_rss_mb"] > 100
  assert {r["checkpoint"] for r in report["solve_rates"]} == {"sft", "rlef"}
  assert all(0.0 <= r["value"] <= 1.0 for r in report["solve_rates"])
  # The RLEF stage started from the SFT model, validated, and kept its best.
  assert (tmp_path / "rlef" / "best").is_dir() and train["best_valid_solve_rate"] is not None
  for sub in ("sft", "rlef"):
    assert (tmp_path / sub / "metrics.jsonl").stat().st_size > 0
  assert list((tmp_path / "rlef" / "tensorboard").iterdir())
  # The training curves: a PNG, and the per-round values in the report.
  assert (tmp_path / "rlef" / "training_curves.png").stat().st_size > 1000
  assert len(report["training_curve"]["solve_rate"]) == 2
  assert report["training_public_vs_private"]["episodes"] == train["rounds"] * 4

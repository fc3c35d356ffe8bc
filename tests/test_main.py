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
  assert "unknown job 'nope'; known: judge_examples" in proc.stderr


def test_missing_gin_file_is_a_usage_error():
  proc = _main()
  assert proc.returncode != 0
  assert "give at least one --gin_file" in proc.stderr

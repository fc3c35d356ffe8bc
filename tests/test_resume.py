"""Exact resume: SIGKILL a tiny_cpu_ci training run after its first checkpoint,
launch the same command again, and get the metrics and rollouts of an
uninterrupted run (synchronous and lagged)."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Facts that depend on the machine's speed or on per-process caches.
NOT_REPRODUCIBLE = ("time", "sample_s", "judge_s", "update_s", "wall_s", "collect_s", "rss_mb",
                    "peak_rss_mb", "checkpoint_s", "valid_s")


def _command(workdir, lag):
  return [sys.executable, "-m", "rlef_jax.main", "--gin_file=gin/tiny_cpu_ci.gin",
          "--gin_bindings=run.job = 'train'",
          f"--gin_bindings=TrainerConfig.lag = {lag}",
          "--gin_bindings=TrainerConfig.rounds = 3",
          "--gin_bindings=train/SamplingSettings.max_new_tokens = 24",
          "--gin_bindings=TrainerConfig.valid_every = 0",
          "--gin_bindings=TrainerConfig.progress = False",
          f"--workdir={workdir}"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
  # Later runs reuse the first one's compiled programs (same executables, same numbers).
  cache = tmp_path_factory.mktemp("jax_cache")
  return dict(os.environ, PYTHONPATH=str(ROOT), JAX_COMPILATION_CACHE_DIR=str(cache),
              JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
              JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")


def _run(cmd, env):
  proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-4000:]
  return proc


def _metrics(workdir):
  rows = [json.loads(l) for l in (workdir / "metrics.jsonl").read_text().splitlines()]
  return [{k: v for k, v in r.items() if k not in NOT_REPRODUCIBLE and "cache" not in k
           and not k.endswith("_s")} for r in rows]


def _rollouts(workdir):
  return [json.loads(l) for l in (workdir / "rollouts.jsonl").read_text().splitlines()]


@pytest.mark.gvisor
@pytest.mark.parametrize("lag", [0, 1], ids=["synchronous", "lagged"])
def test_sigkill_then_relaunch_equals_uninterrupted(tmp_path, env, lag):
  ref, resumed = tmp_path / "ref", tmp_path / "resumed"
  _run(_command(ref, lag), env)

  killed = subprocess.Popen(_command(resumed, lag), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  first = resumed / "checkpoints" / "1" / "meta"
  deadline = time.monotonic() + 500
  while not first.is_dir() and killed.poll() is None and time.monotonic() < deadline:
    time.sleep(0.05)
  assert first.is_dir(), "the run never wrote its first checkpoint"
  killed.send_signal(signal.SIGKILL)
  assert killed.wait(60) == -signal.SIGKILL, "the run ended before it could be killed"
  assert not (resumed / "checkpoints" / "3").exists()

  _run(_command(resumed, lag), env)
  report = json.loads((resumed / "report.json").read_text())
  assert report["resumed_from_round"] >= 1 and report["lag"] == lag

  want, got = _metrics(ref), _metrics(resumed)
  assert [m["step"] for m in got] == [1, 2, 3]
  for w, g in zip(want, got):
    assert g.keys() == w.keys()
    for key in w:
      assert g[key] == pytest.approx(w[key], rel=1e-6, abs=1e-7), (g["step"], key)
  # Every episode once, the same episodes: nothing lost or counted twice.
  want_r, got_r = _rollouts(ref), _rollouts(resumed)
  ids = [(r["step"], r["episode"]) for r in got_r]
  assert len(ids) == len(set(ids)) == 3 * 4
  assert got_r == want_r
  # The data position advanced by exactly one round per step.
  assert [m["data_position"] for m in got] == [4, 8, 12]

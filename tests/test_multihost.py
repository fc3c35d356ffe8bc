"""Multi-host for real: two `jax.distributed` processes on localhost (gloo CPU
collectives, 4 virtual devices each) train the CI recipe; their losses equal a
single process over 8 devices."""

import json
import os
import pathlib
import socket
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
LOSSES = ("policy_loss", "value_loss", "approx_kl", "entropy", "policy_grad_norm",
          "value_grad_norm", "reward_mean", "return_mean", "num_response_tokens", "kl_ref")


def _bindings(extra=()):
  # Greedy sampling: an episode's tokens do not depend on which process's batch
  # it was sampled in, so both layouts see the same rollouts.
  return ["--gin_file=gin/tiny_cpu_ci.gin", "--gin_bindings=run.job = 'train'",
          "--gin_bindings=MeshConfig.fsdp = -1", "--gin_bindings=PPOConfig.num_minibatches = 1",
          "--gin_bindings=TrainerConfig.problems_per_round = 8",
          "--gin_bindings=train/SamplingSettings.temperature = 0.0",
          "--gin_bindings=train/SamplingSettings.max_new_tokens = 24",
          "--gin_bindings=TrainerConfig.valid_every = 0",
          "--gin_bindings=TrainerConfig.progress = False", *extra]


def _env(devices):
  env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
  flags = [f for f in env.get("XLA_FLAGS", "").split()
           if not f.startswith("--xla_force_host_platform_device_count")]
  env["XLA_FLAGS"] = " ".join(flags + [f"--xla_force_host_platform_device_count={devices}"])
  return env


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _losses(workdir):
  rows = [json.loads(l) for l in (workdir / "metrics.jsonl").read_text().splitlines()]
  return [{k: r[k] for k in LOSSES} for r in rows]


@pytest.mark.gvisor
def test_two_processes_train_like_one_with_eight_devices(tmp_path):
  single, multi = tmp_path / "single", tmp_path / "multi"
  proc = subprocess.run([sys.executable, "-m", "rlef_jax.main", *_bindings(),
                         f"--workdir={single}"], cwd=ROOT, env=_env(8), capture_output=True,
                        text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-4000:]

  port = _free_port()
  procs = [subprocess.Popen(
      [sys.executable, "-m", "rlef_jax.main", *_bindings([
          f"--gin_bindings=DistributedSpec.coordinator_address = '127.0.0.1:{port}'",
          "--gin_bindings=DistributedSpec.num_processes = 2",
          f"--gin_bindings=DistributedSpec.process_id = {i}"]), f"--workdir={multi}"],
      cwd=ROOT, env=_env(4), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
      for i in range(2)]
  outs = [p.communicate(timeout=600) for p in procs]
  for p, (_, err) in zip(procs, outs):
    assert p.returncode == 0, err[-4000:]

  report = json.loads((multi / "report.json").read_text())
  assert report["processes"] == 2 and report["devices"] == 8
  assert json.loads((single / "report.json").read_text())["processes"] == 1
  want, got = _losses(single), _losses(multi)
  assert len(got) == len(want) == 2
  for w, g in zip(want, got):
    for key in LOSSES:
      assert g[key] == pytest.approx(w[key], rel=1e-4, abs=1e-6), key
  # Each process judged its own half; process 0 logged all of them, once.
  records = [json.loads(l) for l in (multi / "rollouts.jsonl").read_text().splitlines()]
  assert sorted(r["episode"] for r in records) == sorted(
      json.loads(l)["episode"] for l in (single / "rollouts.jsonl").read_text().splitlines())
  assert len(records) == 2 * 8

"""JAX's persistent compilation cache, set by the job edge: a relaunch compiles nothing."""

import json
import os
import pathlib
import subprocess
import sys

import jax

ROOT = pathlib.Path(__file__).resolve().parent.parent

# One bucketed PPO update of a one-layer model in a fresh process, with the
# cache in argv[1]; prints the cache's hit / miss events and its files.
CHILD = r"""
import json, pathlib, sys
import jax, jax.numpy as jnp, numpy as np
from rlef_jax import launch
from rlef_jax.models import configs, llama
from rlef_jax.rl import update as ppo_update

events = {}
jax.monitoring.register_event_listener(lambda name, **kw: events.__setitem__(name, events.get(name, 0) + 1))
cache = launch.enable_compilation_cache(sys.argv[1])
cfg = configs.get("tiny", vocab_size=256, hidden_size=32, intermediate_size=64, num_layers=1,
                  num_heads=2, num_kv_heads=1, head_dim=16)
ppo_cfg = ppo_update.PPOConfig(num_minibatches=2, warmup_steps=0, min_bucket=16)
params = llama.init_params(cfg, jax.random.key(0))
state = ppo_update.init_state(cfg, ppo_cfg, params, llama.add_value_head(cfg, params, jax.random.key(1)))
lengths = np.array([10, 30, 20, 40])
pos = np.arange(48)
response = (pos[None] >= 5) & (pos[None] < lengths[:, None])
batch = ppo_update.Rollouts(
    tokens=jnp.asarray(np.where(pos[None] < lengths[:, None], 7, 0), jnp.int32),
    response_mask=jnp.asarray(response), turn_index=jnp.asarray(np.where(response, 0, -1), jnp.int32),
    behaviour_logp=jnp.asarray(np.where(response, -5.0, 0.0), jnp.float32),
    value_positions=jnp.full((4, 1), 4, jnp.int32), turn_mask=jnp.ones((4, 1), bool),
    rewards=jnp.asarray([[1.0], [-1.0], [1.0], [-1.0]]))
update = ppo_update.make_update(cfg, ppo_cfg)
state, metrics = update(state, ppo_update.reference_params(params), batch, jax.random.key(2))
jax.block_until_ready(metrics)
print(json.dumps({"hits": events.get("/jax/compilation_cache/cache_hits", 0),
                  "misses": events.get("/jax/compilation_cache/cache_misses", 0),
                  "files": sorted(p.name for p in cache.iterdir()),
                  "programs": update.programs()}))
"""


def _child(cache_dir):
  env = dict(os.environ, PYTHONPATH=str(ROOT))
  proc = subprocess.run([sys.executable, "-c", CHILD, str(cache_dir)], env=env, cwd=ROOT,
                        capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_relaunch_compiles_nothing(tmp_path):
  first = _child(tmp_path / "cache")
  assert first["misses"] > 0 and first["files"], first
  second = _child(tmp_path / "cache")
  # Every program of the second process comes from the first one's cache.
  assert second["misses"] == 0 and second["hits"] == first["misses"], (first, second)
  assert second["files"] == first["files"]
  assert second["programs"] == first["programs"] > 1


def test_the_job_edge_puts_the_cache_in_the_workdir(tmp_path, monkeypatch):
  from absl import flags
  from rlef_jax import main

  if not flags.FLAGS.is_parsed():
    flags.FLAGS(["rlef_jax.main"])
  seen = {}

  def job(workdir):
    seen["dir"] = jax.config.jax_compilation_cache_dir
    seen["workdir"] = workdir.path
    return True

  monkeypatch.setitem(main.JOBS, "probe", job)
  try:
    assert main.run(job="probe", workdir=str(tmp_path / "run"))
  finally:
    from rlef_jax import launch
    launch.enable_compilation_cache(None)
  assert seen["dir"] == str(tmp_path / "run" / "compile_cache")
  assert (tmp_path / "run" / "compile_cache").is_dir()
  assert jax.config.jax_compilation_cache_dir is None

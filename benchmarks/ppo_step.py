"""Throughput and MFU of the jitted PPO update, against this machine's matmul peak.

The baseline, measured in the same process, is the dense-matmul rate of one
jitted 2048^3 `jnp.dot` in the model's compute dtype (best of 5 runs before
and 5 after the update).
MFU = (model FLOPs of one update / its time) / that rate. On an accelerator
time is wall time; on a CPU it is this process's CPU time (for both the
update and the matmul), because on a shared host wall time mostly measures
the neighbours; `mfu_wall` is printed beside it.

Model FLOPs of one update over B x S tokens (PaLM's convention: weights count
2 FLOPs per token forward and 4 backward; attention scores add
4 * L * H * Dh * S per token forward, causal masking not discounted; the
embedding lookup counts 0, the output layer counts):

    policy: (2 [pi_old] + 2 [rho] + 6 * epochs) * (N_policy + attn)
    value:  (2 [V_old] + 6 * epochs) * (N_value + attn)

AdamW and the softmax / norm elementwise work are not counted: they are the
overhead MFU should expose. `--quick` (under a minute) times one update of
the same width at 4 of the 12 layers on a small batch.

    python benchmarks/ppo_step.py --quick
    python benchmarks/ppo_step.py                       # ~102M params, 8 x 256 tokens
    python benchmarks/ppo_step.py --model=llama3_2_1b --dtype=bfloat16   # on a GPU
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

from rlef_jax.models import configs, llama
from rlef_jax.rl import update as ppo_update

# ~102M parameters, shaped so matmuls dominate on a CPU: a small vocabulary
# (8192) keeps the output softmax cheap relative to the 12 blocks.
BENCH_100M = configs.LlamaConfig(
    vocab_size=8192, hidden_size=768, intermediate_size=2560, num_layers=12, num_heads=12,
    num_kv_heads=4, head_dim=64, rope_theta=500000.0, max_position_embeddings=4096)


def _timed(fn, *args):
  """(wall seconds, process CPU seconds, result) of one blocking call."""
  wall, cpu = time.perf_counter(), time.process_time()
  out = jax.block_until_ready(fn(*args))
  return time.perf_counter() - wall, time.process_time() - cpu, out


def matmul_peak(dtype, n: int = 2048, reps: int = 5) -> tuple[float, float]:
  """Best FLOP per wall second and per CPU second of a jitted n^3 matmul."""
  a = jax.random.normal(jax.random.key(0), (n, n), dtype)
  b = jax.random.normal(jax.random.key(1), (n, n), dtype)
  dot = jax.jit(lambda x, y: jnp.dot(x, y, precision=jax.lax.Precision.HIGHEST))
  dot(a, b).block_until_ready()
  runs = [_timed(dot, a, b)[:2] for _ in range(reps)]
  return 2 * n ** 3 / min(w for w, _ in runs), 2 * n ** 3 / min(c for _, c in runs)


def model_flops(cfg: configs.LlamaConfig, tokens: int, seq: int, epochs: int) -> float:
  """FLOPs of one update (see the module docstring)."""
  attn = 4 * cfg.num_layers * cfg.num_heads * cfg.head_dim * seq
  table = cfg.vocab_size * cfg.hidden_size
  untied = 0 if cfg.tie_word_embeddings else table
  n_policy = cfg.num_params() - untied  # a tied table is counted once, as the output layer
  n_value = cfg.num_params() - table - untied + cfg.hidden_size  # trunk + scalar head
  policy = (4 + 6 * epochs) * (n_policy + attn)
  value = (2 + 6 * epochs) * (n_value + attn)
  return float(tokens * (policy + value))


def synthetic_rollouts(cfg, batch: int, seq: int, turns: int, seed: int = 0):
  """Random dialogs with `turns` prompt/response pairs laid out evenly."""
  rng = np.random.default_rng(seed)
  span = seq // turns
  turn_index = np.full(seq, -1, np.int32)
  value_pos = np.zeros(turns, np.int32)
  for t in range(turns):
    prompt_end = t * span + span // 2
    turn_index[prompt_end:(t + 1) * span] = t
    value_pos[t] = prompt_end - 1
  mask = np.tile(turn_index >= 0, (batch, 1))
  return ppo_update.Rollouts(
      tokens=jnp.asarray(rng.integers(0, cfg.vocab_size, (batch, seq)), jnp.int32),
      response_mask=jnp.asarray(mask),
      turn_index=jnp.asarray(np.tile(turn_index, (batch, 1))),
      behaviour_logp=jnp.asarray(np.where(mask, -np.log(cfg.vocab_size), 0), jnp.float32),
      value_positions=jnp.asarray(np.tile(value_pos, (batch, 1))),
      turn_mask=jnp.ones((batch, turns), bool),
      rewards=jnp.asarray(rng.choice([-1.0, 1.0], (batch, turns)), jnp.float32))


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--quick", action="store_true", help="one small update, under a minute")
  parser.add_argument("--model", default="bench_100m", help="bench_100m or a configs preset")
  parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
  parser.add_argument("--layers", type=int, default=None, help="override the depth")
  parser.add_argument("--batch", type=int, default=8, help="sequences per update")
  parser.add_argument("--seq", type=int, default=256)
  parser.add_argument("--minibatches", type=int, default=4)
  parser.add_argument("--steps", type=int, default=1, help="timed updates (best counts)")
  args = parser.parse_args()
  if args.quick:
    # Same width, a third of the depth: per-layer efficiency is what MFU sees.
    args.layers, args.batch, args.seq, args.minibatches, args.steps = 4, 4, 128, 1, 1

  dtype = jnp.dtype(args.dtype)
  cfg = BENCH_100M if args.model == "bench_100m" else configs.get(args.model)
  cfg = cfg.replace(param_dtype=dtype, compute_dtype=dtype,
                    num_layers=args.layers or cfg.num_layers)
  peak_wall, peak_cpu = matmul_peak(dtype)

  ppo_cfg = ppo_update.PPOConfig(num_minibatches=args.minibatches, warmup_steps=0)
  params = llama.init_params(cfg, jax.random.key(0))
  value_params = llama.add_value_head(cfg, params, jax.random.key(1))
  ref = ppo_update.reference_params(params)
  state = ppo_update.init_state(cfg, ppo_cfg, params, value_params)
  del params, value_params
  batch = synthetic_rollouts(cfg, args.batch, args.seq, turns=2)
  update = ppo_update.make_update(cfg, ppo_cfg)

  start = time.perf_counter()
  compiled = update.lower(state, ref, batch, jax.random.key(0)).compile()
  compile_s = time.perf_counter() - start
  runs = []
  for step in range(args.steps):
    wall, cpu, (state, metrics) = _timed(compiled, state, ref, batch, jax.random.key(step))
    runs.append((wall, cpu))
  # Measured on both sides of the update so a busy moment cannot lower the bar.
  peak_wall, peak_cpu = map(max, zip((peak_wall, peak_cpu), matmul_peak(dtype)))
  update_wall = min(w for w, _ in runs)
  update_cpu = min(c for _, c in runs)

  tokens = args.batch * args.seq
  flops = model_flops(cfg, tokens, args.seq, ppo_cfg.epochs)
  mfu_wall = flops / update_wall / peak_wall
  mfu_cpu = flops / update_cpu / peak_cpu
  on_cpu = jax.devices()[0].platform == "cpu"
  result = {
      # On a CPU shared with other jobs, wall time measures the neighbours;
      # FLOPs per CPU-second of the update over those of the matmul measures
      # the update (equal to the wall MFU on an idle machine, see docs/ppo.md).
      "mfu": round(mfu_cpu if on_cpu else mfu_wall, 4),
      "mfu_wall": round(mfu_wall, 4),
      "mfu_cpu_time": round(mfu_cpu, 4) if on_cpu else None,
      "tokens_per_s": round(tokens / update_wall, 1),
      "update_s": round(update_wall, 3),
      "update_cpu_s": round(update_cpu, 3),
      "compile_s": round(compile_s, 1),
      "model_tflop_per_update": round(flops / 1e12, 3),
      "matmul_gflop_per_s": round(peak_wall / 1e9, 1),
      "matmul_gflop_per_cpu_s": round(peak_cpu / 1e9, 1),
      "params": cfg.num_params(),
      "layers": cfg.num_layers,
      "batch": args.batch, "seq": args.seq, "minibatches": args.minibatches,
      "dtype": args.dtype,
      "device": f"{jax.devices()[0].platform}:{jax.devices()[0].device_kind}",
      "policy_loss": float(metrics["policy_loss"]),
  }
  print(json.dumps(result))


if __name__ == "__main__":
  main()

"""Cost of one PPO update of the CPU demo's size, by objective and chunking.

Times `rl.update.make_update` alone (no sampling, no judging beside it) on a
synthetic batch shaped like a round of gin/tiny_cpu.gin: the tiny Llama, 24
episodes of 250-900 real tokens padded to 1024, one to three turns, 2 epochs
x 2 minibatches. Variants, all in one process, interleaved over repetitions
(the first repetition compiles and is not counted):

  value:        the paper's objective (value net, token mean), bucket_rows 1
  group:        advantage "group" + loss_aggregation "episode" (the main
                job's objective: no value passes), bucket_rows 1
  group_rows8:  the same with 8 rows per length-sorted chunk
  group_rows24: the same with the whole batch in one chunk
  group_e1:     the same as group with 1 epoch

The ratios are against `value`, measured in the same process; the last line
is one JSON object.

    python benchmarks/update_variants.py --quick     # 2 repetitions, 3 variants
    python benchmarks/update_variants.py --reps 4
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

from rlef_jax.models import configs, llama
from rlef_jax.rl import update as ppo_update

VARIANTS = {
    "value": {},
    "group": {"advantage": "group", "loss_aggregation": "episode"},
    "group_rows8": {"advantage": "group", "loss_aggregation": "episode", "bucket_rows": 8},
    "group_rows24": {"advantage": "group", "loss_aggregation": "episode", "bucket_rows": 24},
    "group_e1": {"advantage": "group", "loss_aggregation": "episode", "epochs": 1},
}
QUICK = ("value", "group", "group_rows8")


def demo_batch(rows: int = 24, seq: int = 1024, turns: int = 3, seed: int = 0):
  """A Rollouts batch with the main job's shape: groups of 4, 1-3 turns a row."""
  rng = np.random.default_rng(seed)
  lengths = rng.integers(250, 900, rows)
  tokens = rng.integers(0, 4000, (rows, seq)).astype(np.int32)
  response = np.zeros((rows, seq), bool)
  turn_index = np.full((rows, seq), -1, np.int32)
  value_positions = np.zeros((rows, turns), np.int32)
  turn_mask = np.zeros((rows, turns), bool)
  for b, length in enumerate(lengths):
    n = 1 + b % turns
    seg = int(length) // n
    for t in range(n):
      start = t * seg + seg // 2
      response[b, start:start + seg // 2] = True
      turn_index[b, start:start + seg // 2] = t
      value_positions[b, t] = start - 1
      turn_mask[b, t] = True
  rewards = np.where(turn_mask, rng.choice([-1.0, 1.0], (rows, turns)), 0.0).astype(np.float32)
  batch = ppo_update.Rollouts(
      tokens=jnp.asarray(tokens), response_mask=jnp.asarray(response),
      turn_index=jnp.asarray(turn_index),
      behaviour_logp=jnp.asarray(np.where(response, -0.1, 0.0).astype(np.float32)),
      value_positions=jnp.asarray(value_positions), turn_mask=jnp.asarray(turn_mask),
      rewards=jnp.asarray(rewards), group=jnp.asarray(np.arange(rows) // 4))
  return batch, int(lengths.sum())


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--quick", action="store_true", help="2 repetitions of 3 variants")
  parser.add_argument("--reps", type=int, default=3, help="repetitions (the first compiles)")
  args = parser.parse_args()
  names = QUICK if args.quick else tuple(VARIANTS)
  reps = 2 if args.quick else max(args.reps, 2)

  config = configs.get("tiny")
  batch, real_tokens = demo_batch()
  params = llama.init_params(config, jax.random.key(0))
  value_params = llama.add_value_head(config, params, jax.random.key(1))
  ref = ppo_update.reference_params(params)
  # gin/tiny_cpu.gin's update settings.
  base = ppo_update.PPOConfig(lr=3e-4, value_lr=1e-3, warmup_steps=2, num_minibatches=2,
                              epochs=2, max_grad_norm=1.0)
  updates = {n: ppo_update.make_update(config, dataclasses.replace(base, **VARIANTS[n]))
             for n in names}
  states = {n: ppo_update.init_state(config, u.cfg, params, value_params)
            for n, u in updates.items()}
  times = {n: [] for n in names}
  for rep in range(reps):
    for n, update in updates.items():
      start = time.perf_counter()
      states[n], metrics = update(states[n], ref, batch, jax.random.key(rep))
      jax.block_until_ready(metrics)
      times[n].append(time.perf_counter() - start)
      print(f"rep {rep} {n}: {times[n][-1]:.1f} s", flush=True)
  best = {n: min(t[1:]) for n, t in times.items()}
  out = {"real_tokens": real_tokens, "rows": int(batch.tokens.shape[0]),
         "seconds": {n: round(s, 2) for n, s in best.items()},
         "ratio_to_value": {n: round(s / best["value"], 3) for n, s in best.items()}}
  print(json.dumps(out))


if __name__ == "__main__":
  main()

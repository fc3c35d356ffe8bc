"""What a short batch's empty rows cost: `generate` on a tail of 2 prompts, padded or not.

A multi-turn loop's last retries (and an evaluation chunk's tail) hand the
sampler a few prompts. `sampling.padded_rows` pads such a tail to the next
power of two; it used to go to the full `batch_multiple` (8). An empty row is
never sampled from, but prefill still runs it as a full row. Baseline and
candidate run in the same process on the same compiled-once programs:

* `padded_over_tail`: time of the 2 prompts plus 6 empty rows (the old rule)
  over the 2 prompts alone (the new rule), compiled runs, best of `repeats`.

The model is random-init with SmolLM2-135M's shape (30 layers, 576 wide; the
real GGUF gives the same times: the weights' values do not matter), the
prompts are 600 tokens (a CodeContests statement in the paper's prompt), 12
new tokens.

    python benchmarks/batch_padding.py --quick   # 1 repeat, ~2 minutes on 2 idle cores
    python benchmarks/batch_padding.py
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import jax
import numpy as np

from rlef_jax import sampling
from rlef_jax.models import configs, llama

SMOLLM2_SHAPE = configs.LlamaConfig(  # SmolLM2-135M-Instruct's shape, ~135M parameters
    vocab_size=49152, hidden_size=576, intermediate_size=1536, num_layers=30, num_heads=9,
    num_kv_heads=3, head_dim=64, max_position_embeddings=8192, tie_word_embeddings=True)


def _time(fn, repeats: int) -> float:
  fn()  # compile
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    best = min(best, time.perf_counter() - start)
  return best


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--quick", action="store_true", help="one repeat")
  parser.add_argument("--prompt_len", type=int, default=600)
  args = parser.parse_args()
  repeats = 1 if args.quick else 3
  cfg = SMOLLM2_SHAPE
  params = llama.init_params(cfg, jax.random.key(0))
  prompts = np.random.default_rng(0).integers(10, 1000, (2, args.prompt_len)).tolist()
  kw = dict(max_new_tokens=12, temperature=1.0)

  def tail():
    jax.block_until_ready(sampling.generate(cfg, params, prompts, jax.random.key(1), **kw).tokens)

  # The old rule: the same left-padded prompts plus 6 empty rows (length 0),
  # run by generate's own compiled path (`generate` no longer pads 2 rows to 8).
  tokens, lengths = sampling.left_pad(prompts, sampling.bucket_length(args.prompt_len))
  tokens = np.concatenate([tokens, np.zeros((6, tokens.shape[1]), np.int32)])
  lengths = np.concatenate([lengths, np.zeros((6,), np.int32)])
  settings = sampling.SamplingParams.of(sampling.SamplingSettings(**kw))

  def old_rule():
    out = sampling._run(cfg, params, tokens, lengths, jax.random.key(1), settings,  # pylint: disable=protected-access
                        kw["max_new_tokens"], None, jax.devices()[0].platform == "cpu")
    jax.block_until_ready(out.tokens)

  tail_s, padded_s = _time(tail, repeats), _time(old_rule, repeats)
  machine = f"{platform.machine()} {jax.devices()[0].platform} ({jax.devices()[0].device_kind})"
  print(json.dumps({"params_m": round(cfg.num_params() / 1e6, 1), "prompt_len": args.prompt_len,
                    "tail_rows": sampling.padded_rows(2), "tail_s": round(tail_s, 3),
                    "padded_rows": 8, "padded_s": round(padded_s, 3), "machine": machine}))
  print(json.dumps({"padded_over_tail": round(padded_s / tail_s, 3), "quick": args.quick}))


if __name__ == "__main__":
  main()

"""SFT step time: the output layer on a window of the targets against all positions.

The demo's SFT dialogs are long prompts with a short last response (the only
loss); `SFTConfig.target_only_head` runs the output layer over a window that
holds the targets (`rl.sft.loss(..., target_window=K)`). This times one jitted
SFT step (forward, backward, AdamW) both ways on the same batch of generated
demo dialogs, alternating, in one process, and prints the ratio; CPU time of
this process is used (the host is shared).

    python benchmarks/sft_step.py --quick      # tiny preset, B=16, ~1 minute
    python benchmarks/sft_step.py --batch 32 --repeats 10
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import numpy as np

from rlef_jax import demo
from rlef_jax import tokenizer as tokenizer_lib
from rlef_jax.data import synthetic
from rlef_jax.models import configs, llama
from rlef_jax.rl import sft


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--quick", action="store_true")
  ap.add_argument("--batch", type=int, default=16)
  ap.add_argument("--repeats", type=int, default=6)
  args = ap.parse_args()
  repeats = 3 if args.quick else args.repeats

  tok = tokenizer_lib.load_tiny_tokenizer()
  rows = synthetic.generate("train", args.batch, seed=0, large_test=False)
  dialogs = demo.build_sft_dialogs(rows, repair_fraction=0.3, seed=0)
  batch = sft.encode_batch(tok, dialogs, max_len=1024)
  window = sft.target_window(batch["loss_mask"])
  config = configs.get("tiny")
  cfg = sft.SFTConfig(lr=1e-3)
  mesh = jax.make_mesh((1,), ("data",))
  steps = {}
  for name, w in (("all_positions", None), ("target_window", window)):
    _, steps[name] = sft.make_train_step(config, cfg, mesh, w)
  times = {name: [] for name in steps}
  for _ in range(repeats + 1):  # the first round compiles
    for name, step in steps.items():
      params = llama.init_params(config, jax.random.key(0))
      opt_state = sft.make_optimizer(cfg).init(params)
      t = time.process_time()
      out = step(params, opt_state, batch["tokens"], batch["loss_mask"])
      jax.block_until_ready(out)
      times[name].append(time.process_time() - t)
  best = {name: float(np.min(v[1:])) for name, v in times.items()}
  print(json.dumps({"batch": batch["tokens"].shape, "target_window": window,
                    "cpu_s_per_step": best,
                    "speedup": best["all_positions"] / best["target_window"]}))


if __name__ == "__main__":
  main()

"""Probe: how fast the tiny Llama learns the synthetic problems (plain JAX SFT).

Next-token training on `demo.build_sft_dialogs` (loss on the final assistant
turn only), with the held-out turn-1 solve rate measured through the real
gVisor judge (public + private tests) every `--eval_every_s` seconds of
training. Prints one JSON line per evaluation and a summary line; the
figures go into docs/demo.md.

    nice -n 10 python tools/probe_sft.py --train_s 300 --eval_every_s 60
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import sandbox_runner
from rlef_jax import demo
from rlef_jax import sampling
from rlef_jax import tokenizer as tokenizer_lib
from rlef_jax.data import synthetic
from rlef_jax.env import code as code_lib
from rlef_jax.env import feedback
from rlef_jax.models import configs
from rlef_jax.models import llama
from rlef_jax.rl import sft


def encode(tok, dialog):
  """(ids, loss mask) of a dialog: the mask covers the last assistant turn."""
  prefix = tok.render_dialog(dialog[:-1], add_generation_prompt=True)
  ids = tok.render_dialog(dialog, add_generation_prompt=False)
  mask = [0] * len(prefix) + [1] * (len(ids) - len(prefix))
  return ids, mask


def batches(examples, batch, rng, length_groups=0, steps=10**9):
  """Batches padded to the bucket of their longest, in rl/sft.py's order
  (`sft.batch_indices`, length-sorted windows with `length_groups`)."""
  del rng
  lengths = [len(e[0]) for e in examples]
  for s in range(steps):
    g = sft.batch_indices(len(examples), batch, s, 0, lengths, length_groups)
    length = sampling.bucket_length(max(len(examples[i][0]) for i in g), 64)
    toks = np.zeros((batch, length), np.int32)
    mask = np.zeros((batch, length), np.float32)
    for r, i in enumerate(g):
      ids, m = examples[i]
      toks[r, :len(ids)] = ids
      mask[r, :len(m)] = m
    yield toks, mask


def make_step(config, opt):
  def loss_fn(params, toks, mask):
    logits = llama.forward(config, params, toks[:, :-1])
    logp = jax.nn.log_softmax(logits.astype(jnp.float32))
    nll = -jnp.take_along_axis(logp, toks[:, 1:, None], -1)[..., 0]
    m = mask[:, 1:]
    return (nll * m).sum() / jnp.maximum(m.sum(), 1.0)

  @jax.jit
  def step(params, opt_state, toks, mask):
    loss, grads = jax.value_and_grad(loss_fn)(params, toks, mask)
    updates, opt_state = opt.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss
  return step


def solve_rate(config, params, tok, rows, judge, rng, temperature=0.0,
               max_new_tokens=112):
  """Fraction of rows whose turn-1 answer passes public + private tests."""
  prompts = [tok.render_dialog([{"role": "user",
                                 "content": feedback.initial_prompt(r["description"])}])
             for r in rows]
  out = sampling.generate(config, params, prompts, rng, max_new_tokens,
                          temperature=temperature,
                          stop_tokens=(tok.eot_id,), pad_id=tok.pad_id)
  toks, lens = np.asarray(out.tokens), np.asarray(out.lengths)
  requests, valid = [], 0
  for row, t, n in zip(rows, toks, lens):
    code = code_lib.extract_code(tok.decode([i for i in t[:n] if not tok.is_special(i)]))
    ok = code_lib.is_valid_code(code)
    valid += ok
    requests.append(sandbox_runner.request_for_problem(
        row, code if ok else "raise SystemExit(1)\n", tests=("public", "private"),
        stop_on_first_failure=True))
  results = judge.run_batch(requests)
  return (sum(r.verdict == "accepted" for r in results) / len(rows), valid / len(rows))


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--train_problems", type=int, default=2000)
  ap.add_argument("--eval_problems", type=int, default=100)
  ap.add_argument("--repair_fraction", type=float, default=0.3)
  ap.add_argument("--batch", type=int, default=32)
  ap.add_argument("--lr", type=float, default=3e-3)
  ap.add_argument("--train_s", type=float, default=300)
  ap.add_argument("--max_steps", type=int, default=None)
  ap.add_argument("--eval_every_s", type=float, default=60)
  ap.add_argument("--eval_steps", type=int, nargs="*", default=[],
                  help="evaluate after these steps too (timing-independent)")
  ap.add_argument("--seed", type=int, default=0)
  ap.add_argument("--layers", type=int, default=4)
  ap.add_argument("--max_len", type=int, default=512)
  ap.add_argument("--length_groups", type=int, default=0)
  ap.add_argument("--fuse", type=int, default=1, help="synthetic.generate(fuse=...)")
  args = ap.parse_args()

  t0 = time.time()
  tok = tokenizer_lib.load_tiny_tokenizer()
  fuse = bool(args.fuse)
  train = synthetic.generate("train", args.train_problems, seed=args.seed, fuse=fuse)
  test = synthetic.generate("test", args.eval_problems, seed=args.seed, fuse=fuse)
  seen = synthetic.generate("train", args.eval_problems // 2, seed=args.seed + 1000, fuse=fuse)
  dialogs = demo.build_sft_dialogs(train, repair_fraction=args.repair_fraction,
                                  seed=args.seed)
  examples = [e for e in (encode(tok, d) for d in dialogs) if len(e[0]) <= args.max_len]
  print(json.dumps({"data_s": round(time.time() - t0, 1),
                    "mean_tokens": float(np.mean([len(e[0]) for e in examples])),
                    "target_tokens": float(np.mean([sum(e[1]) for e in examples]))}),
        flush=True)

  config = configs.get("tiny", num_layers=args.layers)
  params = llama.init_params(config, jax.random.key(args.seed))
  steps_guess = 2000
  opt = optax.adamw(optax.warmup_cosine_decay_schedule(
      0.0, args.lr, 30, steps_guess, args.lr * 0.1), weight_decay=0.01)
  opt_state = opt.init(params)
  step = make_step(config, opt)
  prng = np.random.default_rng(args.seed)
  import random as _random  # pylint: disable=g-import-not-at-top
  brng = _random.Random(args.seed)

  train_s, next_eval, steps, tokens, epoch = 0.0, args.eval_every_s, 0, 0, 0
  compiled, compile_s = set(), 0.0
  with sandbox_runner.Judge(max_workers=2) as judge:
    while train_s < args.train_s and steps != args.max_steps:
      for toks, mask in batches(examples, args.batch, brng, args.length_groups):
        t = time.time()
        params, opt_state, loss = step(params, opt_state, toks, mask)
        loss = float(loss)
        if toks.shape in compiled:
          train_s += time.time() - t
        else:  # a new shape's first step is mostly compilation: not training time
          compiled.add(toks.shape)
          compile_s += time.time() - t
        steps += 1
        tokens += toks.size
        if (train_s >= next_eval or train_s >= args.train_s
            or steps in args.eval_steps):
          te = time.time()
          held, held_valid = solve_rate(config, params, tok, test, judge,
                                        jax.random.key(1))
          tr, _ = solve_rate(config, params, tok, seen, judge, jax.random.key(2))
          print(json.dumps({"train_s": round(train_s), "steps": steps, "epoch": round(steps * args.batch / len(examples), 2),
                            "tokens": tokens, "compile_s": round(compile_s), "loss": round(loss, 4), "step_s": round(train_s / max(steps - len(compiled), 1), 2),
                            "heldout_turn1": held, "heldout_valid": held_valid,
                            "train_dist_turn1": tr,
                            "eval_s": round(time.time() - te, 1)}), flush=True)
          while next_eval <= train_s:
            next_eval += args.eval_every_s
        if train_s >= args.train_s or steps == args.max_steps:
          break
      epoch += 1
  del prng


if __name__ == "__main__":
  main()

"""Supervised fine-tuning on dialogs: loss on the last, successful response only.

The paper's SFT baseline (and our warm start): every example is a dialog
whose last message is an assistant response that solved the problem; the
next-token loss is taken on that response's tokens (its content and the
closing `<|eot_id|>`) and nowhere else, so earlier turns and the prompt are
context only. Rendering is the tokenizer's chat format, the same the
environment samples in.

Sources (`SFTConfig.source`):
  "solutions"            each train row's first `solutions_per_problem`
                         Python solutions as a one-turn dialog
                         (initial prompt -> fenced code answer)
  "<path>.jsonl"         rollouts.jsonl records of solved episodes, rebuilt
                         into dialogs (prompt, responses, feedback turns)
  "package.module:fn"    a function returning dialogs (lists of
                         {"role", "content"}), e.g. generated repair dialogs

Training order is a seeded permutation per epoch and step s takes examples
[s*B, (s+1)*B) of that stream, so a resumed run sees exactly the data an
uninterrupted one would. With `length_groups = G > 0` each window of G*B
consecutive stream positions is sorted by length, cut into G batches and the
batches shuffled (seeded): a batch pads to the bucket of its own longest
dialog instead of the run's, for a few more compiled step shapes (one per
bucket). Still a pure function of the step, so resume stays exact.

The `sft` job (`rlef_jax.jobs.fine_tune`) builds the mesh, model, tokenizer
and dialogs from gin-bound specs and calls `run`.

Example:

    from rlef_jax.rl import sft
    batch = sft.encode_batch(tok, [dialog], max_len=512)   # tokens, loss_mask
    loss = sft.loss(config, params, batch["tokens"], batch["loss_mask"])
    report = sft.run("runs/sft", sft.SFTConfig(steps=10), config=config, params=params,
                     tokenizer=tok, mesh=mesh, dialogs=sft.solution_dialogs(rows))
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pathlib
import time
from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import logging

import tqdm

from rlef_jax.checkpoints import state as ckpt_state
from rlef_jax.env import code as code_lib
from rlef_jax.env import feedback
from rlef_jax.models import llama
from rlef_jax.models import partitioning
from rlef_jax.rl import logs
from rlef_jax.rl import ppo
from rlef_jax.sampling import bucket_length

Dialog = Sequence[Mapping[str, str]]


class SettingsError(ValueError):
  """`SFTConfig` names no usable data or shape (the message says which setting)."""


@dataclasses.dataclass(frozen=True)
class SFTConfig:
  """Settings of the `sft` job.

  Attributes:
    source: "solutions", a rollouts.jsonl path, or "package.module:function".
    task: problem rows for "solutions" and for rebuilding rollout dialogs.
    solutions_per_problem: Python solutions taken per row ("solutions").
    steps, batch_size: optimizer steps and dialogs per step.
    lr, warmup_steps, weight_decay, b2, max_grad_norm: AdamW with linear warm-up.
    decay: "constant" after the warm-up, or "cosine" down to
      `final_lr_fraction * lr` at the last step.
    max_len: dialogs longer than this many tokens are left out (counted).
    length_groups: batches per length-sorted window (0: random batches, all
      padded to one length).
    target_only_head: run the output layer only over a window that holds the
      targets (`loss`'s `target_window`; the same loss, less compute).
    seed: example order.
    checkpoint_every: steps between checkpoints (0: only at the end).
    log_every: steps between logged losses.
    progress: a tqdm bar (process 0).
  """

  source: str = "solutions"
  task: str = "rlef_bundled_train"
  solutions_per_problem: int = 1
  steps: int = 100
  batch_size: int = 16
  lr: float = 1e-3
  warmup_steps: int = 10
  decay: str = "constant"
  final_lr_fraction: float = 0.1
  weight_decay: float = 0.0
  b2: float = 0.95
  max_grad_norm: float | None = 1.0
  max_len: int = 1024
  length_groups: int = 0
  target_only_head: bool = True
  seed: int = 0
  checkpoint_every: int = 0
  log_every: int = 10
  progress: bool = True


def _python_solutions(row: Mapping[str, Any], n: int) -> list[str]:
  sols = row.get("solutions") or {}
  langs = sols.get("language") or []
  return [s for lang, s in zip(langs, sols.get("solution") or []) if lang == 3][:n]


def solution_dialogs(rows: Sequence[Mapping[str, Any]], per_problem: int = 1) -> list[list[dict]]:
  """One-turn dialogs: the paper's first prompt, answered with a fenced solution."""

  out = []
  for row in rows:
    prompt = feedback.initial_prompt(row["description"])
    for code in _python_solutions(row, per_problem):
      out.append([{"role": "user", "content": prompt},
                  {"role": "assistant", "content": code_lib.fence(code)}])
  return out


def rollout_dialogs(records: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]]
                    ) -> list[list[dict]]:
  """Dialogs of solved rollouts.jsonl records (prompt, responses, feedback turns)."""

  by_name = {r["name"]: r for r in rows}
  out = []
  for rec in records:
    if not rec.get("solved") or rec.get("dropped") or rec["problem"] not in by_name:
      continue
    messages = [{"role": "user", "content": feedback.initial_prompt(by_name[rec["problem"]]["description"])}]
    for i, turn in enumerate(rec["turns"]):
      messages.append({"role": "assistant", "content": turn["response"]})
      if i + 1 < len(rec["turns"]):
        messages.append({"role": "user", "content": turn.get("feedback") or ""})
    out.append(messages)
  return out


def source_needs_rows(source: str) -> bool:
  """Whether `SFTConfig.source` builds its dialogs from the task's problem rows."""
  return source == "solutions" or source.endswith(".jsonl")


def load_dialogs(cfg: SFTConfig, rows: Sequence[Mapping[str, Any]] | None = None
                 ) -> list[list[dict]]:
  """The dialogs `cfg.source` names; `rows`: `cfg.task`'s problems (for "solutions"
  and rollouts files). ValueError for a source that names nothing."""
  if source_needs_rows(cfg.source) and rows is None:
    raise SettingsError(f"SFTConfig.source = {cfg.source!r} needs the problem rows of "
                        f"{cfg.task!r}")
  if cfg.source == "solutions":
    return solution_dialogs(rows, cfg.solutions_per_problem)
  if cfg.source.endswith(".jsonl"):
    path = pathlib.Path(cfg.source)
    if not path.is_file():
      raise SettingsError(f"SFTConfig.source = {cfg.source!r}: no such file")
    records = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    return rollout_dialogs(records, rows)
  if ":" in cfg.source:
    module, _, fn = cfg.source.partition(":")
    return [list(d) for d in getattr(importlib.import_module(module), fn)()]
  raise SettingsError(f"SFTConfig.source = {cfg.source!r}: use 'solutions', a rollouts .jsonl "
                      "file or 'package.module:function'")


def encode(tokenizer, dialog: Dialog) -> tuple[list[int], list[bool]]:
  """(ids, loss mask): the dialog rendered; True on the last response, its eot
  and the chat format's turn suffix (ChatML's newline; none for Llama 3)."""
  if not dialog or dialog[-1]["role"] != "assistant":
    raise ValueError("an SFT dialog must end with an assistant message")
  prompt = tokenizer.render_dialog(list(dialog[:-1]), add_generation_prompt=True)
  target = (tokenizer.encode(dialog[-1]["content"]) + [tokenizer.eot_id]
            + list(getattr(tokenizer, "turn_suffix", ())))
  return prompt + target, [False] * len(prompt) + [True] * len(target)


def encode_batch(tokenizer, dialogs: Sequence[Dialog], max_len: int, length: int | None = None
                 ) -> dict[str, np.ndarray]:
  """Right-padded `tokens` [B, L] and `loss_mask` [B, L] (L: `length` or the bucket of the longest)."""
  encoded = [encode(tokenizer, d) for d in dialogs]
  if length is None:

    length = min(bucket_length(max(len(ids) for ids, _ in encoded), 64), max_len)
  tokens = np.full((len(encoded), length), tokenizer.pad_id, np.int32)
  mask = np.zeros((len(encoded), length), bool)
  for b, (ids, m) in enumerate(encoded):
    ids, m = ids[:length], m[:length]
    tokens[b, :len(ids)] = ids
    mask[b, :len(m)] = m
  return {"tokens": tokens, "loss_mask": mask}


def batch_indices(num_examples: int, batch_size: int, step: int, seed: int = 0,
                  lengths: Sequence[int] | None = None, length_groups: int = 0) -> list[int]:
  """Example indices of step `step`'s batch (see the module docstring for the order).

  Every epoch is a seeded permutation of `range(num_examples)`; without
  `length_groups` step s takes stream positions [s*B, (s+1)*B). With it, the
  window of `length_groups` batches holding step s is sorted by `lengths` and
  its batches are shuffled, so batches hold dialogs of similar length.
  """
  perms: dict[int, np.ndarray] = {}

  def at(pos):
    epoch, i = divmod(pos, num_examples)
    if epoch not in perms:
      perms[epoch] = np.random.default_rng([seed, epoch]).permutation(num_examples)
    return int(perms[epoch][i])

  if not length_groups:
    return [at(p) for p in range(step * batch_size, (step + 1) * batch_size)]
  if lengths is None or len(lengths) != num_examples:
    raise ValueError("length_groups needs one length per example")
  window, slot = divmod(step, length_groups)
  first = window * length_groups * batch_size
  members = [at(p) for p in range(first, first + length_groups * batch_size)]
  members.sort(key=lambda i: lengths[i])
  order = np.random.default_rng([seed, 1 << 20, window]).permutation(length_groups)
  j = int(order[slot])
  return members[j * batch_size:(j + 1) * batch_size]


def loss(config, params, tokens: jax.Array, loss_mask: jax.Array,
         target_window: int | None = None) -> jax.Array:
  """Mean next-token negative log-likelihood over the masked (last-response) tokens.

  With `target_window = K` the output layer runs on K positions per row only,
  starting where the row's targets start (the loss is on the last response,
  a short tail of a long dialog): the same value when every row's targets fit
  in K tokens, for a fraction of the [B, T, V] logits' cost.
  """
  if target_window is None:
    logp = ppo.token_logprobs(llama.forward(config, params, tokens), tokens)
    return -ppo.masked_mean(logp, loss_mask)
  h = llama.hidden_states(config, params, tokens)
  t = tokens.shape[1]
  # Hidden state s predicts token s + 1: start one before the first target.
  first = jnp.argmax(loss_mask, axis=1).astype(jnp.int32)
  pos = jnp.maximum(first - 1, 0)[:, None] + jnp.arange(target_window, dtype=jnp.int32)
  inside = pos < t - 1
  pos = jnp.minimum(pos, t - 2)
  h_k = jnp.take_along_axis(h, pos[..., None], axis=1)
  targets = jnp.take_along_axis(tokens, pos + 1, axis=1)
  mask = jnp.take_along_axis(loss_mask, pos + 1, axis=1) & inside
  logits = llama.lm_head(config, params, h_k)
  vocab = logits.shape[-1]
  valid = (targets >= 0) & (targets < vocab)
  picked = jnp.take_along_axis(logits, jnp.clip(targets, 0, vocab - 1)[..., None], -1)[..., 0]
  logp = jnp.where(valid, picked - jax.nn.logsumexp(logits, axis=-1), 0.0)
  return -ppo.masked_mean(logp, mask)


def target_window(loss_masks: Sequence[Sequence[bool]]) -> int:
  """The `loss` window that holds every example's targets (a bucket length)."""

  return bucket_length(int(max(np.sum(m) for m in loss_masks)), 16)


def make_schedule(cfg: SFTConfig) -> optax.Schedule:
  """Linear warm-up, then constant or cosine (`cfg.decay`)."""
  def schedule(step):
    warm = jnp.minimum(1.0, (step + 1) / max(cfg.warmup_steps, 1))
    if cfg.decay == "constant":
      return cfg.lr * warm
    # cosine from the end of the warm-up to `final_lr_fraction * lr` at `steps`
    span = max(cfg.steps - cfg.warmup_steps, 1)
    t = jnp.clip((step - cfg.warmup_steps) / span, 0.0, 1.0)
    floor = cfg.final_lr_fraction
    return cfg.lr * warm * (floor + (1 - floor) * 0.5 * (1 + jnp.cos(jnp.pi * t)))
  return schedule


def make_optimizer(cfg: SFTConfig) -> optax.GradientTransformation:
  schedule = make_schedule(cfg)
  adamw = optax.adamw(schedule, b2=cfg.b2, weight_decay=cfg.weight_decay)
  if cfg.max_grad_norm is None:
    return adamw
  return optax.chain(optax.clip_by_global_norm(cfg.max_grad_norm), adamw)


def make_train_step(config, cfg: SFTConfig, mesh, window: int | None = None):
  """(optimizer, step(params, opt_state, tokens, loss_mask)); `window`: `loss`'s."""
  tx = make_optimizer(cfg)

  def step(params, opt_state, tokens, loss_mask):
    value, grads = jax.value_and_grad(
        lambda p: loss(config, p, tokens, loss_mask, window))(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, value

  jitted = jax.jit(step, donate_argnums=(0, 1))

  def run(*args):
    with jax.set_mesh(mesh):
      return jitted(*args)

  return tx, run


def check_config(cfg: SFTConfig, mesh_shape: Sequence[int], processes: int = 1) -> None:
  """ValueError for settings the loop cannot run (cheap; before anything is built)."""
  if cfg.decay not in ("constant", "cosine"):
    raise SettingsError(f"SFTConfig.decay = {cfg.decay!r}: use 'constant' or 'cosine'")
  shards = mesh_shape[0] * mesh_shape[1]
  if cfg.batch_size % shards or cfg.batch_size % processes:
    raise SettingsError(f"SFTConfig.batch_size = {cfg.batch_size} must be a multiple of the "
                        f"mesh's data x fsdp ({shards}) and of the {processes} processes")


def run(workdir: str | pathlib.Path, cfg: SFTConfig, *, config, params, tokenizer, mesh,
        dialogs: Sequence[Dialog]) -> dict[str, Any]:
  """Fine-tunes (config, params), placed on `mesh`, on `dialogs`; checkpoints under
  `workdir/checkpoints` (a relaunch resumes from the latest)."""
  workdir = pathlib.Path(workdir)
  pid, nproc = jax.process_index(), jax.process_count()
  check_config(cfg, tuple(mesh.shape[a] for a in ("data", "fsdp", "tensor")), nproc)
  start_time = time.monotonic()
  tok = tokenizer
  dialogs = list(dialogs)
  encoded = [encode(tok, d) for d in dialogs]
  lengths = [len(ids) for ids, _ in encoded]
  kept = [d for d, n in zip(dialogs, lengths) if n <= cfg.max_len]
  if not kept:
    raise SettingsError(f"SFT source {cfg.source!r} gave no dialog of at most "
                        f"{cfg.max_len} tokens ({len(dialogs)} in all)")
  window = (target_window([m for (_, m), n in zip(encoded, lengths) if n <= cfg.max_len])
            if cfg.target_only_head else None)
  del encoded
  tx, train_step = make_train_step(config, cfg, mesh, window)
  opt_state = jax.jit(tx.init)(params)
  ckpts = ckpt_state.TrainCheckpoints(workdir / "checkpoints", 2, True)
  start = 0
  latest = ckpts.latest_step()
  if latest is not None:
    items, meta = ckpts.restore(latest, {"policy": ckpt_state.abstract(params),
                                         "policy_opt": ckpt_state.abstract(opt_state)})
    params, opt_state, start = items["policy"], items["policy_opt"], meta["step"]
    logging.info("sft: resuming at step %d", start)
  log = logs.RunLog(workdir, primary=pid == 0, resume_step=start if latest is not None else None,
                    files=())
  rows_local = cfg.batch_size // nproc
  kept_lengths = [n for n in lengths if n <= cfg.max_len]

  def batch_at(step: int) -> list[Dialog]:
    idx = batch_indices(len(kept), cfg.batch_size, step, cfg.seed, kept_lengths,
                        cfg.length_groups)
    return [kept[i] for i in idx[pid * rows_local:(pid + 1) * rows_local]]


  def length_at(step: int) -> int:
    """The padded length of a step (the same in every process)."""
    if not cfg.length_groups:  # one static length for the run: one compiled step
      return bucket_length(max(kept_lengths), 64)
    idx = batch_indices(len(kept), cfg.batch_size, step, cfg.seed, kept_lengths,
                        cfg.length_groups)
    return min(bucket_length(max(kept_lengths[i] for i in idx), 64),
               bucket_length(max(kept_lengths), 64))

  bar = None
  if cfg.progress and pid == 0:
    bar = tqdm.tqdm(total=cfg.steps, initial=start, desc="sft steps", unit="step")
  losses, value = [], None

  def meta(step):
    return {"step": step, "kind": "sft", "config": ckpt_state.config_to_json(config),
            "source": cfg.source, "examples": len(kept)}

  try:
    for step in range(start, cfg.steps):
      length = length_at(step)
      batch = encode_batch(tok, batch_at(step), cfg.max_len, length)
      arrays = []
      for name in ("tokens", "loss_mask"):
        global_shape = (cfg.batch_size, length)
        arrays.append(jax.make_array_from_process_local_data(
            partitioning.batch_sharding(mesh, global_shape), batch[name], global_shape))
      params, opt_state, value = train_step(params, opt_state, *arrays)
      done = step + 1
      if done % cfg.log_every == 0 or done == cfg.steps:
        value = float(value)
        losses.append({"step": done, "loss": value})
        log.scalars(done, {"sft/loss": value, "rss_mb": logs.rss_mb()})
        if bar is not None:
          bar.set_postfix(loss=f"{value:.3f}")
      if bar is not None:
        bar.update(1)
      if (cfg.checkpoint_every and done % cfg.checkpoint_every == 0) or done == cfg.steps:
        ckpts.save(done, {"policy": params, "policy_opt": opt_state}, meta(done))
  finally:
    if bar is not None:
      bar.close()
    ckpts.close()
    log.close()
  return {"job": "sft", "steps": cfg.steps, "resumed_from_step": start,
          "examples": len(kept), "left_out_too_long": len(dialogs) - len(kept),
          "sequence_length": bucket_length(max(kept_lengths), 64), "target_window": window,
          "losses": losses,
          "final_loss": losses[-1]["loss"] if losses else None,
          "seconds": time.monotonic() - start_time, "peak_rss_mb": logs.peak_rss_mb(),
          "checkpoints": str(workdir / "checkpoints"), "ok": True}

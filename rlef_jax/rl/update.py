"""The RLEF PPO update: one jitted, sharded function of explicit state.

One call takes a rollout batch (one token row per episode, the whole dialog)
and does everything on device: teacher-forced passes of the current policy
(pi_old), the frozen reference (rho) and the value net; the per-turn KL
penalty, returns and advantages; then `epochs x num_minibatches` clipped PPO
steps under `lax.scan`, each with separate AdamW steps for policy and value.
The state is donated; with a mesh, every array is placed by the logical-axis
rules of `rlef_jax.sharding`, so the same code runs on one CPU or a pod slice.

Example:

    from rlef_jax.models import configs, llama
    from rlef_jax.rl import update as ppo_update
    cfg, ppo_cfg = configs.get("tiny"), ppo_update.PPOConfig()
    params = llama.init_params(cfg, jax.random.key(0))
    value_params = llama.add_value_head(cfg, params, jax.random.key(1))
    ref = ppo_update.reference_params(params)          # never updated
    state = ppo_update.init_state(cfg, ppo_cfg, params, value_params, mesh)
    update = ppo_update.make_update(cfg, ppo_cfg, mesh=mesh)
    state, metrics = update(state, ref, rollouts, jax.random.key(2))
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from rlef_jax import sampling
from rlef_jax.rollouts import Rollouts  # the batch it reads (re-exported here)
from rlef_jax import sharding
from rlef_jax.models import partitioning
from rlef_jax.models import llama
from rlef_jax.models import precision
from rlef_jax.models.configs import LlamaConfig
from rlef_jax.rl import ppo

Params = Any


@dataclasses.dataclass(frozen=True)
class PPOConfig:
  """Hyper-parameters of the update (docs/rlef_method.md section 3).

  Attributes:
    clip_eps: PPO ratio clip.
    value_clip: value clip alpha.
    kl_beta: weight of the per-turn KL penalty folded into the reward.
    lr: peak policy learning rate.
    value_lr: peak value learning rate (None: `lr`).
    weight_decay: AdamW decay (norm scales and biases are not decayed).
    warmup_steps: linear warm-up to the peak over this many optimizer steps.
    value_warmup_steps: the policy's learning rate is 0 for this many first
      optimizer steps (its linear warm-up starts after them) while the value
      net trains: the fresh value head's noise is not taken for advantage.
      0: off (the paper's schedule).
    adam_b1, adam_b2, adam_eps: AdamW moments.
    max_grad_norm: clip each network's gradient to this global norm (None: off).
    num_minibatches: optimizer steps per epoch over the rollout batch.
    epochs: passes over the rollout batch.
    microbatches: gradient accumulation inside one minibatch (exact: same
      update as one pass, in 1/microbatches of the activation memory).
    forward_chunks: chunks of the pi_old / reference / value passes over the
      batch (None: `num_minibatches`).
    advantage: how A_t is formed. "value" (the paper's): G_t - V(c_t) from the
      value net. "group": G_t minus the leave-one-out mean episode return of
      the other rollouts of the same problem (`ppo.group_baseline`, RLOO;
      needs `Rollouts.group`); the value net is neither run nor trained
      (docs/demo.md, "RL settings", says why the tiny demo uses it).
    kl_loss_coef: weight of a token-level KL(pi || rho) term in the policy
      loss (`ppo.kl_to_reference`, averaged like the PPO term), beside or
      instead of the per-turn penalty in the reward (`kl_beta`). 0: off (the
      paper's).
    loss_aggregation: how the policy loss averages over a minibatch's response
      tokens (`ppo.token_weights`): "token", the paper's token mean, or
      "episode", every episode weighted alike whatever its number of turns.
    normalize_advantages: "value": mean/std-normalise A_t over the batch's
      valid turns; "group": divide by their std only (the baseline centres).
    logits_chunk: sequence positions per chunk of the output layer in every
      log-prob / entropy pass (`llama.logprobs_from_hidden`): [B, chunk, V]
      float32 logits at a time, rematerialised in the backward pass, instead
      of [B, S, V]. None: one chunk (the full logits).
    length_buckets: run the update as a few small jitted programs over rows
      trimmed to their real length (`BucketedUpdate`): the same update (same
      minibatches, losses and advantages, to float summation order), without
      computing on the padding up to the batch's longest dialog. False: the
      whole update in one jitted program over the padded batch.
    bucket_rows: rows per length-sorted chunk of a bucketed pass (None: the
      mesh's batch shards, 1 without a mesh). A minibatch's gradient is the
      exact sum over its chunks (as with `microbatches`), each chunk cut to
      `sampling.bucket_length` of its longest row.
    min_bucket: the shortest bucket: fewer distinct programs to compile.
  """

  clip_eps: float = 0.2
  value_clip: float = 0.2
  kl_beta: float = 0.05
  lr: float = 2e-7
  value_lr: float | None = None
  weight_decay: float = 0.1
  warmup_steps: int = 50
  value_warmup_steps: int = 0
  adam_b1: float = 0.9
  adam_b2: float = 0.95
  adam_eps: float = 1e-8
  max_grad_norm: float | None = None
  num_minibatches: int = 4
  epochs: int = 1
  microbatches: int = 1
  forward_chunks: int | None = None
  advantage: str = "value"
  loss_aggregation: str = "token"
  kl_loss_coef: float = 0.0
  normalize_advantages: bool = True
  logits_chunk: int | None = 512
  length_buckets: bool = True
  bucket_rows: int | None = None
  min_bucket: int = 128


@flax.struct.dataclass
class TrainState:
  """Everything the update changes; the reference params live outside it."""

  policy_params: Params
  policy_opt_state: optax.OptState
  value_params: Params
  value_opt_state: optax.OptState
  step: jax.Array  # optimizer steps taken


def warmup_schedule(lr: float, warmup_steps: int, delay: int = 0) -> optax.Schedule:
  """0 for the first `delay` steps, then lr * min(1, (step - delay + 1) / warmup_steps)."""
  if warmup_steps <= 0 and delay <= 0:
    return optax.constant_schedule(lr)
  def schedule(step):
    t = step - delay
    ramp = 1.0 if warmup_steps <= 0 else jnp.minimum(1.0, (t + 1) / warmup_steps)
    return jnp.where(t >= 0, lr * ramp, 0.0)
  return schedule


def schedules(cfg: "PPOConfig") -> tuple[optax.Schedule, optax.Schedule]:
  """The (policy, value) learning-rate schedules of `cfg`."""
  policy_lr, value_lr = _peak_lrs(cfg)
  return (warmup_schedule(policy_lr, cfg.warmup_steps, cfg.value_warmup_steps),
          warmup_schedule(value_lr, cfg.warmup_steps))


def _decay_mask(params: Params) -> Params:
  def decays(path, _):
    name = getattr(path[-1], "key", None)
    return name not in ("scale", "bias")
  return jax.tree_util.tree_map_with_path(decays, params)


def make_optimizer(cfg: PPOConfig, schedule: optax.ScalarOrSchedule) -> optax.GradientTransformation:
  """AdamW on `schedule`, optionally after global-norm clipping."""
  adamw = optax.adamw(schedule, b1=cfg.adam_b1, b2=cfg.adam_b2,
                      eps=cfg.adam_eps, weight_decay=cfg.weight_decay, mask=_decay_mask)
  if cfg.max_grad_norm is None:
    return adamw
  return optax.chain(optax.clip_by_global_norm(cfg.max_grad_norm), adamw)


def _peak_lrs(cfg: PPOConfig) -> tuple[float, float]:
  return cfg.lr, cfg.lr if cfg.value_lr is None else cfg.value_lr


def _optimizers(cfg: PPOConfig):
  return tuple(make_optimizer(cfg, schedule) for schedule in schedules(cfg))


def reference_params(params: Params, dtype: Any = None) -> Params:
  """A frozen copy for rho: own buffers, since the policy's are donated each update.

  `dtype` (a dtype or its name, e.g. "bfloat16"): store the copy in it
  (`precision.reference_copy`).
  """
  return precision.reference_copy(params, dtype)


def _abstract_params(config: LlamaConfig):
  policy = jax.eval_shape(lambda: llama.init_params(config, jax.random.key(0)))
  value = jax.eval_shape(lambda: llama.add_value_head(
      config, llama.init_params(config, jax.random.key(0)), jax.random.key(1)))
  return policy, value


def state_shardings(config: LlamaConfig, cfg: PPOConfig, mesh: Mesh) -> TrainState:
  """NamedShardings of every TrainState leaf, derived from the rules table."""
  policy_tx, value_tx = _optimizers(cfg)
  policy, value = _abstract_params(config)
  policy_sh = partitioning.param_shardings(config, mesh, policy)
  value_sh = partitioning.param_shardings(config, mesh, value)
  return TrainState(
      policy_params=policy_sh,
      policy_opt_state=sharding.opt_state_shardings(policy_tx, policy, policy_sh, mesh),
      value_params=value_sh,
      value_opt_state=sharding.opt_state_shardings(value_tx, value, value_sh, mesh),
      step=NamedSharding(mesh, PartitionSpec()))


def abstract_state(config: LlamaConfig, cfg: PPOConfig, mesh: Mesh | None = None) -> TrainState:
  """The TrainState as `jax.ShapeDtypeStruct`s (placed by the rules on `mesh`
  when given): for `make_update(...).lower(...)` with no allocation."""
  policy_tx, value_tx = _optimizers(cfg)
  policy, value = _abstract_params(config)
  state = jax.eval_shape(lambda p, v: TrainState(p, policy_tx.init(p), v, value_tx.init(v),
                                                 jnp.zeros((), jnp.int32)), policy, value)
  if mesh is None:
    return state
  return jax.tree.map(lambda x, sh: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sh),
                      state, state_shardings(config, cfg, mesh))


def init_state(config: LlamaConfig, cfg: PPOConfig, policy_params: Params,
               value_params: Params, mesh: Mesh | None = None) -> TrainState:
  """Fresh optimizer states around the given params (placed on `mesh` if given)."""
  policy_tx, value_tx = _optimizers(cfg)

  def init(policy, value):
    return TrainState(policy, policy_tx.init(policy), value, value_tx.init(value),
                      jnp.zeros((), jnp.int32))

  out_shardings = None if mesh is None else state_shardings(config, cfg, mesh)
  return jax.jit(init, out_shardings=out_shardings)(
      llama.pure_params(policy_params), llama.pure_params(value_params))


def _split(x: jax.Array, n: int) -> jax.Array:
  """[B, ...] -> [n, B // n, ...], chunk i = rows i, i + n, ...

  Strided rather than contiguous, so each chunk draws evenly from every shard
  of a batch-sharded array and no chunk sits on a single device.
  """
  if x.shape[0] % n:
    raise ValueError(f"batch of {x.shape[0]} does not split into {n} chunks")
  x = x.reshape(x.shape[0] // n, n, *x.shape[1:]).swapaxes(0, 1)
  return partitioning.constrain(x, (None, "batch") + (None,) * (x.ndim - 2))


def _merge(x: jax.Array) -> jax.Array:
  x = x.swapaxes(0, 1)
  return x.reshape(-1, *x.shape[2:])


def _chunked_map(fn: Callable, n: int, *arrays):
  """`fn` over n strided chunks of the batch, one after another (lax.map)."""
  out = jax.lax.map(lambda xs: fn(*xs), tuple(_split(a, n) for a in arrays))
  return jax.tree.map(_merge, out)


def _global_norm(tree) -> jax.Array:
  # Spelled out: optax renamed its helper across the versions setup.py allows.
  return jnp.sqrt(sum(jnp.sum(jnp.square(x)) for x in jax.tree.leaves(tree)))


def _share(mask: jax.Array, total: jax.Array) -> jax.Array:
  """Weight turning a masked mean over this micro-batch into its share of the
  mean over the whole minibatch (`total`: its valid entries, or its summed
  weights for a float mask), so that summing over micro-batches gives exact
  minibatch means and gradients."""
  count = jnp.sum(mask.astype(jnp.float32))
  return count / jnp.where(total > 0, total, 1.0)


def _policy_objective(config, cfg, params, mb, total_tokens):
  # Log-probs and entropy in one chunked pass over the output layer: no
  # [B, S, V] logits (PPOConfig.logits_chunk).
  logp, entropy = llama.token_logprobs(config, params, mb["tokens"], chunk=cfg.logits_chunk,
                                       entropy=True)
  mask = mb["loss_weight"]  # response tokens, weighted by PPOConfig.loss_aggregation
  share = _share(mask, total_tokens)
  loss = share * ppo.policy_loss(logp, mb["old_logp"], mb["behaviour_logp"], mb["advantages"],
                                 mask, cfg.clip_eps)
  kl_ref = share * ppo.masked_mean(ppo.kl_to_reference(logp, mb["ref_logp"]), mask)
  if cfg.kl_loss_coef:
    loss = loss + cfg.kl_loss_coef * kl_ref
  logp = jax.lax.stop_gradient(logp)
  weights = ppo.importance_weight_stats(logp, mb["behaviour_logp"], mask)
  aux = {
      "policy_loss": loss,
      "kl_ref_token": jax.lax.stop_gradient(kl_ref),
      "clip_frac": share * ppo.clip_fraction(logp, mb["old_logp"], mask, cfg.clip_eps),
      "approx_kl": share * ppo.approx_kl(logp, mb["old_logp"], mask),
      "entropy": share * ppo.masked_mean(entropy, mask),
      "is_weight_mean": share * weights["is_weight_mean"],
      "is_truncated_frac": share * weights["is_truncated_frac"],
      "is_weight_max": weights["is_weight_max"],
  }
  return loss, aux


def _value_objective(config, cfg, params, mb, total_turns):
  values = ppo.values_at(llama.value_forward(config, params, mb["tokens"]),
                         mb["value_positions"])
  mask = mb["turn_mask"]
  loss = _share(mask, total_turns) * ppo.value_loss(values, mb["old_values"], mb["returns"],
                                                     mask, cfg.value_clip)
  return loss, {"value_loss": loss}


def _accumulated_grads(objective, params, mb, total, microbatches):
  """Gradient and aux of `objective` summed over micro-batches of `mb`."""
  grad_fn = jax.value_and_grad(objective, has_aux=True)
  if microbatches == 1:
    (_, aux), grads = grad_fn(params, mb, total)
    return grads, aux

  def body(acc, micro):
    (_, aux), grads = grad_fn(params, micro, total)
    return jax.tree.map(jnp.add, acc, grads), aux

  zeros = jax.tree.map(jnp.zeros_like, params)
  grads, aux = jax.lax.scan(body, zeros, jax.tree.map(lambda x: _split(x, microbatches), mb))
  reduce = {k: (jnp.max if k.endswith("_max") else jnp.sum) for k in aux}
  return grads, {k: reduce[k](v) for k, v in aux.items()}


def _score(config: LlamaConfig, cfg: PPOConfig, policy_params: Params, ref_params: Params,
           value_params: Params, tokens: jax.Array):
  """Teacher-forced pi_old and rho log-probs and V of `tokens` [B, S] (each [B, S])."""
  chunk = cfg.logits_chunk
  old = llama.token_logprobs(config, policy_params, tokens, chunk=chunk)
  ref = llama.token_logprobs(config, ref_params, tokens, chunk=chunk)
  if not _uses_value(cfg):
    return old, ref, jnp.zeros_like(old)
  return old, ref, llama.value_forward(config, value_params, tokens)


def prepare(config: LlamaConfig, cfg: PPOConfig, state: TrainState, ref_params: Params,
            batch: Rollouts) -> tuple[dict[str, jax.Array], dict[str, jax.Array]]:
  """The pi_old / rho / V passes, KL-penalised returns and advantages.

  Returns the per-episode arrays the minibatch steps consume (`tokens`,
  `response_mask`, `behaviour_logp`, `old_logp`, token-level `advantages`,
  `value_positions`, `turn_mask`, `old_values`, `returns`) and batch-level
  statistics. Pure and jittable; `make_update` runs it inside its jit.
  """
  score = functools.partial(_score, config, cfg, state.policy_params, ref_params,
                            state.value_params)
  chunks = cfg.forward_chunks or cfg.num_minibatches
  old_logp, ref_logp, values = _chunked_map(score, chunks, batch.tokens)
  return finish_prepare(cfg, batch, old_logp, ref_logp, values)


def finish_prepare(cfg: PPOConfig, batch: Rollouts, old_logp: jax.Array, ref_logp: jax.Array,
                   values: jax.Array) -> tuple[dict[str, jax.Array], dict[str, jax.Array]]:
  """`prepare` after its forward passes: returns, advantages, the minibatch data."""
  num_turns = batch.turn_mask.shape[1]
  turn_mask = batch.turn_mask.astype(bool)
  # pi in the KL penalty is pi_old, scored like rho (docs/ppo.md).
  logratio = ppo.turn_logratio(old_logp, ref_logp, batch.turn_index, num_turns)
  shaped = ppo.kl_penalized_rewards(batch.rewards, logratio, cfg.kl_beta, turn_mask)
  returns = ppo.turn_returns(shaped, turn_mask)
  old_values = ppo.values_at(values, batch.value_positions)
  if _uses_value(cfg):
    raw_adv = jnp.where(turn_mask, returns - old_values, 0.0)
    advantages = ppo.normalize(raw_adv, turn_mask) if cfg.normalize_advantages else raw_adv
  else:
    if batch.group is None:
      raise ValueError('PPOConfig.advantage = "group" needs Rollouts.group')
    baseline = ppo.group_baseline(returns[:, 0], batch.group, turn_mask[:, 0])
    raw_adv = jnp.where(turn_mask, returns - baseline[:, None], 0.0)
    advantages = raw_adv
    if cfg.normalize_advantages:
      advantages = raw_adv / (jnp.sqrt(ppo.masked_var(raw_adv, turn_mask)) + 1e-8)
  data = {
      "tokens": batch.tokens,
      "response_mask": batch.response_mask.astype(bool),
      "loss_weight": ppo.token_weights(batch.response_mask, cfg.loss_aggregation),
      "behaviour_logp": batch.behaviour_logp.astype(jnp.float32),
      "old_logp": old_logp,
      "ref_logp": ref_logp,
      "advantages": ppo.turns_to_tokens(advantages, batch.turn_index),
      "value_positions": batch.value_positions,
      "turn_mask": turn_mask,
      "old_values": old_values,
      "returns": returns,
  }
  stats = {
      "reward_mean": ppo.masked_mean(batch.rewards, turn_mask),
      "kl_ref": ppo.masked_mean(logratio, turn_mask),
      "return_mean": ppo.masked_mean(returns, turn_mask),
      "value_mean": ppo.masked_mean(old_values, turn_mask),
      "value_explained_var": ppo.explained_variance(old_values, returns, turn_mask),
      "advantage_mean": ppo.masked_mean(raw_adv, turn_mask),
      "advantage_std": jnp.sqrt(ppo.masked_var(raw_adv, turn_mask)),
      "num_turns": jnp.sum(turn_mask.astype(jnp.float32)),
      "num_response_tokens": jnp.sum(data["response_mask"].astype(jnp.float32)),
  }
  return data, stats


def _apply_grads(policy_tx, value_tx, lr_schedules, state: TrainState, p_grads, v_grads, aux):
  """One AdamW step of each network from its minibatch gradient; the step's metrics.

  `v_grads` None (the "group" advantage): the value net and its optimizer
  state stay as they are."""
  p_updates, p_opt = policy_tx.update(p_grads, state.policy_opt_state, state.policy_params)
  value_params, v_opt = state.value_params, state.value_opt_state
  if v_grads is not None:
    v_updates, v_opt = value_tx.update(v_grads, v_opt, value_params)
    value_params = optax.apply_updates(value_params, v_updates)
  metrics = {**aux,
             "policy_grad_norm": _global_norm(p_grads),
             "value_grad_norm": jnp.zeros(()) if v_grads is None else _global_norm(v_grads),
             "lr": lr_schedules[0](state.step),
             "value_lr": lr_schedules[1](state.step)}
  state = TrainState(optax.apply_updates(state.policy_params, p_updates), p_opt,
                     value_params, v_opt, state.step + 1)
  return state, metrics


def _uses_value(cfg: PPOConfig) -> bool:
  return cfg.advantage == "value"


def _value_grads(config, cfg, value_params, mb, total_turns, microbatches):
  """The value net's minibatch gradient and loss; (None, 0) when it is not used."""
  if not _uses_value(cfg):
    return None, {"value_loss": jnp.zeros(())}
  return _accumulated_grads(functools.partial(_value_objective, config, cfg), value_params,
                            mb, total_turns, microbatches)


def _reduce_metrics(metrics):
  """Per-step metrics (stacked on axis 0) -> one number each: max for `*_max`, else mean."""
  return {k: (jnp.max(v) if k.endswith("_max") else jnp.mean(v)) for k, v in metrics.items()}


def _update(config, cfg, policy_tx, value_tx, state: TrainState, ref_params, batch: Rollouts,
            rng):
  data, stats = prepare(config, cfg, state, ref_params, batch)
  lr_schedules = schedules(cfg)

  def minibatch_step(state: TrainState, mb):
    total_tokens = jnp.sum(mb["loss_weight"])
    total_turns = jnp.sum(mb["turn_mask"].astype(jnp.float32))
    p_grads, p_aux = _accumulated_grads(functools.partial(_policy_objective, config, cfg),
                                        state.policy_params, mb, total_tokens, cfg.microbatches)
    v_grads, v_aux = _value_grads(config, cfg, state.value_params, mb, total_turns,
                                  cfg.microbatches)
    return _apply_grads(policy_tx, value_tx, lr_schedules, state, p_grads, v_grads,
                        {**p_aux, **v_aux})

  def epoch(state, key):
    perm = jax.random.permutation(key, batch.tokens.shape[0])
    minibatches = jax.tree.map(lambda x: _split(x[perm], cfg.num_minibatches), data)
    return jax.lax.scan(minibatch_step, state, minibatches)

  state, metrics = jax.lax.scan(epoch, state, jax.random.split(rng, cfg.epochs))
  return state, {**_reduce_metrics(metrics), **stats}


class MeshUpdate:
  """The update on a mesh: call it, or `.lower(...)` it (abstract args work),
  both under `jax.set_mesh(mesh)` so the model's activation constraints
  resolve; `.jitted` is the bare jitted function."""

  def __init__(self, jitted, mesh: Mesh):
    self.jitted, self.mesh = jitted, mesh

  def __call__(self, state, ref_params, batch, rng):
    with jax.set_mesh(self.mesh):
      return self.jitted(state, ref_params, batch, rng)

  def lower(self, state, ref_params, batch, rng):
    with jax.set_mesh(self.mesh):
      return self.jitted.lower(state, ref_params, batch, rng)


_SEQ_KEYS = ("tokens", "response_mask", "loss_weight", "behaviour_logp", "old_logp",
             "ref_logp", "advantages")


def row_lengths(batch: Rollouts) -> jax.Array:
  """int32 [B]: each row's length that any loss reads (1 for an empty row).

  Past its last response token and its last value position (of a turn that
  happened) a row's tokens feed no log-prob, value or mask that counts: the
  passes are causal, so cutting the row there changes no number the update uses.
  """
  pos = jnp.arange(batch.tokens.shape[1], dtype=jnp.int32)
  last_response = jnp.max(jnp.where(batch.response_mask.astype(bool), pos + 1, 0), axis=1)
  last_value = jnp.max(jnp.where(batch.turn_mask.astype(bool), batch.value_positions + 1, 0),
                       axis=1)
  return jnp.maximum(jnp.maximum(last_response, last_value), 1).astype(jnp.int32)


def _plan_inputs(cfg: PPOConfig, batch: Rollouts, rng):
  """What the host needs to cut the batch: lengths, loss weights and turn
  counts per row, permutations."""
  keys = jax.random.split(rng, cfg.epochs)
  perms = jax.vmap(lambda k: jax.random.permutation(k, batch.tokens.shape[0]))(keys)
  weights = ppo.token_weights(batch.response_mask, cfg.loss_aggregation)
  return (row_lengths(batch), jnp.sum(weights, axis=1),
          jnp.sum(batch.turn_mask.astype(jnp.int32), axis=1), perms)


def length_chunks(rows: np.ndarray, lengths: np.ndarray, chunk_rows: int, min_bucket: int,
                  max_len: int) -> list[tuple[np.ndarray, int]]:
  """`rows` sorted by length (stable), cut into chunks of `chunk_rows`, each with
  its bucket: `sampling.bucket_length` of its longest row, at most `max_len`.

  >>> length_chunks(np.arange(4), np.array([300, 20, 700, 40]), 2, 128, 1024)
  [(array([1, 3]), 128), (array([0, 2]), 768)]
  """
  rows = np.asarray(rows)
  order = rows[np.argsort(lengths[rows], kind="stable")]
  out = []
  for i in range(0, len(order), chunk_rows):
    idx = order[i:i + chunk_rows]
    out.append((idx, min(sampling.bucket_length(int(lengths[idx].max()), min_bucket), max_len)))
  return out


class BucketedUpdate:
  """The PPO update as small jitted programs over length buckets (`PPOConfig.length_buckets`).

  The same update as the fused program of `make_update` (same permutations,
  minibatches, losses and advantages; equal to float summation order), but
  every pass runs on chunks of `bucket_rows` rows sorted by real length
  (`row_lengths`) and cut to their bucket, so no pass computes on the padding
  of short dialogs up to the longest one (attention on a row of n tokens
  costs n^2). A minibatch's gradient is summed over its chunks exactly as
  `microbatches` sums micro-batches. Programs are compiled per (rows,
  bucket) shape and reused across rounds; `programs()` counts them.

  Call it like the fused update: `update(state, ref_params, batch, rng)`;
  the state is donated. `.lower` lowers the fused program (one program over
  the padded batch: what `tools/verify_recipe` sizes), `.fused` is it.
  """

  def __init__(self, config: LlamaConfig, cfg: PPOConfig, mesh: Mesh | None = None):
    self.config, self.cfg, self.mesh = config, cfg, mesh
    self.fused = _make_fused(config, cfg, mesh)
    self.bucket_rows = cfg.bucket_rows or (1 if mesh is None else partitioning.batch_shards(mesh))
    policy_tx, value_tx = _optimizers(cfg)
    lr_schedules = schedules(cfg)
    replicated = None if mesh is None else NamedSharding(mesh, PartitionSpec())
    state_sh = None if mesh is None else state_shardings(config, cfg, mesh)
    self.shapes: set[tuple[str, int, int]] = set()
    # Host-made indices and counts, the same on every process: replicated
    # global arrays on a mesh (so multi-process programs take them).
    self._host = ((lambda x: x) if mesh is None else
                  (lambda x: jax.device_put(x, replicated)))

    def take(x, idx, length):
      x = x[idx]
      x = x[:, :length] if length is not None else x
      return partitioning.constrain(x, ("batch",) + (None,) * (x.ndim - 1))

    def score(policy, ref, value, tokens, idx, length):
      out = _score(config, cfg, policy, ref, value, take(tokens, idx, length))
      pad = tokens.shape[1] - length
      return tuple(jnp.pad(x, ((0, 0), (0, pad))) for x in out)

    def assemble(batch, chunks, inverse):
      old, ref, values = (jnp.concatenate(parts)[inverse] for parts in zip(*chunks))
      return finish_prepare(cfg, batch, old, ref, values)

    def grads(policy, value, acc, data, idx, length, total_tokens, total_turns):
      mb = {k: take(v, idx, length if k in _SEQ_KEYS else None) for k, v in data.items()}
      p_grads, p_aux = _accumulated_grads(functools.partial(_policy_objective, config, cfg),
                                          policy, mb, total_tokens, 1)
      v_grads, v_aux = _value_grads(config, cfg, value, mb, total_turns, 1)
      aux = {**p_aux, **v_aux}
      if acc is None:
        return p_grads, v_grads, aux
      acc_p, acc_v, acc_aux = acc
      return (jax.tree.map(jnp.add, acc_p, p_grads),
              None if v_grads is None else jax.tree.map(jnp.add, acc_v, v_grads),
              {k: (jnp.maximum if k.endswith("_max") else jnp.add)(acc_aux[k], aux[k])
               for k in aux})

    def apply(state, acc):
      return _apply_grads(policy_tx, value_tx, lr_schedules, state, *acc)

    def reduce(steps, stats):
      stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *steps)
      return {**_reduce_metrics(stacked), **stats}

    self._plan = jax.jit(functools.partial(_plan_inputs, cfg), out_shardings=replicated)
    self._score = jax.jit(score, static_argnums=5)
    self._assemble = jax.jit(assemble)
    self._grads = jax.jit(grads, static_argnums=5, donate_argnums=2)
    self._apply = jax.jit(apply, donate_argnums=0,
                          out_shardings=None if mesh is None else (state_sh, replicated))
    self._reduce = jax.jit(reduce, out_shardings=replicated)

  def programs(self) -> int:
    """Compiled programs so far, over every jitted part (the fused one not counted)."""
    parts = (self._plan, self._score, self._assemble, self._grads, self._apply, self._reduce)
    return sum(f._cache_size() for f in parts)  # pylint: disable=protected-access

  def __call__(self, state: TrainState, ref_params: Params, batch: Rollouts, rng):
    if self.mesh is None:
      return self._run(state, ref_params, batch, rng)
    with jax.set_mesh(self.mesh):
      return self._run(state, ref_params, batch, rng)

  def lower(self, state, ref_params, batch, rng):
    """The fused program lowered (one program at the padded shape)."""
    return self.fused.lower(state, ref_params, batch, rng)

  def _run(self, state, ref_params, batch, rng):
    cfg = self.cfg
    lengths, tokens, turns, perms = (np.asarray(x) for x in self._plan(batch, rng))
    num_rows, max_len = batch.tokens.shape
    if num_rows % cfg.num_minibatches:
      raise ValueError(f"batch of {num_rows} does not split into {cfg.num_minibatches} chunks")
    rows = self.bucket_rows

    # pi_old, rho and V over length-sorted chunks of the whole batch.
    plan = length_chunks(np.arange(num_rows), lengths, rows, cfg.min_bucket, max_len)
    order = np.concatenate([idx for idx, _ in plan])
    scored = []
    for idx, length in plan:
      self.shapes.add(("score", len(idx), length))
      scored.append(self._score(state.policy_params, ref_params, state.value_params,
                                batch.tokens, self._host(idx.astype(np.int32)), length))
    data, stats = self._assemble(batch, tuple(scored),
                                 self._host(np.argsort(order).astype(np.int32)))

    # Minibatch i of an epoch: rows perm[i::n], as the fused program's strided split.
    steps = []
    for epoch in range(cfg.epochs):
      for i in range(cfg.num_minibatches):
        mb_rows = perms[epoch][i::cfg.num_minibatches]
        total_tokens = self._host(np.float32(tokens[mb_rows].sum()))
        total_turns = self._host(np.float32(turns[mb_rows].sum()))
        acc = None
        for idx, length in length_chunks(mb_rows, lengths, rows, cfg.min_bucket, max_len):
          self.shapes.add(("grads", len(idx), length))
          acc = self._grads(state.policy_params, state.value_params, acc, data,
                            self._host(idx.astype(np.int32)), length, total_tokens,
                            total_turns)
        state, metrics = self._apply(state, acc)
        steps.append(metrics)
    return state, self._reduce(tuple(steps), stats)


def _make_fused(config: LlamaConfig, cfg: PPOConfig, mesh: Mesh | None = None):
  """The whole update in one jitted program (see `make_update`)."""
  if cfg.num_minibatches < 1 or cfg.epochs < 1 or cfg.microbatches < 1:
    raise ValueError(f"num_minibatches, epochs and microbatches must be >= 1: {cfg}")
  if cfg.warmup_steps < 0 or cfg.value_warmup_steps < 0:
    raise ValueError(f"warmup_steps and value_warmup_steps must be >= 0: {cfg}")
  ppo.token_weights(jnp.zeros((1, 1), bool), cfg.loss_aggregation)  # checks the name
  if cfg.advantage not in ("value", "group"):
    raise ValueError(f'PPOConfig.advantage must be "value" or "group", not {cfg.advantage!r}')
  policy_tx, value_tx = _optimizers(cfg)
  fn = functools.partial(_update, config, cfg, policy_tx, value_tx)
  if mesh is None:
    return jax.jit(fn, donate_argnums=0)

  replicated = NamedSharding(mesh, PartitionSpec())
  state_sh = state_shardings(config, cfg, mesh)
  batch_sh = partitioning.logical_to_sharding(("batch",), mesh)
  jitted = jax.jit(
      fn, donate_argnums=0,
      in_shardings=(state_sh, partitioning.param_shardings(config, mesh), batch_sh, replicated),
      out_shardings=(state_sh, replicated))
  return MeshUpdate(jitted, mesh)


def make_update(config: LlamaConfig, cfg: PPOConfig, mesh: Mesh | None = None):
  """`update(state, ref_params, batch, rng) -> (state, metrics)`; state donated.

  The value net shares `config` (both start from the same LLM). With a mesh,
  inputs and outputs are placed by the rules table (the batch dim over
  data x fsdp, which must divide B / num_minibatches / microbatches) and
  activations are constrained inside. `cfg.length_buckets` (default): a
  `BucketedUpdate`, small programs over rows cut to their length; otherwise
  one fused jitted program over the padded batch (a `MeshUpdate` with a
  mesh). Both are callable and `.lower`-able (lowering the fused program).
  """
  if cfg.length_buckets:
    return BucketedUpdate(config, cfg, mesh)
  return _make_fused(config, cfg, mesh)

"""The RLEF PPO math: pure, jittable functions on masked arrays.

Token-level arrays are `[batch, seq]` (one row per episode: the whole dialog
as one token sequence); turn-level arrays are `[batch, turns]`. A `mask` (bool
or 0/1) selects the valid entries; masked means divide by the number of valid
entries (an all-masked batch gives 0, not NaN). A float mask weights the
entries instead: the means become weighted means (`token_weights`).

Token log-probs are aligned with the tokens they score: `logp[b, s]` is
log p(tokens[b, s] | tokens[b, :s]), so `response_mask` indexes both.

Example:

    from rlef_jax.rl import ppo
    logp = ppo.token_logprobs(logits, tokens)                   # [B, S]
    kl_t = ppo.turn_logratio(old_logp, ref_logp, turn_index, T)  # [B, T]
    g = ppo.turn_returns(rewards - 0.05 * kl_t, turn_mask)      # [B, T]
    adv = ppo.normalize(g - v_old, turn_mask)                    # [B, T]
    loss = ppo.policy_loss(logp, old_logp, behaviour_logp,
                           ppo.turns_to_tokens(adv, turn_index), response_mask)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array


def masked_sum(x: Array, mask: Array) -> Array:
  return jnp.sum(jnp.where(mask, x, 0.0))


def masked_mean(x: Array, mask: Array) -> Array:
  """Mean of `x` over `mask`; 0 when nothing is valid.

  A float `mask` holds weights (0: masked): the weighted mean. A bool or 0/1
  mask gives the plain mean over the valid entries.
  """
  weights = mask.astype(jnp.float32)
  total = jnp.sum(weights)
  return masked_sum(x * weights, mask) / jnp.where(total > 0, total, 1.0)


def masked_var(x: Array, mask: Array) -> Array:
  """Population variance of `x` over `mask`."""
  mean = masked_mean(x, mask)
  return masked_mean(jnp.square(x - mean), mask)


# --- Losses (the docs/design.md contract) -------------------------------------


def importance_weight(logp: Array, behaviour_logp: Array) -> Array:
  """The truncated weight min(pi/pi_b, 1), gradient stopped.

  It corrects for asynchronous sampling (behaviour policy pi_b older than
  pi_old) without letting the correction itself be optimised.
  """
  return jax.lax.stop_gradient(jnp.minimum(jnp.exp(logp - behaviour_logp), 1.0))


def policy_loss(logp: Array, old_logp: Array, behaviour_logp: Array,
                advantages: Array, mask: Array, clip_eps: float = 0.2) -> Array:
  """Clipped PPO surrogate with the truncated importance weight, token mean
  (the mean weighted by `mask` when it holds float weights: `token_weights`)."""
  ratio = jnp.exp(logp - old_logp) * importance_weight(logp, behaviour_logp)
  unclipped = ratio * advantages
  clipped = jnp.clip(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * advantages
  return -masked_mean(jnp.minimum(unclipped, clipped), mask)


def value_loss(values: Array, old_values: Array, returns: Array, mask: Array,
               clip: float = 0.2) -> Array:
  """Clipped value regression, mean over valid turns."""
  clipped = jnp.clip(values, old_values - clip, old_values + clip)
  loss = 0.5 * jnp.maximum(jnp.square(values - returns), jnp.square(clipped - returns))
  return masked_mean(loss, mask)


def turn_returns(rewards: Array, mask: Array) -> Array:
  """G_t = sum over valid turns i >= t of rewards_i (gamma = 1); 0 where masked."""
  r = jnp.where(mask, rewards, 0.0)
  g = jnp.flip(jnp.cumsum(jnp.flip(r, axis=-1), axis=-1), axis=-1)
  return jnp.where(mask, g, 0.0)


# --- Returns, advantages and the per-turn KL ------------------------------


def token_logprobs(logits: Array, tokens: Array) -> Array:
  """log p(tokens[:, s] | tokens[:, :s]) as `[B, S]`; position 0 scores 0.

  Logits at position s predict token s + 1, so the result is shifted right by
  one to line up with `tokens` (and with `response_mask`). An id outside
  [0, V) (a pad id past the vocabulary, at a masked position) scores 0: a
  gather out of range would give NaN, and NaN * 0 poisons a masked mean's
  gradient. `llama.token_logprobs` gives the same numbers without full
  [B, S, V] logits.
  """
  logits = logits[:, :-1].astype(jnp.float32)
  vocab = logits.shape[-1]
  targets = tokens[:, 1:]
  valid = (targets >= 0) & (targets < vocab)
  # logit - logsumexp keeps a second [B, S, V] array (log_softmax) out of memory.
  picked = jnp.take_along_axis(logits, jnp.clip(targets, 0, vocab - 1)[..., None], axis=-1)[..., 0]
  picked = jnp.where(valid, picked - jax.nn.logsumexp(logits, axis=-1), 0.0)
  return jnp.pad(picked, ((0, 0), (1, 0)))


def token_entropy(logits: Array) -> Array:
  """Entropy of the next-token distribution, aligned like `token_logprobs`."""
  logits = logits[:, :-1].astype(jnp.float32)
  lse = jax.nn.logsumexp(logits, axis=-1)
  ent = lse - jnp.sum(jax.nn.softmax(logits, axis=-1) * logits, axis=-1)
  return jnp.pad(ent, ((0, 0), (1, 0)))


def _turn_one_hot(turn_index: Array, num_turns: int) -> Array:
  """`[B, S, T]` float: token s is a response token of turn t."""
  return (turn_index[..., None] == jnp.arange(num_turns)).astype(jnp.float32)


def turn_logratio(logp: Array, ref_logp: Array, turn_index: Array,
                  num_turns: int) -> Array:
  """Per turn, the mean over its response tokens of (logp - ref_logp).

  `turn_index[b, s]` is the turn a response token belongs to, -1 elsewhere.
  A turn without tokens gets 0. Returns `[B, T]`.
  """
  one_hot = _turn_one_hot(turn_index, num_turns)
  diff = (logp - ref_logp).astype(jnp.float32)
  total = jnp.einsum("bs,bst->bt", diff, one_hot)
  count = jnp.sum(one_hot, axis=1)
  return total / jnp.maximum(count, 1.0)


def kl_penalized_rewards(rewards: Array, logratio: Array, beta: float,
                         mask: Array) -> Array:
  """R_t = r_t - beta * logratio_t on valid turns, 0 elsewhere."""
  return jnp.where(mask, rewards - beta * logratio, 0.0)


def group_baseline(episode_returns: Array, group: Array, valid: Array) -> Array:
  """Leave-one-out mean return of the other episodes of each episode's group.

  The RLOO baseline (Kool et al., 2019; Ahmadian et al., 2024): `group[b]`
  names the problem episode b was sampled for, `valid[b]` whether it is an
  episode at all. An episode alone in its group is its own baseline, so its
  advantage is 0; a group whose episodes all score the same teaches nothing.
  Returns `[B]`.

  >>> group_baseline(jnp.array([1., -1., -1., 0.]), jnp.array([0, 0, 0, 1]),
  ...                jnp.array([True, True, True, True])).tolist()
  [-1.0, 0.0, 0.0, 0.0]
  """
  valid = valid.astype(bool)
  same = (group[:, None] == group[None, :]) & valid[:, None] & valid[None, :]
  others = jnp.sum(same.astype(jnp.float32), axis=1) - 1.0
  total = jnp.sum(jnp.where(same, episode_returns[None, :], 0.0), axis=1)
  loo = (total - episode_returns) / jnp.maximum(others, 1.0)
  return jnp.where(others > 0, loo, episode_returns)


def token_weights(response_mask: Array, aggregation: str = "token") -> Array:
  """Per-token weights of the policy loss, `[B, S]` float (a weighted mask).

  "token": 1 on every response token, so the loss is the token mean (the
  paper's PPO) and an episode counts by its length: a failed three-turn
  episode outweighs a one-turn solve three to one. "episode": 1 / n on each
  of a row's n response tokens, so every episode counts alike however many
  turns it took (the sequence mean of GRPO-style losses). Rows without
  response tokens weigh 0.

  >>> token_weights(jnp.array([[0, 1, 1, 0], [1, 1, 1, 1]]), "episode").tolist()
  [[0.0, 0.5, 0.5, 0.0], [0.25, 0.25, 0.25, 0.25]]
  """
  weights = response_mask.astype(jnp.float32)
  if aggregation == "token":
    return weights
  if aggregation == "episode":
    return weights / jnp.maximum(jnp.sum(weights, axis=-1, keepdims=True), 1.0)
  raise ValueError(f'loss aggregation must be "token" or "episode", not {aggregation!r}')


def normalize(x: Array, mask: Array, eps: float = 1e-8) -> Array:
  """(x - mean) / std over the valid entries; 0 where masked."""
  mean = masked_mean(x, mask)
  std = jnp.sqrt(masked_var(x, mask))
  return jnp.where(mask, (x - mean) / (std + eps), 0.0)


def turns_to_tokens(per_turn: Array, turn_index: Array) -> Array:
  """Broadcast `[B, T]` values to the `[B, S]` tokens of each turn (0 elsewhere)."""
  idx = jnp.clip(turn_index, 0, per_turn.shape[-1] - 1)
  gathered = jnp.take_along_axis(per_turn, idx, axis=-1)
  return jnp.where(turn_index >= 0, gathered, 0.0)


def values_at(values: Array, positions: Array) -> Array:
  """Read `[B, S]` per-token values at `[B, T]` positions (the c_t tokens)."""
  return jnp.take_along_axis(values, positions, axis=-1)


# --- Diagnostics -----------------------------------------------------------


def clip_fraction(logp: Array, old_logp: Array, mask: Array,
                  clip_eps: float = 0.2) -> Array:
  """Fraction of valid tokens whose ratio pi/pi_old lies outside 1 +- eps."""
  ratio = jnp.exp(logp - old_logp)
  return masked_mean((jnp.abs(ratio - 1.0) > clip_eps).astype(jnp.float32), mask)


def approx_kl(logp: Array, old_logp: Array, mask: Array) -> Array:
  """k3 estimate of KL(pi_old || pi): mean of (r - 1) - log r, r = pi / pi_old.

  Unbiased on tokens sampled from pi_old and never negative (Schulman, 2020).
  """
  log_r = logp - old_logp
  return masked_mean(jnp.expm1(log_r) - log_r, mask)


def kl_to_reference(logp: Array, ref_logp: Array) -> Array:
  """Per-token k3 estimate of KL(pi || rho) on tokens sampled from pi, `[B, S]`.

  exp(q) - 1 - q with q = log rho - log pi: unbiased, never negative, and
  differentiable in `logp` (the KL term of GRPO-style losses; Schulman, 2020).
  """
  q = ref_logp - logp
  return jnp.expm1(q) - q


def explained_variance(values: Array, returns: Array, mask: Array) -> Array:
  """1 - Var(G - V) / Var(G) over valid turns: 1 is perfect, <= 0 is useless."""
  var_g = masked_var(returns, mask)
  return 1.0 - masked_var(returns - values, mask) / jnp.maximum(var_g, 1e-8)


def importance_weight_stats(logp: Array, behaviour_logp: Array,
                            mask: Array) -> dict[str, Array]:
  """Mean and max of the untruncated pi/pi_b and the fraction truncated at 1."""
  w = jnp.exp(logp - behaviour_logp)
  return {
      "is_weight_mean": masked_mean(w, mask),
      "is_weight_max": jnp.max(jnp.where(mask, w, 0.0)),
      "is_truncated_frac": masked_mean((w > 1.0).astype(jnp.float32), mask),
  }

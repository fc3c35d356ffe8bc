"""rlef_jax.rl.ppo against numpy twins written from docs/rlef_method.md sections 2-3."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlef_jax.rl import ppo

B, S, T = 6, 40, 4
EPS = 0.2


@pytest.fixture
def rng():
  return np.random.default_rng(0)


def _np_policy_terms(logp, old, beh, adv, eps):
  w = np.minimum(np.exp(logp - beh), 1.0)
  r = np.exp(logp - old) * w
  unclipped = r * adv
  clipped = np.clip(r, 1 - eps, 1 + eps) * adv
  return r, unclipped, clipped


def _np_policy_loss(logp, old, beh, adv, mask, eps):
  _, unclipped, clipped = _np_policy_terms(logp, old, beh, adv, eps)
  return -np.sum(np.minimum(unclipped, clipped) * mask) / max(mask.sum(), 1)


def _np_policy_grad(logp, old, beh, adv, mask, eps):
  """d loss / d logp with the importance weight w held constant."""
  r, unclipped, clipped = _np_policy_terms(logp, old, beh, adv, eps)
  # d(r * A)/d logp = r * A; the clipped branch is flat outside [1-eps, 1+eps].
  flows = (unclipped <= clipped) | ((r >= 1 - eps) & (r <= 1 + eps))
  return -np.where(mask & flows, r * adv, 0.0) / max(mask.sum(), 1)


def _policy_inputs(rng):
  logp = rng.normal(-2.0, 1.0, (B, S))
  old = logp - rng.uniform(-0.6, 0.6, (B, S))          # r spans 0.55 .. 1.8
  beh = old + rng.uniform(-0.4, 0.4, (B, S))           # w truncated on ~half
  adv = rng.normal(0.0, 1.0, (B, S))
  mask = rng.uniform(size=(B, S)) < 0.7
  return logp, old, beh, adv, mask


def test_policy_loss_matches_numpy_with_both_clip_edges(rng):
  logp, old, beh, adv, mask = _policy_inputs(rng)
  r, _, _ = _np_policy_terms(logp, old, beh, adv, EPS)
  valid = mask.astype(bool)
  # The random draw must exercise every branch of the clipped objective.
  for region in (r > 1 + EPS, r < 1 - EPS):
    for sign in (adv > 0, adv < 0):
      assert np.sum(region & sign & valid) >= 5
  assert np.sum((np.exp(logp - beh) > 1) & valid) >= 5   # truncated weights
  assert np.sum((np.exp(logp - beh) < 1) & valid) >= 5   # untruncated weights

  got = ppo.policy_loss(*map(jnp.asarray, (logp, old, beh, adv, mask)), clip_eps=EPS)
  np.testing.assert_allclose(got, _np_policy_loss(logp, old, beh, adv, mask, EPS),
                             rtol=1e-5)


def test_policy_loss_gradient_stops_at_importance_weight(rng):
  logp, old, beh, adv, mask = _policy_inputs(rng)
  grad_fn = jax.grad(ppo.policy_loss, argnums=(0, 1, 2))
  g_logp, g_old, g_beh = grad_fn(*map(jnp.asarray, (logp, old, beh, adv, mask)), EPS)
  want = _np_policy_grad(logp, old, beh, adv, mask, EPS)
  np.testing.assert_allclose(g_logp, want, rtol=1e-5, atol=1e-7)
  # The behaviour log-prob only enters through the stopped weight.
  np.testing.assert_array_equal(g_beh, 0.0)
  np.testing.assert_allclose(g_old, -want, rtol=1e-5, atol=1e-7)
  # Clipped-away tokens carry no gradient, on both edges.
  r, _, _ = _np_policy_terms(logp, old, beh, adv, EPS)
  dead = ((r > 1 + EPS) & (adv > 0)) | ((r < 1 - EPS) & (adv < 0))
  assert dead[mask].sum() >= 5
  np.testing.assert_array_equal(np.asarray(g_logp)[dead], 0.0)


def test_importance_weight_truncates_and_stops_gradient():
  logp = jnp.array([-1.0, -1.0, -1.0])
  beh = jnp.array([-1.5, -1.0, -0.5])
  np.testing.assert_allclose(ppo.importance_weight(logp, beh), [1.0, 1.0, np.exp(-0.5)],
                             rtol=1e-6)
  grad = jax.grad(lambda x: ppo.importance_weight(x, beh).sum())(logp)
  np.testing.assert_array_equal(grad, 0.0)


def _np_value_loss(v, v_old, g, mask, clip):
  clipped = np.clip(v, v_old - clip, v_old + clip)
  loss = 0.5 * np.maximum((v - g) ** 2, (clipped - g) ** 2)
  return np.sum(loss * mask) / max(mask.sum(), 1)


def test_value_loss_matches_numpy_with_clipping_both_ways(rng):
  v_old = rng.normal(size=(B * 8, T))
  v = v_old + rng.uniform(-0.6, 0.6, v_old.shape)
  g = rng.normal(size=v_old.shape)
  mask = rng.uniform(size=v_old.shape) < 0.8
  above, below = v > v_old + EPS, v < v_old - EPS
  # Both clip directions must occur where the clipped term is the larger one.
  clipped = np.clip(v, v_old - EPS, v_old + EPS)
  wins = (clipped - g) ** 2 > (v - g) ** 2
  assert np.sum(above & wins & mask) >= 3 and np.sum(below & wins & mask) >= 3

  args = tuple(map(jnp.asarray, (v, v_old, g, mask)))
  np.testing.assert_allclose(ppo.value_loss(*args, clip=EPS),
                             _np_value_loss(v, v_old, g, mask, EPS), rtol=1e-5)
  # Where the clipped term wins, V gets no gradient; elsewhere (V - G) / n.
  grad = jax.grad(ppo.value_loss)(*args, EPS)
  want = np.where(mask & ~wins, v - g, 0.0) / mask.sum()
  np.testing.assert_allclose(grad, want, rtol=1e-5, atol=1e-7)


def test_turn_returns_sum_later_valid_turns(rng):
  rewards = rng.normal(size=(B, T))
  num_turns = np.array([1, 2, 3, 4, 0, 2])
  mask = np.arange(T)[None] < num_turns[:, None]
  want = np.zeros((B, T))
  for b in range(B):
    for t in range(num_turns[b]):
      want[b, t] = rewards[b, t:num_turns[b]].sum()
  got = ppo.turn_returns(jnp.asarray(rewards), jnp.asarray(mask))
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_normalize_uses_valid_entries_only(rng):
  x = rng.normal(3.0, 2.0, (B, T))
  mask = rng.uniform(size=(B, T)) < 0.6
  x_poisoned = np.where(mask, x, 1e6)  # invalid entries must not leak in
  valid = x[mask]
  want = np.where(mask, (x - valid.mean()) / (valid.std() + 1e-8), 0.0)
  got = ppo.normalize(jnp.asarray(x_poisoned), jnp.asarray(mask))
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def _turn_layout(rng):
  """A random `turn_index` with a few response spans per row, -1 elsewhere."""
  turn_index = -np.ones((B, S), dtype=np.int32)
  for b in range(B):
    start = 2
    for t in range(rng.integers(1, T + 1)):
      length = rng.integers(1, 6)
      turn_index[b, start:start + length] = t
      start += length + rng.integers(1, 4)
  return turn_index


def test_turn_logratio_is_mean_over_turn_tokens(rng):
  turn_index = _turn_layout(rng)
  logp = rng.normal(-2, 1, (B, S))
  ref = rng.normal(-2, 1, (B, S))
  want = np.zeros((B, T))
  for b in range(B):
    for t in range(T):
      sel = turn_index[b] == t
      if sel.any():
        want[b, t] = np.mean(logp[b, sel] - ref[b, sel])
  got = ppo.turn_logratio(jnp.asarray(logp), jnp.asarray(ref), jnp.asarray(turn_index), T)
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_kl_penalized_rewards_and_turn_broadcast(rng):
  rewards = rng.normal(size=(B, T))
  logratio = rng.normal(size=(B, T))
  mask = rng.uniform(size=(B, T)) < 0.7
  got = ppo.kl_penalized_rewards(jnp.asarray(rewards), jnp.asarray(logratio), 0.05,
                                 jnp.asarray(mask))
  np.testing.assert_allclose(got, np.where(mask, rewards - 0.05 * logratio, 0), rtol=1e-6)

  turn_index = _turn_layout(rng)
  per_turn = rng.normal(size=(B, T))
  want = np.where(turn_index >= 0,
                  per_turn[np.arange(B)[:, None], np.maximum(turn_index, 0)], 0.0)
  np.testing.assert_allclose(
      ppo.turns_to_tokens(jnp.asarray(per_turn), jnp.asarray(turn_index)), want, rtol=1e-6)

  values = rng.normal(size=(B, S))
  positions = rng.integers(0, S, (B, T))
  np.testing.assert_allclose(ppo.values_at(jnp.asarray(values), jnp.asarray(positions)),
                             np.take_along_axis(values, positions, axis=1), rtol=1e-6)


def test_token_logprobs_and_entropy_are_shifted_log_softmax(rng):
  vocab = 11
  logits = rng.normal(size=(B, S, vocab)) * 3
  tokens = rng.integers(0, vocab, (B, S))
  logsm = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  want_logp = np.zeros((B, S))
  want_logp[:, 1:] = np.take_along_axis(logsm[:, :-1], tokens[:, 1:, None], -1)[..., 0]
  want_ent = np.zeros((B, S))
  want_ent[:, 1:] = -(np.exp(logsm) * logsm).sum(-1)[:, :-1]
  np.testing.assert_allclose(ppo.token_logprobs(jnp.asarray(logits), jnp.asarray(tokens)),
                             want_logp, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(ppo.token_entropy(jnp.asarray(logits)), want_ent,
                             rtol=1e-5, atol=1e-5)


def test_diagnostics_match_numpy(rng):
  logp, old, beh, _, mask = _policy_inputs(rng)
  args = tuple(map(jnp.asarray, (logp, old, mask)))
  r = np.exp(logp - old)
  np.testing.assert_allclose(ppo.clip_fraction(*args, clip_eps=EPS),
                             np.mean(np.abs(r - 1)[mask] > EPS), rtol=1e-6)
  np.testing.assert_allclose(ppo.approx_kl(*args),
                             np.mean((r - 1 - np.log(r))[mask]), rtol=1e-5)

  w = np.exp(logp - beh)
  stats = ppo.importance_weight_stats(jnp.asarray(logp), jnp.asarray(beh), jnp.asarray(mask))
  np.testing.assert_allclose(stats["is_weight_mean"], w[mask].mean(), rtol=1e-5)
  np.testing.assert_allclose(stats["is_weight_max"], w[mask].max(), rtol=1e-5)
  np.testing.assert_allclose(stats["is_truncated_frac"], np.mean(w[mask] > 1), rtol=1e-6)

  g = rng.normal(size=(B, T))
  v = g + rng.normal(0, 0.5, (B, T))
  tmask = rng.uniform(size=(B, T)) < 0.8
  want = 1 - np.var((g - v)[tmask]) / np.var(g[tmask])
  np.testing.assert_allclose(
      ppo.explained_variance(jnp.asarray(v), jnp.asarray(g), jnp.asarray(tmask)),
      want, rtol=1e-5)


def test_all_masked_gives_zero_not_nan():
  z = jnp.zeros((2, 3))
  m = jnp.zeros((2, 3), bool)
  assert float(ppo.policy_loss(z, z, z, z + 1, m)) == 0.0
  assert float(ppo.value_loss(z, z, z + 1, m)) == 0.0
  np.testing.assert_array_equal(ppo.normalize(z + 1, m), 0.0)

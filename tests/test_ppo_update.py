"""The jitted PPO update: it learns, and sharding / micro-batching change nothing."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from rlef_jax import sharding
from rlef_jax.models import configs, llama
from rlef_jax.rl import ppo
from rlef_jax.rl import update as ppo_update

CFG = configs.get("tiny", vocab_size=256, hidden_size=64, intermediate_size=128, num_layers=2,
                  num_heads=4, num_kv_heads=2, head_dim=16)

# A two-turn dialog: prompt 1, response 1, fixed feedback, response 2, padding.
PROMPT, RESP, FEEDBACK = 6, 6, 4
SEQ = PROMPT + RESP + FEEDBACK + RESP + 2
RESPONSE_POS = np.r_[PROMPT:PROMPT + RESP, PROMPT + RESP + FEEDBACK:SEQ - 2]
TURN_INDEX = np.full(SEQ, -1, np.int32)
TURN_INDEX[PROMPT:PROMPT + RESP] = 0
TURN_INDEX[PROMPT + RESP + FEEDBACK:SEQ - 2] = 1
VALUE_POS = np.array([PROMPT - 1, PROMPT + RESP + FEEDBACK - 1], np.int32)
FEEDBACK_TOKENS = np.array([250, 251, 252, 253], np.int32)
FAVOURED = 32  # the reward favours token ids below this: 1/8 of the vocabulary


@jax.jit
def _sample(params, prompts, key):
  """Temperature-1 responses by full teacher-forced passes (cheap at this size)."""
  b = prompts.shape[0]
  tokens = jnp.zeros((b, SEQ), jnp.int32).at[:, :PROMPT].set(prompts)
  tokens = tokens.at[:, PROMPT + RESP:PROMPT + RESP + FEEDBACK].set(FEEDBACK_TOKENS)

  def step(i, carry):
    tokens, logp = carry
    pos = jnp.asarray(RESPONSE_POS)[i]
    logits = jax.lax.dynamic_index_in_dim(llama.forward(CFG, params, tokens), pos - 1, 1,
                                          keepdims=False)
    tok = jax.random.categorical(jax.random.fold_in(key, i), logits)
    tok_logp = jnp.take_along_axis(jax.nn.log_softmax(logits), tok[:, None], axis=1)
    return tokens.at[:, pos].set(tok), logp.at[:, pos].set(tok_logp[:, 0])

  return jax.lax.fori_loop(0, len(RESPONSE_POS), step, (tokens, jnp.zeros((b, SEQ))))


def _rollouts(tokens, behaviour_logp):
  """Final-turn reward 2 * (share of favoured tokens in response 2) - 1; turn 1 gets 0."""
  tokens = np.asarray(tokens)
  b = len(tokens)
  share = (tokens[:, TURN_INDEX == 1] < FAVOURED).mean(axis=1)
  rewards = np.stack([np.zeros(b), 2 * share - 1], axis=1).astype(np.float32)
  return ppo_update.Rollouts(
      tokens=jnp.asarray(tokens),
      response_mask=jnp.asarray(np.tile(TURN_INDEX >= 0, (b, 1))),
      turn_index=jnp.asarray(np.tile(TURN_INDEX, (b, 1))),
      behaviour_logp=jnp.asarray(behaviour_logp, jnp.float32),
      value_positions=jnp.asarray(np.tile(VALUE_POS, (b, 1))),
      turn_mask=jnp.ones((b, 2), bool),
      rewards=jnp.asarray(rewards))


@jax.jit
def _favoured_mass_and_kl_arrays(params, ref, tokens):
  lp = jax.nn.log_softmax(llama.forward(CFG, params, tokens)[:, RESPONSE_POS - 1])
  lq = jax.nn.log_softmax(llama.forward(CFG, ref, tokens)[:, RESPONSE_POS - 1])
  mass = jnp.exp(lp[..., :FAVOURED]).sum(-1).mean()
  kl = (jnp.exp(lp) * (lp - lq)).sum(-1).mean()
  return mass, kl


def _favoured_mass_and_kl(params, ref, tokens):
  """Mean P(favoured) and KL(pi || ref) over the next-token dists of response positions."""
  return tuple(map(float, _favoured_mass_and_kl_arrays(params, ref, tokens)))


def _init(seed=0):
  params = llama.init_params(CFG, jax.random.key(seed))
  return params, llama.add_value_head(CFG, params, jax.random.key(seed + 1))


def _prompts(rng, b):
  return jnp.asarray(rng.integers(FAVOURED, 250, (b, PROMPT)), jnp.int32)


def test_reward_raises_favoured_tokens_with_bounded_kl():
  params, value_params = _init()
  ref = ppo_update.reference_params(params)
  cfg = ppo_update.PPOConfig(lr=3e-3, warmup_steps=0)
  state = ppo_update.init_state(CFG, cfg, params, value_params)
  update = ppo_update.make_update(CFG, cfg)
  rng = np.random.default_rng(0)
  eval_tokens, _ = _sample(ref, _prompts(rng, 64), jax.random.key(99))
  mass0, kl0 = _favoured_mass_and_kl(state.policy_params, ref, eval_tokens)
  assert abs(mass0 - 1 / 8) < 0.02 and kl0 == 0.0

  key = jax.random.key(5)
  rewards = []
  for _ in range(14):
    key, k_sample, k_update = jax.random.split(key, 3)
    tokens, logp = _sample(state.policy_params, _prompts(rng, 32), k_sample)
    state, metrics = update(state, ref, _rollouts(tokens, logp), k_update)
    rewards.append(float(metrics["reward_mean"]))
    assert all(np.isfinite(float(v)) for v in metrics.values())
  mass, kl = _favoured_mass_and_kl(state.policy_params, ref, eval_tokens)

  assert mass > 2 * mass0, (mass0, mass)
  assert np.mean(rewards[-3:]) > np.mean(rewards[:3])
  # The cheapest policy that already earns the full reward moves all mass onto
  # the favoured eighth and leaves everything else alone: KL = log(1/mass0)
  # (~2.08 nats) on response-2 positions, 0 on response 1. Part-way there, a
  # policy further from rho than that is drifting where the reward does not ask.
  assert 0.0 < kl < np.log(1 / mass0), kl
  assert float(metrics["kl_ref"]) > 0.0


def test_group_advantage_learns_without_a_value_net():
  """The RLOO baseline over rollouts of the same prompt: the favoured-token
  task is learnt as with the value net, which is neither run nor changed."""
  params, value_params = _init()
  ref = ppo_update.reference_params(params)
  cfg = ppo_update.PPOConfig(lr=3e-3, warmup_steps=0, advantage="group")
  state = ppo_update.init_state(CFG, cfg, params, value_params)
  value_before = jax.device_get(state.value_params)
  update = ppo_update.make_update(CFG, cfg)
  rng = np.random.default_rng(0)
  eval_tokens, _ = _sample(ref, _prompts(rng, 64), jax.random.key(99))
  mass0, _ = _favoured_mass_and_kl(state.policy_params, ref, eval_tokens)
  key = jax.random.key(5)
  rewards = []
  for _ in range(14):
    key, k_sample, k_update = jax.random.split(key, 3)
    prompts = jnp.repeat(_prompts(rng, 8), 4, axis=0)  # 8 problems x 4 rollouts
    tokens, logp = _sample(state.policy_params, prompts, k_sample)
    batch = _rollouts(tokens, logp).replace(group=jnp.repeat(jnp.arange(8), 4))
    state, metrics = update(state, ref, batch, k_update)
    rewards.append(float(metrics["reward_mean"]))
    assert float(metrics["value_loss"]) == 0.0 and float(metrics["value_grad_norm"]) == 0.0
  mass, kl = _favoured_mass_and_kl(state.policy_params, ref, eval_tokens)
  assert mass > 2 * mass0, (mass0, mass)
  assert np.mean(rewards[-3:]) > np.mean(rewards[:3])
  assert 0.0 < kl < np.log(1 / mass0), kl
  jax.tree.map(np.testing.assert_array_equal, jax.device_get(state.value_params), value_before)


def test_group_advantage_is_the_leave_one_out_mean():
  policy, value_params = _init(0)
  ref, _ = _init(2)
  batch = _batch(0, b=8)
  group = np.array([0, 0, 0, 1, 1, 2, 3, 3])
  valid = np.ones(8, bool)
  valid[7] = False  # a padding row: no turns, no group partner
  batch = batch.replace(group=jnp.asarray(np.where(valid, group, -1)),
                        turn_mask=jnp.asarray(np.asarray(batch.turn_mask) & valid[:, None]))
  cfg = ppo_update.PPOConfig(kl_beta=0.5, num_minibatches=2, advantage="group")
  state = ppo_update.init_state(CFG, cfg, policy, value_params)
  data, _ = jax.jit(ppo_update.prepare, static_argnums=(0, 1))(CFG, cfg, state, ref, batch)
  returns = np.asarray(data["returns"])
  g1 = returns[:, 0]
  baseline = np.array([(g1[[1, 2]]).mean(), (g1[[0, 2]]).mean(), (g1[[0, 1]]).mean(),
                       g1[4], g1[3], g1[5], g1[6], 0.0])
  adv = np.where(np.asarray(batch.turn_mask), returns - baseline[:, None], 0.0)
  mask = np.asarray(batch.turn_mask)
  adv = adv / (adv[mask].std() + 1e-8)
  want_tokens = np.where(TURN_INDEX >= 0, adv[:, np.maximum(TURN_INDEX, 0)], 0.0)
  np.testing.assert_allclose(data["advantages"], want_tokens, rtol=1e-4, atol=1e-5)
  # Singletons (rows 5 and 6) teach nothing on their first turn.
  np.testing.assert_allclose(np.asarray(data["advantages"])[5:7, TURN_INDEX == 0], 0.0, atol=1e-6)
  with pytest.raises(ValueError, match="Rollouts.group"):
    jax.jit(ppo_update.prepare, static_argnums=(0, 1))(CFG, cfg, state, ref,
                                                        batch.replace(group=None))
  with pytest.raises(ValueError, match="advantage"):
    ppo_update.make_update(CFG, dataclasses.replace(cfg, advantage="grpo"))


def test_value_head_scale():
  params = llama.init_params(CFG, jax.random.key(0))
  tokens = _prompts(np.random.default_rng(0), 4)
  paper = llama.value_forward(CFG, llama.add_value_head(CFG, params, jax.random.key(1)), tokens)
  zero = llama.add_value_head(CFG, params, jax.random.key(1), scale=0.0)
  half = llama.add_value_head(CFG, params, jax.random.key(1), scale=0.5)
  assert float(jnp.std(paper)) > 0.1  # the paper's head: O(1) noise across positions
  np.testing.assert_array_equal(llama.value_forward(CFG, zero, tokens), 0.0)
  np.testing.assert_allclose(llama.value_forward(CFG, half, tokens), 0.5 * paper, rtol=1e-5,
                             atol=1e-6)


def test_value_warmup_holds_the_policy_and_trains_the_value():
  params, value_params = _init()
  ref = ppo_update.reference_params(params)
  cfg = ppo_update.PPOConfig(lr=3e-3, warmup_steps=0, value_warmup_steps=2, num_minibatches=2)
  tokens, logp = _sample(params, _prompts(np.random.default_rng(0), 16), jax.random.key(3))
  params0, value0 = jax.tree.map(np.asarray, (params, value_params))
  state = ppo_update.init_state(CFG, cfg, params, value_params)
  update = ppo_update.make_update(CFG, cfg)
  changed = lambda new, old: jax.tree.leaves(jax.tree.map(lambda a, b: bool(np.any(a != b)),
                                                          jax.tree.map(np.asarray, new), old))
  state, metrics = update(state, ref, _rollouts(tokens, logp), jax.random.key(4))
  assert not any(changed(state.policy_params, params0))  # 2 steps at lr 0, decay included
  assert all(changed(state.value_params["value_head"], value0["value_head"]))
  assert float(metrics["lr"]) == 0.0
  state, metrics = update(state, ref, _rollouts(tokens, logp), jax.random.key(5))
  np.testing.assert_allclose(float(metrics["lr"]), 3e-3)  # steps 2 and 3: no ramp (warmup 0)
  assert any(changed(state.policy_params, params0))


def _batch(seed, b=16):
  params, _ = _init(seed)
  rng = np.random.default_rng(seed)
  tokens, logp = _sample(params, _prompts(rng, b), jax.random.key(seed))
  # Behaviour log-probs of a slightly different (older) policy, so the
  # importance weight is both truncated and not.
  return _rollouts(tokens, np.asarray(logp) + rng.normal(0, 0.1, logp.shape) * (logp != 0))


def _one_update(cfg, mesh=None, seed=0):
  params, value_params = _init(seed)
  ref = ppo_update.reference_params(params)
  if mesh is not None:
    ref = sharding.shard_params(ref, CFG, mesh)
  state = ppo_update.init_state(CFG, cfg, params, value_params, mesh)
  update = ppo_update.make_update(CFG, cfg, mesh)
  new_state, metrics = update(state, ref, _batch(seed + 10), jax.random.key(3))
  # The state is donated (its buffers reused in place); the reference is not.
  assert all(x.is_deleted() for x in jax.tree.leaves(state.policy_params))
  assert not any(x.is_deleted() for x in jax.tree.leaves(ref))
  return jax.device_get((new_state, metrics))


def _assert_states_close(a, b):
  for (path, x), y in zip(jax.tree_util.tree_flatten_with_path(a)[0], jax.tree.leaves(b)):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-7,
                               err_msg=jax.tree_util.keystr(path))


def _assert_metrics_close(a, b):
  assert a.keys() == b.keys()
  for k in a:
    np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-7, err_msg=k)


# Adam's first step moves each weight by lr * g / (|g| + eps): for a weight
# whose gradient is ~1e-9, float32 summation order alone decides the step.
# eps = 1e-3 makes the step Lipschitz in g (constant lr / eps), so two
# float32 computations of the same gradient (differing by ~1e-7 relative) give
# parameters equal to rtol 1e-5; gradient scale errors, which Adam would hide,
# are caught by the gradient-norm and loss metrics compared at rtol 1e-5.
EQUIV_CFG = ppo_update.PPOConfig(lr=1e-3, warmup_steps=0, adam_eps=1e-3, num_minibatches=2,
                                 epochs=2, max_grad_norm=1.0)


@pytest.fixture(scope="module")
def single_device_update():
  return _one_update(EQUIV_CFG)


@pytest.mark.parametrize("length_buckets", [True, False])
def test_sharded_update_equals_single_device(single_device_update, length_buckets):
  if jax.device_count() < 8:
    pytest.skip("needs 8 (virtual) devices; conftest sets them up for CPU")
  mesh = sharding.make_mesh(sharding.MeshConfig(data=2, fsdp=2, tensor=2))
  single_state, single_metrics = single_device_update
  sharded_state, sharded_metrics = _one_update(
      dataclasses.replace(EQUIV_CFG, length_buckets=length_buckets), mesh)
  _assert_metrics_close(single_metrics, sharded_metrics)
  _assert_states_close(single_state, sharded_state)
  params, _ = _init()
  moved = jax.tree.map(lambda p, q: np.abs(np.asarray(p) - np.asarray(q)).max(), params,
                       single_state.policy_params)
  assert max(jax.tree.leaves(moved)) > 1e-4  # the update did something


def test_episode_aggregation_weighs_every_episode_alike():
  """"episode": the loss is the mean over rows of each row's token mean; a
  row's length no longer sets its weight."""
  batch = _uneven_batch()
  params, value_params = _init(0)
  ref = ppo_update.reference_params(params)
  cfg = ppo_update.PPOConfig(loss_aggregation="episode", num_minibatches=1)
  state = ppo_update.init_state(CFG, cfg, params, value_params)
  data, _ = jax.jit(ppo_update.prepare, static_argnums=(0, 1))(CFG, cfg, state, ref, batch)
  mask = np.asarray(batch.response_mask)
  logp = np.asarray(data["old_logp"]) + 0.1 * mask  # pi moved off pi_old a little
  got = float(ppo.policy_loss(jnp.asarray(logp), data["old_logp"], data["behaviour_logp"],
                              data["advantages"], data["loss_weight"]))
  ratio = np.exp(0.1) * np.minimum(np.exp(logp - np.asarray(batch.behaviour_logp)), 1.0)
  adv = np.asarray(data["advantages"])
  per_token = -np.minimum(ratio * adv, np.clip(ratio, 0.8, 1.2) * adv)
  want = np.mean([per_token[b][mask[b]].mean() for b in range(len(mask))])
  np.testing.assert_allclose(got, want, rtol=1e-5)
  token_mean = per_token[mask].mean()
  assert abs(want - token_mean) > 1e-3  # rows of 12 and 22 tokens: the two differ
  with pytest.raises(ValueError, match="aggregation"):
    ppo_update.make_update(CFG, dataclasses.replace(cfg, loss_aggregation="sequence"))


def test_kl_loss_pulls_the_policy_to_the_reference():
  """With no reward signal (every advantage 0) only the token-level KL term
  moves the policy: towards rho, by its k3 estimate on the batch."""
  policy, value_params = _init(0)
  ref, _ = _init(2)
  batch = _batch(0, b=8)
  batch = batch.replace(rewards=jnp.zeros_like(batch.rewards), group=jnp.arange(8) // 4)
  cfg = ppo_update.PPOConfig(lr=1e-3, warmup_steps=0, kl_beta=0.0, kl_loss_coef=1.0,
                             advantage="group", num_minibatches=1, epochs=4)
  state = ppo_update.init_state(CFG, cfg, policy, value_params)
  update = ppo_update.make_update(CFG, cfg)
  state, first = update(state, ref, batch, jax.random.key(0))
  _, after = update(state, ref, batch, jax.random.key(1))
  assert float(first["kl_ref_token"]) > 1e-3
  assert float(after["kl_ref_token"]) < 0.5 * float(first["kl_ref_token"])
  # The PPO term is 0: the policy loss is the KL term alone.
  np.testing.assert_allclose(float(first["policy_loss"]), float(first["kl_ref_token"]),
                             rtol=1e-5)


def test_microbatches_accumulate_exactly(single_device_update):
  # The fused program's micro-batches (the bucketed update sums its length
  # chunks instead), against the bucketed single-device update.
  whole_state, whole_metrics = single_device_update
  micro_state, micro_metrics = _one_update(
      dataclasses.replace(EQUIV_CFG, microbatches=2, length_buckets=False))
  _assert_metrics_close(whole_metrics, micro_metrics)
  _assert_states_close(whole_state, micro_state)


def test_sharded_state_follows_rules_table():
  if jax.device_count() < 8:
    pytest.skip("needs 8 (virtual) devices; conftest sets them up for CPU")
  mesh = sharding.make_mesh(sharding.MeshConfig(data=2, fsdp=2, tensor=2))
  params, value_params = _init()
  state = ppo_update.init_state(CFG, EQUIV_CFG, params, value_params, mesh)
  wq = state.policy_params["layers"]["attn"]["wq"]
  assert wq.sharding.spec == jax.sharding.PartitionSpec(None, "fsdp", "tensor", None)
  # AdamW moments are sharded like their parameter; the frozen reference has none.
  mu = optax.tree_utils.tree_get(state.policy_opt_state, "mu")["layers"]["attn"]["wq"]
  assert mu.sharding.spec == wq.sharding.spec
  assert "lm_head" not in state.value_params and "value_head" in state.value_params


def test_warmup_and_decay_mask():
  schedule = ppo_update.warmup_schedule(2e-7, 50)
  np.testing.assert_allclose([schedule(0), schedule(24), schedule(49), schedule(500)],
                             [2e-7 / 50, 2e-7 / 2, 2e-7, 2e-7], rtol=1e-6)
  # value_warmup_steps delays the policy's schedule (warm-up included), not the value's.
  policy, value = ppo_update.schedules(ppo_update.PPOConfig(lr=1.0, value_lr=2.0, warmup_steps=2,
                                                            value_warmup_steps=3))
  np.testing.assert_allclose([policy(s) for s in range(6)], [0, 0, 0, 0.5, 1, 1])
  np.testing.assert_allclose([value(s) for s in range(4)], [1, 2, 2, 2])
  # With zero gradients only weight decay moves params: matrices shrink by
  # lr * wd, norm scales and the value bias stay put.
  cfg = ppo_update.PPOConfig(lr=0.5, warmup_steps=0, weight_decay=0.1)
  params = {"w": jnp.ones((2, 2)), "norm": {"scale": jnp.ones(2)},
            "value_head": {"kernel": jnp.ones(2), "bias": jnp.ones(())}}
  tx = ppo_update.make_optimizer(cfg, cfg.lr)
  updates, _ = tx.update(jax.tree.map(jnp.zeros_like, params), tx.init(params), params)
  new = optax.apply_updates(params, updates)
  np.testing.assert_allclose(new["w"], 1 - 0.5 * 0.1, rtol=1e-6)
  np.testing.assert_allclose(new["value_head"]["kernel"], 1 - 0.5 * 0.1, rtol=1e-6)
  np.testing.assert_array_equal(new["norm"]["scale"], 1.0)
  np.testing.assert_array_equal(new["value_head"]["bias"], 1.0)


def test_prepare_folds_kl_penalty_into_returns_and_advantages():
  policy, value_params = _init(0)
  ref, _ = _init(2)  # a different rho, so the KL term is far from 0
  batch = _batch(0, b=8)
  cfg = ppo_update.PPOConfig(kl_beta=0.5, num_minibatches=2)
  state = ppo_update.init_state(CFG, cfg, policy, value_params)
  data, stats = jax.jit(ppo_update.prepare, static_argnums=(0, 1))(CFG, cfg, state, ref, batch)

  tokens = batch.tokens
  old = np.asarray(ppo.token_logprobs(llama.forward(CFG, policy, tokens), tokens))
  rho = np.asarray(ppo.token_logprobs(llama.forward(CFG, ref, tokens), tokens))
  values = np.asarray(llama.value_forward(CFG, value_params, tokens))
  rewards = np.asarray(batch.rewards)
  logratio = np.stack([(old - rho)[:, TURN_INDEX == t].mean(axis=1) for t in range(2)], axis=1)
  shaped = rewards - 0.5 * logratio
  returns = np.stack([shaped.sum(axis=1), shaped[:, 1]], axis=1)
  v_old = values[:, VALUE_POS]
  adv = returns - v_old
  adv = (adv - adv.mean()) / (adv.std() + 1e-8)
  want_tokens = np.where(TURN_INDEX >= 0, adv[:, np.maximum(TURN_INDEX, 0)], 0.0)

  np.testing.assert_allclose(data["old_logp"], old, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(data["old_values"], v_old, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(data["returns"], returns, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(data["advantages"], want_tokens, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(stats["kl_ref"], logratio.mean(), rtol=1e-5)
  assert abs(float(stats["kl_ref"])) > 0.01


def test_update_with_a_mesh_lowers_from_abstract_shapes():
  """`make_update(..., mesh).lower` from ShapeDtypeStructs only: what verify_recipe compiles."""
  mesh = sharding.make_mesh(sharding.MeshConfig(data=2, fsdp=2, tensor=2))
  state = ppo_update.abstract_state(CFG, EQUIV_CFG, mesh)
  assert state.policy_params["layers"]["attn"]["wq"].sharding.spec == \
      jax.sharding.PartitionSpec(None, "fsdp", "tensor", None)
  ref = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, jnp.bfloat16, sharding=x.sharding),
                     state.policy_params)
  batch = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), _batch(0, b=8))
  key = jax.eval_shape(lambda: jax.random.key(0))
  compiled = ppo_update.make_update(CFG, EQUIV_CFG, mesh).lower(state, ref, batch, key).compile()
  assert compiled.memory_analysis().temp_size_in_bytes > 0
  assert "all-gather" in compiled.as_text()  # FSDP gathers weights at their use


def _uneven_batch(seed=10, b=16):
  """`_batch` with turn 2 dropped on every other row: rows of 12 and 22 tokens."""
  batch = _batch(seed, b)
  short = np.arange(b) % 2 == 1
  turn_index = np.array(batch.turn_index)
  turn_index[short] = np.where(turn_index[short] == 1, -1, turn_index[short])
  tokens = np.array(batch.tokens)
  tokens[short, PROMPT + RESP:] = 0
  turn_mask = np.array(batch.turn_mask)
  turn_mask[short, 1] = False
  rewards = np.array(batch.rewards)
  rewards[short] = [0.5, 0.0]
  return batch.replace(tokens=jnp.asarray(tokens), turn_index=jnp.asarray(turn_index),
                       response_mask=jnp.asarray(turn_index >= 0), turn_mask=jnp.asarray(turn_mask),
                       rewards=jnp.asarray(rewards),
                       behaviour_logp=jnp.where(turn_index >= 0, batch.behaviour_logp, 0.0))


def test_row_lengths_and_length_chunks():
  lengths = np.asarray(ppo_update.row_lengths(_uneven_batch()))
  np.testing.assert_array_equal(lengths, np.where(np.arange(16) % 2, PROMPT + RESP, SEQ - 2))
  chunks = ppo_update.length_chunks(np.array([5, 0, 3, 2]), lengths, 2, 1, SEQ)
  assert [(list(idx), n) for idx, n in chunks] == [([5, 3], 12), ([0, 2], 24)]
  # Buckets never exceed the batch's padded length.
  assert ppo_update.length_chunks(np.arange(4), lengths, 4, 128, SEQ)[0][1] == SEQ


@pytest.mark.parametrize("bucket_rows,advantage,aggregation",
                         [(1, "value", "token"), (4, "value", "token"), (4, "group", "episode")])
def test_length_buckets_give_the_fused_update(bucket_rows, advantage, aggregation):
  """Rows cut to their length bucket, chunk gradients summed: the fused update's
  numbers (same minibatches, advantages and losses), to float summation order."""
  batch = _uneven_batch().replace(group=jnp.arange(16) // 4)
  cfg = dataclasses.replace(EQUIV_CFG, advantage=advantage, loss_aggregation=aggregation)
  fused_cfg = dataclasses.replace(cfg, length_buckets=False)
  bucketed_cfg = dataclasses.replace(cfg, length_buckets=True, bucket_rows=bucket_rows,
                                     min_bucket=1)
  out = {}
  for name, cfg in (("fused", fused_cfg), ("bucketed", bucketed_cfg)):
    params, value_params = _init(0)
    ref = ppo_update.reference_params(params)
    state = ppo_update.init_state(CFG, cfg, params, value_params)
    update = ppo_update.make_update(CFG, cfg)
    new_state, metrics = update(state, ref, batch, jax.random.key(3))
    assert all(x.is_deleted() for x in jax.tree.leaves(state.policy_params))
    out[name] = jax.device_get((new_state, metrics)), update
  (fused_state, fused_metrics), _ = out["fused"]
  (state, metrics), update = out["bucketed"]
  _assert_metrics_close(fused_metrics, metrics)
  _assert_states_close(fused_state, state)
  # Short rows ran at their own bucket: 12 of the padded 24 tokens.
  assert {("score", bucket_rows, 12), ("grads", bucket_rows, 12)} <= update.shapes
  assert update.programs() > 0


def test_bucketed_update_on_a_mesh_equals_fused_single_device():
  if jax.device_count() < 8:
    pytest.skip("needs 8 (virtual) devices; conftest sets them up for CPU")
  mesh = sharding.make_mesh(sharding.MeshConfig(data=2, fsdp=2, tensor=2))
  batch = _uneven_batch()
  params, value_params = _init(0)
  cfg = dataclasses.replace(EQUIV_CFG, length_buckets=False)
  update = ppo_update.make_update(CFG, cfg)
  want = jax.device_get(update(ppo_update.init_state(CFG, cfg, params, value_params),
                               ppo_update.reference_params(params), batch, jax.random.key(3)))
  cfg = dataclasses.replace(EQUIV_CFG, min_bucket=1)
  update = ppo_update.make_update(CFG, cfg, mesh)
  assert update.bucket_rows == 4  # data x fsdp
  state = ppo_update.init_state(CFG, cfg, params, value_params, mesh)
  ref = sharding.shard_params(ppo_update.reference_params(params), CFG, mesh)
  new_state, metrics = update(state, ref, batch, jax.random.key(3))
  wq = new_state.policy_params["layers"]["attn"]["wq"]
  assert wq.sharding.spec == jax.sharding.PartitionSpec(None, "fsdp", "tensor", None)
  got = jax.device_get((new_state, metrics))
  _assert_metrics_close(want[1], got[1])
  _assert_states_close(want[0], got[0])

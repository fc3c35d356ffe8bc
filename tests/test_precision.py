"""Precision policy, memory-lean passes (chunked log-probs, remat, chunked attention), inference rules."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from rlef_jax import sharding
from rlef_jax.models import configs, llama, precision
from rlef_jax.rl import ppo

CFG = configs.get("tiny", vocab_size=512, num_layers=2)
TOKENS = np.random.default_rng(0).integers(0, CFG.vocab_size, (2, 24)).astype(np.int32)


@pytest.fixture(scope="module")
def params():
  return llama.init_params(CFG, jax.random.key(0))


# --- dtypes ------------------------------------------------------------------


def _adamw_steps(dtype, lr, steps=3):
  w = (0.02 * jax.random.normal(jax.random.key(0), (4096,))).astype(dtype)
  tx = optax.adamw(lr, weight_decay=0.0)
  state = tx.init(w)
  w0 = w
  for i in range(steps):
    g = jax.random.normal(jax.random.key(i + 1), w.shape).astype(dtype)
    updates, state = tx.update(g, state, w)
    w = optax.apply_updates(w, updates)
  return np.asarray(w0, np.float32), np.asarray(w, np.float32)


def test_bf16_master_weights_stop_learning_at_the_papers_lr():
  w0, w = _adamw_steps(jnp.bfloat16, 2e-7)
  assert np.mean(w != w0) < 0.01  # every step rounds back to the old weight
  w0, w = _adamw_steps(jnp.float32, 2e-7)
  assert np.mean(w != w0) > 0.99
  np.testing.assert_allclose(np.abs(w - w0).mean(), 3 * 2e-7, rtol=0.5)
  assert not precision.update_resolution("bfloat16", 2e-7)["survives"]
  assert precision.update_resolution("float32", 2e-7)["survives"]
  with pytest.raises(ValueError, match="round"):
    precision.PrecisionPolicy(param_dtype="bfloat16").check_lr(2e-7)
  precision.PrecisionPolicy().check_lr(2e-7)


def test_policy_configs_and_names():
  pol = precision.PrecisionPolicy()
  train = pol.apply(CFG)
  assert train.param_dtype == jnp.float32 and train.compute_dtype == jnp.bfloat16
  samp = pol.sampler_config(train)
  assert samp.param_dtype == jnp.bfloat16 and samp.sharding_rules == "inference"
  with pytest.raises(ValueError, match="dtype name"):
    precision.PrecisionPolicy(compute_dtype="bf16")
  with pytest.raises(ValueError, match="float32"):
    precision.PrecisionPolicy(logits_dtype="bfloat16")
  assert pol.bytes_per_param() == {"master": 4, "adam_moments": 8, "sampler": 2, "reference": 2}


def test_sampler_params_cast_and_placed_by_inference_rules(params):
  pol = precision.PrecisionPolicy()
  mesh = sharding.make_mesh(sharding.MeshConfig(data=2, fsdp=2, tensor=2))
  placed = sharding.shard_params(params, CFG, mesh)
  copy = pol.sampler_params(CFG, placed, mesh)
  want = sharding.param_shardings(CFG, mesh, params, sharding.INFERENCE_RULES)
  for (path, leaf), sh, orig in zip(jax.tree_util.tree_flatten_with_path(copy)[0],
                                    jax.tree.leaves(want), jax.tree.leaves(params)):
    assert leaf.dtype == jnp.bfloat16, path
    assert leaf.sharding.is_equivalent_to(sh, leaf.ndim), path
    np.testing.assert_array_equal(np.asarray(leaf, np.float32),
                                  np.asarray(orig.astype(jnp.bfloat16), np.float32))
  # Inference: weights never over fsdp/data; the table split along its width.
  assert want["layers"]["mlp"]["w_up"].spec == sharding.PartitionSpec(None, None, "tensor")
  assert want["embed"]["embedding"].spec == sharding.PartitionSpec(None, "tensor")
  ref = pol.reference_params(params)
  assert jax.tree.leaves(ref)[0].dtype == jnp.bfloat16


# --- chunked log-probs and entropy ----------------------------------------------


@pytest.mark.parametrize("chunk", [5, 8, 23])
def test_chunked_logprobs_equal_full_vocab_ones(params, chunk):
  full_logits = llama.forward(CFG, params, TOKENS)
  want_logp = ppo.token_logprobs(full_logits, TOKENS)
  want_ent = ppo.token_entropy(full_logits)
  logp, ent = llama.token_logprobs(CFG, params, TOKENS, chunk=chunk, entropy=True)
  np.testing.assert_allclose(logp, want_logp, atol=1e-5)
  np.testing.assert_allclose(ent, want_ent, atol=1e-5)

  def loss_full(p):
    return jnp.sum(ppo.token_logprobs(llama.forward(CFG, p, TOKENS), TOKENS))

  def loss_chunked(p):
    return jnp.sum(llama.token_logprobs(CFG, p, TOKENS, chunk=chunk))

  g_full = jax.jit(jax.grad(loss_full))(params)
  g_chunk = jax.jit(jax.grad(loss_chunked))(params)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-4), g_chunk, g_full)


def test_pad_ids_outside_the_vocab_give_no_nan(params):
  tokens = TOKENS.copy()
  tokens[:, -4:] = CFG.vocab_size + 7  # pads past the vocabulary
  mask = np.ones(tokens.shape, bool)
  mask[:, -4:] = False
  logits = llama.forward(CFG, params, tokens)
  for logp in (ppo.token_logprobs(logits, tokens),
               llama.token_logprobs(CFG, params, tokens, chunk=8)):
    assert np.isfinite(np.asarray(logp)).all()
    np.testing.assert_array_equal(np.asarray(logp)[:, -4:], 0.0)

  def loss(p):
    return ppo.masked_mean(llama.token_logprobs(CFG, p, tokens, chunk=8), mask)

  grads = jax.grad(loss)(params)
  assert all(np.isfinite(np.asarray(g)).all() for g in jax.tree.leaves(grads))


# --- remat and attention ---------------------------------------------------------


def _loss(cfg, p):
  return jnp.sum(llama.token_logprobs(cfg, p, TOKENS, chunk=8))


@pytest.mark.parametrize("remat", ["full", "dots", "attention"])
def test_remat_changes_no_gradient(params, remat):
  plain = jax.jit(jax.value_and_grad(lambda p: _loss(CFG, p)))(params)
  cfg = CFG.replace(remat=remat)
  got = jax.jit(jax.value_and_grad(lambda p: _loss(cfg, p)))(params)
  np.testing.assert_allclose(got[0], plain[0], rtol=1e-6)
  # Recomputation may fuse differently: float32 reassociation, nothing more.
  jax.tree.map(lambda a, b: np.testing.assert_allclose(
      a, b, rtol=1e-5, atol=1e-4 * float(np.abs(b).max())), got[1], plain[1])


@pytest.mark.parametrize("impl,chunk", [("einsum", 7), ("dot_product", None), ("dot_product", 8)])
def test_attention_paths_agree(params, impl, chunk):
  mask = np.ones(TOKENS.shape, np.int32)
  mask[0, :5] = 0  # left padding: fully masked query rows stay finite
  base = jax.jit(lambda p: llama.forward(CFG.replace(attention_impl="einsum"), p, TOKENS,
                                         attention_mask=mask))(params)
  cfg = CFG.replace(attention_impl=impl, attention_chunk=chunk)
  got = jax.jit(lambda p: llama.forward(cfg, p, TOKENS, attention_mask=mask))(params)
  assert np.isfinite(np.asarray(got)).all()
  np.testing.assert_allclose(got, base, atol=2e-5, rtol=1e-5)
  g0 = jax.grad(lambda p: _loss(CFG.replace(attention_impl="einsum"), p))(params)
  g1 = jax.grad(lambda p: _loss(cfg, p))(params)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-4), g1, g0)


def test_chunked_prefill_matches(params):
  """Query-chunked attention on the cache layout (a long prefill) is the same model."""
  cache = llama.init_cache(CFG, 2, 32)
  pos = np.tile(np.arange(TOKENS.shape[1]), (2, 1))
  kv_mask = np.zeros((2, 32), bool)
  kv_mask[:, :TOKENS.shape[1]] = True
  want, _ = llama.forward_with_cache(CFG, params, TOKENS, cache, 0, pos, kv_mask)
  got, _ = llama.forward_with_cache(CFG.replace(attention_chunk=5), params, TOKENS,
                                    llama.init_cache(CFG, 2, 32), 0, pos, kv_mask)
  np.testing.assert_allclose(got, want, atol=2e-5)


def test_config_refuses_unknown_policies():
  with pytest.raises(ValueError, match="remat"):
    CFG.replace(remat="sometimes")
  with pytest.raises(ValueError, match="attention_impl"):
    CFG.replace(attention_impl="flash")
  with pytest.raises(ValueError, match="sharding_rules"):
    CFG.replace(sharding_rules="serve")

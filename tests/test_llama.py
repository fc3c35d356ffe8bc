"""The Llama port: RoPE against independent formulas, GQA, remat, dtypes, padding, cache."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from rlef_jax.models import configs, llama

CFG = configs.get("tiny", vocab_size=512, num_layers=2)
TOKENS = np.random.default_rng(0).integers(0, CFG.vocab_size, (2, 12)).astype(np.int32)


@pytest.fixture(scope="module")
def params():
  return llama.init_params(CFG, jax.random.key(0))


def _forward(cfg, p, tokens, **kw):
  return jax.jit(llama.forward, static_argnums=0)(cfg, p, tokens, **kw)


# --- RoPE -------------------------------------------------------------------

def _meta_freqs(dim, theta, scaling):
  """Transcription of Meta's `precompute_freqs_cis` + `apply_scaling` (llama-models)."""
  freqs = 1.0 / (theta ** (np.arange(0, dim, 2)[: dim // 2].astype(np.float64) / dim))
  if scaling is None:
    return freqs
  low_wavelen = scaling.original_max_position_embeddings / scaling.low_freq_factor
  high_wavelen = scaling.original_max_position_embeddings / scaling.high_freq_factor
  wavelen = 2 * np.pi / freqs
  new = np.where(wavelen > low_wavelen, freqs / scaling.factor, freqs)
  smooth = (scaling.original_max_position_embeddings / wavelen - scaling.low_freq_factor) / (
      scaling.high_freq_factor - scaling.low_freq_factor)
  return np.where((wavelen >= high_wavelen) & (wavelen <= low_wavelen),
                  (1 - smooth) * new / scaling.factor + smooth * new, new)


def _meta_rotate(x_halves, positions, freqs):
  """Meta's complex (interleaved) rotation applied to an HF-layout vector."""
  half = x_halves.shape[-1] // 2
  z = x_halves[..., :half] + 1j * x_halves[..., half:]  # pair i <-> (i, i + half)
  rotated = z * np.exp(1j * positions[..., None] * freqs)
  return np.concatenate([rotated.real, rotated.imag], axis=-1)


@pytest.mark.parametrize("name", ["llama3_8b", "llama3_1_8b", "llama3_2_1b", "tiny"])
def test_rope_inv_freq_matches_meta_and_hf(name):
  cfg = configs.get(name)
  ours = llama.rope_inv_freq(cfg)
  np.testing.assert_allclose(ours, _meta_freqs(cfg.head_dim, cfg.rope_theta, cfg.rope_scaling),
                             rtol=1e-6)
  if cfg.rope_scaling is not None:
    transformers = pytest.importorskip("transformers")
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
    hf_freq, _ = ROPE_INIT_FUNCTIONS["llama3"](transformers.LlamaConfig(**cfg.to_hf_dict()), None)
    np.testing.assert_allclose(ours, hf_freq.numpy(), rtol=1e-6)


def test_rope_theta_and_scaling_explicit_values():
  c31 = configs.get("llama3_1_8b")
  freqs = llama.rope_inv_freq(c31)
  # Highest frequency: wavelength 2*pi << 2048, unscaled.
  assert freqs[0] == pytest.approx(1.0)
  assert freqs[1] == pytest.approx(500000.0 ** (-2 / 128), rel=1e-6)
  # Lowest frequency: wavelength > 8192, divided by factor 8.
  assert freqs[63] == pytest.approx(500000.0 ** (-126 / 128) / 8, rel=1e-6)
  # Llama 3.0 (no scaling) keeps the raw theta frequencies everywhere.
  c30 = configs.get("llama3_8b")
  assert llama.rope_inv_freq(c30)[63] == pytest.approx(500000.0 ** (-126 / 128), rel=1e-6)
  # Theta is honoured: a different base gives a different rotation.
  c10k = c30.replace(rope_theta=10000.0)
  assert llama.rope_inv_freq(c10k)[1] == pytest.approx(10000.0 ** (-2 / 128), rel=1e-6)


@pytest.mark.parametrize("name", ["llama3_8b", "llama3_1_8b"])
def test_apply_rope_matches_meta_complex_rotation(name):
  cfg = configs.get(name)
  rng = np.random.default_rng(1)
  x = rng.normal(size=(2, 5, 3, cfg.head_dim)).astype(np.float32)
  positions = np.array([[0, 1, 7, 4000, 100000], [3, 9000, 20000, 2, 131071]])
  cos, sin = llama.rope_cos_sin(cfg, jnp.asarray(positions))
  ours = np.asarray(llama.apply_rope(jnp.asarray(x), cos, sin))
  freqs = _meta_freqs(cfg.head_dim, cfg.rope_theta, cfg.rope_scaling)
  want = _meta_rotate(x, positions[:, :, None].astype(np.float64), freqs)
  # float32 angles carry a relative rounding of ~2^-23 (as in HF and Meta), so
  # the error bound grows with the position and the pair's magnitude.
  half = cfg.head_dim // 2
  magnitude = np.tile(np.hypot(x[..., :half], x[..., half:]), 2)
  bound = 1e-5 + 2.4e-7 * positions[:, :, None, None] * magnitude
  assert np.all(np.abs(ours - want) <= bound), np.max(np.abs(ours - want) - bound)


def test_rope_scores_depend_only_on_relative_position():
  cfg = configs.get("llama3_1_8b")
  rng = np.random.default_rng(2)
  q = jnp.asarray(rng.normal(size=(1, 1, 1, cfg.head_dim)), jnp.float32)
  k = jnp.asarray(rng.normal(size=(1, 1, 1, cfg.head_dim)), jnp.float32)

  def score(m, n):
    cm, sm = llama.rope_cos_sin(cfg, jnp.array([[m]]))
    cn, sn = llama.rope_cos_sin(cfg, jnp.array([[n]]))
    return float(jnp.sum(llama.apply_rope(q, cm, sm) * llama.apply_rope(k, cn, sn)))

  assert score(10, 3) == pytest.approx(score(1010, 1003), rel=1e-4)
  assert score(10, 3) != pytest.approx(score(10, 4), rel=1e-3)


# --- architecture -----------------------------------------------------------

def test_gqa_equals_repeated_kv_heads(params):
  group = CFG.num_heads // CFG.num_kv_heads
  assert group > 1
  full = CFG.replace(num_kv_heads=CFG.num_heads)
  p_full = jax.tree.map(lambda x: x, params)
  for name in ("wk", "wv"):
    # Query head n reads kv head n // group (HF `repeat_kv`).
    p_full["layers"]["attn"][name] = jnp.repeat(params["layers"]["attn"][name], group, axis=2)
  np.testing.assert_allclose(_forward(full, p_full, TOKENS), _forward(CFG, params, TOKENS),
                             atol=1e-5)


def test_attention_matches_naive_softmax():
  rng = np.random.default_rng(3)
  q = rng.normal(size=(1, 4, 4, 8)).astype(np.float32)
  k = rng.normal(size=(1, 4, 2, 8)).astype(np.float32)
  v = rng.normal(size=(1, 4, 2, 8)).astype(np.float32)
  mask = np.tril(np.ones((4, 4), bool))[None]
  out = np.asarray(llama.attention(jnp.asarray(q), jnp.asarray(k), jnp.asarray(v), mask))
  for n in range(4):
    s = q[0, :, n] @ k[0, :, n // 2].T / np.sqrt(8)
    s = np.where(mask[0], s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(out[0, :, n], p @ v[0, :, n // 2], atol=1e-5)


def test_remat_same_values_and_grads(params):
  def loss(cfg, p):
    logp = jax.nn.log_softmax(llama.forward(cfg, p, TOKENS[:, :-1]))
    return -jnp.mean(jnp.take_along_axis(logp, TOKENS[:, 1:, None], -1))

  plain = jax.jit(jax.value_and_grad(lambda p: loss(CFG, p)))(params)
  remat = jax.jit(jax.value_and_grad(lambda p: loss(CFG.replace(remat=True), p)))(params)
  np.testing.assert_allclose(remat[0], plain[0], rtol=1e-6)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7),
               remat[1], plain[1])


def test_bf16_compute_close_to_fp32(params):
  ref = np.asarray(_forward(CFG, params, TOKENS))
  # The floor: the same float32 computation with weights rounded to bf16.
  rounded = jax.tree.map(lambda x: x.astype(jnp.bfloat16).astype(jnp.float32), params)
  floor = np.abs(np.asarray(_forward(CFG, rounded, TOKENS)) - ref).mean()
  for cfg in (CFG.replace(compute_dtype=jnp.bfloat16),
              CFG.replace(compute_dtype=jnp.bfloat16, param_dtype=jnp.bfloat16)):
    out = _forward(cfg, jax.tree.map(lambda x: x.astype(cfg.param_dtype), params), TOKENS)
    assert out.dtype == jnp.float32
    err = np.abs(np.asarray(out) - ref)
    # bf16 keeps 8 mantissa bits (relative step 2^-8 = 0.4%): errors of a few
    # steps, and no more than a small multiple of rounding the weights alone.
    assert err.max() < 0.05 * ref.std() and err.mean() < 0.01 * ref.std(), err.max() / ref.std()
    assert err.mean() < 3 * floor, (err.mean(), floor)
    assert (np.asarray(out).argmax(-1) == ref.argmax(-1)).mean() > 0.9


def test_tied_embeddings_use_embedding_transpose(params):
  tied = CFG.replace(tie_word_embeddings=True)
  p = {k: v for k, v in params.items() if k != "lm_head"}
  h = llama.hidden_states(tied, p, TOKENS)
  want = np.asarray(h) @ np.asarray(params["embed"]["embedding"]).T
  np.testing.assert_allclose(_forward(tied, p, TOKENS), want, atol=1e-5)
  assert "lm_head" not in llama.init_params(tied, jax.random.key(0))


def test_left_padding_matches_unpadded(params):
  pad = 4
  row = TOKENS[:1]
  padded = np.concatenate([np.zeros((1, pad), np.int32), row], axis=1)
  mask = np.concatenate([np.zeros((1, pad), np.int32), np.ones_like(row)], axis=1)
  got = _forward(CFG, params, padded, attention_mask=mask)[:, pad:]
  np.testing.assert_allclose(got, _forward(CFG, params, row), atol=1e-5)


@pytest.mark.parametrize("per_layer", [False, True], ids=["stacked", "per_layer"])
def test_cache_prefill_then_decode_matches_full_forward(params, per_layer):
  full = _forward(CFG, params, TOKENS)
  b, t = TOKENS.shape
  cache = llama.init_cache(CFG, b, 16, per_layer=per_layer)
  if per_layer:  # a per-layer cache goes with unrolled layers
    params = llama.decode_layout(CFG, params)
  kv_mask = jnp.zeros((b, 16), bool)
  step = jax.jit(llama.forward_with_cache, static_argnums=0)
  chunks = [(0, 8), (8, 9), (9, 12)]
  for lo, hi in chunks:
    kv_mask = kv_mask.at[:, lo:hi].set(True)
    positions = jnp.broadcast_to(jnp.arange(lo, hi), (b, hi - lo))
    logits, cache = step(CFG, params, TOKENS[:, lo:hi], cache, lo, positions, kv_mask)
    np.testing.assert_allclose(logits, full[:, lo:hi], atol=1e-5)


@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
def test_decode_layout_is_the_same_model(params, tied):
  cfg = CFG.replace(tie_word_embeddings=tied)
  p = dict(params)
  if tied:
    p.pop("lm_head")
  fwd = jax.jit(llama.forward, static_argnums=0)
  laid = llama.decode_layout(cfg, p)
  assert isinstance(laid["layers"], tuple) and len(laid["layers"]) == cfg.num_layers
  wq = laid["layers"][1]["attn"]["wq"]
  assert isinstance(wq, llama.OutIn) and wq.w.shape == (cfg.num_heads * cfg.head_dim, cfg.hidden_size)
  np.testing.assert_allclose(fwd(cfg, laid, TOKENS), fwd(cfg, p, TOKENS), atol=1e-5)
  again = llama.decode_layout(cfg, laid)  # already laid out: unchanged
  assert jax.tree.structure(again) == jax.tree.structure(laid)
  assert all(a is b for a, b in zip(jax.tree.leaves(again), jax.tree.leaves(laid)))
  # Unstacked alone (stored-order kernels) runs the same model too.
  np.testing.assert_allclose(fwd(cfg, llama.unstack_layers(p), TOKENS), fwd(cfg, p, TOKENS),
                             atol=1e-5)


def test_cache_overflow_is_refused(params):
  cache = llama.init_cache(CFG, 1, 8)
  with pytest.raises(ValueError, match="do not fit a 8-slot cache"):
    llama.forward_with_cache(CFG, params, TOKENS[:1, :4], cache, 6, jnp.arange(4)[None],
                             jnp.ones((1, 8), bool))
  with pytest.raises(ValueError, match="attending to 9 slots"):
    llama.forward_with_cache(CFG, params, TOKENS[:1, :4], cache, 0, jnp.arange(4)[None],
                             jnp.ones((1, 8), bool), attend_len=9)


def test_per_layer_cache_needs_unrolled_layers(params):
  cache = llama.init_cache(CFG, 1, 16, per_layer=True)
  with pytest.raises(ValueError, match="unstacked layers"):
    llama.forward_with_cache(CFG, params, TOKENS[:1, :4], cache, 0,
                             jnp.arange(4)[None], jnp.ones((1, 16), bool))


def test_nnx_module_matches_functional(params):
  model = llama.Llama(CFG, rngs=nnx.Rngs(0), params=params)
  np.testing.assert_allclose(model(TOKENS), _forward(CFG, params, TOKENS), atol=1e-6)
  state = nnx.state(model, nnx.Param)
  np.testing.assert_allclose(_forward(CFG, state, TOKENS), _forward(CFG, params, TOKENS), atol=1e-6)
  pure = nnx.to_pure_dict(state)
  assert jax.tree.structure(pure) == jax.tree.structure(params)
  shapes = jax.tree.map(lambda x: x.shape, params)
  assert shapes == jax.tree.map(tuple, llama.param_shapes(CFG), is_leaf=lambda s: isinstance(s, tuple))


def test_value_model(params):
  vp = llama.add_value_head(CFG, params, jax.random.key(5))
  assert "lm_head" not in vp and vp["value_head"]["kernel"].shape == (CFG.hidden_size,)
  values = jax.jit(llama.value_forward, static_argnums=0)(CFG, vp, TOKENS)
  assert values.shape == TOKENS.shape and values.dtype == jnp.float32
  h = np.asarray(llama.hidden_states(CFG, params, TOKENS))
  np.testing.assert_allclose(values, h @ np.asarray(vp["value_head"]["kernel"]), atol=1e-5)
  model = llama.LlamaValue(CFG, rngs=nnx.Rngs(0), params=vp)
  np.testing.assert_allclose(model(TOKENS), values, atol=1e-6)
  grads = jax.grad(lambda p: llama.value_forward(CFG, p, TOKENS).sum())(vp)
  assert float(jnp.abs(grads["layers"]["mlp"]["w_up"]).sum()) > 0

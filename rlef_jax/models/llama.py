"""Llama 3 / 3.1 / 3.2 decoder: a pure forward over a param pytree, and NNX wrappers.

The math lives in pure functions of `(config, params, tokens)`; the layers are
stacked along a leading axis and run with `lax.scan`, so compile time does not
grow with depth (`unstack_layers` / `decode_layout` give an unrolled form for
CPU decoding, where a scan's per-layer slices are copies). `Llama` and `LlamaValue` are Flax NNX modules holding the
same pytree as `nnx.Param`s annotated with their logical axes.

The parameter layout (shapes and logical axes of every leaf) is declared once
in `layout.py`.

RoPE follows the Hugging Face layout (rotate the two halves of each head), so
HF checkpoints load by transpose/reshape alone.

Example:

    from rlef_jax.models import configs, llama
    cfg = configs.get("tiny")
    params = llama.init_params(cfg, jax.random.key(0))
    logits = jax.jit(llama.forward, static_argnums=0)(cfg, params, tokens)  # [B, T, V] f32
    model = llama.Llama(cfg, rngs=nnx.Rngs(0))      # the same model as an NNX module
    values = llama.value_forward(cfg, llama.add_value_head(cfg, params, rng), tokens)  # [B, T]
    logp, ent = llama.token_logprobs(cfg, params, tokens, chunk=512, entropy=True)  # no [B, T, V]
    fast = llama.decode_layout(cfg, params)   # unrolled, [out, in] kernels: CPU decoding
    cache = llama.init_cache(cfg, batch=2, length=64, per_layer=True)
    logits, cache = llama.forward_with_cache(cfg, fast, tokens, cache, 0, positions, kv_mask)
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.ad_checkpoint import checkpoint_name

from rlef_jax.models import partitioning
from rlef_jax.models.configs import LlamaConfig
from rlef_jax.models.layout import (VALUE_HEAD_AXES, Params, param_logical_axes, param_shapes,
                                     pure_params)

_INIT_STD = 0.02  # Hugging Face's `initializer_range` for Llama.


class KVCache(NamedTuple):
  """Static-shape key/value buffers (layouts in `layout.KEY_CACHE_AXES` and
  `VALUE_CACHE_AXES`): keys [layers, batch, kv_heads, head_dim, cache_seq],
  values [layers, batch, kv_heads, cache_seq, head_dim].

  Stacked (one array each, for `lax.scan` over layers) or per layer (a tuple
  of [batch, ...] arrays each, for unrolled layers: each layer's buffers are
  then read in place, where slicing a stacked one would copy it).
  """

  k: jax.Array | tuple[jax.Array, ...]
  v: jax.Array | tuple[jax.Array, ...]

  @property
  def length(self) -> int:
    """Cache slots per row."""
    return (self.k[0] if isinstance(self.k, tuple) else self.k).shape[-1]


def init_params(config: LlamaConfig, rng: jax.Array) -> Params:
  """Random params (normal(0.02) matrices, unit norm scales) as a pure dict."""
  shapes = param_shapes(config)
  leaves, treedef = jax.tree.flatten(shapes, is_leaf=lambda s: isinstance(s, tuple))
  paths = [jax.tree_util.keystr(p) for p, _ in
           jax.tree_util.tree_flatten_with_path(shapes, is_leaf=lambda s: isinstance(s, tuple))[0]]
  keys = jax.random.split(rng, len(leaves))
  out = []
  for path, shape, key in zip(paths, leaves, keys):
    if "scale" in path:
      out.append(jnp.ones(shape, config.param_dtype))
    else:
      out.append((_INIT_STD * jax.random.normal(key, shape, jnp.float32)).astype(config.param_dtype))
  return jax.tree.unflatten(treedef, out)


def add_value_head(config: LlamaConfig, params: Any, rng: jax.Array,
                   scale: float = 1.0) -> Params:
  """Value-model params: the trunk of `params`, no lm_head, a fresh scalar head
  (kernel normal(0, scale^2 / d), bias 0)."""
  params = dict(pure_params(params))
  params.pop("lm_head", None)
  d = config.hidden_size
  params["value_head"] = {
      "kernel": (jax.random.normal(rng, (d,), jnp.float32) * (scale / np.sqrt(d))
                 ).astype(config.param_dtype),
      "bias": jnp.zeros((), config.param_dtype),
  }
  return params


def rope_inv_freq(config: LlamaConfig) -> np.ndarray:
  """Per-pair inverse frequencies [head_dim // 2], with Llama 3.1 scaling if configured."""
  dh = config.head_dim
  inv_freq = 1.0 / (config.rope_theta ** (np.arange(0, dh, 2, dtype=np.float64) / dh))
  s = config.rope_scaling
  if s is not None:
    wavelen = 2 * np.pi / inv_freq
    # Long wavelengths (low frequencies) are slowed by `factor`, short ones kept,
    # and the band in between interpolated smoothly (Llama 3.1 `apply_scaling`).
    smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) / (
        s.high_freq_factor - s.low_freq_factor)
    smooth = np.clip(smooth, 0.0, 1.0)
    inv_freq = (1 - smooth) * inv_freq / s.factor + smooth * inv_freq
  return inv_freq.astype(np.float32)


def rope_cos_sin(config: LlamaConfig, positions: jax.Array) -> tuple[jax.Array, jax.Array]:
  """cos and sin [B, T, head_dim] (float32) for integer positions [B, T]."""
  angles = positions.astype(jnp.float32)[..., None] * jnp.asarray(rope_inv_freq(config))
  angles = jnp.concatenate([angles, angles], axis=-1)
  return jnp.cos(angles), jnp.sin(angles)


def apply_rope(x_btnh: jax.Array, cos_bth: jax.Array, sin_bth: jax.Array) -> jax.Array:
  """Rotates each head's two halves as complex pairs (HF `rotate_half` layout)."""
  x = x_btnh.astype(jnp.float32)
  x1, x2 = jnp.split(x, 2, axis=-1)
  rotated = jnp.concatenate([-x2, x1], axis=-1)
  out = x * cos_bth[:, :, None, :] + rotated * sin_bth[:, :, None, :]
  return out.astype(x_btnh.dtype)


def rms_norm(x: jax.Array, scale: jax.Array, eps: float) -> jax.Array:
  x32 = x.astype(jnp.float32)
  normed = x32 * jax.lax.rsqrt(jnp.mean(x32 * x32, axis=-1, keepdims=True) + eps)
  return normed.astype(x.dtype) * scale.astype(x.dtype)


def _precision(config: LlamaConfig):
  # float32 compute is chosen for exactness; GPUs/TPUs would otherwise round
  # float32 matmuls to TF32/bf16 passes.
  return jax.lax.Precision.HIGHEST if config.compute_dtype == jnp.float32 else None


REMAT_POLICIES = {
    # Save only each block's input; recompute the whole block (least memory).
    "full": None,
    # Keep the weight matmuls' outputs, recompute the elementwise work and
    # attention's batched matmuls: less recompute, ~[B, T, 2d + 3F] per layer.
    "dots": jax.checkpoint_policies.dots_with_no_batch_dims_saveable,
    # Keep the attention output [B, T, H, Dh]; recompute the MLP and the
    # projections (attention, quadratic in T, is not recomputed).
    "attention": jax.checkpoint_policies.save_only_these_names("attention_out"),
}


def remat_policy(config: LlamaConfig) -> tuple[bool, Any]:
  """(rematerialise?, checkpoint policy) of `config.remat`."""
  name = {True: "full", False: "none"}.get(config.remat, config.remat)
  if name == "none":
    return False, None
  return True, REMAT_POLICIES[name]


def attention_impl(config: LlamaConfig) -> str:
  """"einsum" or "dot_product": `config.attention_impl` with "auto" resolved.

  "auto" is the einsum path on CPU, where it measured faster than
  `jax.nn.dot_product_attention` (docs/model.md), and dot_product elsewhere.
  """
  impl = config.attention_impl
  if impl == "auto":
    impl = "einsum" if jax.default_backend() == "cpu" else "dot_product"
  return impl


def attention(q_btnh: jax.Array, k: jax.Array, v: jax.Array, mask_bts: jax.Array,
              precision=None, cache_layout: bool = False, impl: str = "einsum",
              chunk: int | None = None) -> jax.Array:
  """Grouped-query attention: query head n uses kv head n // (H // K).

  Keys and values are [B, S, K, H], or with `cache_layout` as the cache holds
  them: keys [B, K, H, S], values [B, K, S, H].

  `impl` "dot_product" runs `jax.nn.dot_product_attention` (cuDNN's fused
  kernel on GPUs where it applies, else XLA's); the cache layout always takes
  the einsums. `chunk`: queries per block (teacher-forced passes and the
  sampler's prefill), each block rematerialised in the backward pass, so at
  most [B, K, G, chunk, S] scores exist at once.
  """
  t = q_btnh.shape[1]
  if chunk is not None and chunk < t:  # a training pass or a long prefill
    return _chunked_attention(q_btnh, k, v, mask_bts, precision, impl, chunk, cache_layout)
  if impl == "dot_product" and not cache_layout:
    # Fully masked rows (left-padding queries) come out finite: XLA's path
    # masks with a large finite negative, as the einsum path does.
    return jax.nn.dot_product_attention(q_btnh, k, v, mask=mask_bts[:, None],
                                        scale=float(1.0 / np.sqrt(q_btnh.shape[-1])))
  return _einsum_attention(q_btnh, k, v, mask_bts, precision, cache_layout)


def _chunked_attention(q_btnh, k, v, mask_bts, precision, impl, chunk, cache_layout):
  b, t, n, h = q_btnh.shape
  pad = -t % chunk
  q = jnp.pad(q_btnh, ((0, 0), (0, pad), (0, 0), (0, 0)))
  mask = jnp.pad(mask_bts, ((0, 0), (0, pad), (0, 0)))
  blocks = (t + pad) // chunk
  q = q.reshape(b, blocks, chunk, n, h).swapaxes(0, 1)
  mask = mask.reshape(b, blocks, chunk, -1).swapaxes(0, 1)
  block = jax.checkpoint(lambda qb, mb: attention(qb, k, v, mb, precision, cache_layout, impl))
  out = jax.lax.map(lambda xs: block(*xs), (q, mask))
  return out.swapaxes(0, 1).reshape(b, t + pad, n, h)[:, :t]


def _einsum_attention(q_btnh, k, v, mask_bts, precision, cache_layout):
  b, t, n, h = q_btnh.shape
  nk = k.shape[1] if cache_layout else k.shape[2]
  g = n // nk
  scale = np.float32(1.0 / np.sqrt(h))
  # A finite fill keeps fully masked rows (left-padding queries) NaN-free.
  fill = jnp.finfo(jnp.float32).min
  if not cache_layout:
    q = q_btnh.reshape(b, t, nk, g, h)
    logits = jnp.einsum("btkgh,bskh->bkgts", q, k, precision=precision,
                        preferred_element_type=jnp.float32) * scale
    logits = jnp.where(mask_bts[:, None, None], logits, fill)
    probs = jax.nn.softmax(logits, axis=-1).astype(v.dtype)
    out = jnp.einsum("bkgts,bskh->btkgh", probs, v, precision=precision)
    return out.reshape(b, t, n, h)
  # One plain batched matmul per product, over (b, k), with the cache operand
  # as stored: XLA:CPU otherwise transposes the cache slice at every step.
  q = q_btnh.reshape(b, t, nk, g, h).transpose(0, 2, 3, 1, 4).reshape(b, nk, g * t, h)
  logits = jnp.einsum("bkmh,bkhs->bkms", q, k, precision=precision,
                      preferred_element_type=jnp.float32) * scale
  logits = jnp.where(jnp.tile(mask_bts, (1, g, 1))[:, None], logits, fill)
  probs = jax.nn.softmax(logits, axis=-1).astype(v.dtype)
  out = jnp.einsum("bkms,bksh->bkmh", probs, v, precision=precision)
  return out.reshape(b, nk, g, t, h).transpose(0, 3, 1, 2, 4).reshape(b, t, n, h)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class OutIn:
  """A dense kernel stored as one [out, in] matrix (PyTorch `Linear` order).

  `decode_layout` turns the `[in..., out...]` kernels into these. XLA:CPU
  streams a bandwidth-bound matmul faster with the weight as the left operand
  of `W @ x^T` (measured here at 4 rows: ~31 against ~20 GB/s for `x @ W`);
  `out_shape` restores the kernel's output dims.
  """

  w: jax.Array
  out_shape: tuple[int, ...] = dataclasses.field(metadata=dict(static=True))


def _dense(spec: str, x, kernel, precision, preferred_element_type=None):
  """`jnp.einsum(spec, x, kernel)` for a kernel contracting x's trailing dims.

  An `OutIn` kernel is applied as `(W @ x^T)^T`; the barrier keeps XLA from
  rewriting that back into `x @ W^T`, the slower orientation.
  """
  if not isinstance(kernel, OutIn):
    return jnp.einsum(spec, x, kernel.astype(x.dtype), precision=precision,
                      preferred_element_type=preferred_element_type)
  b, t = x.shape[:2]
  y = jax.lax.optimization_barrier(
      jnp.matmul(kernel.w.astype(x.dtype), x.reshape(b * t, -1).T, precision=precision,
                 preferred_element_type=preferred_element_type))
  return y.T.reshape(b, t, *kernel.out_shape)


def _rules(config: LlamaConfig):
  return partitioning.rules_for(config.sharding_rules)


def _block(config: LlamaConfig, x_btd, layer, cos, sin, mask_bts, write_kv, precision):
  """One decoder block; `write_kv(k, v)` stores new keys/values and returns those to attend to."""
  ein = functools.partial(_dense, precision=precision)
  constrain = functools.partial(partitioning.constrain, rules=_rules(config))
  attn, mlp = layer["attn"], layer["mlp"]
  h = rms_norm(x_btd, layer["attn_norm"]["scale"], config.rms_norm_eps)
  q = apply_rope(ein("btd,dnh->btnh", h, attn["wq"]), cos, sin)
  k = apply_rope(ein("btd,dkh->btkh", h, attn["wk"]), cos, sin)
  v = ein("btd,dkh->btkh", h, attn["wv"])
  q = constrain(q, ("batch", "seq", "heads", "head_dim"))
  k, v, cache_layout = write_kv(k, v)
  out = attention(q, k.astype(q.dtype), v.astype(q.dtype), mask_bts, precision, cache_layout,
                  attention_impl(config), config.attention_chunk)
  out = checkpoint_name(out, "attention_out")
  x_btd = x_btd + ein("btnh,nhd->btd", out, attn["wo"])
  x_btd = constrain(x_btd, ("batch", "seq", "embed"))
  h = rms_norm(x_btd, layer["mlp_norm"]["scale"], config.rms_norm_eps)
  gate = ein("btd,df->btf", h, mlp["w_gate"])
  up = ein("btd,df->btf", h, mlp["w_up"])
  hidden = constrain(jax.nn.silu(gate) * up, ("batch", "seq", "mlp"))
  x_btd = x_btd + ein("btf,fd->btd", hidden, mlp["w_down"])
  return constrain(x_btd, ("batch", "seq", "embed"))


def unstack_layers(params: Any) -> Params:
  """`params` with `layers` as a tuple of per-layer dicts (the pure dict form).

  `forward`, `forward_with_cache` and the rest run such params with a Python
  loop over layers instead of `lax.scan`. On XLA:CPU a scanned layer's weights
  are copied out of the stacked arrays at every step (the dynamic slice is not
  fused into the matmul), so a bandwidth-bound decode step moves each weight
  three times; unrolled, each is read once. Compile time then grows with depth.
  Inside `jit` the slices are materialised once per call.
  """
  params = dict(pure_params(params))
  layers = params["layers"]
  if not isinstance(layers, dict):
    return params
  depth = jax.tree.leaves(layers)[0].shape[0]
  params["layers"] = tuple(jax.tree.map(lambda w, i=i: w[i], layers) for i in range(depth))
  return params


def decode_layout(config: LlamaConfig, params: Any) -> Params:
  """`params` laid out for bandwidth-bound decoding on CPU: a Python loop over
  layers (`unstack_layers`) whose dense kernels, and the output layer, are
  `OutIn` matrices. The same math as `params` (to float32 rounding).

  Inside `jit` this is one transposing copy of the weights per call, kept for
  the call's duration; a decode loop then reads each weight once per step, at
  the better matmul orientation. Measured on XLA:CPU (2 cores, 246M params,
  batch 4): a decode step 79 ms scanned, 57 ms unrolled, 42 ms with `OutIn`.
  Params already in this layout are returned as they are.
  """
  params = unstack_layers(params)

  def out_in(w, n_in):
    if isinstance(w, OutIn):
      return w
    return OutIn(w.reshape(int(np.prod(w.shape[:n_in])), -1).T, tuple(w.shape[n_in:]))

  def layer_out_in(layer):
    attn, mlp = layer["attn"], layer["mlp"]
    return {**layer,
            "attn": {"wq": out_in(attn["wq"], 1), "wk": out_in(attn["wk"], 1),
                     "wv": out_in(attn["wv"], 1), "wo": out_in(attn["wo"], 2)},
            "mlp": {name: out_in(w, 1) for name, w in mlp.items()}}

  params["layers"] = tuple(layer_out_in(layer) for layer in params["layers"])
  if config.tie_word_embeddings:
    # A tied output layer is the embedding table [V, d]: [out, in] already.
    params["lm_head"] = {"kernel": OutIn(params["embed"]["embedding"], (config.vocab_size,))}
  elif "lm_head" in params:
    params["lm_head"] = {"kernel": out_in(params["lm_head"]["kernel"], 1)}
  return params


def _trunk(config: LlamaConfig, params: Params, tokens, positions, mask_bts,
           cache: KVCache | None, cache_index, attend_len: int | None = None):
  """Final-normed hidden states [B, T, d] (compute dtype) and the updated cache.

  Attention reads only the first `attend_len` cache slots (default: all).
  Stacked layers run under `lax.scan`; unstacked ones (see `unstack_layers`)
  in a Python loop, with static cache indices.
  """
  cd = config.compute_dtype
  precision = _precision(config)
  rules = _rules(config)
  # Gather rows from a table whole along the vocabulary: a lookup into a
  # vocab-sharded table makes XLA's SPMD partitioner fall back to a full
  # rematerialisation. Its width keeps the rules' sharding, so the training
  # table (vocab over tensor) is all-gathered over tensor only, and the
  # sampler's (width over tensor, vocab whole) is not gathered at all.
  table = partitioning.constrain(params["embed"]["embedding"].astype(cd), (None, "table_embed"), rules)
  x = table[tokens]
  x = partitioning.constrain(x, ("batch", "seq", "embed"), rules)
  cos, sin = rope_cos_sin(config, positions)

  def body(carry, xs):
    x, kv = carry
    layer, i = xs
    layer = jax.tree.map(lambda w: w.astype(cd), layer)

    def write_kv(k, v):
      """Stores new keys/values [B, T, K, H]; returns those to attend to."""
      nonlocal kv
      if kv is None:
        return k, v, False
      # Only the new entries are written into the buffers (in place); then the
      # layer's first `attend_len` slots are read.
      dtype = jax.tree.leaves(kv)[0].dtype
      k = k.transpose(0, 2, 3, 1).astype(dtype)  # [B, K, H, T]
      v = v.transpose(0, 2, 1, 3).astype(dtype)  # [B, K, T, H]
      s = kv.length if attend_len is None else attend_len
      if isinstance(kv.k, tuple):  # per-layer buffers, static i
        k_buf = jax.lax.dynamic_update_slice(kv.k[i], k, (0, 0, 0, cache_index))
        v_buf = jax.lax.dynamic_update_slice(kv.v[i], v, (0, 0, cache_index, 0))
        kv = KVCache(kv.k[:i] + (k_buf,) + kv.k[i + 1:], kv.v[:i] + (v_buf,) + kv.v[i + 1:])
        if s < kv.length:
          k_buf, v_buf = k_buf[..., :s], v_buf[:, :, :s]
        return k_buf, v_buf, True
      kv = KVCache(jax.lax.dynamic_update_slice(kv.k, k[None], (i, 0, 0, 0, cache_index)),
                   jax.lax.dynamic_update_slice(kv.v, v[None], (i, 0, 0, cache_index, 0)))
      _, b, nk, dh, _ = kv.k.shape
      return (jax.lax.dynamic_slice(kv.k, (i, 0, 0, 0, 0), (1, b, nk, dh, s))[0],
              jax.lax.dynamic_slice(kv.v, (i, 0, 0, 0, 0), (1, b, nk, s, dh))[0], True)

    x = _block(config, x, layer, cos, sin, mask_bts, write_kv, precision)
    return (x, kv), None

  layers = params["layers"]
  remat, policy = remat_policy(config)
  if remat:
    # CSE across a scan's iterations cannot undo the remat; in an unrolled
    # loop it could, so it is prevented there.
    body = jax.checkpoint(body, policy=policy, prevent_cse=not isinstance(layers, dict))
  if isinstance(layers, dict):
    if cache is not None and isinstance(cache.k, tuple):
      raise ValueError("a per-layer cache needs unstacked layers (llama.unstack_layers)")
    (x, cache), _ = jax.lax.scan(body, (x, cache), (layers, jnp.arange(config.num_layers)))
  else:
    if len(layers) != config.num_layers:
      raise ValueError(f"params hold {len(layers)} layers, the config {config.num_layers}")
    for i, layer in enumerate(layers):
      (x, cache), _ = body((x, cache), (layer, i))
  x = rms_norm(x, params["final_norm"]["scale"], config.rms_norm_eps)
  return x, cache


def _lm_head(config: LlamaConfig, params: Params, h_btd) -> jax.Array:
  kernel = params.get("lm_head", {}).get("kernel")
  if config.tie_word_embeddings and not isinstance(kernel, OutIn):
    kernel = params["embed"]["embedding"].T
  logits = _dense("btd,dv->btv", h_btd, kernel, _precision(config), jnp.float32)
  return partitioning.constrain(logits, ("batch", "seq", "vocab"), _rules(config))


def _default_positions(tokens, attention_mask):
  if attention_mask is None:
    return jnp.broadcast_to(jnp.arange(tokens.shape[1], dtype=jnp.int32), tokens.shape)
  # Left padding: a row's first real token is position 0.
  return jnp.maximum(jnp.cumsum(attention_mask.astype(jnp.int32), axis=1) - 1, 0)


def _causal_mask(tokens, attention_mask):
  t = tokens.shape[1]
  mask = jnp.tril(jnp.ones((t, t), bool))[None]
  if attention_mask is not None:
    mask = mask & attention_mask.astype(bool)[:, None, :]
  return jnp.broadcast_to(mask, (tokens.shape[0], t, t))


def hidden_states(config: LlamaConfig, params: Any, tokens: jax.Array, positions=None,
                  attention_mask=None) -> jax.Array:
  """Final-normed hidden states [B, T, d] in the compute dtype.

  `attention_mask` [B, T] (1 = real token) masks padding keys; positions then
  default to each row's count of real tokens so far (left padding).
  """
  params = pure_params(params)
  if positions is None:
    positions = _default_positions(tokens, attention_mask)
  h, _ = _trunk(config, params, tokens, positions, _causal_mask(tokens, attention_mask), None, 0)
  return h


def lm_head(config: LlamaConfig, params: Any, h_btd: jax.Array) -> jax.Array:
  """Logits float32 [B, T, V] of final-normed hidden states (`hidden_states`),
  for callers that need them at a few positions only."""
  return _lm_head(config, pure_params(params), h_btd)


def forward(config: LlamaConfig, params: Any, tokens: jax.Array, positions=None,
            attention_mask=None) -> jax.Array:
  """Logits float32 [B, T, V] of a causal pass over `tokens` [B, T]."""
  params = pure_params(params)
  return _lm_head(config, params, hidden_states(config, params, tokens, positions, attention_mask))


def token_logprobs(config: LlamaConfig, params: Any, tokens: jax.Array, positions=None,
                   attention_mask=None, *, chunk: int | None = None, entropy: bool = False
                   ) -> jax.Array | tuple[jax.Array, jax.Array]:
  """float32 log p(tokens[:, s] | tokens[:, :s]) [B, S] (position 0 scores 0),
  and with `entropy` the next-token entropy [B, S] aligned the same way
  (gradient stopped), never holding [B, S, V] logits when `chunk` is set.

  The same numbers as `ppo.token_logprobs(forward(...), tokens)` (and
  `ppo.token_entropy`); see `logprobs_from_hidden` for the chunking.
  """
  params = pure_params(params)
  h = hidden_states(config, params, tokens, positions, attention_mask)
  return logprobs_from_hidden(config, params, h, tokens, chunk=chunk, entropy=entropy)


def logprobs_from_hidden(config: LlamaConfig, params: Any, h_btd: jax.Array, tokens: jax.Array,
                         *, chunk: int | None = None, entropy: bool = False):
  """Token log-probs (and entropies) from final hidden states [B, S, d].

  With `chunk`, the output layer, its log-softmax and the entropy run over
  `chunk` positions at a time under `lax.map`, each chunk rematerialised in
  the backward pass: [B, chunk, V] float32 logits exist at once instead of
  [B, S, V] (for Llama 3's 128k vocabulary, 0.5 MB per position). Ids
  outside [0, V) (padding) score 0, never NaN.
  """
  params = pure_params(params)
  h, targets = h_btd[:, :-1], tokens[:, 1:]
  b, s = targets.shape
  vocab = config.vocab_size

  def score(h_c, t_c):
    logits = _lm_head(config, params, h_c)
    lse = jax.nn.logsumexp(logits, axis=-1)
    valid = (t_c >= 0) & (t_c < vocab)
    picked = jnp.take_along_axis(logits, jnp.clip(t_c, 0, vocab - 1)[..., None], axis=-1)[..., 0]
    logp = jnp.where(valid, picked - lse, 0.0)
    if not entropy:
      return logp, None
    probs = jax.nn.softmax(jax.lax.stop_gradient(logits), axis=-1)
    ent = jax.lax.stop_gradient(lse) - jnp.sum(probs * jax.lax.stop_gradient(logits), axis=-1)
    return logp, ent

  if chunk is None or chunk >= s:
    logp, ent = score(h, targets)
  else:
    pad = -s % chunk
    n = (s + pad) // chunk
    hc = jnp.pad(h, ((0, 0), (0, pad), (0, 0))).reshape(b, n, chunk, -1).swapaxes(0, 1)
    tc = jnp.pad(targets, ((0, 0), (0, pad))).reshape(b, n, chunk).swapaxes(0, 1)
    merge = lambda x: x.swapaxes(0, 1).reshape(b, s + pad)[:, :s]
    logp, ent = jax.lax.map(lambda xs: jax.checkpoint(score)(*xs), (hc, tc))
    logp, ent = merge(logp), (None if ent is None else merge(ent))
  shift = lambda x: jnp.pad(x, ((0, 0), (1, 0)))
  return (shift(logp), shift(ent)) if entropy else shift(logp)


def value_forward(config: LlamaConfig, params: Any, tokens: jax.Array, positions=None,
                  attention_mask=None) -> jax.Array:
  """Values float32 [B, T]: the trunk's hidden state times `value_head.kernel` plus bias."""
  params = pure_params(params)
  h = hidden_states(config, params, tokens, positions, attention_mask).astype(jnp.float32)
  head = params["value_head"]
  return h @ head["kernel"].astype(jnp.float32) + head["bias"].astype(jnp.float32)


def init_cache(config: LlamaConfig, batch: int, length: int, dtype=None,
               per_layer: bool = False) -> KVCache:
  """An empty cache for `batch` rows of `length` slots (dtype: compute dtype).

  `per_layer`: a tuple of buffers per layer (for unrolled layers) instead of
  stacked ones.
  """
  dtype = dtype or config.compute_dtype
  k_shape = (batch, config.num_kv_heads, config.head_dim, length)
  v_shape = (batch, config.num_kv_heads, length, config.head_dim)
  if per_layer:
    return KVCache(tuple(jnp.zeros(k_shape, dtype) for _ in range(config.num_layers)),
                   tuple(jnp.zeros(v_shape, dtype) for _ in range(config.num_layers)))
  return KVCache(jnp.zeros((config.num_layers, *k_shape), dtype),
                 jnp.zeros((config.num_layers, *v_shape), dtype))


def forward_with_cache(config: LlamaConfig, params: Any, tokens: jax.Array, cache: KVCache,
                       cache_index: jax.Array, positions: jax.Array, kv_mask: jax.Array,
                       last_only: bool = False, attend_len: int | None = None
                       ) -> tuple[jax.Array, KVCache]:
  """Runs `tokens` [B, T] written into cache slots [cache_index, cache_index + T).

  Args:
    positions: RoPE positions [B, T] of the new tokens.
    kv_mask: [B, S] bool, the cache slots that hold real tokens (new ones included).
    last_only: return logits of the last new token only ([B, 1, V]).
    attend_len: static; attention reads only cache slots [0, attend_len), which
      must hold every slot the new tokens may see (cache_index + T <= attend_len).
      Attention reads the whole cache otherwise, filled or not, so a decoder
      that grows this with its position saves most of that work.

  Returns:
    float32 logits [B, T or 1, V] and the updated cache. A new token at slot
    `cache_index + t` attends to valid slots up to and including its own.
  """
  params = pure_params(params)
  attend_len = cache.length if attend_len is None else attend_len
  end = cache_index + tokens.shape[1] if isinstance(cache_index, int) else 0  # static only
  if max(attend_len, end) > cache.length:
    raise ValueError(f"tokens at slots [{cache_index}, {cache_index + tokens.shape[1]}) "
                     f"attending to {attend_len} slots do not fit a {cache.length}-slot cache")
  slots = jnp.arange(attend_len)
  query_slots = cache_index + jnp.arange(tokens.shape[1])
  mask = (slots[None, :] <= query_slots[:, None])[None] & kv_mask[:, None, :attend_len]
  h, cache = _trunk(config, params, tokens, positions, mask, cache, cache_index, attend_len)
  if last_only:
    h = h[:, -1:]
  return _lm_head(config, params, h), cache


def _as_module_tree(module: nnx.Module, params: Params, axes: dict[str, Any]) -> None:
  for name, value in params.items():
    if isinstance(value, dict):
      child = _Group()
      _as_module_tree(child, value, axes[name])
      setattr(module, name, child)
    else:
      setattr(module, name, nnx.Param(value, out_sharding=axes[name], eager_sharding=False))


class _Group(nnx.Module):
  """A node of the params tree."""


class Llama(nnx.Module):
  """The causal LM as an NNX module; `nnx.state(model, nnx.Param)` is the params pytree.

  Params carry their logical axis names as `out_sharding` metadata (not
  applied eagerly), so `nnx.get_partition_spec` and `partitioning.shard_params` agree.
  """

  def __init__(self, config: LlamaConfig, *, rngs: nnx.Rngs, params: Params | None = None):
    self.config = config
    params = params if params is not None else init_params(config, rngs.params())
    _as_module_tree(self, params, param_logical_axes(config))

  def __call__(self, tokens, positions=None, attention_mask=None) -> jax.Array:
    return forward(self.config, self, tokens, positions, attention_mask)


class LlamaValue(nnx.Module):
  """The value model: Llama's trunk with a scalar head instead of the output layer."""

  def __init__(self, config: LlamaConfig, *, rngs: nnx.Rngs, params: Params | None = None):
    self.config = config
    if params is None:
      params = init_params(config, rngs.params())
    if "value_head" not in params:
      params = add_value_head(config, params, rngs.params())
    axes = param_logical_axes(config)
    axes.pop("lm_head", None)
    axes["value_head"] = VALUE_HEAD_AXES
    _as_module_tree(self, params, axes)

  def __call__(self, tokens, positions=None, attention_mask=None) -> jax.Array:
    return value_forward(self.config, self, tokens, positions, attention_mask)

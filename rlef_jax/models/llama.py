"""Llama 3 / 3.1 / 3.2 decoder: a pure forward over a param pytree, and NNX wrappers.

The math lives in pure functions of `(config, params, tokens)`; the layers are
stacked along a leading axis and run with `lax.scan`, so compile time does not
grow with depth. `Llama` and `LlamaValue` are Flax NNX modules holding the
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
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from rlef_jax import sharding
from rlef_jax.models.configs import LlamaConfig
from rlef_jax.models.layout import (VALUE_HEAD_AXES, Params, param_logical_axes, param_shapes,
                                     pure_params)

_INIT_STD = 0.02  # Hugging Face's `initializer_range` for Llama.


class KVCache(NamedTuple):
  """Static-shape key/value buffers, each [layers, batch, cache_seq, kv_heads, head_dim]."""

  k: jax.Array
  v: jax.Array


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


def add_value_head(config: LlamaConfig, params: Any, rng: jax.Array) -> Params:
  """Value-model params: the trunk of `params`, no lm_head, a fresh scalar head."""
  params = dict(pure_params(params))
  params.pop("lm_head", None)
  d = config.hidden_size
  params["value_head"] = {
      "kernel": (jax.random.normal(rng, (d,), jnp.float32) / np.sqrt(d)).astype(config.param_dtype),
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


def attention(q_btnh: jax.Array, k_bskh: jax.Array, v_bskh: jax.Array, mask_bts: jax.Array,
              precision=None) -> jax.Array:
  """Grouped-query attention: query head n uses kv head n // (H // K)."""
  b, t, n, h = q_btnh.shape
  k = k_bskh.shape[2]
  q = q_btnh.reshape(b, t, k, n // k, h)
  logits = jnp.einsum("btkgh,bskh->bkgts", q, k_bskh, precision=precision,
                      preferred_element_type=jnp.float32) / np.sqrt(h).astype(np.float32)
  # A finite fill keeps fully masked rows (left-padding queries) NaN-free.
  logits = jnp.where(mask_bts[:, None, None], logits, jnp.finfo(jnp.float32).min)
  probs = jax.nn.softmax(logits, axis=-1).astype(v_bskh.dtype)
  out = jnp.einsum("bkgts,bskh->btkgh", probs, v_bskh, precision=precision)
  return out.reshape(b, t, n, h)


def _block(config: LlamaConfig, x_btd, layer, cos, sin, mask_bts, write_kv, precision):
  """One decoder block; `write_kv(k, v)` stores new keys/values and returns those to attend to."""
  ein = functools.partial(jnp.einsum, precision=precision)
  attn, mlp = layer["attn"], layer["mlp"]
  h = rms_norm(x_btd, layer["attn_norm"]["scale"], config.rms_norm_eps)
  q = apply_rope(ein("btd,dnh->btnh", h, attn["wq"]), cos, sin)
  k = apply_rope(ein("btd,dkh->btkh", h, attn["wk"]), cos, sin)
  v = ein("btd,dkh->btkh", h, attn["wv"])
  q = sharding.constrain(q, ("batch", "seq", "heads", "head_dim"))
  k, v = write_kv(k, v)
  out = attention(q, k.astype(q.dtype), v.astype(q.dtype), mask_bts, precision)
  x_btd = x_btd + ein("btnh,nhd->btd", out, attn["wo"])
  x_btd = sharding.constrain(x_btd, ("batch", "seq", "embed"))
  h = rms_norm(x_btd, layer["mlp_norm"]["scale"], config.rms_norm_eps)
  gate = ein("btd,df->btf", h, mlp["w_gate"])
  up = ein("btd,df->btf", h, mlp["w_up"])
  hidden = sharding.constrain(jax.nn.silu(gate) * up, ("batch", "seq", "mlp"))
  x_btd = x_btd + ein("btf,fd->btd", hidden, mlp["w_down"])
  return sharding.constrain(x_btd, ("batch", "seq", "embed"))


def _trunk(config: LlamaConfig, params: Params, tokens, positions, mask_bts,
           cache: KVCache | None, cache_index, attend_len: int | None = None):
  """Final-normed hidden states [B, T, d] (compute dtype) and the updated cache.

  Attention reads only the first `attend_len` cache slots (default: all).
  """
  cd = config.compute_dtype
  precision = _precision(config)
  # Gather rows from a whole table: FSDP all-gathers every weight at its use
  # anyway, and a lookup into a sharded table makes XLA's SPMD partitioner fall
  # back to a full rematerialisation.
  table = sharding.constrain(params["embed"]["embedding"].astype(cd), (None, None))
  x = table[tokens]
  x = sharding.constrain(x, ("batch", "seq", "embed"))
  cos, sin = rope_cos_sin(config, positions)
  layers = jax.tree.map(lambda w: w.astype(cd), params["layers"])

  def body(carry, xs):
    x, kv = carry
    layer, i = xs

    def write_kv(k, v):
      nonlocal kv
      if kv is None:
        return k, v
      # Only the new entries are written into the carried buffers (in place);
      # the layer's first `attend_len` slots are then read for attention.
      kv = KVCache(*(jax.lax.dynamic_update_slice(c, n[None].astype(c.dtype), (i, 0, cache_index, 0, 0))
                     for c, n in zip(kv, (k, v))))
      _, b, s, nk, dh = kv.k.shape
      size = (1, b, s if attend_len is None else attend_len, nk, dh)
      return (jax.lax.dynamic_slice(c, (i, 0, 0, 0, 0), size)[0] for c in kv)

    x = _block(config, x, layer, cos, sin, mask_bts, write_kv, precision)
    return (x, kv), None

  if config.remat:
    body = jax.checkpoint(body, prevent_cse=False)
  (x, cache), _ = jax.lax.scan(body, (x, cache), (layers, jnp.arange(config.num_layers)))
  x = rms_norm(x, params["final_norm"]["scale"], config.rms_norm_eps)
  return x, cache


def _lm_head(config: LlamaConfig, params: Params, h_btd) -> jax.Array:
  if config.tie_word_embeddings:
    kernel = params["embed"]["embedding"].T
  else:
    kernel = params["lm_head"]["kernel"]
  logits = jnp.einsum("btd,dv->btv", h_btd, kernel.astype(h_btd.dtype),
                      precision=_precision(config), preferred_element_type=jnp.float32)
  return sharding.constrain(logits, ("batch", "seq", "vocab"))


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


def forward(config: LlamaConfig, params: Any, tokens: jax.Array, positions=None,
            attention_mask=None) -> jax.Array:
  """Logits float32 [B, T, V] of a causal pass over `tokens` [B, T]."""
  params = pure_params(params)
  return _lm_head(config, params, hidden_states(config, params, tokens, positions, attention_mask))


def value_forward(config: LlamaConfig, params: Any, tokens: jax.Array, positions=None,
                  attention_mask=None) -> jax.Array:
  """Values float32 [B, T]: the trunk's hidden state times `value_head.kernel` plus bias."""
  params = pure_params(params)
  h = hidden_states(config, params, tokens, positions, attention_mask).astype(jnp.float32)
  head = params["value_head"]
  return h @ head["kernel"].astype(jnp.float32) + head["bias"].astype(jnp.float32)


def init_cache(config: LlamaConfig, batch: int, length: int, dtype=None) -> KVCache:
  """An empty cache for `batch` rows of `length` slots (dtype: compute dtype)."""
  shape = (config.num_layers, batch, length, config.num_kv_heads, config.head_dim)
  dtype = dtype or config.compute_dtype
  return KVCache(jnp.zeros(shape, dtype), jnp.zeros(shape, dtype))


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
  attend_len = cache.k.shape[2] if attend_len is None else attend_len
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
  applied eagerly), so `nnx.get_partition_spec` and `sharding.shard_params` agree.
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

"""The parameter layout of the Llama port: one table of shapes and logical axes.

Every leaf of the params pytree is declared once here, with its shape and its
logical axis names; `param_shapes` and `param_logical_axes` are both read off
that one table. The model (`llama.py`), the rules table (`sharding.py`) and
the checkpoint loaders all derive from it, and it depends on nothing but the
config, so no module above it needs to import another to learn the layout.

    embed.embedding [V, d] (table_vocab, table_embed)   layers.attn_norm.scale [L, d]
    layers.attn.wq [L, d, H, Dh]        wk, wv [L, d, K, Dh]     wo [L, H, Dh, d]
    layers.mlp_norm.scale [L, d]
    layers.mlp.w_gate, w_up [L, d, F]   w_down [L, F, d]
    final_norm.scale [d]                lm_head.kernel [d, V] (absent when tied)
    value_head.kernel [d], value_head.bias []   (value model only)

Example:

    from rlef_jax.models import configs, layout
    cfg = configs.get("tiny")
    layout.param_shapes(cfg)["layers"]["attn"]["wq"]        # (4, 128, 4, 32)
    layout.param_logical_axes(cfg)["layers"]["attn"]["wq"]  # ("layers", "embed", "heads", "head_dim")
"""

from __future__ import annotations

from typing import Any

import jax
from flax import nnx

from rlef_jax.models.configs import LlamaConfig

Params = dict[str, Any]

VALUE_HEAD_AXES = {"kernel": ("embed",), "bias": ()}
# Keys are cached transposed (sequence minor) and values sequence-major, so
# that both attention matmuls of a decode step read the cache as stored (no
# transposing copy per step): q @ K is [.., H] x [H, S], p @ V is [.., S] x [S, H].
KEY_CACHE_AXES = ("layers", "batch", "kv_heads", "head_dim", "cache_seq")
VALUE_CACHE_AXES = ("layers", "batch", "kv_heads", "cache_seq", "head_dim")


def _table(config: LlamaConfig) -> dict[str, Any]:
  """Every parameter as (shape, logical axes), in the params pytree layout."""
  c = config
  d, L, F = c.hidden_size, c.num_layers, c.intermediate_size
  H, K, Dh = c.num_heads, c.num_kv_heads, c.head_dim
  table = {
      # The table has names of its own: the sampler's rules split it along
      # its width (a local lookup), training's like the other weights.
      "embed": {"embedding": ((c.vocab_size, d), ("table_vocab", "table_embed"))},
      "layers": {
          "attn_norm": {"scale": ((L, d), ("layers", "embed"))},
          "attn": {
              "wq": ((L, d, H, Dh), ("layers", "embed", "heads", "head_dim")),
              "wk": ((L, d, K, Dh), ("layers", "embed", "kv_heads", "head_dim")),
              "wv": ((L, d, K, Dh), ("layers", "embed", "kv_heads", "head_dim")),
              "wo": ((L, H, Dh, d), ("layers", "heads", "head_dim", "embed")),
          },
          "mlp_norm": {"scale": ((L, d), ("layers", "embed"))},
          "mlp": {
              "w_gate": ((L, d, F), ("layers", "embed", "mlp")),
              "w_up": ((L, d, F), ("layers", "embed", "mlp")),
              "w_down": ((L, F, d), ("layers", "mlp", "embed")),
          },
      },
      "final_norm": {"scale": ((d,), ("embed",))},
  }
  if not c.tie_word_embeddings:
    table["lm_head"] = {"kernel": ((d, c.vocab_size), ("embed", "vocab"))}
  return table


def _column(tree: dict[str, Any], i: int) -> dict[str, Any]:
  # A plain recursion, not jax.tree.map: it keeps the table's key order, which
  # is the order loaders check tensors in and so the order errors are found.
  return {k: _column(v, i) if isinstance(v, dict) else v[i] for k, v in tree.items()}


def param_shapes(config: LlamaConfig) -> Params:
  """Shapes of the params pytree (tuples at the leaves)."""
  return _column(_table(config), 0)


def param_logical_axes(config: LlamaConfig) -> Params:
  """Logical axis names of every parameter, in the params pytree layout."""
  return _column(_table(config), 1)


def pure_params(params: Any) -> Params:
  """The pure-dict form of params given as a dict, an `nnx.State` or an NNX module."""
  if isinstance(params, nnx.Module):
    params = nnx.state(params, nnx.Param)
  if isinstance(params, nnx.State):
    return nnx.to_pure_dict(params)
  return jax.tree.map(lambda v: v.get_value() if isinstance(v, nnx.Variable) else v, params,
                      is_leaf=lambda v: isinstance(v, nnx.Variable))

"""Llama 3 / 3.1 / 3.2 hyper-parameters: one frozen dataclass and its presets.

The presets carry the published numbers of Meta's releases (the `config.json`
of the Hugging Face checkpoints and Meta's `params.json`); `tiny` is this
project's own small model for tests and the CPU demo.

Example:

    from rlef_jax.models import configs
    cfg = configs.get("llama3_1_8b")
    cfg.num_params()            # ~8.03e9
    small = configs.get("tiny", num_layers=2)
    hf = configs.LlamaConfig.from_hf_dict(json.load(open("config.json")))
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import jax.numpy as jnp


@dataclasses.dataclass(frozen=True)
class RopeScaling:
  """Llama 3.1's `rope_type: llama3` frequency scaling."""

  factor: float = 8.0
  low_freq_factor: float = 1.0
  high_freq_factor: float = 4.0
  original_max_position_embeddings: int = 8192


@dataclasses.dataclass(frozen=True)
class LlamaConfig:
  """Shapes and numerics of a Llama 3 family decoder.

  Attributes:
    vocab_size: rows of the embedding table (and columns of the output layer).
    hidden_size: model width d.
    intermediate_size: SwiGLU hidden width.
    num_layers: decoder blocks.
    num_heads: query heads.
    num_kv_heads: key/value heads (grouped-query attention when < num_heads).
    head_dim: width of one head.
    rms_norm_eps: RMSNorm epsilon.
    rope_theta: RoPE base frequency.
    rope_scaling: Llama 3.1 frequency scaling, or None (Llama 3.0).
    max_position_embeddings: longest position the model is used at.
    tie_word_embeddings: output layer shares the embedding (Llama 3.2 1B/3B).
    param_dtype: dtype parameters are stored in.
    compute_dtype: dtype of activations and matmuls (logits are always f32).
      `precision.PrecisionPolicy.apply` sets both from dtype names.
    remat: rematerialise each block in the backward pass: False / "none",
      True / "full" (save only the block's input), "dots" (also keep matmul
      outputs without batch dims: less recompute, more memory), or
      "attention" (keep the attention output, recompute the MLP). See
      `llama.REMAT_POLICIES`.
    attention_impl: "einsum" (the explicit GQA einsums, measured fastest on
      XLA:CPU), "dot_product" (`jax.nn.dot_product_attention`: cuDNN's fused
      kernel on GPUs where it applies, XLA elsewhere), or "auto" (einsum on
      CPU, dot_product on other platforms; resolved at trace time from the
      default backend, so ahead-of-time compiles for another platform name it).
    attention_chunk: query positions per attention block in teacher-forced
      passes (None: all at once). Each block's [B, K, G, chunk, S] scores are
      rematerialised in the backward pass, so long training sequences never
      hold the full [B, H, S, S] score tensor.
    sharding_rules: the `rlef_jax.sharding` rules table the activation
      constraints resolve against: "train" (FSDP) or "inference" (the
      sampler's tensor-parallel rules; `PrecisionPolicy.sampler_config`).
  """

  vocab_size: int
  hidden_size: int
  intermediate_size: int
  num_layers: int
  num_heads: int
  num_kv_heads: int
  head_dim: int
  rms_norm_eps: float = 1e-5
  rope_theta: float = 500000.0
  rope_scaling: RopeScaling | None = None
  max_position_embeddings: int = 8192
  tie_word_embeddings: bool = False
  param_dtype: Any = jnp.float32
  compute_dtype: Any = jnp.float32
  remat: bool | str = False
  attention_impl: str = "auto"
  attention_chunk: int | None = None
  sharding_rules: str = "train"

  def __post_init__(self):
    for name in ("vocab_size", "hidden_size", "intermediate_size", "num_layers",
                 "num_heads", "num_kv_heads", "head_dim"):
      if getattr(self, name) <= 0:
        raise ValueError(f"LlamaConfig.{name} must be positive, got {getattr(self, name)}")
    if self.num_heads % self.num_kv_heads:
      raise ValueError(f"num_heads ({self.num_heads}) must be a multiple of "
                       f"num_kv_heads ({self.num_kv_heads})")
    if self.remat not in (False, True, "none", "full", "dots", "attention"):
      raise ValueError(f"LlamaConfig.remat must be a bool or one of none, full, dots, "
                       f"attention; got {self.remat!r}")
    if self.attention_impl not in ("auto", "einsum", "dot_product"):
      raise ValueError(f"LlamaConfig.attention_impl must be auto, einsum or dot_product, "
                       f"got {self.attention_impl!r}")
    if self.sharding_rules not in ("train", "inference"):
      raise ValueError(f"LlamaConfig.sharding_rules must be train or inference, "
                       f"got {self.sharding_rules!r}")
    if self.attention_chunk is not None and self.attention_chunk <= 0:
      raise ValueError(f"LlamaConfig.attention_chunk must be positive, got {self.attention_chunk}")

  def replace(self, **changes) -> "LlamaConfig":
    return dataclasses.replace(self, **changes)

  def num_params(self) -> int:
    """Parameter count (embedding and output layer counted once when tied)."""
    d, f, v = self.hidden_size, self.intermediate_size, self.vocab_size
    attn = d * self.head_dim * (2 * self.num_heads + 2 * self.num_kv_heads)
    block = attn + 3 * d * f + 2 * d
    head = 0 if self.tie_word_embeddings else d * v
    return v * d + self.num_layers * block + d + head

  @classmethod
  def from_hf_dict(cls, hf: Mapping[str, Any], **overrides) -> "LlamaConfig":
    """From a Hugging Face `config.json` of a `LlamaForCausalLM`."""
    scaling = hf.get("rope_scaling") or None
    # transformers >= 4.45 may also nest rope settings under `rope_parameters`.
    params = hf.get("rope_parameters") or {}
    if scaling is None and params.get("rope_type") == "llama3":
      scaling = params
    theta = hf.get("rope_theta", params.get("rope_theta", 10000.0))
    if scaling is not None:
      kind = scaling.get("rope_type", scaling.get("type"))
      if kind != "llama3":
        raise ValueError(f"unsupported rope_scaling type {kind!r}: only 'llama3' is implemented")
      scaling = RopeScaling(
          factor=float(scaling["factor"]),
          low_freq_factor=float(scaling["low_freq_factor"]),
          high_freq_factor=float(scaling["high_freq_factor"]),
          original_max_position_embeddings=int(scaling["original_max_position_embeddings"]))
    heads = hf["num_attention_heads"]
    kwargs = dict(
        vocab_size=hf["vocab_size"],
        hidden_size=hf["hidden_size"],
        intermediate_size=hf["intermediate_size"],
        num_layers=hf["num_hidden_layers"],
        num_heads=heads,
        num_kv_heads=hf.get("num_key_value_heads") or heads,
        head_dim=hf.get("head_dim") or hf["hidden_size"] // heads,
        rms_norm_eps=hf.get("rms_norm_eps", 1e-5),
        rope_theta=float(theta),
        rope_scaling=scaling,
        max_position_embeddings=hf.get("max_position_embeddings", 8192),
        tie_word_embeddings=bool(hf.get("tie_word_embeddings", False)),
    )
    kwargs.update(overrides)
    return cls(**kwargs)

  def to_hf_dict(self) -> dict[str, Any]:
    """A Hugging Face `LlamaConfig` dict with the same architecture."""
    hf = dict(
        architectures=["LlamaForCausalLM"],
        model_type="llama",
        vocab_size=self.vocab_size,
        hidden_size=self.hidden_size,
        intermediate_size=self.intermediate_size,
        num_hidden_layers=self.num_layers,
        num_attention_heads=self.num_heads,
        num_key_value_heads=self.num_kv_heads,
        head_dim=self.head_dim,
        rms_norm_eps=self.rms_norm_eps,
        rope_theta=self.rope_theta,
        max_position_embeddings=self.max_position_embeddings,
        tie_word_embeddings=self.tie_word_embeddings,
        hidden_act="silu",
        attention_bias=False,
        mlp_bias=False,
        torch_dtype="float32",
    )
    if self.rope_scaling is not None:
      hf["rope_scaling"] = dict(rope_type="llama3", **dataclasses.asdict(self.rope_scaling))
    return hf


_LLAMA31_SCALING = RopeScaling(8.0, 1.0, 4.0, 8192)
_LLAMA32_SCALING = RopeScaling(32.0, 1.0, 4.0, 8192)

PRESETS: dict[str, LlamaConfig] = {
    "llama3_8b": LlamaConfig(
        vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_layers=32,
        num_heads=32, num_kv_heads=8, head_dim=128, rope_theta=500000.0,
        max_position_embeddings=8192),
    "llama3_1_8b": LlamaConfig(
        vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_layers=32,
        num_heads=32, num_kv_heads=8, head_dim=128, rope_theta=500000.0,
        rope_scaling=_LLAMA31_SCALING, max_position_embeddings=131072),
    "llama3_1_70b": LlamaConfig(
        vocab_size=128256, hidden_size=8192, intermediate_size=28672, num_layers=80,
        num_heads=64, num_kv_heads=8, head_dim=128, rope_theta=500000.0,
        rope_scaling=_LLAMA31_SCALING, max_position_embeddings=131072),
    "llama3_2_1b": LlamaConfig(
        vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_layers=16,
        num_heads=32, num_kv_heads=8, head_dim=64, rope_theta=500000.0,
        rope_scaling=_LLAMA32_SCALING, max_position_embeddings=131072,
        tie_word_embeddings=True),
    "llama3_2_3b": LlamaConfig(
        vocab_size=128256, hidden_size=3072, intermediate_size=8192, num_layers=28,
        num_heads=24, num_kv_heads=8, head_dim=128, rope_theta=500000.0,
        rope_scaling=_LLAMA32_SCALING, max_position_embeddings=131072,
        tie_word_embeddings=True),
    # Ours: ~1M parameters with the project's tiny BPE (4096 ranks + 256
    # specials). GQA and llama3 rope scaling are on so every code path runs.
    "tiny": LlamaConfig(
        vocab_size=4352, hidden_size=128, intermediate_size=384, num_layers=4,
        num_heads=4, num_kv_heads=2, head_dim=32, rope_theta=500000.0,
        rope_scaling=RopeScaling(8.0, 1.0, 4.0, 256), max_position_embeddings=2048),
}


def get(name: str, **overrides) -> LlamaConfig:
  """A preset by name, with optional field overrides."""
  if name not in PRESETS:
    raise KeyError(f"unknown model preset {name!r}; known: {', '.join(sorted(PRESETS))}")
  return PRESETS[name].replace(**overrides) if overrides else PRESETS[name]

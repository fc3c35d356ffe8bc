"""Mixed precision as configuration: which dtype each copy of the model lives in.

float32 master weights and optimizer state, bfloat16 compute, a bfloat16
copy of the policy for the sampler, float32 log-probs and losses. Why each:

* Master weights float32. RLEF trains at lr 2e-7. An AdamW step moves a weight
  by about lr (Adam normalises the gradient), i.e. by 2e-7 / |w| relative to
  a weight of typical magnitude |w| ~ 1e-2: ~2e-5. bfloat16 keeps 8 bits of
  mantissa, so it resolves relative changes down to 2^-8 ~ 3.9e-3 and rounds
  every such step back to the weight it started from: training silently stops
  (`update_resolution` gives the numbers; tests/test_precision.py shows it).
  float32 (2^-24 ~ 6e-8) keeps the step. The AdamW moments stay float32 too:
  the second moment of gradients ~1e-4 squares to ~1e-8, and an underflowed
  or coarse nu makes the normalised step noisy.
* Compute bfloat16: matmuls and activations at the accelerators' bf16 rate and
  half the activation bytes; each layer's weights are cast at their use inside
  the scan, so no full second copy of the weights exists during the update.
* Sampler copy bfloat16: decoding is bound by reading the weights each step,
  so half the bytes is about twice the tokens/s; made once per round by
  `sampler_params` (placed by the sampler's rules) and published by the trainer.
* Log-probs and losses float32: the output layer accumulates in float32
  (`preferred_element_type`), and log-softmax over 128k entries, the PPO
  ratio exp(logp - logp_old) and the per-turn KL are differences of nearby
  numbers that bf16's 3 significant digits would swamp.
* The frozen reference rho may be stored in bfloat16 (`reference_dtype`):
  it is only read, in the compute dtype, so storing it in bf16 changes
  nothing but its bytes when compute is bf16.

Example:

    from rlef_jax.models import configs, precision
    policy = precision.PrecisionPolicy()          # f32 master, bf16 compute + sampler
    cfg = policy.apply(configs.get("llama3_1_8b"))      # the training config
    sampler_cfg = policy.sampler_config(cfg)           # bf16 weights, inference rules
    sampler_params = policy.sampler_params(cfg, params, mesh)   # once per round
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from rlef_jax.models import layout, partitioning
from rlef_jax.models.configs import LlamaConfig

DTYPE_NAMES = ("float32", "bfloat16", "float16")


def dtype(name: str) -> jnp.dtype:
  """The jnp dtype called `name` (one of `DTYPE_NAMES`)."""
  if name not in DTYPE_NAMES:
    raise ValueError(f"{name!r} is not a dtype name; use one of {', '.join(DTYPE_NAMES)}")
  return jnp.dtype(name)


def update_resolution(dtype_name: str, lr: float, weight_magnitude: float = 0.02) -> dict[str, float]:
  """Whether an AdamW step of size ~`lr` survives rounding a weight of `weight_magnitude`.

  Returns the relative step (lr / |w|), the dtype's relative resolution (half
  an ulp: 2^-(mantissa bits + 1)) and `survives` (1.0 when the step is larger
  than that resolution, else 0.0: rounding to nearest returns the old weight).
  """
  info = jnp.finfo(dtype(dtype_name))
  resolution = float(info.eps) / 2
  step = lr / weight_magnitude
  return {"relative_step": step, "resolution": resolution, "survives": float(step > resolution)}


@dataclasses.dataclass(frozen=True)
class PrecisionPolicy:
  """The dtype (by name) of every copy of the model.

  Attributes:
    param_dtype: master weights, gradients and AdamW moments.
    compute_dtype: activations and matmul inputs of the forward/backward passes.
    sampler_dtype: the sampler's copy of the policy weights (and its KV cache).
    reference_dtype: storage of the frozen reference params rho.
    logits_dtype: log-probs, entropies and losses; float32 only (see the
      module docstring); kept as a field so configs state it.
  """

  param_dtype: str = "float32"
  compute_dtype: str = "bfloat16"
  sampler_dtype: str = "bfloat16"
  reference_dtype: str = "bfloat16"
  logits_dtype: str = "float32"

  def __post_init__(self):
    for name in ("param_dtype", "compute_dtype", "sampler_dtype", "reference_dtype"):
      dtype(getattr(self, name))
    if self.logits_dtype != "float32":
      raise ValueError("PrecisionPolicy.logits_dtype must be float32: log-softmax over a large "
                       "vocabulary and the PPO ratio need it (rlef_jax.models.precision)")

  def check_lr(self, lr: float, weight_magnitude: float = 0.02) -> None:
    """ValueError when AdamW steps at `lr` would round away in `param_dtype`."""
    r = update_resolution(self.param_dtype, lr, weight_magnitude)
    if not r["survives"]:
      raise ValueError(
          f"param_dtype {self.param_dtype} cannot hold an AdamW step at lr {lr:g}: the step is "
          f"~{r['relative_step']:.1e} of a weight of magnitude {weight_magnitude:g}, below the "
          f"dtype's resolution {r['resolution']:.1e}, so every update rounds back to the old "
          "weight; keep float32 master weights")

  def apply(self, config: LlamaConfig) -> LlamaConfig:
    """The training config: master weights in `param_dtype`, compute in `compute_dtype`."""
    return config.replace(param_dtype=dtype(self.param_dtype),
                          compute_dtype=dtype(self.compute_dtype), sharding_rules="train")

  def sampler_config(self, config: LlamaConfig) -> LlamaConfig:
    """The sampler's config: weights in `sampler_dtype`, the inference sharding rules."""
    return config.replace(param_dtype=dtype(self.sampler_dtype),
                          compute_dtype=dtype(self.compute_dtype), sharding_rules="inference",
                          remat=False)

  def sampler_params(self, config: LlamaConfig, params: Any, mesh: jax.sharding.Mesh | None = None
                     ) -> Any:
    """The sampler's copy of `params`: floats cast to `sampler_dtype`, placed on
    `mesh` by the inference rules (tensor-parallel weights) when given.

    The trainer calls this once per round and publishes the result to the
    sampler; `sampling.generate(self.sampler_config(config), copy, ...)`.
    A new buffer either way (the policy's own buffers are donated by the update).
    """
    params = layout.pure_params(params)
    target = dtype(self.sampler_dtype)
    cast = lambda x: x.astype(target) if jnp.issubdtype(x.dtype, jnp.floating) else x
    if mesh is None:
      return jax.jit(lambda p: jax.tree.map(cast, p))(params)
    out = partitioning.param_shardings(self.sampler_config(config), mesh, params,
                                   partitioning.INFERENCE_RULES)
    return jax.jit(lambda p: jax.tree.map(cast, p), out_shardings=out)(params)

  def reference_params(self, params: Any) -> Any:
    """The frozen reference copy rho, stored in `reference_dtype`."""
    return reference_copy(params, self.reference_dtype)

  def bytes_per_param(self) -> dict[str, int]:
    """Bytes per parameter of each copy (for capacity estimates)."""
    size = lambda name: int(np.dtype(dtype(name)).itemsize)
    return {"master": size(self.param_dtype), "adam_moments": 2 * size(self.param_dtype),
            "sampler": size(self.sampler_dtype), "reference": size(self.reference_dtype)}


def reference_copy(params: Any, dtype_name: Any = None) -> Any:
  """A frozen copy of `params` for the reference policy rho: own buffers (the
  policy's are donated by each update), floats stored in `dtype_name` when given.

  rho is only read (in the compute dtype), so a bf16 copy halves its bytes and
  changes its log-probs only by the cast the forward pass makes anyway when
  compute is bf16.
  """
  params = layout.pure_params(params)
  if dtype_name is None:
    return jax.tree.map(jnp.copy, params)
  target = jnp.dtype(dtype_name)
  return jax.tree.map(lambda x: jnp.array(x, dtype=target, copy=True)
                      if jnp.issubdtype(x.dtype, jnp.floating) else jnp.copy(x), params)

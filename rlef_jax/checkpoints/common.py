"""What the HF and Meta loaders share: the error type and streaming assembly.

A loader describes each parameter leaf by the name of its tensor in the
checkpoint and how that tensor maps onto our layout (`TensorMap`), and hands
`assemble` a function that reads one tensor. `assemble` then builds the
params pytree one leaf at a time: a stacked `[L, ...]` leaf is filled layer by
layer into one host buffer, placed on its devices, and released before the
next leaf, so host memory peaks at one leaf plus one tensor.

Example (what `hf.py` does):

    params = assemble(config, lambda name: reader[name], maps, jnp.bfloat16,
                      shardings=partitioning.param_shardings(config, mesh))
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Sequence

import jax
import numpy as np

from rlef_jax.models import llama
from rlef_jax.models.configs import LlamaConfig

LAYER = "{i}"  # placeholder for the layer index in per-layer tensor names


class CheckpointError(ValueError):
  """A checkpoint folder that does not hold the model its config describes."""


@dataclasses.dataclass(frozen=True)
class TensorMap:
  """Where one leaf of our layout lives in a checkpoint, per layer if stacked.

  Our per-layer array is `source.reshape(view).transpose(perm).reshape(shape)`
  where `source` has `source_shape` and `shape` is our leaf shape without L.
  """

  name: str  # contains LAYER for stacked leaves
  source_shape: tuple[int, ...]
  view: tuple[int, ...] | None = None
  perm: tuple[int, ...] | None = None

  def tensor_name(self, layer: int | None) -> str:
    return self.name if layer is None else self.name.replace(LAYER, str(layer))

  def convert(self, source: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    x = source if self.view is None else source.reshape(self.view)
    x = x if self.perm is None else x.transpose(self.perm)
    return x.reshape(shape)


def leaf_paths(config: LlamaConfig) -> dict[str, tuple[int, ...]]:
  """Our leaves as `"layers/attn/wq"`-style paths mapped to their shapes."""
  flat = {}

  def walk(prefix, node):
    for key, value in node.items():
      path = f"{prefix}/{key}" if prefix else key
      if isinstance(value, dict):
        walk(path, value)
      else:
        flat[path] = tuple(value)

  walk("", llama.param_shapes(config))
  return flat


def expected_tensors(config: LlamaConfig, maps: Mapping[str, TensorMap]) -> dict[str, tuple[str, tuple[int, ...]]]:
  """Checkpoint tensor name -> (our leaf path, expected source shape)."""
  out = {}
  for path in leaf_paths(config):
    m = maps[path]
    layers = range(config.num_layers) if path.startswith("layers/") else [None]
    for layer in layers:
      out[m.tensor_name(layer)] = (path, m.source_shape)
  return out


def _lookup(tree: Any, path: str) -> Any:
  for key in path.split("/"):
    if tree is None:
      return None
    tree = tree[key]
  return tree


def assemble(config: LlamaConfig, read: Callable[[str], np.ndarray],
             maps: Mapping[str, TensorMap], dtype: Any, shardings: Any = None) -> dict[str, Any]:
  """The params pytree, read tensor by tensor through `read(name)`.

  `read` returns the checkpoint tensor with its source shape (already checked
  by the loader). `shardings` is a pytree of `jax.sharding.Sharding` matching
  the params (e.g. `partitioning.param_shardings(config, mesh)`), or None for the
  default device.
  """
  params: dict[str, Any] = {}
  np_dtype = np.dtype(dtype)
  for path, shape in leaf_paths(config).items():
    m = maps[path]
    if path.startswith("layers/"):
      host = np.empty(shape, np_dtype)
      for layer in range(config.num_layers):
        host[layer] = m.convert(read(m.tensor_name(layer)), shape[1:])
    else:
      host = m.convert(read(m.tensor_name(None)), shape).astype(np_dtype, copy=False)
    sharding = _lookup(shardings, path)
    value = jax.device_put(host, sharding) if sharding is not None else jax.device_put(host)
    del host  # the next leaf may be large: keep one host buffer alive at a time
    node = params
    *parents, leaf = path.split("/")
    for key in parents:
      node = node.setdefault(key, {})
    node[leaf] = value
  return params


def describe_config(config: LlamaConfig) -> str:
  return (f"vocab_size={config.vocab_size}, hidden_size={config.hidden_size}, "
          f"intermediate_size={config.intermediate_size}, num_layers={config.num_layers}, "
          f"num_heads={config.num_heads}, num_kv_heads={config.num_kv_heads}, "
          f"head_dim={config.head_dim}")

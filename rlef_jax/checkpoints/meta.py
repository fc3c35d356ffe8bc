"""Meta's own Llama 3 checkpoints: `params.json` + `consolidated.NN.pth`.

Meta ships one `consolidated.NN.pth` per model-parallel rank (1 for 8B, 8 for
70B). Each is opened with `torch.load(mmap=True, weights_only=True)`, so
nothing is read until a tensor is needed; per tensor the rank slices are
concatenated along the dimension Meta's fairscale layers split
(column-parallel `wq wk wv w1 w3 output` on dim 0, row-parallel `wo w2` on
dim 1, the vocab-parallel embedding on the vocab dim, norms replicated).
Meta's attention uses interleaved (complex) RoPE, so the rows of `wq` and
`wk` are permuted per head from pairs `(2j, 2j+1)` to halves `(j, j + Dh/2)`,
the permutation Hugging Face's conversion applies; then everything maps onto
our layout like the HF weights. Needs torch (CPU is enough).

`params.json` has no context length or scaling constants: llama3 scaling
(`use_scaled_rope`) is factor 8, low/high 1/4, original 8192, as in Meta's
reference code (a `rope_scaling_factor` key overrides the factor; Llama 3.2
wants 32), and `max_position_embeddings` is 131072 with scaling, else 8192.
The output layer is tied to the embedding iff no `output.weight` is stored.
Override any field with keyword arguments.

Example:

    config, params = load_meta_llama("/ckpt/Meta-Llama-3.1-8B-Instruct", jnp.bfloat16)
"""

from __future__ import annotations

import json
import os
import pathlib
import re
from typing import Any, Mapping

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np

from rlef_jax.checkpoints.common import (LAYER, CheckpointError, TensorMap, assemble,
                                         describe_config, expected_tensors)
from rlef_jax.models import partitioning
from rlef_jax.models.configs import LlamaConfig, RopeScaling

PARAMS_FILE = "params.json"
_SHARD = re.compile(r"consolidated\.(\d+)\.pth")
_IGNORED = ("rope.freqs",)  # Llama 2's precomputed frequencies


def intermediate_size(dim: int, multiple_of: int, ffn_dim_multiplier: float | None) -> int:
  """SwiGLU width by Meta's rule: 2/3 of 4*dim, scaled, rounded up to `multiple_of`."""
  hidden = int(2 * (4 * dim) / 3)
  if ffn_dim_multiplier is not None:
    hidden = int(ffn_dim_multiplier * hidden)
  return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


def config_from_meta_params(params: Mapping[str, Any], *, tie_word_embeddings: bool = False,
                            **overrides) -> LlamaConfig:
  """A `LlamaConfig` from the dict in Meta's `params.json`."""
  dim, heads = params["dim"], params["n_heads"]
  scaled = bool(params.get("use_scaled_rope", False))
  kwargs = dict(
      vocab_size=params["vocab_size"],
      hidden_size=dim,
      intermediate_size=intermediate_size(dim, params.get("multiple_of", 256),
                                          params.get("ffn_dim_multiplier")),
      num_layers=params["n_layers"],
      num_heads=heads,
      num_kv_heads=params.get("n_kv_heads") or heads,
      head_dim=dim // heads,
      rms_norm_eps=params.get("norm_eps", 1e-5),
      rope_theta=float(params.get("rope_theta", 500000.0)),
      rope_scaling=(RopeScaling(factor=float(params.get("rope_scaling_factor", 8.0)))
                    if scaled else None),
      max_position_embeddings=131072 if scaled else 8192,
      tie_word_embeddings=tie_word_embeddings,
  )
  kwargs.update(overrides)
  return LlamaConfig(**kwargs)


def tensor_maps(config: LlamaConfig) -> dict[str, TensorMap]:
  """Our leaf path -> Meta tensor name and its reshape/transpose onto our layout."""
  d, f, v = config.hidden_size, config.intermediate_size, config.vocab_size
  h, k, dh = config.num_heads, config.num_kv_heads, config.head_dim
  layer = f"layers.{LAYER}."
  # Rows of one head are (Dh/2 pairs, 2); ours are (2 halves, Dh/2).
  return {
      "embed/embedding": TensorMap("tok_embeddings.weight", (v, d)),
      "layers/attn_norm/scale": TensorMap(layer + "attention_norm.weight", (d,)),
      "layers/attn/wq": TensorMap(layer + "attention.wq.weight", (h * dh, d), (h, dh // 2, 2, d), (3, 0, 2, 1)),
      "layers/attn/wk": TensorMap(layer + "attention.wk.weight", (k * dh, d), (k, dh // 2, 2, d), (3, 0, 2, 1)),
      "layers/attn/wv": TensorMap(layer + "attention.wv.weight", (k * dh, d), (k, dh, d), (2, 0, 1)),
      "layers/attn/wo": TensorMap(layer + "attention.wo.weight", (d, h * dh), (d, h, dh), (1, 2, 0)),
      "layers/mlp_norm/scale": TensorMap(layer + "ffn_norm.weight", (d,)),
      "layers/mlp/w_gate": TensorMap(layer + "feed_forward.w1.weight", (f, d), None, (1, 0)),
      "layers/mlp/w_up": TensorMap(layer + "feed_forward.w3.weight", (f, d), None, (1, 0)),
      "layers/mlp/w_down": TensorMap(layer + "feed_forward.w2.weight", (d, f), None, (1, 0)),
      "final_norm/scale": TensorMap("norm.weight", (d,)),
      "lm_head/kernel": TensorMap("output.weight", (v, d), None, (1, 0)),
  }


def split_dim(name: str, full_shape: tuple[int, ...], shard_shape: tuple[int, ...]) -> int | None:
  """The dim model-parallel ranks split `name` along; None when replicated."""
  if len(full_shape) == 1:
    return None
  if name.endswith(("attention.wo.weight", "feed_forward.w2.weight")):
    return 1
  if name == "tok_embeddings.weight" and shard_shape[1] != full_shape[1]:
    return 1  # Llama 2 split the embedding dim; Llama 3 splits the vocab
  return 0


def shard_files(folder: pathlib.Path) -> list[pathlib.Path]:
  found = {int(m.group(1)): folder / m.group(0)
           for m in (_SHARD.fullmatch(p.name) for p in folder.iterdir()) if m}
  if not found:
    raise CheckpointError(f"{folder}: no consolidated.NN.pth files")
  missing = [f"consolidated.{i:02d}.pth" for i in range(max(found) + 1) if i not in found]
  if missing:
    raise CheckpointError(f"{folder}: model-parallel shard {missing[0]} is missing "
                          f"(found {', '.join(p.name for _, p in sorted(found.items()))})")
  return [found[i] for i in sorted(found)]


def _torch():
  # Local import: optional dependency (the `meta` extra; seconds to import).
  import torch  # pylint: disable=import-outside-toplevel
  return torch


def _to_numpy(tensor) -> np.ndarray:
  torch = _torch()
  if tensor.dtype == torch.bfloat16:
    return tensor.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
  return tensor.numpy()


def load_meta_llama(path: str | os.PathLike[str], dtype: Any = jnp.float32, *,
                    mesh: jax.sharding.Mesh | None = None, shardings: Any = None,
                    **config_overrides) -> tuple[LlamaConfig, dict[str, Any]]:
  """Reads a Meta Llama 3 folder; arguments and result as `load_hf_llama`."""
  torch = _torch()
  folder = pathlib.Path(path)
  params_path = folder / PARAMS_FILE
  if not params_path.is_file():
    raise CheckpointError(f"{folder}: no {PARAMS_FILE}")
  files = shard_files(folder)
  shards = [torch.load(f, map_location="cpu", mmap=True, weights_only=True) for f in files]
  try:
    config = config_from_meta_params(
        json.loads(params_path.read_text()),
        tie_word_embeddings="output.weight" not in shards[0], **config_overrides)
  except KeyError as e:
    raise CheckpointError(f"{params_path}: missing required key {e.args[0]!r}") from e
  except (TypeError, ValueError) as e:
    raise CheckpointError(f"{params_path}: {e}") from e
  config = config.replace(param_dtype=dtype)
  maps = tensor_maps(config)
  expected = expected_tensors(config, maps)
  _check(files, shards, config, expected)

  def read(name: str) -> np.ndarray:
    full = expected[name][1]
    dim = split_dim(name, full, tuple(shards[0][name].shape))
    if dim is None or len(shards) == 1:
      return _to_numpy(shards[0][name])
    return _to_numpy(torch.cat([s[name] for s in shards], dim=dim))

  if mesh is not None and shardings is None:
    shardings = partitioning.param_shardings(config, mesh)
  return config, assemble(config, read, maps, dtype, shardings)


def _check(files, shards, config: LlamaConfig, expected) -> None:
  """Raises CheckpointError for the first wrong tensor; touches no data."""
  torch = _torch()
  floats = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
  where = f"{PARAMS_FILE} ({describe_config(config)})"
  for name, (_, full) in expected.items():
    for file, shard in zip(files, shards):
      if name not in shard:
        raise CheckpointError(f"tensor {name} is missing from {file.name}")
      if shard[name].dtype not in floats:
        raise CheckpointError(f"{file.name}: tensor {name} has dtype {shard[name].dtype}; "
                              "weights must be float16, bfloat16, float32 or float64")
    shapes = [tuple(s[name].shape) for s in shards]
    dim = split_dim(name, full, shapes[0])
    if dim is None or len(shards) == 1:
      bad = next((i for i, s in enumerate(shapes) if s != full), None)
    else:
      total = sum(s[dim] for s in shapes)
      joined = shapes[0][:dim] + (total,) + shapes[0][dim + 1:]
      bad = None if joined == full and len(set(shapes)) == 1 else 0
    if bad is not None:
      raise CheckpointError(
          f"{files[bad].name}: tensor {name} has shape {list(shapes[bad])}"
          f"{f' (of {len(shards)} model-parallel shards)' if len(shards) > 1 else ''}, "
          f"but {where} implies {list(full)} in total")
  for file, shard in zip(files, shards):
    for name in shard:
      if name not in expected and name not in _IGNORED:
        raise CheckpointError(f"{file.name}: unexpected tensor {name}; {where} has no place for it")

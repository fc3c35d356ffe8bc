"""Hugging Face Llama checkpoints: `config.json` + safetensors, in and out.

`load_hf_llama` reads a `save_pretrained` folder (one `model.safetensors`, or
shards listed by `model.safetensors.index.json`), checks every tensor's name,
dtype and shape against `config.json` before reading any data, then streams
the tensors into (optionally sharded) device arrays. HF's RoPE convention is
ours, so every tensor maps by reshape/transpose alone. Tensors are read with
`safetensors.safe_open(framework="numpy")`; numpy has no bf16, so bf16
tensors go through `framework="flax"` on the host CPU device instead (a
detour that costs a copy, hence not taken for other dtypes).

`save_hf_llama` writes params back in the same format (for exporting a
trained policy to HF tooling, and for tests).

Example:

    config, params = load_hf_llama("/ckpt/Llama-3.1-8B-Instruct", jnp.bfloat16,
                                   mesh=sharding.make_mesh())
    save_hf_llama("/tmp/out", config, params, max_shard_bytes=5 << 30)
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

from rlef_jax.checkpoints.common import (LAYER, CheckpointError, TensorMap, assemble,
                                         describe_config, expected_tensors)
from rlef_jax.models import llama
from rlef_jax.models import partitioning
from rlef_jax.models.configs import LlamaConfig

CONFIG_FILE = "config.json"
SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")
# Buffers some older transformers versions saved; they are recomputed, not weights.
_IGNORED_SUFFIXES = ("rotary_emb.inv_freq",)
_UNSUPPORTED_FLAGS = ("attention_bias", "mlp_bias")


def tensor_maps(config: LlamaConfig) -> dict[str, TensorMap]:
  """Our leaf path -> HF tensor name and its reshape/transpose onto our layout."""
  d, f, v = config.hidden_size, config.intermediate_size, config.vocab_size
  h, k, dh = config.num_heads, config.num_kv_heads, config.head_dim
  layer = f"model.layers.{LAYER}."
  return {
      "embed/embedding": TensorMap("model.embed_tokens.weight", (v, d)),
      "layers/attn_norm/scale": TensorMap(layer + "input_layernorm.weight", (d,)),
      "layers/attn/wq": TensorMap(layer + "self_attn.q_proj.weight", (h * dh, d), (h, dh, d), (2, 0, 1)),
      "layers/attn/wk": TensorMap(layer + "self_attn.k_proj.weight", (k * dh, d), (k, dh, d), (2, 0, 1)),
      "layers/attn/wv": TensorMap(layer + "self_attn.v_proj.weight", (k * dh, d), (k, dh, d), (2, 0, 1)),
      "layers/attn/wo": TensorMap(layer + "self_attn.o_proj.weight", (d, h * dh), (d, h, dh), (1, 2, 0)),
      "layers/mlp_norm/scale": TensorMap(layer + "post_attention_layernorm.weight", (d,)),
      "layers/mlp/w_gate": TensorMap(layer + "mlp.gate_proj.weight", (f, d), None, (1, 0)),
      "layers/mlp/w_up": TensorMap(layer + "mlp.up_proj.weight", (f, d), None, (1, 0)),
      "layers/mlp/w_down": TensorMap(layer + "mlp.down_proj.weight", (d, f), None, (1, 0)),
      "final_norm/scale": TensorMap("model.norm.weight", (d,)),
      "lm_head/kernel": TensorMap("lm_head.weight", (v, d), None, (1, 0)),
  }


def read_config(folder: pathlib.Path, **overrides) -> LlamaConfig:
  path = folder / CONFIG_FILE
  if not path.is_file():
    raise CheckpointError(f"{folder}: no {CONFIG_FILE}")
  try:
    hf = json.loads(path.read_text())
  except json.JSONDecodeError as e:
    raise CheckpointError(f"{path}: not valid JSON ({e})") from e
  for flag in _UNSUPPORTED_FLAGS:
    if hf.get(flag):
      raise CheckpointError(f"{path}: {flag}=true is not a Llama 3 architecture")
  if hf.get("hidden_act", "silu") != "silu":
    raise CheckpointError(f"{path}: hidden_act={hf['hidden_act']!r}; Llama uses 'silu'")
  try:
    return LlamaConfig.from_hf_dict(hf, **overrides)
  except KeyError as e:
    raise CheckpointError(f"{path}: missing required key {e.args[0]!r}") from e
  except (TypeError, ValueError) as e:
    raise CheckpointError(f"{path}: {e}") from e


def weight_files(folder: pathlib.Path) -> dict[str, pathlib.Path]:
  """Tensor name -> the safetensors file the folder says holds it (unchecked)."""
  index = folder / INDEX_FILE
  if index.is_file():
    try:
      weight_map = json.loads(index.read_text())["weight_map"]
    except (json.JSONDecodeError, KeyError) as e:
      raise CheckpointError(f"{index}: not a safetensors index (no 'weight_map')") from e
    files = {name: folder / file for name, file in weight_map.items()}
    for file in sorted(set(files.values())):
      if not file.is_file():
        held = sorted(n for n, f in files.items() if f == file)
        raise CheckpointError(
            f"{index} lists shard {file.name}, which is missing from {folder} "
            f"({len(held)} tensors, e.g. {held[0]})")
    return files
  single = folder / SINGLE_FILE
  if not single.is_file():
    found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    raise CheckpointError(f"{folder}: neither {SINGLE_FILE} nor {INDEX_FILE} (found {found})")
  with safe_open(single, framework="numpy") as f:
    return {name: single for name in f.keys()}


def _host_device():
  """The CPU device, so tensors are staged in host memory, not on an accelerator."""
  try:
    return jax.local_devices(backend="cpu")[0]
  except RuntimeError:  # JAX_PLATFORMS excludes cpu: stage on the default device
    return None


def load_hf_llama(path: str | os.PathLike[str], dtype: Any = jnp.float32, *,
                  mesh: jax.sharding.Mesh | None = None, shardings: Any = None,
                  **config_overrides) -> tuple[LlamaConfig, dict[str, Any]]:
  """Reads a Hugging Face `LlamaForCausalLM` folder.

  Args:
    path: folder with `config.json` and `model.safetensors` or an index + shards.
    dtype: dtype of the returned params (the file's dtype is converted).
    mesh: place params by the rules table (`models.partitioning`) on this mesh.
    shardings: explicit params-shaped pytree of shardings (overrides `mesh`).
    **config_overrides: `LlamaConfig` fields to set (e.g. `compute_dtype`).

  Returns:
    `(config, params)`: `config.param_dtype` is `dtype`; params is the pure dict.

  Raises:
    CheckpointError: naming the file and tensor that is missing, mis-shaped,
      of a non-float dtype, or unexpected for `config.json`.
  """
  folder = pathlib.Path(path)
  config = read_config(folder, **config_overrides).replace(param_dtype=dtype)
  files = weight_files(folder)
  maps = tensor_maps(config)
  expected = expected_tensors(config, maps)
  with contextlib.ExitStack() as stack:
    handles = {file: stack.enter_context(safe_open(file, framework="numpy"))
               for file in sorted(set(files.values()))}
    bf16_handles = {}
    present = {}
    for file, handle in handles.items():
      for name in handle.keys():
        present[name] = file
    _check(folder, config, files, present, handles, expected)

    def read(name: str) -> np.ndarray:
      file = present[name]
      if handles[file].get_slice(name).get_dtype() != "BF16":
        return handles[file].get_tensor(name)
      with jax.default_device(_host_device()):
        if file not in bf16_handles:
          bf16_handles[file] = stack.enter_context(safe_open(file, framework="flax"))
        return np.asarray(bf16_handles[file].get_tensor(name))

    if mesh is not None and shardings is None:
      shardings = partitioning.param_shardings(config, mesh)
    return config, assemble(config, read, maps, dtype, shardings)


def _check(folder, config, files, present, handles, expected) -> None:
  """Raises CheckpointError for the first wrong tensor; reads headers only."""
  for name, (_, shape) in expected.items():
    if name not in present:
      where = files[name].name if name in files else f"any safetensors file in {folder}"
      raise CheckpointError(f"tensor {name} is missing from {where}")
    sl = handles[present[name]].get_slice(name)
    file = present[name].name
    if sl.get_dtype() not in FLOAT_DTYPES:
      raise CheckpointError(f"{file}: tensor {name} has dtype {sl.get_dtype()}; "
                            f"weights must be one of {', '.join(FLOAT_DTYPES)}")
    if tuple(sl.get_shape()) != shape:
      raise CheckpointError(
          f"{file}: tensor {name} has shape {list(sl.get_shape())}, but {CONFIG_FILE} "
          f"({describe_config(config)}) implies {list(shape)}")
  for name, file in present.items():
    if name in expected or name.endswith(_IGNORED_SUFFIXES):
      continue
    if config.tie_word_embeddings and name == "lm_head.weight":
      continue  # tied: the embedding is the output layer, as transformers does it
    raise CheckpointError(
        f"{file.name}: unexpected tensor {name}; {CONFIG_FILE} ({describe_config(config)}, "
        f"tie_word_embeddings={config.tie_word_embeddings}) has no place for it")


def save_hf_llama(path: str | os.PathLike[str], config: LlamaConfig, params: Any,
                  max_shard_bytes: int | None = None) -> None:
  """Writes `config.json` and safetensors (sharded with an index past `max_shard_bytes`).

  Tensors keep the params' dtype; one tensor at a time is fetched to the host.
  """
  params = llama.pure_params(params)
  folder = pathlib.Path(path)
  folder.mkdir(parents=True, exist_ok=True)
  maps = tensor_maps(config)
  entries = []  # (tensor name, our leaf path, layer or None, bytes)
  for name, (leaf, _) in expected_tensors(config, maps).items():
    layer = int(name.split(".")[2]) if leaf.startswith("layers/") else None
    value = _leaf(params, leaf)
    entries.append((name, leaf, layer, int(np.prod(value.shape[1 if layer is not None else 0:]))
                    * value.dtype.itemsize))
  shards, size = [[]], 0
  for entry in entries:
    if max_shard_bytes and shards[-1] and size + entry[3] > max_shard_bytes:
      shards.append([])
      size = 0
    shards[-1].append(entry)
    size += entry[3]
  names = ([SINGLE_FILE] if len(shards) == 1 else
           [f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors" for i in range(len(shards))])
  weight_map = {}
  for file, shard in zip(names, shards):
    tensors = {}
    for name, leaf, layer, _ in shard:
      value = _leaf(params, leaf)
      ours = np.asarray(value if layer is None else value[layer])
      tensors[name] = _to_source(maps[leaf], ours)
      weight_map[name] = file
    save_file(tensors, str(folder / file), metadata={"format": "pt"})
  if len(shards) > 1:
    total = sum(e[3] for e in entries)
    (folder / INDEX_FILE).write_text(json.dumps(
        {"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2))
  hf = config.to_hf_dict()
  hf["torch_dtype"] = str(np.dtype(_leaf(params, "final_norm/scale").dtype))
  (folder / CONFIG_FILE).write_text(json.dumps(hf, indent=2))


def _leaf(params, path: str):
  for key in path.split("/"):
    params = params[key]
  return params


def _to_source(m: TensorMap, ours: np.ndarray) -> np.ndarray:
  """Inverse of `TensorMap.convert`: our per-layer array back to the HF tensor."""
  if m.perm is None:
    return np.ascontiguousarray(ours.reshape(m.source_shape))
  inverse = tuple(int(i) for i in np.argsort(m.perm))
  view = m.view or m.source_shape
  permuted = tuple(view[i] for i in m.perm)
  return np.ascontiguousarray(ours.reshape(permuted).transpose(inverse).reshape(m.source_shape))

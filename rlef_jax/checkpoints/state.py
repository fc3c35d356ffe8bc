"""Orbax checkpoints of a training run, and `load_policy` for any saved model.

One step folder per saved step under `<workdir>/checkpoints/` (the latest few)
and `<workdir>/best/` (the best by a validation metric), written by
`orbax.checkpoint.CheckpointManager` with asynchronous saves. A step holds
separate items, so a reader can restore only what it needs:

  policy, value            params pytrees
  policy_opt, value_opt    the two optimizer states
  pending                  the lagged rollout batch sampled but not yet used (if any)
  meta                     JSON: step, rounds done, data position, RNG seed, the
                           LlamaConfig (Hugging Face dict + dtype names), the
                           pending batch's records/stats, the best metric so far

Example:

    from rlef_jax.checkpoints import state as ckpt
    with ckpt.TrainCheckpoints(workdir / "checkpoints") as mngr:
      mngr.save(3, {"policy": params, "value": value}, meta={"round": 3})
      items, meta = mngr.restore(mngr.latest_step(), {"policy": abstract})
    config, params = ckpt.load_policy(workdir)   # best, else latest
"""

from __future__ import annotations

import json
import pathlib
from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

from rlef_jax.checkpoints.common import CheckpointError
from rlef_jax.checkpoints.hf import load_hf_llama
from rlef_jax.models.configs import LlamaConfig

ARRAY_ITEMS = ("policy", "value", "policy_opt", "value_opt", "pending")


def config_to_json(config: LlamaConfig) -> dict[str, Any]:
  return {"hf": config.to_hf_dict(), "param_dtype": np.dtype(config.param_dtype).name,
          "compute_dtype": np.dtype(config.compute_dtype).name, "remat": bool(config.remat)}


def config_from_json(obj: Mapping[str, Any]) -> LlamaConfig:
  return LlamaConfig.from_hf_dict(obj["hf"], param_dtype=jnp.dtype(obj["param_dtype"]),
                                  compute_dtype=jnp.dtype(obj["compute_dtype"]),
                                  remat=bool(obj.get("remat", False)))


def abstract(tree: Any) -> Any:
  """ShapeDtypeStructs (with shardings) of a live pytree: the restore target."""
  return jax.tree.map(ocp.utils.to_shape_dtype_struct, tree)


class TrainCheckpoints:
  """A CheckpointManager of array items plus a JSON `meta` item per step.

  Args:
    directory: the step folders' parent (created).
    max_to_keep: step folders kept (oldest deleted first).
    async_save: write in a background thread after the device-to-host copy,
      so training goes on (and may donate the saved buffers) meanwhile.
  """

  def __init__(self, directory: str | pathlib.Path, max_to_keep: int | None = 2,
               async_save: bool = True):
    self.directory = pathlib.Path(directory).absolute()
    options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep,
                                           enable_async_checkpointing=async_save,
                                           create=True)
    self._mngr = ocp.CheckpointManager(self.directory, options=options)

  def latest_step(self) -> int | None:
    return self._mngr.latest_step()

  def all_steps(self) -> list[int]:
    return list(self._mngr.all_steps())

  def save(self, step: int, items: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
    """Saves `items` (pytrees of arrays; None values skipped) and `meta` as step `step`."""
    args = {name: ocp.args.StandardSave(tree) for name, tree in items.items() if tree is not None}
    args["meta"] = ocp.args.JsonSave(dict(meta))
    self._mngr.save(step, args=ocp.args.Composite(**args))

  def items_at(self, step: int) -> set[str]:
    folder = self.directory / str(step)
    return {p.name for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()

  def restore(self, step: int, targets: Mapping[str, Any]) -> tuple[dict[str, Any], dict]:
    """(items, meta) of `step`; `targets` maps item names to abstract pytrees (None:
    restore as saved, on the default device)."""
    present = self.items_at(step)
    missing = sorted(set(targets) - present)
    if missing:
      raise CheckpointError(f"checkpoint {self.directory / str(step)} has no item(s) {missing}")
    args = {name: ocp.args.StandardRestore(t) for name, t in targets.items()}
    args["meta"] = ocp.args.JsonRestore()
    out = self._mngr.restore(step, args=ocp.args.Composite(**args))
    items = {name: out[name] for name in targets}
    return items, dict(out["meta"])

  def wait(self) -> None:
    self._mngr.wait_until_finished()

  def close(self) -> None:
    self._mngr.wait_until_finished()
    self._mngr.close()

  def __enter__(self) -> "TrainCheckpoints":
    return self

  def __exit__(self, *exc) -> None:
    self.close()


def _is_step_folder(path: pathlib.Path) -> bool:
  return (path / "meta").is_dir() and (path / "policy").is_dir()


def _latest_step_folder(parent: pathlib.Path) -> pathlib.Path | None:
  if not parent.is_dir():
    return None
  steps = [p for p in parent.iterdir() if p.name.isdigit() and _is_step_folder(p)]
  return max(steps, key=lambda p: int(p.name)) if steps else None


def resolve_policy_folder(path: str | pathlib.Path) -> pathlib.Path:
  """The step folder (or HF folder) that `load_policy(path)` reads."""
  path = pathlib.Path(path).absolute()
  if not path.exists():
    raise CheckpointError(f"{path}: no such folder")
  if _is_step_folder(path):
    return path
  if (path / "config.json").is_file():
    return path
  for sub in ("best", "checkpoints"):
    found = _latest_step_folder(path / sub)
    if found is not None:
      return found
  raise CheckpointError(
      f"{path} is not a training workdir (no step folders under best/ or checkpoints/), "
      "an orbax step folder (with policy/ and meta/) or a Hugging Face folder (config.json)")


def load_policy(path: str | pathlib.Path) -> tuple[LlamaConfig, Any]:
  """(LlamaConfig, policy params) from a workdir (best, else latest step), an orbax
  step folder, or a Hugging Face folder."""
  folder = resolve_policy_folder(path)
  if not _is_step_folder(folder):
    return load_hf_llama(folder)
  meta = json.loads((folder / "meta" / "metadata").read_text()) if (
      folder / "meta" / "metadata").is_file() else None
  if meta is None:
    meta = ocp.Checkpointer(ocp.JsonCheckpointHandler()).restore(folder / "meta")
  if "config" not in meta:
    raise CheckpointError(f"{folder}: meta holds no model config")
  config = config_from_json(meta["config"])
  params = ocp.StandardCheckpointer().restore(folder / "policy")
  params = jax.tree.map(lambda x: jax.numpy.asarray(x, config.param_dtype), params)
  return config, params

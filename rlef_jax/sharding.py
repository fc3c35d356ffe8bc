"""The device mesh and multi-host placement.

`MeshConfig` -> `mesh_shape` (the one place a `-1` axis is resolved) ->
`make_mesh`; `opt_state_shardings` places optimizer state beside its
parameters; `initialize_distributed` starts a multi-host job. Which array dim
goes to which mesh axis is the model's vocabulary,
`rlef_jax.models.partitioning` (the rules tables, `logical_to_spec`,
`constrain`, `shard_params`, ...); its names are re-exported here for code
written against this module.

Example:

    from rlef_jax import sharding
    sharding.mesh_shape(sharding.MeshConfig(data=2, fsdp=-1), 8)   # (2, 4, 1)
    mesh = sharding.make_mesh(sharding.MeshConfig(data=2, fsdp=2, tensor=2))
    params = sharding.shard_params(params, cfg, mesh)
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any, Sequence

import jax
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

# The model's sharding vocabulary, re-exported (rlef_jax.models.partitioning owns it).
from rlef_jax.models.partitioning import (  # pylint: disable=unused-import
    INFERENCE_RULES, LOGICAL_AXIS_RULES, MESH_AXES, RULE_SETS, TRAINING_RULES, LogicalAxes,
    Rules, batch_sharding, batch_shards, cache_axes, constrain, kv_cache_sharding,
    logical_to_sharding, logical_to_spec, param_shardings, rules_for, shard_params,
    tree_shardings)


__all__ = [
    "MeshConfig", "MeshError", "make_mesh", "mesh_shape", "opt_state_shardings",
    "initialize_distributed",
    # rlef_jax.models.partitioning's:
    "INFERENCE_RULES", "LOGICAL_AXIS_RULES", "MESH_AXES", "RULE_SETS", "TRAINING_RULES",
    "LogicalAxes", "Rules", "batch_sharding", "batch_shards", "cache_axes", "constrain",
    "kv_cache_sharding", "logical_to_sharding", "logical_to_spec", "param_shardings",
    "rules_for", "shard_params", "tree_shardings",
]


class MeshError(ValueError):
  """A mesh that cannot be built on these devices (the message says how to fix it)."""


@dataclasses.dataclass(frozen=True)
class MeshConfig:
  """Mesh shape; -1 in one field takes all remaining devices."""

  data: int = 1
  fsdp: int = -1
  tensor: int = 1


def mesh_shape(config: MeshConfig, num_devices: int) -> tuple[int, int, int]:
  """(data, fsdp, tensor) of `config` on `num_devices`: a `-1` axis takes the rest.

  MeshError (a ValueError) when no such mesh exists; on a CPU machine the
  message says how to get virtual devices.
  """
  shape = [config.data, config.fsdp, config.tensor]
  how = (f"(MeshConfig.data x fsdp x tensor must be at most the {num_devices} devices, with at "
         "most one -1 for 'the rest'")
  if jax.default_backend() == "cpu":
    how += ("; on CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N before JAX starts "
            "gives N virtual devices")
  how += ")"
  if shape.count(-1) > 1 or any(s == 0 or s < -1 for s in shape):
    raise MeshError(f"impossible mesh {config} {how}")
  known = math.prod(s for s in shape if s != -1)
  if -1 in shape:
    if num_devices % known:
      raise MeshError(f"impossible mesh {config}: {num_devices} devices do not divide by "
                      f"{known} {how}")
    shape[shape.index(-1)] = num_devices // known
  if math.prod(shape) > num_devices:
    raise MeshError(f"impossible mesh {config}: needs {math.prod(shape)} devices, this job has "
                    f"{num_devices} {how}")
  return tuple(shape)


def make_mesh(config: MeshConfig | None = None, devices: Sequence[Any] | None = None) -> Mesh:
  """A mesh with axes (data, fsdp, tensor) over `devices` (default: all); a mesh
  smaller than the devices takes the first ones."""
  config = config or MeshConfig()
  devices = list(jax.devices() if devices is None else devices)
  shape = mesh_shape(config, len(devices))
  devices = devices[:math.prod(shape)]
  return jax.make_mesh(tuple(shape), MESH_AXES, devices=devices,
                       axis_types=(jax.sharding.AxisType.Auto,) * len(MESH_AXES))


def opt_state_shardings(optimizer: Any, params: Any, param_sharding: Any, mesh: Mesh) -> Any:
  """Shardings of `optimizer.init(params)`: param-shaped moments follow their param.

  Scalars and other non-param leaves (step counts) are replicated.
  """
  state_shape = jax.eval_shape(optimizer.init, params)
  replicated = NamedSharding(mesh, PartitionSpec())
  return optax.tree_map_params(
      optimizer, lambda _, s: s, state_shape, param_sharding,
      transform_non_params=lambda _: replicated)


def initialize_distributed() -> bool:
  """`jax.distributed.initialize()` when the environment describes a multi-host job.

  JAX reads the coordinator from these variables itself (explicit coordinator,
  SLURM, Open MPI, multi-host Cloud TPU); a single-host run has none of them
  and skips initialisation. Returns whether it initialised.
  """
  env = os.environ
  multi_host = (
      bool(env.get("JAX_COORDINATOR_ADDRESS"))
      or int(env.get("SLURM_NTASKS", "1")) > 1
      or int(env.get("OMPI_COMM_WORLD_SIZE", "1")) > 1
      or "," in env.get("TPU_WORKER_HOSTNAMES", ""))
  if multi_host:
    jax.distributed.initialize()
  return multi_host

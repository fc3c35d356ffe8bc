"""The model's sharding vocabulary: logical axis names -> mesh axes.

Every weight, activation, cache and batch array is described by logical axis
names (`batch`, `seq`, `embed`, `heads`, ...; `layout` names each parameter's).
`LOGICAL_AXIS_RULES` maps those names to the mesh axes `data`, `fsdp` and
`tensor`; every sharding in the project is derived from it, never written by
hand. The mesh itself (its shape, its devices, multi-host placement) is
`rlef_jax.sharding`'s; this module only needs a mesh's axis sizes.

Resolution follows Flax's logical partitioning rules: for each array dim the
rules for its name are tried in table order and the first whose mesh axes are
still unused by an earlier dim (and, when the shape is known, divide the dim)
wins; otherwise the dim is replicated. So `embed` is fsdp-sharded in weights
but replicated in activations, whose `batch` dim has already taken `fsdp`; and
a dim that does not divide its mesh axes (a 2-head tiny model on tensor=4) is
replicated instead of failing.

Two tables share those names: `TRAINING_RULES` (FSDP + tensor parallel, the
default everywhere) and `INFERENCE_RULES` (the sampler: tensor-parallel
weights, batch over data x fsdp; `rules_for("inference")`). A model config's
`sharding_rules` names the table its activation constraints use.

Example:

    from rlef_jax import sharding
    from rlef_jax.models import configs, llama, partitioning
    cfg = configs.get("tiny")
    partitioning.logical_to_spec(("batch", "embed"), {"data": 2, "fsdp": 2, "tensor": 2})
    # PartitionSpec(('data', 'fsdp'), None)
    mesh = sharding.make_mesh(sharding.MeshConfig(data=2, fsdp=2, tensor=2))
    params = partitioning.shard_params(llama.init_params(cfg, jax.random.key(0)), cfg, mesh)
    with jax.set_mesh(mesh):        # activation constraints need the mesh
      logits = jax.jit(llama.forward, static_argnums=0)(cfg, params, tokens)
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from rlef_jax.models import layout
from rlef_jax.models.configs import LlamaConfig

MESH_AXES = ("data", "fsdp", "tensor")

# (logical axis, mesh axes or None). Several rules for one name are tried in
# order; the first that fits wins (see the module docstring). The training
# rules: FSDP weights (`embed` over fsdp) with tensor-parallel heads/mlp/vocab.
LOGICAL_AXIS_RULES: tuple[tuple[str, str | tuple[str, ...] | None], ...] = (
    ("batch", ("data", "fsdp")),
    ("seq", None),
    ("cache_seq", None),
    ("embed", "fsdp"),
    ("heads", "tensor"),
    ("kv_heads", "tensor"),
    ("head_dim", None),
    ("mlp", "tensor"),
    ("vocab", "tensor"),
    ("layers", None),
    # The embedding table's own dims (see `layout`): as the weights in training.
    ("table_vocab", "tensor"),
    ("table_embed", "fsdp"),
)
TRAINING_RULES = LOGICAL_AXIS_RULES

# The sampler's rules, from the same logical names: weights tensor-parallel
# only (replicated over data and fsdp, so a decode step gathers no weight),
# the batch and the KV cache over data x fsdp, kv heads over tensor. The
# embedding table is split along its width over tensor and whole along the
# vocabulary, so a lookup is local and only the [B, T, d] rows are gathered.
INFERENCE_RULES: tuple[tuple[str, str | tuple[str, ...] | None], ...] = (
    ("batch", ("data", "fsdp")),
    ("seq", None),
    ("cache_seq", None),
    ("embed", None),
    ("heads", "tensor"),
    ("kv_heads", "tensor"),
    ("head_dim", None),
    ("mlp", "tensor"),
    ("vocab", "tensor"),
    ("layers", None),
    ("table_vocab", None),
    ("table_embed", "tensor"),
)

RULE_SETS = {"train": TRAINING_RULES, "inference": INFERENCE_RULES}


def rules_for(name: str):
  """The rules table called `name` ("train" or "inference")."""
  if name not in RULE_SETS:
    raise ValueError(f"unknown sharding rules {name!r}; known: {', '.join(RULE_SETS)}")
  return RULE_SETS[name]


LogicalAxes = tuple[str | None, ...]
Rules = Sequence[tuple[str, str | tuple[str, ...] | None]]


def logical_to_spec(logical_axes: LogicalAxes, mesh_shape: Mapping[str, int],
                    shape: Sequence[int] | None = None,
                    rules: Rules = LOGICAL_AXIS_RULES) -> PartitionSpec:
  """The PartitionSpec of an array with these logical axes on a mesh shape."""
  used: set[str] = set()
  spec = []
  for i, name in enumerate(logical_axes):
    chosen = None
    for rule_name, mesh_axes in rules:
      if rule_name != name or mesh_axes is None:
        continue
      axes = (mesh_axes,) if isinstance(mesh_axes, str) else tuple(mesh_axes)
      # Size-1 axes shard nothing; dropping them keeps specs readable.
      axes = tuple(a for a in axes if mesh_shape.get(a, 1) > 1)
      if not axes or used.intersection(axes):
        continue
      if shape is not None:
        # Largest prefix of the rule's axes that divides the dim.
        while axes and shape[i] % math.prod(mesh_shape[a] for a in axes):
          axes = axes[:-1]
        if not axes:
          continue
      chosen = axes
      break
    if chosen:
      used.update(chosen)
      spec.append(chosen[0] if len(chosen) == 1 else chosen)
    else:
      spec.append(None)
  return PartitionSpec(*spec)


def logical_to_sharding(logical_axes: LogicalAxes, mesh: Mesh,
                        shape: Sequence[int] | None = None,
                        rules: Rules = LOGICAL_AXIS_RULES) -> NamedSharding:
  return NamedSharding(mesh, logical_to_spec(logical_axes, dict(mesh.shape), shape, rules))


def constrain(x: jax.Array, logical_axes: LogicalAxes, rules: Rules = LOGICAL_AXIS_RULES) -> jax.Array:
  """`with_sharding_constraint` by logical names; a no-op outside `jax.set_mesh`."""
  mesh = jax.sharding.get_abstract_mesh()
  if mesh.empty:
    return x
  return jax.lax.with_sharding_constraint(
      x, logical_to_spec(logical_axes, dict(mesh.shape), x.shape, rules))


def _is_axes(x) -> bool:
  return isinstance(x, tuple) and all(a is None or isinstance(a, str) for a in x)


def tree_shardings(logical_tree: Any, arrays: Any, mesh: Mesh,
                   rules: Rules = LOGICAL_AXIS_RULES) -> Any:
  """NamedShardings for a pytree of logical axes and a matching pytree of arrays.

  `arrays` may hold `jax.ShapeDtypeStruct`s (from `jax.eval_shape`).
  """
  return jax.tree.map(lambda axes, x: logical_to_sharding(axes, mesh, x.shape, rules),
                      logical_tree, arrays, is_leaf=_is_axes)


def param_shardings(config: LlamaConfig, mesh: Mesh, params: Any = None,
                    rules: Rules = LOGICAL_AXIS_RULES) -> Any:
  """Shardings of the params pytree (plus `value_head` when `params` has one)."""
  axes = layout.param_logical_axes(config)
  if params is None:
    params = jax.tree.map(lambda s: jax.ShapeDtypeStruct(s, config.param_dtype),
                          layout.param_shapes(config), is_leaf=lambda s: isinstance(s, tuple))
  else:
    params = layout.pure_params(params)
  if "value_head" in params:
    axes["value_head"] = layout.VALUE_HEAD_AXES
  if "lm_head" not in params:
    axes.pop("lm_head", None)
  return tree_shardings(axes, params, mesh, rules)


def shard_params(params: Any, config: LlamaConfig, mesh: Mesh,
                 rules: Rules = LOGICAL_AXIS_RULES) -> Any:
  """Places a params pytree (pure dict) on the mesh by the rules table."""
  params = layout.pure_params(params)
  return jax.device_put(params, param_shardings(config, mesh, params, rules))


def kv_cache_sharding(mesh: Mesh, shape: Sequence[int], kind: str = "k",
                      rules: Rules = LOGICAL_AXIS_RULES) -> NamedSharding:
  """Sharding of one KV cache buffer: keys ("k") [layers, batch, kv_heads,
  head_dim, cache_seq], values ("v") [layers, batch, kv_heads, cache_seq,
  head_dim]; a 4-dim shape is one layer's buffer (no layers axis)."""
  return logical_to_sharding(cache_axes(kind, len(shape)), mesh, shape, rules)


def cache_axes(kind: str, ndim: int = 5) -> LogicalAxes:
  """Logical axes of a key ("k") or value ("v") cache buffer of `ndim` dims."""
  if kind not in ("k", "v") or ndim not in (4, 5):
    raise ValueError(f"a cache buffer is kind 'k' or 'v' with 4 or 5 dims, got {kind!r}, {ndim}")
  axes = layout.KEY_CACHE_AXES if kind == "k" else layout.VALUE_CACHE_AXES
  return axes[5 - ndim:]


def batch_sharding(mesh: Mesh, shape: Sequence[int], logical_axes: LogicalAxes | None = None,
                   rules: Rules = LOGICAL_AXIS_RULES) -> NamedSharding:
  """Sharding of a batch array: `batch` on the leading dim, the rest replicated."""
  if logical_axes is None:
    logical_axes = ("batch",) + (None,) * (len(shape) - 1)
  return logical_to_sharding(logical_axes, mesh, shape, rules)


def batch_shards(mesh: Mesh, rules: Rules = LOGICAL_AXIS_RULES) -> int:
  """How many ways the rules table splits the `batch` axis on this mesh."""
  axes = logical_to_spec(("batch",), dict(mesh.shape), rules=rules)[0]
  axes = () if axes is None else (axes,) if isinstance(axes, str) else tuple(axes)
  return math.prod(mesh.shape[a] for a in axes)

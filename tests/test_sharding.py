"""Mesh, the logical-axis rules table, and sharded forward/sampling on 8 CPU devices."""

import jax
import numpy as np
import optax
import pytest
from flax import nnx
from jax.sharding import PartitionSpec as P

from rlef_jax import sampling, sharding
from rlef_jax.models import configs, layout, llama, partitioning

# Dims divisible by every mesh axis below (heads 4, kv_heads 2, mlp 384, vocab 512).
CFG = configs.get("tiny", vocab_size=512, num_layers=2)
MESHES = [(8, 1, 1), (2, 2, 2), (1, 2, 4)]
PROMPTS = [[5, 17, 200, 3, 9], [44, 45], [7] * 11, [300, 301, 302]] * 2


@pytest.fixture(scope="module")
def params():
  p = llama.init_params(CFG, jax.random.key(0))
  return jax.tree.map(lambda x: x * 4 if x.ndim > 1 else x, p)


@pytest.fixture(scope="module")
def reference(params):
  """Single-device logits and samples."""
  tokens = np.asarray(sampling.left_pad(PROMPTS, 16)[0])
  logits = jax.jit(llama.forward, static_argnums=0)(CFG, params, tokens)
  out = sampling.generate(CFG, params, PROMPTS, jax.random.key(1), 8, temperature=1.0,
                          top_p=0.9, stop_tokens=range(0, 512, 11))
  return tokens, logits, out


def test_logical_to_spec_rules():
  mesh_shape = {"data": 2, "fsdp": 2, "tensor": 2}
  spec = lambda axes, shape=None: sharding.logical_to_spec(axes, mesh_shape, shape)
  assert spec(("batch", "seq", "embed")) == P(("data", "fsdp"), None, None)
  assert spec(("embed", "mlp")) == P("fsdp", "tensor")
  assert spec(("layers", "embed", "heads", "head_dim")) == P(None, "fsdp", "tensor", None)
  # A dim that does not divide its mesh axes falls back: batch 2 keeps data only.
  assert spec(("batch", "embed"), (2, 8)) == P("data", "fsdp")
  assert spec(("batch", "embed"), (3, 8)) == P(None, "fsdp")
  assert spec(("kv_heads",), (1,)) == P(None)
  # Size-1 mesh axes are dropped.
  assert sharding.logical_to_spec(("batch",), {"data": 8, "fsdp": 1, "tensor": 1}) == P("data")


def test_make_mesh_shapes():
  assert dict(sharding.make_mesh(sharding.MeshConfig(2, -1, 2)).shape) == {
      "data": 2, "fsdp": 2, "tensor": 2}
  assert sharding.make_mesh().shape["fsdp"] == len(jax.devices())
  with pytest.raises(ValueError):
    sharding.make_mesh(sharding.MeshConfig(3, 3, 1))


def test_param_shardings_follow_the_table(params):
  mesh = sharding.make_mesh(sharding.MeshConfig(2, 2, 2))
  placed = sharding.shard_params(params, CFG, mesh)
  axes = layout.param_logical_axes(CFG)
  flat_axes = jax.tree.leaves(axes, is_leaf=partitioning._is_axes)
  for leaf, logical in zip(jax.tree.leaves(placed), flat_axes):
    want = sharding.logical_to_spec(logical, dict(mesh.shape), leaf.shape)
    assert leaf.sharding.spec == want
  layers = placed["layers"]
  assert layers["attn"]["wq"].sharding.spec == P(None, "fsdp", "tensor", None)
  assert layers["mlp"]["w_down"].sharding.spec == P(None, "tensor", "fsdp")
  assert placed["lm_head"]["kernel"].sharding.spec == P("fsdp", "tensor")
  # The NNX module carries the same logical names as metadata.
  model = llama.Llama(CFG, rngs=nnx.Rngs(0), params=params)
  names = nnx.get_partition_spec(nnx.state(model, nnx.Param))
  names = jax.tree.leaves(nnx.to_pure_dict(names), is_leaf=lambda x: isinstance(x, P))
  assert [tuple(n) for n in names] == flat_axes


def test_opt_state_and_value_head_shardings(params):
  mesh = sharding.make_mesh(sharding.MeshConfig(1, 4, 2))
  vp = llama.add_value_head(CFG, params, jax.random.key(2))
  shard = sharding.param_shardings(CFG, mesh, vp)
  assert shard["value_head"]["kernel"].spec == P("fsdp")
  opt = optax.adamw(1e-3)
  opt_shard = sharding.opt_state_shardings(opt, vp, shard, mesh)
  adam = opt_shard[0]
  assert adam.mu == shard and adam.nu == shard
  assert adam.count.spec == P()


@pytest.mark.parametrize("shape", MESHES)
def test_sharded_forward_and_sampling_equal_single_device(params, reference, shape):
  tokens, logits, out = reference
  mesh = sharding.make_mesh(sharding.MeshConfig(*shape))
  placed = sharding.shard_params(params, CFG, mesh)
  with jax.set_mesh(mesh):
    got = jax.jit(llama.forward, static_argnums=0)(CFG, placed, tokens)
  np.testing.assert_allclose(got, logits, atol=2e-5)
  sharded = sampling.generate(CFG, placed, PROMPTS, jax.random.key(1), 8, temperature=1.0,
                              top_p=0.9, stop_tokens=range(0, 512, 11), mesh=mesh)
  np.testing.assert_array_equal(sharded.tokens, out.tokens)
  np.testing.assert_array_equal(sharded.lengths, out.lengths)
  np.testing.assert_allclose(sharded.logprobs, out.logprobs, atol=2e-5)


@pytest.mark.parametrize("per_layer", [False, True], ids=["stacked", "per_layer"])
def test_kv_cache_sharding_follows_the_table(params, per_layer):
  mesh = sharding.make_mesh(sharding.MeshConfig(2, 2, 2))
  placed = sharding.shard_params(params, CFG, mesh)
  tokens, lengths = sampling.left_pad(PROMPTS, 16)
  settings = sampling.SamplingParams(temperature=0.0)
  with jax.set_mesh(mesh):
    cache = sampling._new_cache(CFG, len(PROMPTS), 24, per_layer=per_layer)
    cache, _ = sampling.prefill(CFG, placed, cache, tokens, lengths, jax.random.key(0), settings, 8)
  # Keys ([layers,] batch, kv_heads, head_dim, cache_seq), values ([layers,]
  # batch, kv_heads, cache_seq, head_dim): batch on data x fsdp, kv heads on tensor.
  want = P(("data", "fsdp"), "tensor", None, None)
  if not per_layer:
    want = P(None, *want)
  for kind, buffers in zip("kv", cache):
    buffers = buffers if per_layer else (buffers,)
    assert len(buffers) == (CFG.num_layers if per_layer else 1)
    for buf in buffers:
      assert sharding.kv_cache_sharding(mesh, buf.shape, kind).spec == want
      assert buf.sharding.is_equivalent_to(jax.sharding.NamedSharding(mesh, want), buf.ndim)


def test_initialize_distributed_skips_single_host(monkeypatch):
  for var in ("JAX_COORDINATOR_ADDRESS", "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE",
              "TPU_WORKER_HOSTNAMES"):
    monkeypatch.delenv(var, raising=False)
  assert sharding.initialize_distributed() is False

"""Weight import: logits parity with transformers' PyTorch Llama, Meta .pth, bad folders.

Every parity case builds a random tiny `LlamaForCausalLM` in torch (norm
scales randomised too), saves it, loads it with our loader and compares our
`forward` with torch's logits in float32: max |difference| <= 1e-4.
"""

import json
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlef_jax import sharding
from rlef_jax.checkpoints import CheckpointError, load_hf_llama, load_meta_llama, save_hf_llama
from rlef_jax.models import llama
from rlef_jax.models.configs import LlamaConfig, RopeScaling

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors_torch = pytest.importorskip("safetensors.torch")

TOL = 1e-4
SCALING = RopeScaling(factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                      original_max_position_embeddings=64)
SEQ_LENS = (7, 40, 128)  # the longest is twice the original context, where scaling bites


def tiny_config(gqa: bool = True, scaled: bool = True, tied: bool = False, **kw) -> LlamaConfig:
  # With theta 5e5 and head_dim 16 the wavelengths 6.3, 32 and 167 fall in the
  # high, smoothed and low bands of llama3 scaling (original context 64).
  fields = dict(vocab_size=320, hidden_size=64, intermediate_size=96, num_layers=2,
                num_heads=4, num_kv_heads=2 if gqa else 4, head_dim=16,
                rope_theta=500000.0 if scaled else 10000.0,
                rope_scaling=SCALING if scaled else None, max_position_embeddings=256,
                tie_word_embeddings=tied, rms_norm_eps=1e-5)
  fields.update(kw)
  return LlamaConfig(**fields)


def hf_model(config: LlamaConfig, seed: int = 0):
  """A random float32 HF model; norms random around 1 so a swapped norm shows."""
  torch.manual_seed(seed)
  model = transformers.LlamaForCausalLM(transformers.LlamaConfig(**config.to_hf_dict()))
  with torch.no_grad():
    for name, p in model.named_parameters():
      if name.endswith("norm.weight"):
        p.copy_(1.0 + 0.3 * torch.randn_like(p))
      else:
        p.copy_(0.25 * torch.randn_like(p))
  return model.float().eval()


def random_params(config: LlamaConfig, seed: int) -> dict:
  """Our own random params, drawn like `hf_model`'s."""
  rng = np.random.RandomState(seed)

  def draw(path, shape):
    if "norm" in jax.tree_util.keystr(path):
      return jnp.asarray(1.0 + 0.3 * rng.standard_normal(shape), jnp.float32)
    return jnp.asarray(0.25 * rng.standard_normal(shape), jnp.float32)

  return jax.tree_util.tree_map_with_path(draw, llama.param_shapes(config),
                                          is_leaf=lambda s: isinstance(s, tuple))


def tokens(batch: int, length: int, vocab: int, seed: int = 0) -> np.ndarray:
  return np.random.RandomState(seed + length).randint(0, vocab, (batch, length)).astype(np.int32)


def torch_logits(model, toks: np.ndarray) -> np.ndarray:
  with torch.no_grad():
    return model(torch.from_numpy(toks).long()).logits.float().numpy()


def our_logits(config, params, toks) -> np.ndarray:
  return np.asarray(jax.jit(llama.forward, static_argnums=0)(config, params, jnp.asarray(toks)))


def assert_parity(model, config, params, seq_lens=SEQ_LENS):
  for length in seq_lens:
    toks = tokens(2, length, config.vocab_size)
    diff = np.abs(our_logits(config, params, toks) - torch_logits(model, toks)).max()
    assert diff <= TOL, f"seq {length}: max |logit diff| {diff:.3g} > {TOL}"


@pytest.mark.parametrize("gqa", [True, False], ids=["gqa", "mha"])
@pytest.mark.parametrize("scaled", [True, False], ids=["llama3rope", "plainrope"])
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
def test_hf_logit_parity(tmp_path, gqa, scaled, tied):
  config = tiny_config(gqa, scaled, tied)
  model = hf_model(config)
  model.save_pretrained(tmp_path, safe_serialization=True)
  loaded, params = load_hf_llama(tmp_path)
  assert loaded == config
  assert ("lm_head" in params) == (not tied)
  assert_parity(model, loaded, params)


def test_parity_is_sensitive_to_rope_theta_and_scaling(tmp_path):
  config = tiny_config()
  model = hf_model(config)
  model.save_pretrained(tmp_path, safe_serialization=True)
  _, params = load_hf_llama(tmp_path)
  toks = tokens(1, 128, config.vocab_size)
  ref = torch_logits(model, toks)
  for wrong in (config.replace(rope_scaling=None), config.replace(rope_theta=10000.0)):
    assert np.abs(our_logits(wrong, params, toks) - ref).max() > 100 * TOL


def test_hf_sharded_folder_onto_mesh(tmp_path):
  config = tiny_config()
  model = hf_model(config, seed=1)
  model.save_pretrained(tmp_path, safe_serialization=True, max_shard_size="40KB")
  assert (tmp_path / "model.safetensors.index.json").is_file()
  assert len(list(tmp_path.glob("model-*.safetensors"))) > 2
  mesh = sharding.make_mesh(sharding.MeshConfig(data=2, fsdp=2, tensor=2))
  loaded, params = load_hf_llama(tmp_path, mesh=mesh)
  want = sharding.param_shardings(loaded, mesh)
  for path, leaf in jax.tree_util.tree_leaves_with_path(params):
    expected = want
    for key in path:
      expected = expected[key.key]
    assert leaf.sharding.is_equivalent_to(expected, leaf.ndim), jax.tree_util.keystr(path)
  assert params["layers"]["attn"]["wq"].sharding.spec == jax.sharding.PartitionSpec(
      None, "fsdp", "tensor", None)
  with jax.set_mesh(mesh):
    assert_parity(model, loaded, params, seq_lens=(40,))


def test_hf_bfloat16_file(tmp_path):
  config = tiny_config(tied=True)
  model = hf_model(config, seed=2).to(torch.bfloat16)
  model.save_pretrained(tmp_path, safe_serialization=True)
  # A float32 model holding the bf16-rounded weights (and float32 RoPE buffers).
  reference = hf_model(config)
  reference.load_state_dict({k: v.float() for k, v in model.state_dict().items()})
  _, as_f32 = load_hf_llama(tmp_path)
  wq = reference.model.layers[1].self_attn.q_proj.weight.detach().numpy()
  np.testing.assert_array_equal(np.asarray(as_f32["layers"]["attn"]["wq"][1]),
                                wq.reshape(4, 16, 64).transpose(2, 0, 1))
  loaded, as_bf16 = load_hf_llama(tmp_path, jnp.bfloat16)
  assert loaded.param_dtype == jnp.bfloat16
  assert {leaf.dtype for leaf in jax.tree.leaves(as_bf16)} == {jnp.dtype(jnp.bfloat16)}
  assert_parity(reference, config, as_f32, seq_lens=(40,))


def test_save_hf_llama_loads_in_transformers(tmp_path):
  config = tiny_config(gqa=True, scaled=True, tied=False)
  params = random_params(config, seed=3)
  save_hf_llama(tmp_path, config, params, max_shard_bytes=60_000)
  assert (tmp_path / "model.safetensors.index.json").is_file()
  model = transformers.LlamaForCausalLM.from_pretrained(tmp_path, dtype=torch.float32).eval()
  assert_parity(model, config, params, seq_lens=(40,))
  _, reloaded = load_hf_llama(tmp_path)
  jax.tree.map(np.testing.assert_array_equal, reloaded, params)


# ---- Meta consolidated.*.pth ----------------------------------------------------------


def hf_to_meta_rows(w, heads: int):
  """HF rows per head (two halves) -> Meta's interleaved pairs: the inverse of HF's `permute`."""
  out_dim, d = w.shape
  return w.reshape(heads, 2, out_dim // heads // 2, d).transpose(1, 2).reshape(out_dim, d)


def meta_state_dict(model, config: LlamaConfig) -> dict:
  sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
  out = {"tok_embeddings.weight": sd["model.embed_tokens.weight"], "norm.weight": sd["model.norm.weight"]}
  if not config.tie_word_embeddings:
    out["output.weight"] = sd["lm_head.weight"]
  for i in range(config.num_layers):
    p = f"model.layers.{i}."
    out.update({
        f"layers.{i}.attention.wq.weight": hf_to_meta_rows(sd[p + "self_attn.q_proj.weight"], config.num_heads),
        f"layers.{i}.attention.wk.weight": hf_to_meta_rows(sd[p + "self_attn.k_proj.weight"], config.num_kv_heads),
        f"layers.{i}.attention.wv.weight": sd[p + "self_attn.v_proj.weight"],
        f"layers.{i}.attention.wo.weight": sd[p + "self_attn.o_proj.weight"],
        f"layers.{i}.feed_forward.w1.weight": sd[p + "mlp.gate_proj.weight"],
        f"layers.{i}.feed_forward.w3.weight": sd[p + "mlp.up_proj.weight"],
        f"layers.{i}.feed_forward.w2.weight": sd[p + "mlp.down_proj.weight"],
        f"layers.{i}.attention_norm.weight": sd[p + "input_layernorm.weight"],
        f"layers.{i}.ffn_norm.weight": sd[p + "post_attention_layernorm.weight"],
    })
  return out


def write_meta(folder, model, config: LlamaConfig, num_shards: int) -> None:
  """params.json + consolidated.NN.pth split the way fairscale's parallel layers split."""
  folder.mkdir(parents=True, exist_ok=True)
  # intermediate 96 = multiple_of 32 * ceil(int(2 * 4 * 64 / 3) = 170 * 0.5625 -> 95 / 32).
  (folder / "params.json").write_text(json.dumps(dict(
      dim=config.hidden_size, n_layers=config.num_layers, n_heads=config.num_heads,
      n_kv_heads=config.num_kv_heads, vocab_size=config.vocab_size, multiple_of=32,
      ffn_dim_multiplier=0.5625, norm_eps=config.rms_norm_eps, rope_theta=config.rope_theta,
      use_scaled_rope=config.rope_scaling is not None)))
  full = meta_state_dict(model, config)
  for rank in range(num_shards):
    shard = {}
    for name, w in full.items():
      if w.ndim == 1:
        shard[name] = w.clone()
      else:
        dim = 1 if name.endswith(("attention.wo.weight", "feed_forward.w2.weight")) else 0
        shard[name] = w.chunk(num_shards, dim=dim)[rank].clone()
    torch.save(shard, folder / f"consolidated.{rank:02d}.pth")


def test_meta_rows_are_interleaved_rope():
  """The test's Meta layout is Meta's: interleaved complex RoPE on it equals HF's rotate_half."""
  heads, dh, d, t = 2, 16, 8, 12
  rng = torch.Generator().manual_seed(0)
  w_hf = torch.randn(heads * dh, d, generator=rng)
  x = torch.randn(t, d, generator=rng)
  inv = 1.0 / (500000.0 ** (torch.arange(0, dh, 2).float() / dh))
  angles = torch.outer(torch.arange(t).float(), inv)  # [t, dh/2]
  # Meta: consecutive pairs are complex numbers rotated by e^{i*angle}.
  q_meta = (x @ hf_to_meta_rows(w_hf, heads).T).reshape(t, heads, dh // 2, 2)
  rot = torch.view_as_real(torch.view_as_complex(q_meta.contiguous())
                           * torch.polar(torch.ones_like(angles), angles)[:, None])
  # HF: rotate_half over the two halves.
  q_hf = (x @ w_hf.T).reshape(t, heads, dh)
  cos, sin = torch.cat([angles.cos()] * 2, -1)[:, None], torch.cat([angles.sin()] * 2, -1)[:, None]
  rot_hf = q_hf * cos + torch.cat([-q_hf[..., dh // 2:], q_hf[..., :dh // 2]], -1) * sin
  # Same vectors up to the per-head reordering of coordinates (dot products agree).
  torch.testing.assert_close(rot.reshape(t, heads, dh // 2, 2).transpose(-1, -2).reshape(t, heads, dh),
                             rot_hf, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("gqa,scaled,tied,num_shards", [
    (True, True, False, 1), (True, True, False, 2), (False, False, True, 2)])
def test_meta_logit_parity(tmp_path, gqa, scaled, tied, num_shards):
  config = tiny_config(gqa, scaled, tied)
  model = hf_model(config, seed=4)
  write_meta(tmp_path, model, config, num_shards)
  # Meta's params.json holds no scaling constants or context length (see meta.py).
  loaded, params = load_meta_llama(tmp_path, rope_scaling=config.rope_scaling,
                                   max_position_embeddings=256)
  assert loaded == config
  assert_parity(model, loaded, params, seq_lens=(7, 128))


def test_meta_defaults_follow_meta_reference(tmp_path):
  config = tiny_config(scaled=True)
  write_meta(tmp_path, hf_model(config), config, 1)
  loaded, _ = load_meta_llama(tmp_path, jnp.bfloat16)
  assert loaded.rope_scaling == RopeScaling(8.0, 1.0, 4.0, 8192)
  assert loaded.max_position_embeddings == 131072
  assert loaded.param_dtype == jnp.bfloat16


# ---- Bad folders ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_hf(tmp_path_factory):
  folder = tmp_path_factory.mktemp("good_hf")
  hf_model(tiny_config(), seed=5).save_pretrained(folder, safe_serialization=True)
  return folder


def _copy(src, dst):
  shutil.copytree(src, dst, dirs_exist_ok=True)
  return dst


def _rewrite(folder, edit):
  path = folder / "model.safetensors"
  tensors = safetensors_torch.load_file(path)
  edit(tensors)
  safetensors_torch.save_file(tensors, path, metadata={"format": "pt"})


def _edit_config(folder, **changes):
  cfg = json.loads((folder / "config.json").read_text())
  for key, value in changes.items():
    if value is None:
      del cfg[key]
    else:
      cfg[key] = value
  (folder / "config.json").write_text(json.dumps(cfg))


def test_missing_shard_file(tmp_path):
  hf_model(tiny_config()).save_pretrained(tmp_path, safe_serialization=True, max_shard_size="40KB")
  victim = sorted(tmp_path.glob("model-*.safetensors"))[1]
  victim.unlink()
  with pytest.raises(CheckpointError, match=f"lists shard {victim.name}, which is missing"):
    load_hf_llama(tmp_path)


def test_missing_tensor(good_hf, tmp_path):
  folder = _copy(good_hf, tmp_path)
  _rewrite(folder, lambda t: t.pop("model.layers.1.mlp.up_proj.weight"))
  with pytest.raises(CheckpointError, match=r"tensor model\.layers\.1\.mlp\.up_proj\.weight is missing"):
    load_hf_llama(folder)


def test_wrong_dtype(good_hf, tmp_path):
  folder = _copy(good_hf, tmp_path)
  _rewrite(folder, lambda t: t.update({"model.norm.weight": t["model.norm.weight"].to(torch.int32)}))
  with pytest.raises(CheckpointError, match=r"model\.safetensors: tensor model\.norm\.weight has dtype I32"):
    load_hf_llama(folder)


def test_config_contradicts_weights(good_hf, tmp_path):
  folder = _copy(good_hf, tmp_path)
  _edit_config(folder, intermediate_size=128)
  with pytest.raises(CheckpointError, match=r"model\.layers\.0\.mlp\.gate_proj\.weight has shape "
                                            r"\[96, 64\], but config\.json .* implies \[128, 64\]"):
    load_hf_llama(folder)


def test_weights_beyond_config(good_hf, tmp_path):
  folder = _copy(good_hf, tmp_path)
  _edit_config(folder, num_hidden_layers=1)
  with pytest.raises(CheckpointError, match=r"unexpected tensor model\.layers\.1\..*num_layers=1"):
    load_hf_llama(folder)


def test_config_missing_key(good_hf, tmp_path):
  folder = _copy(good_hf, tmp_path)
  _edit_config(folder, hidden_size=None)
  with pytest.raises(CheckpointError, match="config.json: missing required key 'hidden_size'"):
    load_hf_llama(folder)


def test_meta_missing_rank_and_mismatch(tmp_path):
  config = tiny_config()
  model = hf_model(config)
  write_meta(tmp_path / "a", model, config, 2)
  (tmp_path / "a" / "consolidated.00.pth").unlink()
  with pytest.raises(CheckpointError, match=r"shard consolidated\.00\.pth is missing \(found consolidated\.01"):
    load_meta_llama(tmp_path / "a")
  write_meta(tmp_path / "b", model, config, 2)
  params = json.loads((tmp_path / "b" / "params.json").read_text())
  (tmp_path / "b" / "params.json").write_text(json.dumps(dict(params, n_kv_heads=4)))
  with pytest.raises(CheckpointError, match=r"consolidated\.00\.pth: tensor layers\.0\.attention\.wk\.weight "
                                            r"has shape \[16, 64\] \(of 2 model-parallel shards\)"):
    load_meta_llama(tmp_path / "b")

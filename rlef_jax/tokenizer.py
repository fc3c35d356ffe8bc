"""Llama 3 tokenizer (tiktoken BPE + 256 special tokens) and Meta's chat format.

`load_llama3_tokenizer()` reads the `tokenizer.model` shipped by the PyPI
package `llama-models` (the file of Meta's Llama 3 / 3.1 / 3.2 releases; any
path in the same tiktoken ranks format works). `load_tiny_tokenizer()` reads
the project's 4096-rank BPE (`rlef_jax/assets/tiny_bpe.tiktoken`, trained by
`tools/train_tiny_bpe.py`) behind the same class and the same special tokens,
so the tiny model speaks the same chat format.

Conventions (those of Meta's reference `llama_models.llama3`):
  * Text is always encoded as text: a user who writes `<|eot_id|>` gets the
    ids of those characters, never the special token (tiktoken's
    `disallowed_special=()` with nothing allowed). Special tokens enter only
    through `bos`/`eos` and the chat rendering.
  * The chat format has no default system prompt:
      <|begin_of_text|>{<|start_header_id|>ROLE<|end_header_id|>\\n\\nCONTENT<|eot_id|>}*
    then `<|start_header_id|>assistant<|end_header_id|>\\n\\n` when a reply is
    wanted. Content is not stripped; the role `tool` is written `ipython`.
  * Generation stops at any of `<|end_of_text|>`, `<|eom_id|>`, `<|eot_id|>`.
  * Id 0 is the real token `!`; padding uses `<|finetune_right_pad_id|>`.

Example:

    tok = load_llama3_tokenizer()
    tok.encode("This is a test sentence.", bos=True, eos=True)
    # [128000, 2028, 374, 264, 1296, 11914, 13, 128001]
    ids = tok.render_dialog([{"role": "user", "content": "Hi"}])
"""

from __future__ import annotations

import base64
import functools
import importlib.resources
import os
import re
from typing import Iterable, Iterator, Mapping, Sequence

import tiktoken

# Llama 3's pre-tokenizer: contractions, words, 1-3 digit groups, punctuation, whitespace.
PAT_STR = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
           r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

NUM_SPECIAL_TOKENS = 256
_NAMED_SPECIALS = (
    "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
    "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|step_id|>",
    "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>",
    "<|python_tag|>", "<|image|>")
SPECIAL_TOKENS: tuple[str, ...] = _NAMED_SPECIALS + tuple(
    f"<|reserved_special_token_{i}|>"
    for i in range(2, 2 + NUM_SPECIAL_TOKENS - len(_NAMED_SPECIALS)))

# tiktoken panics on very long inputs and is quadratic on long runs of
# (non-)whitespace (openai/tiktoken#195): Meta cuts the text every 400k
# characters and every 25k characters of one such run. The same cuts are made
# here so ids equal Meta's for every input.
_MAX_CHUNK_CHARS = 400_000
_MAX_RUN_CHARS = 25_000
_RUNS = re.compile(r"\s+|\S+")

ROLES = ("system", "user", "assistant", "ipython", "tool")

_TINY_BPE = "tiny_bpe.tiktoken"


def load_ranks(path: str | os.PathLike[str]) -> dict[bytes, int]:
  """Reads a tiktoken ranks file: one `base64(token) rank` per line."""
  ranks = {}
  with open(path, encoding="utf-8") as f:
    for line_no, line in enumerate(f, 1):
      if not line.strip():
        continue
      try:
        token, rank = line.split()
        ranks[base64.b64decode(token, validate=True)] = int(rank)
      except ValueError as e:
        raise ValueError(f"{path}:{line_no}: not a tiktoken ranks line: {line.strip()[:80]!r}") from e
  return ranks


def _pieces(text: str) -> Iterator[str]:
  """Cuts `text` where Meta's reference tokenizer does (see _MAX_RUN_CHARS)."""
  for start in range(0, len(text), _MAX_CHUNK_CHARS):
    chunk = text[start:start + _MAX_CHUNK_CHARS]
    cut = 0
    for run in _RUNS.finditer(chunk):
      for pos in range(run.start() + _MAX_RUN_CHARS, run.end(), _MAX_RUN_CHARS):
        yield chunk[cut:pos]
        cut = pos
    yield chunk[cut:]


class Tokenizer:
  """A byte-level BPE with Llama 3's special tokens appended after the ranks."""

  def __init__(self, path: str | os.PathLike[str]):
    self.path = os.fspath(path)
    ranks = load_ranks(self.path)
    num_base = len(ranks)
    if sorted(ranks.values()) != list(range(num_base)):
      raise ValueError(f"{self.path}: ranks must be exactly 0..{num_base - 1}")
    self.special_tokens: Mapping[str, int] = {
        t: num_base + i for i, t in enumerate(SPECIAL_TOKENS)}
    self._enc = tiktoken.Encoding(
        name=os.path.basename(self.path), pat_str=PAT_STR, mergeable_ranks=ranks,
        special_tokens=dict(self.special_tokens))
    self.num_base_tokens = num_base
    self.vocab_size = num_base + len(SPECIAL_TOKENS)
    self.bos_id = self.special_tokens["<|begin_of_text|>"]
    self.eos_id = self.special_tokens["<|end_of_text|>"]
    self.eot_id = self.special_tokens["<|eot_id|>"]
    self.eom_id = self.special_tokens["<|eom_id|>"]
    self.pad_id = self.special_tokens["<|finetune_right_pad_id|>"]
    self.python_tag_id = self.special_tokens["<|python_tag|>"]
    self.start_header_id = self.special_tokens["<|start_header_id|>"]
    self.end_header_id = self.special_tokens["<|end_header_id|>"]
    self.stop_tokens: tuple[int, ...] = (self.eos_id, self.eom_id, self.eot_id)

  def __repr__(self) -> str:
    return f"Tokenizer({self.path!r}, vocab_size={self.vocab_size})"

  def encode(self, text: str, bos: bool = False, eos: bool = False) -> list[int]:
    """Ids of `text`; special-token spellings inside it are plain text."""
    if not isinstance(text, str):
      raise TypeError(f"encode expects str, got {type(text).__name__}")
    ids = [self.bos_id] if bos else []
    for piece in _pieces(text):
      ids.extend(self._enc.encode(piece, allowed_special=set(), disallowed_special=()))
    if eos:
      ids.append(self.eos_id)
    return ids

  def decode(self, ids: Iterable[int]) -> str:
    """Text of `ids` (special tokens spelled out; invalid UTF-8 replaced)."""
    return self._enc.decode([int(i) for i in ids])

  def is_special(self, token_id: int) -> bool:
    return token_id >= self.num_base_tokens

  def render_header(self, role: str) -> list[int]:
    if role not in ROLES:
      raise ValueError(f"unknown chat role {role!r}; expected one of {ROLES}")
    return ([self.start_header_id] + self.encode("ipython" if role == "tool" else role)
            + [self.end_header_id] + self.encode("\n\n"))

  def render_message(self, message: Mapping[str, str]) -> list[int]:
    """One turn: header, content, `<|eot_id|>`."""
    return self.render_header(message["role"]) + self.encode(message["content"]) + [self.eot_id]

  def render_dialog(self, messages: Sequence[Mapping[str, str]],
                    add_generation_prompt: bool = True) -> list[int]:
    """Meta's chat format: BOS, every turn, then the assistant header."""
    ids = [self.bos_id]
    for message in messages:
      ids.extend(self.render_message(message))
    if add_generation_prompt:
      ids.extend(self.render_header("assistant"))
    return ids


def llama3_tokenizer_path() -> str:
  """The `tokenizer.model` inside the installed `llama-models` package."""
  return str(importlib.resources.files("llama_models.llama3") / "tokenizer.model")


def tiny_tokenizer_path() -> str:
  return str(importlib.resources.files("rlef_jax") / "assets" / _TINY_BPE)


@functools.lru_cache(maxsize=8)
def _cached(path: str) -> Tokenizer:
  return Tokenizer(path)


def load_llama3_tokenizer(path: str | os.PathLike[str] | None = None) -> Tokenizer:
  """Meta's Llama 3 tokenizer (128,000 ranks + 256 specials = 128,256 ids)."""
  # Tokenizers are immutable, so one instance per file is shared.
  return _cached(os.fspath(path) if path is not None else llama3_tokenizer_path())


def load_tiny_tokenizer() -> Tokenizer:
  """The project's 4096-rank BPE with the same specials (4352 ids)."""
  return _cached(tiny_tokenizer_path())


@functools.cache
def _seqio_vocabulary_class():
  # Imported here: seqio pulls in TensorFlow, which most users of this module never need.
  import numpy as np  # pylint: disable=g-import-not-at-top
  import seqio  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  class SeqioVocabulary(seqio.Vocabulary):
    """seqio view of a `Tokenizer`: no UNK, padding is `<|finetune_right_pad_id|>`."""

    def __init__(self, tokenizer: Tokenizer, eos_id: int | None = None):
      self.tokenizer = tokenizer
      self._eos = tokenizer.eos_id if eos_id is None else eos_id
      super().__init__(extra_ids=0)

    @property
    def bos_id(self) -> int:
      return self.tokenizer.bos_id

    @property
    def eos_id(self) -> int:
      return self._eos

    @property
    def pad_id(self) -> int:
      return self.tokenizer.pad_id

    @property
    def unk_id(self) -> None:
      return None

    @property
    def _base_vocab_size(self) -> int:
      return self.tokenizer.vocab_size

    def _encode(self, s: str) -> list[int]:
      return self.tokenizer.encode(s)

    def _decode(self, ids: Iterable[int]) -> str:
      # Only the pad token is dropped: id 0 is the character "!".
      return self.tokenizer.decode(i for i in ids if int(i) != self.pad_id)

    def _encode_tf(self, s):
      def encode(text):
        return np.asarray(self._encode(text.numpy().decode("utf-8")), np.int32)
      ids = tf.py_function(encode, [s], tf.int32)
      ids.set_shape([None])
      return ids

    def _decode_tf(self, ids):
      def decode(batch):
        flat = batch.numpy().reshape(-1, batch.shape[-1])
        texts = [self._decode(row).encode("utf-8") for row in flat]
        return np.asarray(texts, dtype=object).reshape(batch.shape[:-1])
      text = tf.py_function(decode, [ids], tf.string)
      text.set_shape(ids.shape[:-1])
      return text

    def __eq__(self, other) -> bool:
      return (isinstance(other, SeqioVocabulary) and other.tokenizer.path == self.tokenizer.path
              and other.eos_id == self.eos_id)

    def __hash__(self) -> int:
      return hash((self.tokenizer.path, self.eos_id))

  return SeqioVocabulary


def seqio_vocabulary(tokenizer: Tokenizer, eos_id: int | None = None):
  """A `seqio.Vocabulary` over `tokenizer`.

  `eos_id` defaults to `<|end_of_text|>` (what `seqio.preprocessors.append_eos`
  appends); pass `tokenizer.eot_id` for chat-formatted targets. seqio's own
  padding utilities pad with 0, a real Llama 3 token: rlef_jax pipelines carry
  explicit masks instead of testing `id != 0`.
  """
  return _seqio_vocabulary_class()(tokenizer, eos_id)

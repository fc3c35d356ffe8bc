"""Llama 3 tokenizer (tiktoken BPE + 256 special tokens) and Meta's chat format.

`load_llama3_tokenizer()` reads the `tokenizer.model` shipped by the PyPI
package `llama-models` (the file of Meta's Llama 3 / 3.1 / 3.2 releases; any
path in the same tiktoken ranks format works). `load_tiny_tokenizer()` reads
the project's 4096-rank BPE (`rlef_jax/assets/tiny_bpe.tiktoken`, trained by
`tools/train_tiny_bpe.py`) behind the same class and the same special tokens,
so the tiny model speaks the same chat format.

`load_hf_tokenizer(path)` reads another model's own tokenizer, from a GGUF
file's `tokenizer.*` metadata or an HF folder's `tokenizer.json`, on HF's
`tokenizers` library (`HFTokenizer`, same interface), with the ChatML chat
format checked against the model's Jinja chat template (SmolLM2: ChatML with
a default system turn). The Llama 3 classes below do not depend on it.

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
import json
import importlib.resources
import os
import re
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np
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
    # Meta's format puts nothing between a turn's end token and the next header.
    self.turn_suffix: tuple[int, ...] = ()

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

  def dialog_prefix(self, first_role: str = "user") -> list[int]:
    """What opens every dialog: BOS (Meta's format has no default system turn)."""
    del first_role
    return [self.bos_id]

  def render_dialog(self, messages: Sequence[Mapping[str, str]],
                    add_generation_prompt: bool = True) -> list[int]:
    """Meta's chat format: BOS, every turn, then the assistant header."""
    ids = self.dialog_prefix()
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
  # Local import: heavy (seqio, TensorFlow: seconds); only the seqio adapter needs them.
  import seqio  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

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


# --- Hugging Face `tokenizers` models (GGUF metadata or tokenizer.json) -------

_IM_START, _IM_END = "<|im_start|>", "<|im_end|>"
_GGUF_CONTROL = 3  # llama.cpp's token type of control (special) tokens
_PROBE = "\x00rlef-probe\x00"


class HFTokenizer:
  """A byte-level BPE on HF's `tokenizers` with the ChatML chat format.

  Same interface as `Tokenizer` (`encode`, `decode`, `stop_tokens`,
  `render_header`, `render_message`, `render_dialog`), plus the two pieces a
  token-level dialog needs beyond those: `dialog_prefix(first_role)` (BOS and
  any default system turn the template adds) and `turn_suffix` (the tokens
  that follow the end-of-turn token: ChatML's newline). Text is encoded as
  text (`encode_special_tokens`): special tokens enter only through the
  format, as with `Tokenizer`. The format is checked against the model's own
  Jinja chat template when the tokenizer is built (a template that renders
  otherwise is refused), so `render_dialog` is token-exact with
  `apply_chat_template(..., add_generation_prompt=True)` on ordinary text.
  """

  def __init__(self, backend, *, path: str, chat_template: str, eos_token: str,
               bos_token: str | None = None, pad_token: str | None = None,
               add_bos: bool = False):
    self.path = path
    self._tok = backend
    self._tok.encode_special_tokens = True
    self.chat_template = chat_template
    self.vocab_size = backend.get_vocab_size(with_added_tokens=True)
    self.special_tokens: Mapping[str, int] = {
        t.content: i for i, t in backend.get_added_tokens_decoder().items() if t.special}

    def special(name: str) -> int:
      if name not in self.special_tokens:
        raise ValueError(f"{path}: {name!r} is not a special token of this tokenizer")
      return self.special_tokens[name]

    self.im_start_id, self.im_end_id = special(_IM_START), special(_IM_END)
    self.eos_id = special(eos_token)
    self.bos_id = special(bos_token) if bos_token else None
    self.add_bos = add_bos and self.bos_id is not None
    self.pad_id = special(pad_token) if pad_token else self.eos_id
    self.eot_id = self.im_end_id  # ends a turn, as Llama 3's <|eot_id|>
    self.turn_suffix: tuple[int, ...] = tuple(self.encode("\n"))
    self.stop_tokens: tuple[int, ...] = tuple(dict.fromkeys((self.im_end_id, self.eos_id)))
    self.default_system = _chatml_default_system(chat_template, path)
    self._check_template()

  def __repr__(self) -> str:
    return f"HFTokenizer({self.path!r}, vocab_size={self.vocab_size})"

  def encode(self, text: str, bos: bool = False, eos: bool = False) -> list[int]:
    """Ids of `text`; special-token spellings inside it are plain text."""
    if not isinstance(text, str):
      raise TypeError(f"encode expects str, got {type(text).__name__}")
    ids = [self.bos_id] if bos and self.bos_id is not None else []
    ids.extend(self._tok.encode(text, add_special_tokens=False).ids)
    if eos:
      ids.append(self.eos_id)
    return ids

  def decode(self, ids: Iterable[int]) -> str:
    """Text of `ids` (special tokens spelled out; invalid UTF-8 replaced)."""
    return self._tok.decode([int(i) for i in ids], skip_special_tokens=False)

  def is_special(self, token_id: int) -> bool:
    return int(token_id) in self.special_tokens.values()

  def render_header(self, role: str) -> list[int]:
    """`<|im_start|>ROLE\\n`: what the generation prompt appends."""
    return [self.im_start_id] + self.encode(role + "\n")

  def render_message(self, message: Mapping[str, str]) -> list[int]:
    """`<|im_start|>ROLE\\nCONTENT<|im_end|>\\n`; role and content are one text
    segment, encoded together as the template's tokenization does."""
    return ([self.im_start_id] + self.encode(message["role"] + "\n" + message["content"])
            + [self.im_end_id] + list(self.turn_suffix))

  def dialog_prefix(self, first_role: str = "user") -> list[int]:
    """BOS (if the model adds one) and the default system turn, when the
    dialog does not open with its own system message."""
    ids = [self.bos_id] if self.add_bos else []
    if first_role != "system" and self.default_system is not None:
      ids.extend(self.render_message({"role": "system", "content": self.default_system}))
    return ids

  def render_dialog(self, messages: Sequence[Mapping[str, str]],
                    add_generation_prompt: bool = True) -> list[int]:
    """The chat template's dialog, as tokens."""
    ids = self.dialog_prefix(messages[0]["role"] if messages else "user") if messages else []
    for message in messages:
      ids.extend(self.render_message(message))
    if add_generation_prompt:
      ids.extend(self.render_header("assistant"))
    return ids

  def _render_text(self, messages, add_generation_prompt) -> str:
    """The same dialog as text, the template's way (for the check below)."""
    parts = []
    if messages and messages[0]["role"] != "system" and self.default_system is not None:
      parts.append(f"{_IM_START}system\n{self.default_system}{_IM_END}\n")
    parts += [f"{_IM_START}{m['role']}\n{m['content']}{_IM_END}\n" for m in messages]
    if add_generation_prompt:
      parts.append(f"{_IM_START}assistant\n")
    text = "".join(parts)
    return (self._tok.id_to_token(self.bos_id) + text) if self.add_bos and messages else text

  def _check_template(self) -> None:
    probes = [
        [{"role": "user", "content": "u1 " + _PROBE}],
        [{"role": "system", "content": "s " + _PROBE}, {"role": "user", "content": "u"},
         {"role": "assistant", "content": "a\n"}, {"role": "user", "content": " u2"}],
    ]
    for messages in probes:
      for gen in (True, False):
        want = _render_template(self.chat_template, messages, gen, self)
        got = self._render_text(messages, gen)
        if want != got:
          raise ValueError(
              f"{self.path}: the chat template is not ChatML as this tokenizer renders it "
              f"(template gives {want[:200]!r}, ChatML {got[:200]!r})")


def _jinja_env():
  try:
    # Local import: optional dependency (the `gguf` extra).
    from jinja2.sandbox import ImmutableSandboxedEnvironment  # pylint: disable=import-outside-toplevel
  except ImportError as e:
    raise ImportError("chat templates need jinja2: pip install jinja2") from e
  # transformers' settings for chat templates.
  env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                      extensions=["jinja2.ext.loopcontrols"])

  def raise_exception(message):
    raise ValueError(message)

  env.globals["raise_exception"] = raise_exception
  return env


def _render_template(template: str, messages, add_generation_prompt: bool, tok=None) -> str:
  extra = {}
  if tok is not None:
    names = {v: k for k, v in tok.special_tokens.items()}
    extra = {"bos_token": names.get(tok.bos_id, ""), "eos_token": names.get(tok.eos_id, "")}
  return _jinja_env().from_string(template).render(
      messages=messages, add_generation_prompt=add_generation_prompt, **extra)


def _chatml_default_system(template: str, path: str) -> str | None:
  """The system message the template adds to a dialog without one (or None)."""
  text = _render_template(template, [{"role": "user", "content": _PROBE}], False)
  head, sep, _ = text.partition(f"{_IM_START}user\n{_PROBE}")
  if not sep:
    raise ValueError(f"{path}: the chat template is not ChatML (a user turn renders as "
                     f"{text[:200]!r})")
  if not head:
    return None
  start, end = f"{_IM_START}system\n", f"{_IM_END}\n"
  if not (head.startswith(start) and head.endswith(end)):
    raise ValueError(f"{path}: the chat template opens with {head[:200]!r}, not a ChatML "
                     "system turn")
  return head[len(start):-len(end)]


def _tokenizers():
  try:
    # Local import: optional dependency (the `gguf` extra).
    import tokenizers  # pylint: disable=import-outside-toplevel
  except ImportError as e:
    raise ImportError("load_hf_tokenizer needs HF's tokenizers: pip install tokenizers") from e
  return tokenizers


def _from_gguf(path: str) -> HFTokenizer:
  """The tokenizer in a GGUF file's `tokenizer.*` metadata (llama.cpp's 'gpt2' BPE)."""
  # Local import: heavy (the checkpoints package imports orbax); only GGUF files need it.
  from rlef_jax.checkpoints import gguf as gguf_ckpt  # pylint: disable=import-outside-toplevel
  tk = _tokenizers()
  reader = gguf_ckpt.open_gguf(path)
  get = lambda key, default=None: gguf_ckpt.metadata_value(reader, f"tokenizer.{key}", default)
  kind = get("ggml.model")
  if kind != "gpt2":
    raise ValueError(f"{path}: tokenizer.ggml.model is {kind!r}; only byte-level BPE ('gpt2') "
                     "is supported")
  tokens, types, merges = get("ggml.tokens"), get("ggml.token_type"), get("ggml.merges")
  template = get("chat_template")
  if not tokens or not merges or not template:
    raise ValueError(f"{path}: no tokenizer.ggml.tokens / merges / chat_template metadata")
  model = tk.models.BPE(vocab={t: i for i, t in enumerate(tokens)},
                        merges=[tuple(m.split(" ", 1)) for m in merges],
                        fuse_unk=False, byte_fallback=False)
  backend = tk.Tokenizer(model)
  backend.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
  backend.decoder = tk.decoders.ByteLevel()
  types = types or [1] * len(tokens)
  backend.add_special_tokens([tk.AddedToken(t, special=True, normalized=False)
                              for t, k in zip(tokens, types) if k == _GGUF_CONTROL])
  name = lambda key: (tokens[int(get(key))] if get(key) is not None else None)
  return HFTokenizer(backend, path=path, chat_template=template,
                     eos_token=name("ggml.eos_token_id"), bos_token=name("ggml.bos_token_id"),
                     pad_token=name("ggml.padding_token_id"),
                     add_bos=bool(get("ggml.add_bos_token", False)))


def _from_folder(folder: str) -> HFTokenizer:
  """`tokenizer.json` + `tokenizer_config.json` (+ `chat_template.jinja`), as saved by HF."""
  tk = _tokenizers()
  root = os.path.abspath(folder)
  config_file = os.path.join(root, "tokenizer_config.json")
  config = {}
  if os.path.isfile(config_file):
    with open(config_file, encoding="utf-8") as f:
      config = json.load(f)
  template = config.get("chat_template")
  jinja_file = os.path.join(root, "chat_template.jinja")
  if template is None and os.path.isfile(jinja_file):
    with open(jinja_file, encoding="utf-8") as f:
      template = f.read()
  if not template:
    raise ValueError(f"{folder}: no chat_template in tokenizer_config.json nor chat_template.jinja")

  def token(key):
    value = config.get(key)
    return value.get("content") if isinstance(value, dict) else value

  eos = token("eos_token")
  if eos is None:
    raise ValueError(f"{config_file}: no eos_token")
  return HFTokenizer(tk.Tokenizer.from_file(os.path.join(root, "tokenizer.json")),
                     path=root, chat_template=template, eos_token=eos,
                     bos_token=token("bos_token"), pad_token=token("pad_token"),
                     add_bos=bool(config.get("add_bos_token", False)))


@functools.lru_cache(maxsize=8)
def _cached_hf(path: str) -> HFTokenizer:
  if os.path.isdir(path):
    if not os.path.isfile(os.path.join(path, "tokenizer.json")):
      raise FileNotFoundError(f"{path}: no tokenizer.json")
    return _from_folder(path)
  if not os.path.isfile(path):
    raise FileNotFoundError(f"{path}: neither a GGUF file nor a folder with tokenizer.json")
  return _from_gguf(path)


def load_hf_tokenizer(path: str | os.PathLike[str]) -> HFTokenizer:
  """A model's own tokenizer and chat format: a GGUF file or an HF tokenizer folder.

  Example:

      from rlef_jax.checkpoints import resolve_gguf
      tok = load_hf_tokenizer(resolve_gguf("smollm2-135m-instruct"))
      tok.render_dialog([{"role": "user", "content": "Hi"}])  # ChatML, default system turn
  """
  return _cached_hf(os.path.abspath(os.fspath(path)))

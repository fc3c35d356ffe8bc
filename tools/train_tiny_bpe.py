"""Trains the project's tiny byte-level BPE and writes it in tiktoken's format.

The tiny Llama preset (`configs.get("tiny")`) has a 4352-row vocabulary:
4096 mergeable ranks from this script plus Llama 3's 256 special tokens. The
corpus is the `.py` source of the running interpreter's standard library
(PSF licence: code plus its English docstrings and comments), without its
`test/`, `idlelib/` and `site-packages/` folders, read in sorted path order.
Pre-tokenisation uses Llama 3's regex, so tokens never cross the boundaries
the real tokenizer draws. The result is deterministic for a given stdlib
(the script prints the corpus digest; the committed file came from CPython
3.11.7's).

    python tools/train_tiny_bpe.py                      # rewrite the asset
    python tools/train_tiny_bpe.py --out /tmp/bpe.tiktoken --ranks 1024
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import pathlib
import sysconfig

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

from rlef_jax import tokenizer as rlef_tokenizer

_SKIPPED_DIRS = {"test", "tests", "idlelib", "site-packages", "dist-packages", "__pycache__"}
_DEFAULT_OUT = pathlib.Path(__file__).resolve().parent.parent / "rlef_jax/assets/tiny_bpe.tiktoken"


def corpus_files(root: pathlib.Path) -> list[pathlib.Path]:
  return sorted(p for p in root.rglob("*.py")
                if not _SKIPPED_DIRS.intersection(p.relative_to(root).parts[:-1]))


def _byte_level_decoder() -> dict[str, int]:
  """Inverse of GPT-2's byte -> printable-character map used by ByteLevel."""
  printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
               + list(range(ord("®"), ord("ÿ") + 1)))
  chars, extra = {}, 0
  for b in range(256):
    if b in printable:
      chars[chr(b)] = b
    else:
      chars[chr(256 + extra)] = b
      extra += 1
  return chars


def train_ranks(texts: list[str], num_ranks: int) -> dict[bytes, int]:
  """Byte-level BPE ranks: the 256 bytes first (in byte order), then merges."""
  tok = Tokenizer(models.BPE())
  tok.pre_tokenizer = pre_tokenizers.Sequence([
      pre_tokenizers.Split(Regex(rlef_tokenizer.PAT_STR), behavior="isolated"),
      pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
  ])
  tok.decoder = decoders.ByteLevel()
  trainer = trainers.BpeTrainer(
      vocab_size=num_ranks, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
      show_progress=False)
  tok.train_from_iterator(texts, trainer=trainer)
  decode = _byte_level_decoder()
  ranks = {bytes([b]): b for b in range(256)}
  # tiktoken merges by the rank of the merged token, so merge order is rank order.
  for merge in json.loads(tok.to_str())["model"]["merges"]:
    left, right = merge.split(" ") if isinstance(merge, str) else merge
    token = bytes(decode[c] for c in left + right)
    if token not in ranks:
      ranks[token] = len(ranks)
  if len(ranks) != num_ranks:
    raise RuntimeError(f"trainer produced {len(ranks)} ranks, wanted {num_ranks}; "
                       "the corpus is too small")
  return ranks


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--stdlib", type=pathlib.Path, default=pathlib.Path(sysconfig.get_paths()["stdlib"]))
  parser.add_argument("--ranks", type=int, default=4096)
  parser.add_argument("--out", type=pathlib.Path, default=_DEFAULT_OUT)
  args = parser.parse_args()
  files = corpus_files(args.stdlib)
  texts = [p.read_text(encoding="utf-8", errors="replace") for p in files]
  digest = hashlib.sha256("".join(texts).encode()).hexdigest()
  ranks = train_ranks(texts, args.ranks)
  args.out.parent.mkdir(parents=True, exist_ok=True)
  args.out.write_text("".join(f"{base64.b64encode(t).decode()} {r}\n" for t, r in ranks.items()))
  print(f"{len(files)} files, {sum(map(len, texts))} chars, corpus sha256 {digest}")
  print(f"wrote {len(ranks)} ranks to {args.out}")


if __name__ == "__main__":
  main()

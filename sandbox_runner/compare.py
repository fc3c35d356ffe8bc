"""Output matching: DeepMind code_contests' `OutputsMatch` rule, on the host.

Both outputs are split on space, \\n, \\t, \\r and \\v (form feed is *not* a
separator), empty tokens are dropped and ASCII letters lower-cased. Equal token
lists match; lists of different lengths do not; otherwise tokens are compared
one by one: when both read as decimal numbers they match if |a - b| < 1e-5
(absolute), else they must be equal strings.

Quirks kept on purpose (they are the reference's): `1e5` equals `100000`, and
integers above 2**53 compare as doubles. Our choice where the reference leans
on its number parser: only finite decimal literals (optional sign, digits,
optional fraction, optional exponent) are numbers, so `nan`, `inf` and `1_0`
compare as strings.

Example:

    from sandbox_runner import compare
    compare.outputs_match("1.0000001\\n", "1")   # True
    compare.outputs_match("YES", "yes no")       # False (lengths differ)
"""

from __future__ import annotations

import math
import re

_SEPARATORS = re.compile("[ \n\t\r\v]+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_ABS_TOLERANCE = 1e-5
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def tokens(text: str) -> list[str]:
  """The non-empty, ASCII-lower-cased whitespace tokens of `text`."""
  return [t.translate(_ASCII_LOWER) for t in _SEPARATORS.split(text) if t]


def _as_number(token: str) -> float | None:
  if not _NUMBER.fullmatch(token):
    return None
  value = float(token)
  return value if math.isfinite(value) else None


def tokens_match(got: str, expected: str) -> bool:
  """One token pair: numerically within 1e-5 when both are numbers, else equal."""
  if got == expected:
    return True
  a, b = _as_number(got), _as_number(expected)
  if a is None or b is None:
    return False
  return abs(a - b) < _ABS_TOLERANCE


def outputs_match(got: str, expected: str) -> bool:
  """True when the program output `got` is accepted against `expected`."""
  got_tokens, expected_tokens = tokens(got), tokens(expected)
  if got_tokens == expected_tokens:
    return True
  if len(got_tokens) != len(expected_tokens):
    return False
  return all(tokens_match(g, e) for g, e in zip(got_tokens, expected_tokens))

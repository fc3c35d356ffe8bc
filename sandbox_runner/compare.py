"""Output matching: DeepMind code_contests' `OutputsMatch` rule, on the host.

The reference (code_contests `execution/tester_sandboxer.cc`): both outputs
are split on space, \\n, \\t, \\r and \\v (form feed is *not* a separator),
empty tokens are dropped and ASCII letters lower-cased. Equal token lists
match; lists of different lengths do not; otherwise every token pair must
pass `ValuesMatch`: when both parse as numbers (`absl::SimpleAtod`) they
match if |a - b| < 1e-5 (absolute), else they must be equal strings.

What `SimpleAtod` calls a number, and so what this module does: an optional
`+` or `-`, then ASCII digits with at most one `.` (at least one digit), then
optionally `e`, an optional sign and ASCII digits; or `inf`, `infinity`,
`nan`, `nan(` [a-z0-9_]* `)` (after the lower-casing). ASCII only: fullwidth
or other Unicode digits are strings, `1_0` and `0x10` are strings. Quirks kept
because they are the reference's: `1e5` equals `100000`; integers above 2**53
compare as doubles; a number too large for a double is infinite, and an
infinite or NaN token never matches in the token-by-token pass (inf - inf is
NaN), though identical token lists still match as lists.

Bounded and linear, whatever the output: the bytes are scanned once, lazily,
token by token (no list of the whole output); the scan stops as soon as the
result is known (the expected output's token count + 1 at most); the number
test is plain byte-class checks and one `float()` (both linear), no regular
expression that could backtrack. Outputs over `max_bytes` do not match (the
judge's stdout cap is well below the default).

Example:

    from sandbox_runner import compare
    compare.outputs_match("1.0000001\\n", "1")   # True
    compare.outputs_match("YES", "yes no")       # False (lengths differ)
    compare.outputs_match("\\uff11", "1")        # False (fullwidth is not a digit)
"""

from __future__ import annotations

import re
from typing import Iterator

_ABS_TOLERANCE = 1e-5
# One greedy class, nothing after it: each byte is looked at once.
_TOKEN = re.compile(rb"[^ \n\t\r\v]+")
MAX_BYTES = 256 << 20
_NAN_TAIL = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_")


def _as_bytes(text: str | bytes) -> bytes:
  if isinstance(text, str):
    return text.encode("utf-8", "surrogateescape")
  return bytes(text)


def iter_tokens(data: bytes) -> Iterator[bytes]:
  """The non-empty, ASCII-lower-cased tokens of `data`, one at a time."""
  for m in _TOKEN.finditer(data):
    yield m.group().lower()  # bytes.lower() folds ASCII only.


def tokens(text: str | bytes) -> list[str]:
  """All tokens of `text` (for tools and tests; the judge streams them)."""
  return [t.decode("utf-8", "surrogateescape") for t in iter_tokens(_as_bytes(text))]


def _digits(b: bytes) -> bool:
  return b.isdigit()  # bytes.isdigit: ASCII 0-9 only, never Unicode digits.


def as_number(token: bytes) -> float | None:
  """`absl::SimpleAtod` on one lower-cased token: its value, or None."""
  body = token
  if body[:1] == b"+":
    body = body[1:]
    if body[:1] == b"-":
      return None  # SimpleAtod refuses "+-".
  sign = 1.0
  if body[:1] == b"-":
    sign, body = -1.0, body[1:]
  if not body:
    return None
  if body[:1] in (b"i", b"n"):
    if body in (b"inf", b"infinity"):
      return sign * float("inf")
    if body == b"nan" or (body.startswith(b"nan(") and body.endswith(b")")
                          and all(c in _NAN_TAIL for c in body[4:-1])):
      return float("nan")
    return None
  mantissa, e, exponent = body.partition(b"e")
  if e:
    exp_digits = exponent[1:] if exponent[:1] in (b"+", b"-") else exponent
    if not _digits(exp_digits):
      return None
  whole, dot, fraction = mantissa.partition(b".")
  if not (whole or fraction):
    return None
  if (whole and not _digits(whole)) or (fraction and not _digits(fraction)):
    return None
  return sign * float(body)  # Validated ASCII: float() is correctly rounded, linear.


def values_match(got: bytes, expected: bytes) -> bool:
  """The reference's `ValuesMatch` on one token pair."""
  a, b = as_number(got), as_number(expected)
  if a is None or b is None:
    return got == expected
  return abs(a - b) < _ABS_TOLERANCE


def outputs_match(got: str | bytes, expected: str | bytes,
                  max_bytes: int = MAX_BYTES) -> bool:
  """True when the program output `got` is accepted against `expected`.

  Streams both outputs: at most (tokens of `expected`) + 1 tokens of `got`
  are ever looked at, and it stops at the first pair that decides it.
  """
  got, expected = _as_bytes(got), _as_bytes(expected)
  if len(got) > max_bytes:
    return False
  lists_equal = values_ok = True
  want = iter_tokens(expected)
  for g in iter_tokens(got):
    e = next(want, None)
    if e is None:
      return False  # `got` has more tokens.
    if g != e:
      lists_equal = False
    if values_ok and not values_match(g, e):
      values_ok = False
    if not (lists_equal or values_ok):
      # Not equal lists, and some pair fails: only a length mismatch was left
      # to find, and it would say False too.
      return False
  if next(want, None) is not None:
    return False  # `expected` has more tokens.
  return lists_equal or values_ok


def tokens_match(got: str, expected: str) -> bool:
  """One token pair (str), as the reference's `ValuesMatch`."""
  return values_match(_as_bytes(got).lower(), _as_bytes(expected).lower())

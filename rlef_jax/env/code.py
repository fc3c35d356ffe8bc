"""Code in a model response: extraction and host-side validity (docs/rlef_method.md §1.2, §2).

`extract_code` takes the first ```` ```python ```` block, else the first fenced
block of any language (our choice, following Meta's later public code); a
fence must be closed, so a response cut off by the token budget inside its
block has no code. `is_valid_code` is "extracted and compiles": `compile()`
on the host, which parses and never executes.

Example:

    from rlef_jax.env import code
    src = code.extract_code("Here:\\n```python\\nprint(1)\\n```")   # "print(1)\\n"
    code.is_valid_code(src)                                          # True
"""

from __future__ import annotations

import re
import warnings

# An opening fence: three backticks and an info string on the fence's own line.
_PYTHON_BLOCK = re.compile(r"```[ \t]*(?:python3?|py)[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
_ANY_BLOCK = re.compile(r"```[^\n`]*\n(.*?)```", re.DOTALL)


def fence(code: str) -> str:
  """An answer holding `code` the way the prompt asks for it (`extract_code`'s inverse)."""
  return f"```python\n{code.rstrip()}\n```"


def unfence(text: str) -> str:
  """The code of a `fence(code)` answer, exactly; ValueError for any other text."""
  prefix = "```python\n"
  if not (text.startswith(prefix) and text.endswith("\n```")):
    raise ValueError("not a fence() answer")
  return text[len(prefix):-3]


def extract_code(text: str) -> str | None:
  """The first python block, else the first fenced block; None if none or empty."""
  for pattern in (_PYTHON_BLOCK, _ANY_BLOCK):
    match = pattern.search(text)
    if match:
      return match[1] if match[1].strip() else None
  return None


def is_valid_code(code: str | None) -> bool:
  """True when `code` exists and compiles as a Python 3 module (never run)."""
  if code is None or not code.strip():
    return False
  try:
    with warnings.catch_warnings():
      warnings.simplefilter("ignore")  # e.g. SyntaxWarning for invalid escapes
      compile(code, "solution.py", "exec", dont_inherit=True)
  except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
    return False
  return True

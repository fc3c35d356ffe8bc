"""The one problem record of the project: the Hugging Face CodeContests row.

Every data source (the TFDS builder `code_contests`, the bundled problems,
HumanEval) yields plain dicts with exactly the fields and meanings of a row of
Hugging Face's `deepmind/code_contests` parquet files. This module holds the
field list, the defaults, validation with errors that name the bad field, the
JSONL helpers, and the conversion to and from the flat TFDS/`tf.data` layout
(where a missing time limit is stored as `seconds = NO_TIME_LIMIT`).
It imports neither TensorFlow nor JAX.

Example:

    from rlef_jax.data import schema
    row = schema.normalize({"name": "echo", "description": "Print the input.",
                            "public_tests": {"input": ["1\\n"], "output": ["1\\n"]}})
    schema.write_jsonl("/tmp/p.jsonl", [row])
    rows = list(schema.read_jsonl("/tmp/p.jsonl"))
    schema.write_parquet("/tmp/m/data/test-00000-of-00001.parquet", rows)
    assert schema.to_row(schema.to_example(row)) == row
"""

from __future__ import annotations

import copy
import gzip
import json
import math
import pathlib
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

# Hugging Face ClassLabel names, in index order.
SOURCES = ("UNKNOWN_SOURCE", "CODECHEF", "CODEFORCES", "HACKEREARTH",
           "CODEJAM", "ATCODER", "AIZU")
DIFFICULTIES = ("UNKNOWN_DIFFICULTY", "EASY", "MEDIUM", "HARD", "HARDER",
                "HARDEST", "EXTERNAL") + tuple("ABCDEFGHIJKLMNOPQRSTUV")
LANGUAGES = ("UNKNOWN_LANGUAGE", "PYTHON", "CPP", "PYTHON3", "JAVA")

TEST_FIELDS = ("public_tests", "private_tests", "generated_tests")
SOLUTION_FIELDS = ("solutions", "incorrect_solutions")
# In the column order of the Hugging Face parquet files.
FIELDS = ("name", "description", *TEST_FIELDS, "source", "difficulty",
          *SOLUTION_FIELDS, "cf_contest_id", "cf_index", "cf_points",
          "cf_rating", "cf_tags", "is_description_translated",
          "untranslated_description", "time_limit", "memory_limit_bytes",
          "input_file", "output_file")

# `time_limit: null` in the TFDS/tf.data layout, which has no nulls.
NO_TIME_LIMIT = -1

_DEFAULTS = {
    "name": "", "description": "",
    **{f: {"input": [], "output": []} for f in TEST_FIELDS},
    "source": 0, "difficulty": 0,
    **{f: {"language": [], "solution": []} for f in SOLUTION_FIELDS},
    "cf_contest_id": 0, "cf_index": "", "cf_points": 0.0, "cf_rating": 0,
    "cf_tags": [], "is_description_translated": False,
    "untranslated_description": "", "time_limit": None,
    "memory_limit_bytes": 0, "input_file": "", "output_file": "",
}
_STR_FIELDS = ("name", "description", "cf_index", "untranslated_description",
               "input_file", "output_file")
_INT_FIELDS = ("cf_contest_id", "cf_rating", "memory_limit_bytes")
_LABELS = {"source": SOURCES, "difficulty": DIFFICULTIES}


class SchemaError(ValueError):
  """A record does not fit the problem schema; the message names the field."""


def default_row() -> dict[str, Any]:
  """A fresh record holding every field's default."""
  return copy.deepcopy(_DEFAULTS)


def _is_int(v: Any) -> bool:
  return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _str_list(v: Any, where: str) -> list[str]:
  if not isinstance(v, (list, tuple)) or not all(isinstance(s, str) for s in v):
    raise SchemaError(f"{where}: expected a list of strings, got {_short(v)}")
  return list(v)


def _short(v: Any) -> str:
  text = repr(v)
  return text if len(text) <= 80 else text[:77] + "..."


def _pair(v: Any, where: str, keys: tuple[str, str]) -> dict[str, list]:
  if not isinstance(v, Mapping) or set(v) != set(keys):
    raise SchemaError(f"{where}: expected a dict with keys {list(keys)}, "
                      f"got {_short(v)}")
  a, b = keys
  first = v[a]
  if a == "language":
    if (not isinstance(first, (list, tuple))
        or not all(_is_int(x) and 0 <= x < len(LANGUAGES) for x in first)):
      raise SchemaError(f"{where}.language: expected a list of language ids "
                        f"0..{len(LANGUAGES) - 1}, got {_short(first)}")
    first = [int(x) for x in first]
  else:
    first = _str_list(first, f"{where}.{a}")
  second = _str_list(v[b], f"{where}.{b}")
  if len(first) != len(second):
    raise SchemaError(f"{where}: {len(first)} {a} entries but "
                      f"{len(second)} {b} entries")
  return {a: first, b: second}


def _time_limit(v: Any) -> dict[str, int] | None:
  if v is None:
    return None
  if (not isinstance(v, Mapping) or set(v) != {"seconds", "nanos"}
      or not _is_int(v["seconds"]) or not _is_int(v["nanos"])
      or v["seconds"] < 0 or not 0 <= v["nanos"] < 10**9):
    raise SchemaError("time_limit: expected null or {seconds: int >= 0, "
                      f"nanos: int in [0, 1e9)}}, got {_short(v)}")
  return {"seconds": int(v["seconds"]), "nanos": int(v["nanos"])}


def normalize(row: Mapping[str, Any]) -> dict[str, Any]:
  """Validates a record and returns it with missing fields set to defaults.

  Args:
    row: a problem in the Hugging Face CodeContests row layout; absent fields
      take their defaults, `None` is allowed only for `time_limit`.

  Returns:
    A new dict with exactly `FIELDS`, values as plain Python types.

  Raises:
    SchemaError: naming the first bad field (unknown, null, wrong type, out of
      range, or test/solution lists of unequal lengths).
  """
  if not isinstance(row, Mapping):
    raise SchemaError(f"expected a dict per problem, got {_short(row)}")
  unknown = sorted(set(row) - set(FIELDS))
  if unknown:
    raise SchemaError(f"unknown field(s) {unknown}; the schema has {list(FIELDS)}")
  out = default_row()
  for field, value in row.items():
    if value is None and field != "time_limit":
      raise SchemaError(f"{field}: null is not allowed")
    if field in _STR_FIELDS:
      if not isinstance(value, str):
        raise SchemaError(f"{field}: expected a string, got {_short(value)}")
      out[field] = value
    elif field in _INT_FIELDS:
      if not _is_int(value):
        raise SchemaError(f"{field}: expected an integer, got {_short(value)}")
      if field == "memory_limit_bytes" and value < 0:
        raise SchemaError(f"memory_limit_bytes: expected >= 0 (0 = unknown), "
                          f"got {value}")
      out[field] = int(value)
    elif field in _LABELS:
      names = _LABELS[field]
      if not _is_int(value) or not 0 <= value < len(names):
        raise SchemaError(f"{field}: expected a label id 0..{len(names) - 1} "
                          f"({names[0]}..{names[-1]}), got {_short(value)}")
      out[field] = int(value)
    elif field in TEST_FIELDS:
      out[field] = _pair(value, field, ("input", "output"))
    elif field in SOLUTION_FIELDS:
      out[field] = _pair(value, field, ("language", "solution"))
    elif field == "cf_points":
      if (not isinstance(value, (int, float, np.floating))
          or isinstance(value, bool) or not math.isfinite(value)):
        raise SchemaError(f"cf_points: expected a finite number, got {_short(value)}")
      # float32 in the Hugging Face files and in TFDS; rounding here keeps
      # every source of the same problem equal.
      out[field] = float(np.float32(value))
    elif field == "cf_tags":
      out[field] = _str_list(value, field)
    elif field == "is_description_translated":
      if not isinstance(value, (bool, np.bool_)):
        raise SchemaError(f"{field}: expected a bool, got {_short(value)}")
      out[field] = bool(value)
    else:
      out[field] = _time_limit(value)
  return out


def has_tests(row: Mapping[str, Any],
              kinds: Iterable[str] = ("public_tests", "private_tests")) -> bool:
  """Whether every named test set of `row` holds at least one test."""
  return all(len(row[kind]["input"]) > 0 for kind in kinds)


def to_example(row: Mapping[str, Any]) -> dict[str, Any]:
  """The TFDS/tf.data layout of a normalized record: no nulls."""
  example = dict(row)
  if row["time_limit"] is None:
    example["time_limit"] = {"seconds": NO_TIME_LIMIT, "nanos": 0}
  return example


def _py(v: Any) -> Any:
  """One decoded leaf (tf.Tensor, numpy or Python) as plain Python."""
  if hasattr(v, "numpy"):
    v = v.numpy()
  if isinstance(v, np.ndarray):
    return [_py(x) for x in v.tolist()] if v.ndim else _py(v.item())
  if isinstance(v, (list, tuple)):
    return [_py(x) for x in v]
  if isinstance(v, bytes):
    return v.decode("utf-8")
  if isinstance(v, np.generic):
    return v.item()
  return v


def to_row(example: Mapping[str, Any]) -> dict[str, Any]:
  """The Hugging Face row of one decoded TFDS/tf.data example.

  Accepts `tf.Tensor`s, numpy values (`tfds.as_numpy`) or Python values and
  inverts `to_example`: bytes become str, `seconds == NO_TIME_LIMIT` becomes
  `time_limit: None`, and the result is validated by `normalize`. `cf_points`
  is float32, as in the Hugging Face files.
  """
  row = {}
  for field in FIELDS:
    value = example[field]
    if isinstance(value, Mapping):
      row[field] = {k: _py(v) for k, v in value.items()}
    else:
      row[field] = _py(value)
  if row["time_limit"]["seconds"] == NO_TIME_LIMIT:
    row["time_limit"] = None
  return normalize(row)


def _open_text(path: pathlib.Path, mode: str):
  if path.suffix == ".gz":
    return gzip.open(path, mode + "t", encoding="utf-8")
  return open(path, mode, encoding="utf-8")


def read_jsonl(path: str | pathlib.Path) -> Iterator[dict[str, Any]]:
  """Yields the normalized records of a JSONL file (`.gz` allowed).

  Raises:
    SchemaError: naming the file and 1-based line of a bad record.
  """
  path = pathlib.Path(path)
  with _open_text(path, "r") as f:
    for lineno, line in enumerate(f, start=1):
      if not line.strip():
        continue
      try:
        yield normalize(json.loads(line))
      except (json.JSONDecodeError, SchemaError) as e:
        raise SchemaError(f"{path}:{lineno}: {e}") from e


def write_jsonl(path: str | pathlib.Path,
                rows: Iterable[Mapping[str, Any]]) -> int:
  """Writes normalized records, one JSON object per line; returns the count."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  count = 0
  with _open_text(path, "w") as f:
    for row in rows:
      f.write(json.dumps(normalize(row), ensure_ascii=False) + "\n")
      count += 1
  return count


def _arrow():
  """(pyarrow, pyarrow.parquet)."""
  # Local import: heavy (pyarrow: 0.6 s); only parquet files need it.
  import pyarrow.parquet  # pylint: disable=import-outside-toplevel
  return pyarrow, pyarrow.parquet


def arrow_schema():
  """The pyarrow schema of the Hugging Face parquet files."""
  pa, _ = _arrow()
  strings = pa.list_(pa.string())
  tests = pa.struct([("input", strings), ("output", strings)])
  solutions = pa.struct([("language", pa.list_(pa.int64())),
                         ("solution", strings)])
  types = {
      "name": pa.string(), "description": pa.string(),
      **{f: tests for f in TEST_FIELDS},
      "source": pa.int64(), "difficulty": pa.int64(),
      **{f: solutions for f in SOLUTION_FIELDS},
      "cf_contest_id": pa.int64(), "cf_index": pa.string(),
      "cf_points": pa.float32(), "cf_rating": pa.int64(), "cf_tags": strings,
      "is_description_translated": pa.bool_(),
      "untranslated_description": pa.string(),
      "time_limit": pa.struct([("seconds", pa.int64()), ("nanos", pa.int64())]),
      "memory_limit_bytes": pa.int64(),
      "input_file": pa.string(), "output_file": pa.string(),
  }
  return pa.schema([(f, types[f]) for f in FIELDS])


def write_parquet(path: str | pathlib.Path,
                  rows: Iterable[Mapping[str, Any]]) -> int:
  """Writes normalized records as a Hugging Face parquet file; returns the count.

  Put the files at `<manual_dir>/data/{split}-*.parquet` for the TFDS builder.
  """
  pa, pq = _arrow()
  rows = [normalize(r) for r in rows]
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema()), path)
  return len(rows)

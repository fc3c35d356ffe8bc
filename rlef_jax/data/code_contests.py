"""TFDS builder `code_contests`: DeepMind's CodeContests from downloaded files.

The builder reads `manual_dir` in the Hugging Face parquet layout or as a JSON
export of DeepMind's `ContestProblem` protos (see `MANUAL_DOWNLOAD_INSTRUCTIONS`
and docs/data.md), keeps every field of the Hugging Face row (`schema.FIELDS`),
and drops train problems that lack public or private tests, counting them in
the dataset's metadata (`preparation_report`). Valid and test are kept whole.
A malformed row fails the preparation, naming file, row and problem, or with
`on_bad_row="skip"` is skipped and counted.

Example:

    import tensorflow_datasets as tfds
    import rlef_jax.data  # registers the builder
    builder = tfds.builder("code_contests", data_dir=D)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=M))
    code_contests.preparation_report(D)["splits"]["train"]["dropped_without_tests"]

or from the shell: `python -m rlef_jax.data --manual_dir=M --data_dir=D`.
"""

from __future__ import annotations

import gzip
import json
import pathlib
import re
from typing import Any, Iterator, Mapping

from absl import logging
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import tensorflow_datasets as tfds

from rlef_jax.data import schema

SPLITS = ("train", "valid", "test")
# RLEF trains only on problems it can give feedback on (public tests) and
# reward (private tests); the paper's valid/test splits are the full ones.
DROP_SPLITS = ("train",)
REQUIRED_TESTS = ("public_tests", "private_tests")
ON_BAD_ROW = ("fail", "skip")
_MAX_LISTED_ERRORS = 100

MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Put CodeContests into manual_dir in ONE of these two layouts.

1. Hugging Face parquet (https://huggingface.co/datasets/deepmind/code_contests):
     <manual_dir>/data/train-*.parquet   e.g. train-00000-of-00039-e991a271dbfa9925.parquet
     <manual_dir>/data/valid-*.parquet   e.g. valid-00000-of-00001-5e672c5751f060d3.parquet
     <manual_dir>/data/test-*.parquet    e.g. test-00000-of-00001-9c49eeff30aacaa8.parquet
   (`huggingface-cli download deepmind/code_contests --repo-type dataset
   --local-dir <manual_dir>` gives exactly this.)

2. DeepMind JSON export (https://github.com/google-deepmind/code_contests):
   the ContestProblem protos of the Riegeli files, each converted with
   protobuf's json_format.MessageToJson, one object per line:
     <manual_dir>/{train,valid,test}*.jsonl*
     or <manual_dir>/code_contests_{train,valid,test}*.jsonl*
   e.g. code_contests_train.jsonl-00000-of-00128, valid.jsonl, test.jsonl.gz
   (a name ending in .gz is read as gzip).

Every split needs at least one file. Then prepare with
  tfds.builder("code_contests", data_dir=D).download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=<manual_dir>))
or  python -m rlef_jax.data --manual_dir=<manual_dir> --data_dir=D
"""

# Proto enum numbers -> Hugging Face ClassLabel ids; they differ where the
# proto reserves numbers (source 5, difficulty 18).
_PROTO_SOURCE = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 6: 5, 7: 6}
_PROTO_DIFFICULTY = {n: n for n in range(18)} | {n: n - 1 for n in range(19, 30)}
_DURATION = re.compile(r"^(\d+)(?:\.(\d{1,9}))?s$")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def features() -> tfds.features.FeaturesDict:
  """The TFDS features of one problem: `schema.to_example`'s layout."""
  text = tfds.features.Text()
  tests = {"input": tfds.features.Sequence(text),
           "output": tfds.features.Sequence(text)}
  solutions = {
      "language": tfds.features.Sequence(
          tfds.features.ClassLabel(names=schema.LANGUAGES)),
      "solution": tfds.features.Sequence(text)}
  return tfds.features.FeaturesDict({
      "name": text, "description": text,
      **{f: tests for f in schema.TEST_FIELDS},
      "source": tfds.features.ClassLabel(names=schema.SOURCES),
      "difficulty": tfds.features.ClassLabel(names=schema.DIFFICULTIES),
      **{f: solutions for f in schema.SOLUTION_FIELDS},
      "cf_contest_id": tfds.features.Scalar(dtype=np.int64),
      "cf_index": text,
      "cf_points": tfds.features.Scalar(dtype=np.float32),
      "cf_rating": tfds.features.Scalar(dtype=np.int64),
      "cf_tags": tfds.features.Sequence(text),
      "is_description_translated": tfds.features.Scalar(dtype=np.bool_),
      "untranslated_description": text,
      "time_limit": {"seconds": tfds.features.Scalar(dtype=np.int64),
                     "nanos": tfds.features.Scalar(dtype=np.int64)},
      "memory_limit_bytes": tfds.features.Scalar(dtype=np.int64),
      "input_file": text, "output_file": text,
  })


def _enum(value: Any, names: tuple[str, ...], proto_ids: Mapping[int, int],
          where: str) -> int:
  if isinstance(value, str):
    if value not in names:
      raise schema.SchemaError(f"{where}: unknown name {value!r}")
    return names.index(value)
  if isinstance(value, int) and not isinstance(value, bool) and value in proto_ids:
    return proto_ids[value]
  raise schema.SchemaError(f"{where}: expected an enum name or proto number, "
                           f"got {value!r}")


def _int(value: Any, where: str) -> int:
  # json_format writes int64 as a string, int32 as a number.
  if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
    return int(value)
  if isinstance(value, int) and not isinstance(value, bool):
    return value
  raise schema.SchemaError(f"{where}: expected an integer, got {value!r}")


def _duration(value: Any) -> dict[str, int] | None:
  if isinstance(value, Mapping):
    return dict(value)
  match = _DURATION.match(value) if isinstance(value, str) else None
  if not match:
    raise schema.SchemaError(f"time_limit: expected a duration like '2s' or "
                             f"'1.500s', got {value!r}")
  return {"seconds": int(match[1]), "nanos": int((match[2] or "").ljust(9, "0"))}


def _tests(value: Any, where: str) -> Any:
  if isinstance(value, list):  # repeated Test messages
    if not all(isinstance(t, Mapping) and set(t) <= {"input", "output"}
               for t in value):
      raise schema.SchemaError(f"{where}: expected [{{input, output}}, ...]")
    return {"input": [t.get("input", "") for t in value],
            "output": [t.get("output", "") for t in value]}
  return value


def _solutions(value: Any, where: str) -> Any:
  if isinstance(value, list):  # repeated Solution messages
    if not all(isinstance(s, Mapping) and set(s) <= {"language", "solution"}
               for s in value):
      raise schema.SchemaError(f"{where}: expected [{{language, solution}}, ...]")
    return {"language": [_enum(s.get("language", 0), schema.LANGUAGES,
                               {i: i for i in range(5)}, f"{where}.language")
                         for s in value],
            "solution": [s.get("solution", "") for s in value]}
  return value


def from_deepmind_json(obj: Mapping[str, Any]) -> dict[str, Any]:
  """Maps one `MessageToJson` ContestProblem to the Hugging Face row.

  Accepts camelCase or proto field names, enum names or proto numbers,
  repeated messages as lists of objects, int64 as strings and durations like
  `"2.500s"`; absent fields (json_format omits defaults) take the defaults.
  """
  if not isinstance(obj, Mapping):
    raise schema.SchemaError(f"expected a JSON object, got {type(obj).__name__}")
  row = {}
  for key, value in obj.items():
    field = _CAMEL.sub("_", key).lower()
    if field in schema.TEST_FIELDS:
      value = _tests(value, field)
    elif field in schema.SOLUTION_FIELDS:
      value = _solutions(value, field)
    elif field == "source":
      value = _enum(value, schema.SOURCES, _PROTO_SOURCE, field)
    elif field == "difficulty":
      value = _enum(value, schema.DIFFICULTIES, _PROTO_DIFFICULTY, field)
    elif field in ("cf_contest_id", "cf_rating", "memory_limit_bytes"):
      value = _int(value, field)
    elif field == "time_limit" and value is not None:
      value = _duration(value)
    row[field] = value
  return schema.normalize(row)


def _parquet_rows(path: pathlib.Path) -> Iterator[tuple[int, Any]]:
  """(0-based row index, raw row) of a Hugging Face parquet file."""
  try:
    parquet = pq.ParquetFile(path)
  except (pa.ArrowException, OSError) as e:
    raise ValueError(f"{path}: not a readable parquet file: {e}") from e
  columns = [c for c in schema.FIELDS if c in parquet.schema_arrow.names]
  index = 0
  # Small batches: a train row can hold megabytes of tests and solutions.
  for batch in parquet.iter_batches(batch_size=16, columns=columns):
    for raw in batch.to_pylist():
      yield index, raw
      index += 1


def _jsonl_rows(path: pathlib.Path) -> Iterator[tuple[int, Any]]:
  """(1-based line number, parsed object or the JSON error) of a JSONL file."""
  opener = gzip.open if path.suffix == ".gz" else open
  with opener(path, "rt", encoding="utf-8") as f:
    for lineno, line in enumerate(f, start=1):
      if line.strip():
        try:
          yield lineno, json.loads(line)
        except json.JSONDecodeError as e:
          yield lineno, e


def find_files(manual_dir: str | pathlib.Path,
               ) -> tuple[str, dict[str, list[pathlib.Path]]]:
  """The layout of `manual_dir` ("huggingface" or "deepmind_json") and its files.

  Raises:
    FileNotFoundError: no split has files in either layout, a split is
      missing, or both layouts are present; the message shows the layouts.
  """
  root = pathlib.Path(manual_dir)
  parquet = {s: sorted((root / "data").glob(f"{s}-*.parquet")) for s in SPLITS}
  jsonl = {s: sorted({p for pattern in (f"{s}*.jsonl*",
                                        f"code_contests_{s}*.jsonl*")
                      for p in root.glob(pattern)}) for s in SPLITS}
  found = {name: files for name, files in
           (("huggingface", parquet), ("deepmind_json", jsonl))
           if any(files.values())}
  if len(found) != 1:
    problem = ("holds both layouts; keep one" if found else
               "holds no CodeContests files")
    raise FileNotFoundError(
        f"{root} {problem}.\n{MANUAL_DOWNLOAD_INSTRUCTIONS}")
  (layout, files), = found.items()
  missing = [s for s in SPLITS if not files[s]]
  if missing:
    raise FileNotFoundError(
        f"{root} ({layout} layout) has no files for split(s) {missing}.\n"
        f"{MANUAL_DOWNLOAD_INSTRUCTIONS}")
  return layout, files


class CodeContests(tfds.core.GeneratorBasedBuilder):
  """DeepMind CodeContests, every field of the Hugging Face row."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Hugging Face row layout; train drops problems "
                            "without public or private tests."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS

  def __init__(self, *, on_bad_row: str = "fail", **kwargs: Any):
    """Args: on_bad_row: "fail" or "skip" a malformed row; others to TFDS."""
    if on_bad_row not in ON_BAD_ROW:
      raise ValueError(f"on_bad_row must be one of {ON_BAD_ROW}, got {on_bad_row!r}")
    self._on_bad_row = on_bad_row
    super().__init__(**kwargs)

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        description=("Competitive programming problems with tests and "
                     "solutions (AlphaCode), in the Hugging Face row layout. "
                     "time_limit.seconds == -1 means no time limit."),
        features=features(),
        homepage="https://github.com/google-deepmind/code_contests",
        citation="Li et al., Competition-level code generation with "
                 "AlphaCode, Science 378 (2022).",
        metadata=tfds.core.MetadataDict(),
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    layout, files = find_files(dl_manager.manual_dir)
    self.info.metadata.update(
        layout=layout, on_bad_row=self._on_bad_row,
        drop_rule={"splits": list(DROP_SPLITS), "required": list(REQUIRED_TESTS)},
        splits={})
    return {split: self._generate_examples(split, layout, paths)
            for split, paths in files.items()}

  def _generate_examples(self, split: str, layout: str,
                         paths: list[pathlib.Path]):
    stats = {"files": [p.name for p in paths], "rows_read": 0, "examples": 0,
             "dropped_without_tests": 0, "dropped_names": [],
             "without_tests_kept": 0, "bad_rows": 0, "bad_row_errors": []}
    for path in paths:
      rows = _parquet_rows(path) if layout == "huggingface" else _jsonl_rows(path)
      where = "row" if layout == "huggingface" else "line"
      for index, raw in rows:
        stats["rows_read"] += 1
        try:
          if isinstance(raw, Exception):
            raise schema.SchemaError(f"invalid JSON: {raw}")
          row = (schema.normalize(raw) if layout == "huggingface"
                 else from_deepmind_json(raw))
        except schema.SchemaError as e:
          name = raw.get("name") if isinstance(raw, Mapping) else None
          message = f"{path} {where} {index} (problem {name!r}): {e}"
          if self._on_bad_row == "fail":
            raise schema.SchemaError(
                message + "\n(pass on_bad_row='skip' to skip and count such "
                "rows)") from e
          logging.warning("code_contests: skipping %s", message)
          stats["bad_rows"] += 1
          if len(stats["bad_row_errors"]) < _MAX_LISTED_ERRORS:
            stats["bad_row_errors"].append(message)
          continue
        if not schema.has_tests(row, REQUIRED_TESTS):
          if split in DROP_SPLITS:
            stats["dropped_without_tests"] += 1
            stats["dropped_names"].append(row["name"])
            continue
          stats["without_tests_kept"] += 1
        stats["examples"] += 1
        yield f"{path.name}:{index}", schema.to_example(row)
    summary = (f"code_contests {split}: {stats['examples']} problems kept of "
               f"{stats['rows_read']} rows; {stats['dropped_without_tests']} "
               "dropped without public or private tests, "
               f"{stats['bad_rows']} bad rows skipped")
    if not stats["examples"]:
      raise ValueError(f"{summary}: nothing left to write")
    logging.info(summary)
    self.info.metadata["splits"][split] = stats


def preparation_report(data_dir: str | None = None) -> dict[str, Any]:
  """What the preparation in `data_dir` read, kept, dropped and skipped.

  Keys: `layout`, `on_bad_row`, `drop_rule` and `splits[split]` with
  `rows_read`, `examples`, `dropped_without_tests`, `dropped_names`,
  `without_tests_kept`, `bad_rows` and `bad_row_errors`. It is stored as
  `metadata.json` next to the prepared data.
  """
  builder = tfds.builder("code_contests", data_dir=data_dir)
  if not builder.is_prepared():
    raise FileNotFoundError(f"code_contests is not prepared in {builder.data_dir}")
  return dict(builder.info.metadata)


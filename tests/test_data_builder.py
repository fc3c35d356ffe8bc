"""The problem schema and the TFDS builder `code_contests`.

Fixtures are written at run time: Hugging Face parquet files (the real arrow
schema) and a DeepMind `MessageToJson` export of the same problems, with
problems lacking tests and malformed rows among them.
"""

import gzip
import json
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tensorflow_datasets as tfds

import rlef_jax.data  # noqa: F401  (registers the builder)
from rlef_jax.data import code_contests
from rlef_jax.data import schema


def _problem(name, public=1, private=2, **fields):
  """A varied problem with `public`/`private` tests; `fields` override."""
  row = {
      "name": name,
      "description": f"Problem {name}.\nRead n and print n + 1. ünïcode ✓",
      "public_tests": {"input": [f"{i}\n" for i in range(public)],
                       "output": [f"{i + 1}\n" for i in range(public)]},
      "private_tests": {"input": [f"{10 + i}\n" for i in range(private)],
                        "output": [f"{11 + i}\n" for i in range(private)]},
      "generated_tests": {"input": ["7\n"], "output": ["8\n"]},
      "source": 2, "difficulty": 9,
      "solutions": {"language": [3, 2],
                    "solution": ["print(int(input()) + 1)\n",
                                 "int main(){int n;std::cin>>n;"
                                 "std::cout<<n+1;}"]},
      "incorrect_solutions": {"language": [1], "solution": ["print input()\n"]},
      "cf_contest_id": 1500, "cf_index": "C", "cf_points": 1250.0,
      "cf_rating": 1700, "cf_tags": ["math", "implementation"],
      "is_description_translated": False, "untranslated_description": "",
      "time_limit": {"seconds": 2, "nanos": 500_000_000},
      "memory_limit_bytes": 256 * 2**20, "input_file": "", "output_file": "",
  }
  row.update(fields)
  return schema.normalize(row)


TRAIN = [
    _problem("t_ok_a"),
    _problem("t_no_public", public=0),
    _problem("t_ok_b", time_limit=None, source=6, difficulty=28,
             cf_tags=[], solutions={"language": [], "solution": []}),
    _problem("t_no_private", private=0),
    _problem("t_translated", is_description_translated=True,
             untranslated_description="Задача", input_file="input.txt",
             output_file="output.txt", cf_points=0.1),
]
VALID = [_problem("v_a"), _problem("v_no_public", public=0)]
TEST = [_problem("s_a"), _problem("s_b", difficulty=0, source=0)]


def _write_hf(root, bad_rows=()):
  """The Hugging Face layout; train in two files, `bad_rows` in the second."""
  data = pathlib.Path(root) / "data"
  schema.write_parquet(data / "train-00000-of-00002-aaaa.parquet", TRAIN[:2])
  table = pa.Table.from_pylist(TRAIN[2:3] + list(bad_rows) + TRAIN[3:],
                               schema=schema.arrow_schema())
  pq.write_table(table, data / "train-00001-of-00002-bbbb.parquet")
  schema.write_parquet(data / "valid-00000-of-00001-cccc.parquet", VALID)
  schema.write_parquet(data / "test-00000-of-00001-dddd.parquet", TEST)
  return root


def _prepare(tmp_path, manual_dir, **builder_kwargs):
  builder = tfds.builder("code_contests", data_dir=str(tmp_path / "tfds"),
                         **builder_kwargs)
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
  return builder


def _rows(builder, split):
  return {r["name"]: r for r in map(
      schema.to_row, tfds.as_numpy(builder.as_dataset(split=split)))}


_ENUM_NAMES = {"source": schema.SOURCES, "difficulty": schema.DIFFICULTIES}


def _to_proto_json(row, camel=True):
  """What protobuf's MessageToJson makes of a ContestProblem: defaults omitted."""
  out = {}
  for field, value in row.items():
    if value == schema.default_row()[field]:
      continue
    if field in schema.TEST_FIELDS:
      value = [{"input": i, "output": o}
               for i, o in zip(value["input"], value["output"])]
    elif field in schema.SOLUTION_FIELDS:
      value = [{"language": schema.LANGUAGES[lang], "solution": s}
               for lang, s in zip(value["language"], value["solution"])]
    elif field in _ENUM_NAMES:
      value = _ENUM_NAMES[field][value]
    elif field == "memory_limit_bytes":
      value = str(value)
    elif field == "time_limit":
      value = f"{value['seconds']}.{value['nanos']:09d}s"
    key = field
    if camel:
      head, *rest = field.split("_")
      key = head + "".join(w.capitalize() for w in rest)
    out[key] = value
  return out


def _write_json(root):
  root = pathlib.Path(root)
  root.mkdir(parents=True, exist_ok=True)
  for path, rows in (("code_contests_train.jsonl-00000-of-00002", TRAIN[:3]),
                     ("train.jsonl-00001-of-00002.gz", TRAIN[3:]),
                     ("valid.jsonl", VALID), ("test.jsonl", TEST)):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(root / path, "wt") as f:
      for i, row in enumerate(rows):
        # Proto field names (preserving_proto_field_name) on odd lines.
        f.write(json.dumps(_to_proto_json(row, camel=i % 2 == 0)) + "\n")
  return root


@pytest.fixture(scope="module")
def hf_builder(tmp_path_factory):
  tmp = tmp_path_factory.mktemp("hf")
  return _prepare(tmp, _write_hf(tmp / "manual"))


def test_hf_parquet_counts_and_filtering(hf_builder):
  splits = hf_builder.info.splits
  assert {s: splits[s].num_examples for s in ("train", "valid", "test")} == {
      "train": 3, "valid": 2, "test": 2}
  report = code_contests.preparation_report(str(hf_builder.data_dir_root))
  train = report["splits"]["train"]
  assert (train["rows_read"], train["examples"], train["dropped_without_tests"],
          train["bad_rows"]) == (5, 3, 2, 0)
  assert sorted(train["dropped_names"]) == ["t_no_private", "t_no_public"]
  # valid/test keep problems without public tests, and say so.
  assert report["splits"]["valid"]["without_tests_kept"] == 1
  assert report["layout"] == "huggingface"
  assert (pathlib.Path(hf_builder.data_dir) / "metadata.json").exists()


def test_hf_parquet_round_trips_every_field(hf_builder):
  want = {r["name"]: r for r in TRAIN + VALID + TEST}
  for split in ("train", "valid", "test"):
    for name, row in _rows(hf_builder, split).items():
      assert row == want[name], name
  assert set(_rows(hf_builder, "valid")) == {"v_a", "v_no_public"}


def test_features_carry_hf_label_names(hf_builder):
  features = hf_builder.info.features
  assert features["source"].names == list(schema.SOURCES)
  assert features["difficulty"].int2str(28) == "V"
  assert features["solutions"]["language"].feature.names[3] == "PYTHON3"


def test_deepmind_json_export(tmp_path):
  builder = _prepare(tmp_path, _write_json(tmp_path / "manual"))
  want = {r["name"]: r for r in TRAIN + VALID + TEST}
  got = {**_rows(builder, "train"), **_rows(builder, "valid"),
         **_rows(builder, "test")}
  assert sorted(got) == sorted(["t_ok_a", "t_ok_b", "t_translated", "v_a",
                                "v_no_public", "s_a", "s_b"])
  assert all(got[n] == want[n] for n in got)
  report = code_contests.preparation_report(str(tmp_path / "tfds"))
  assert report["layout"] == "deepmind_json"
  assert report["splits"]["train"]["dropped_without_tests"] == 2


def test_from_deepmind_json_proto_numbers_and_durations():
  row = code_contests.from_deepmind_json({
      "name": "x", "source": 7, "difficulty": 29, "timeLimit": "1.25s",
      "memoryLimitBytes": "268435456", "cfContestId": 4,
      "publicTests": [{"input": "1\n"}],
      "privateTests": {"input": ["2\n"], "output": ["3\n"]},  # dict of lists too
      "solutions": [{"solution": "pass"}, {"language": 3}]})
  # Proto AIZU = 7 and V = 29 are Hugging Face ids 6 and 28.
  assert (row["source"], row["difficulty"]) == (6, 28)
  assert row["time_limit"] == {"seconds": 1, "nanos": 250_000_000}
  assert row["memory_limit_bytes"] == 268435456
  assert row["public_tests"] == {"input": ["1\n"], "output": [""]}
  assert row["private_tests"] == {"input": ["2\n"], "output": ["3\n"]}
  assert row["solutions"] == {"language": [0, 3], "solution": ["pass", ""]}
  assert code_contests.from_deepmind_json({"name": "y"})["time_limit"] is None
  for bad, field in (({"source": "TOPCODER"}, "source"),
                     ({"timeLimit": "2 seconds"}, "time_limit"),
                     ({"cfRating": "high"}, "cf_rating"),
                     ({"publicTests": [{"stdin": "1"}]}, "public_tests"),
                     ({"rating": 3}, "rating")):
    with pytest.raises(schema.SchemaError, match=field):
      code_contests.from_deepmind_json(bad)


_BAD_ROWS = [
    {**_problem("bad_lengths"),
     "public_tests": {"input": ["1\n", "2\n"], "output": ["2\n"]}},
    {**_problem("bad_source"), "source": 99},
]


def test_bad_row_fails_naming_file_row_and_problem(tmp_path):
  manual = _write_hf(tmp_path / "manual", bad_rows=_BAD_ROWS)
  with pytest.raises(schema.SchemaError) as e:
    _prepare(tmp_path, manual)
  message = str(e.value)
  assert "train-00001-of-00002-bbbb.parquet row 1" in message
  assert "'bad_lengths'" in message and "public_tests" in message
  assert "on_bad_row='skip'" in message


def test_bad_row_skip_counts(tmp_path):
  manual = _write_hf(tmp_path / "manual", bad_rows=_BAD_ROWS)
  builder = _prepare(tmp_path, manual, on_bad_row="skip")
  assert builder.info.splits["train"].num_examples == 3
  train = code_contests.preparation_report(str(tmp_path / "tfds"))["splits"]["train"]
  assert (train["rows_read"], train["bad_rows"]) == (7, 2)
  assert "bbbb.parquet row 2 (problem 'bad_source'): source" in train["bad_row_errors"][1]


def test_bad_json_line_names_file_and_line(tmp_path):
  manual = _write_json(tmp_path / "manual")
  with open(manual / "valid.jsonl", "a") as f:
    f.write("{truncated\n")
  with pytest.raises(schema.SchemaError, match=r"valid.jsonl line 3 .*invalid JSON"):
    _prepare(tmp_path, manual)


def test_missing_manual_dir_says_where_and_what(tmp_path):
  with pytest.raises(AssertionError) as e:
    _prepare(tmp_path, tmp_path / "nowhere")
  message = str(e.value)
  assert str(tmp_path / "nowhere") in message
  assert "<manual_dir>/data/train-*.parquet" in message
  assert "code_contests_{train,valid,test}*.jsonl" in message


def test_wrong_layout_says_what(tmp_path):
  manual = tmp_path / "manual"
  (manual / "data").mkdir(parents=True)
  (manual / "README.md").write_text("hello")
  with pytest.raises(FileNotFoundError, match="holds no CodeContests files"):
    code_contests.find_files(manual)
  schema.write_parquet(manual / "data" / "train-0.parquet", TRAIN[:1])
  with pytest.raises(FileNotFoundError, match=r"split\(s\) \['valid', 'test'\]"):
    code_contests.find_files(manual)


def test_unreadable_parquet_names_the_file(tmp_path):
  manual = _write_hf(tmp_path / "manual")
  (manual / "data" / "test-00000-of-00001-dddd.parquet").write_bytes(b"PAR1 junk")
  with pytest.raises(ValueError, match="dddd.parquet: not a readable parquet"):
    _prepare(tmp_path, manual)


def test_unknown_on_bad_row_setting():
  with pytest.raises(ValueError, match="on_bad_row"):
    tfds.builder("code_contests", on_bad_row="ignore")


# --- schema ---------------------------------------------------------------


def test_normalize_fills_defaults():
  row = schema.normalize({"name": "n", "description": "d"})
  assert list(row) == list(schema.FIELDS)
  assert row["time_limit"] is None and row["public_tests"] == {"input": [],
                                                               "output": []}
  assert not schema.has_tests(row)


@pytest.mark.parametrize("bad, message", [
    ({"name": None}, "name: null"),
    ({"name": 3}, "name: expected a string"),
    ({"nam": "x"}, "unknown field"),
    ({"public_tests": {"input": ["1"]}}, "public_tests: expected a dict"),
    ({"private_tests": {"input": ["1"], "output": []}}, "1 input entries but 0"),
    ({"solutions": {"language": [9], "solution": ["x"]}}, "solutions.language"),
    ({"difficulty": 29}, "difficulty: expected a label id 0..28"),
    ({"cf_rating": True}, "cf_rating: expected an integer"),
    ({"time_limit": {"seconds": 1}}, "time_limit"),
    ({"memory_limit_bytes": -1}, "memory_limit_bytes"),
    ({"cf_tags": "dp"}, "cf_tags: expected a list of strings"),
])
def test_normalize_names_the_bad_field(bad, message):
  with pytest.raises(schema.SchemaError, match=message):
    schema.normalize(bad)


def test_jsonl_round_trip_and_errors(tmp_path):
  path = tmp_path / "p.jsonl.gz"
  assert schema.write_jsonl(path, TRAIN) == len(TRAIN)
  assert list(schema.read_jsonl(path)) == TRAIN
  bad = tmp_path / "bad.jsonl"
  bad.write_text(json.dumps(TRAIN[0]) + "\n\n" + '{"name": 1}\n')
  with pytest.raises(schema.SchemaError, match=r"bad.jsonl:3: name"):
    list(schema.read_jsonl(bad))


def test_example_layout_round_trip():
  untimed = TRAIN[2]
  assert schema.to_example(untimed)["time_limit"]["seconds"] == schema.NO_TIME_LIMIT
  for row in TRAIN:
    assert schema.to_row(schema.to_example(row)) == row


def test_cli_prepares_and_prints_report(tmp_path, capsys):
  from rlef_jax.data import __main__ as cli  # pylint: disable=g-import-not-at-top

  cli.main([f"--manual_dir={_write_hf(tmp_path / 'manual')}",
            f"--data_dir={tmp_path / 'tfds'}"])
  report = json.loads(capsys.readouterr().out.splitlines()[-1])
  assert report["splits"]["train"]["examples"] == 3
  assert report["splits"]["test"]["rows_read"] == 2


def test_split_left_empty_is_an_error(tmp_path):
  manual = tmp_path / "manual"
  for split, rows in (("train", TRAIN[1:2]), ("valid", VALID), ("test", TEST)):
    schema.write_parquet(manual / "data" / f"{split}-0.parquet", rows)
  with pytest.raises(ValueError, match="train: 0 problems kept of 1 rows; 1 dropped"):
    _prepare(tmp_path, manual)

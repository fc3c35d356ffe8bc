"""seqio tasks and Python iterators of problem records; HumanEval's mapping."""

import itertools
import os
import subprocess
import sys

import pytest
import seqio
import tensorflow_datasets as tfds

from rlef_jax import data
from rlef_jax.data import humaneval
from rlef_jax.data import problems
from rlef_jax.data import schema
from rlef_jax.data import tasks


def _row(name, public=1, private=1):
  return schema.normalize({
      "name": name, "description": f"Print {name}.",
      "public_tests": {"input": [""] * public, "output": [f"{name}\n"] * public},
      "private_tests": {"input": ["x\n"] * private,
                        "output": [f"{name}\n"] * private},
      "solutions": {"language": [3], "solution": [f"print({name!r})\n"]},
      "time_limit": {"seconds": 1, "nanos": 0} if public else None,
  })


BUNDLED = {"train": [_row(f"b_train_{i}") for i in range(7)],
           "test": [_row(f"b_test_{i}") for i in range(3)]}
CODE_CONTESTS = {"train": [_row("c_train_0"), _row("c_train_1"),
                           _row("c_train_dropped", private=0)],
                 "valid": [_row("c_valid_0"), _row("c_valid_no_public", public=0)],
                 "test": [_row(f"c_test_{i}") for i in range(5)]}


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
  """Tasks registered on run-time bundled files and prepared code_contests."""
  tmp = tmp_path_factory.mktemp("tasks")
  for split, rows in BUNDLED.items():
    schema.write_jsonl(tmp / "bundled" / f"{split}.jsonl", rows)
  for split, rows in CODE_CONTESTS.items():
    schema.write_parquet(tmp / "manual" / "data" / f"{split}-00000-of-00001.parquet",
                         rows)
  tfds.builder("code_contests", data_dir=str(tmp / "tfds")).download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=str(tmp / "manual")))
  tasks.register(data_dir=str(tmp / "tfds"), bundled_dir=tmp / "bundled")
  yield tmp
  tasks.register()


def _names(ds):
  return [schema.to_row(ex)["name"] for ex in tfds.as_numpy(ds)]


def test_every_task_is_registered():
  assert set(data.TASK_SPLITS) <= set(seqio.TaskRegistry.names())


@pytest.mark.parametrize("task, want", [
    ("code_contests_train", ["c_train_0", "c_train_1"]),
    ("code_contests_valid", ["c_valid_0", "c_valid_no_public"]),
    ("code_contests_test", [f"c_test_{i}" for i in range(5)]),
    ("rlef_bundled_train", [f"b_train_{i}" for i in range(7)]),
    ("rlef_bundled_test", [f"b_test_{i}" for i in range(3)]),
])
def test_seqio_iterates_each_task(registered, task, want):
  ds = tasks.get_dataset(task, seed=1)
  assert ds.element_spec == tasks.element_spec()
  rows = [schema.to_row(ex) for ex in tfds.as_numpy(ds)]
  assert sorted(r["name"] for r in rows) == want
  source = CODE_CONTESTS if task.startswith("code") else BUNDLED
  by_name = {r["name"]: r for r in source[data.TASK_SPLITS[task]]}
  assert all(r == by_name[r["name"]] for r in rows)


def test_seqio_synthetic_task_is_the_generator():
  want = problems.task_rows("rlef_synthetic_test")
  assert len(want) == problems.SYNTHETIC_SIZES["test"]
  rows = [schema.to_row(ex) for ex in
          tfds.as_numpy(tasks.get_dataset("rlef_synthetic_test", shuffle=False))]
  assert rows == want
  assert {r["name"].split("/")[1] for r in rows} == {"test"}


def test_seqio_humaneval_164():
  rows = [schema.to_row(ex) for ex in tfds.as_numpy(tasks.get_dataset("humaneval"))]
  assert len(rows) == 164
  assert sorted(rows, key=lambda r: int(r["name"].split("/")[1])) == humaneval.problems()


def test_seed_decides_order_and_shards_partition(registered):
  order = lambda seed, **kw: _names(tasks.get_dataset("humaneval", seed=seed, **kw))
  assert order(5) == order(5)
  assert order(5) != order(6)
  shards = [order(5, shard_info=seqio.ShardInfo(i, 3)) for i in range(3)]
  assert sorted(sum(shards, [])) == sorted(order(5))
  # The Python iterator gives each shard the same problems as seqio.
  for i, shard in enumerate(shards):
    py = [r["name"] for r in data.iter_problems("humaneval", seed=5, shard_index=i,
                                                num_shards=3)]
    assert sorted(py) == sorted(shard)
  bundled = [_names(tasks.get_dataset("rlef_bundled_train", seed=2,
                                      shard_info=seqio.ShardInfo(i, 2)))
             for i in range(2)]
  assert sorted(bundled[0] + bundled[1]) == [f"b_train_{i}" for i in range(7)]
  assert not set(bundled[0]) & set(bundled[1])


def test_iter_problems_bundled_and_epochs(registered):
  bundled = registered / "bundled"
  one = list(data.iter_problems("rlef_bundled_train", seed=4, bundled_dir=bundled))
  assert one == list(data.iter_problems("rlef_bundled_train", seed=4,
                                        bundled_dir=bundled))
  assert sorted(r["name"] for r in one) == [r["name"] for r in BUNDLED["train"]]
  two = list(data.iter_problems("rlef_bundled_train", seed=4, num_epochs=2,
                                bundled_dir=bundled))
  assert two[:7] == one and sorted(r["name"] for r in two[7:]) == sorted(
      r["name"] for r in one)
  assert two[7:] != one  # each epoch has its own order
  forever = data.iter_problems("rlef_bundled_test", num_epochs=None,
                               bundled_dir=bundled, shard_index=1, num_shards=2)
  assert {r["name"] for r in itertools.islice(forever, 50)} == {"b_test_1"}


def test_iter_problems_code_contests_gives_rows(registered):
  rows = list(data.iter_problems("code_contests_valid", seed=0))
  assert sorted(rows, key=lambda r: r["name"]) == CODE_CONTESTS["valid"]


def test_package_bundled_problems():
  for split, task in (("train", "rlef_bundled_train"), ("test", "rlef_bundled_test")):
    rows = data.bundled_problems(split)
    assert rows and all(schema.has_tests(r) for r in rows), split
    assert len({r["name"] for r in rows}) == len(rows)
    names = sorted(r["name"] for r in data.iter_problems(task, seed=0))
    assert names == sorted(r["name"] for r in rows)


def test_iter_problems_errors():
  with pytest.raises(ValueError, match="unknown task"):
    data.iter_problems("mbpp")
  with pytest.raises(ValueError, match="only split 'test'"):
    data.iter_problems("humaneval", split="train")
  with pytest.raises(ValueError, match="shard_index 2 not in"):
    data.iter_problems("humaneval", shard_index=2, num_shards=2)


def test_unprepared_code_contests_says_how(tmp_path):
  # The tasks' own source, on an empty data_dir: building it reads nothing.
  source = tasks.PreparedTfdsSource(tfds_name=tasks.TFDS_NAME,
                                    tfds_data_dir=str(tmp_path), splits=["train"],
                                    read_only=True)
  task = seqio.Task("unprepared_code_contests", source,
                    output_features=tasks.OUTPUT_FEATURES)
  for shard_info in (None, seqio.ShardInfo(0, 2)):
    with pytest.raises(FileNotFoundError) as e:
      task.get_dataset(sequence_length=None, split="train", shard_info=shard_info)
    message = str(e.value)
    assert f"not prepared in {tmp_path}" in message
    assert "<manual_dir>/data/train-*.parquet" in message


def test_python_iterators_need_no_tensorflow():
  code = ("import sys; from rlef_jax import data; "
          "n = len(list(data.iter_problems('humaneval'))); "
          "assert n == 164, n; assert 'tensorflow' not in sys.modules; "
          "assert 'seqio' not in sys.modules")
  subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ))


# --- HumanEval mapping ----------------------------------------------------


def test_humaneval_mapping():
  rows = humaneval.problems()
  assert len(rows) == 164 and len({r["name"] for r in rows}) == 164
  row = rows[0]
  assert row["name"] == "HumanEval/0"
  assert row["description"].startswith("from typing import List\n\n\ndef has_close")
  assert humaneval.entry_point(row) == "has_close_elements"
  assert humaneval.test_style(row) == "assert"
  assert humaneval.test_style(BUNDLED["train"][0]) == "stdio"
  assert not schema.has_tests(row, ["public_tests"])
  assert row["private_tests"]["output"] == [""]


def _passes(program, test):
  """Runs trusted package code in-process the way the judge's assert style does."""
  try:
    exec(compile(program + "\n" + test, "solution.py", "exec"), {})  # pylint: disable=exec-used
  except AssertionError:
    return False
  return True


def test_humaneval_canonical_solutions_pass_their_test():
  for row in humaneval.problems():
    solution, test = row["solutions"]["solution"][0], row["private_tests"]["input"][0]
    assert _passes(solution, test), row["name"]
  row = humaneval.problems()[0]
  wrong = row["description"] + "    return False\n"
  assert not _passes(wrong, row["private_tests"]["input"][0])


@pytest.mark.gvisor
def test_humaneval_judged_in_gvisor():
  sandbox_runner = pytest.importorskip("sandbox_runner")
  rows = humaneval.problems()[:4]
  programs = [r["solutions"]["solution"][0] for r in rows]
  programs[2] = rows[2]["description"] + "    raise ValueError(number)\n"
  programs[3] = rows[3]["description"] + "    return None\n"
  requests = [sandbox_runner.request_for_problem(
      r, p, tests="private", style=humaneval.test_style(r))
              for r, p in zip(rows, programs)]
  with sandbox_runner.Judge() as judge:
    verdicts = [str(res.verdict) for res in judge.run_batch(requests)]
  # A failed assert of HumanEval's check is a wrong answer.
  assert verdicts == ["accepted", "accepted", "runtime_error", "wrong_answer"]


def test_iter_problems_synthetic_is_the_generator():
  # Once, every task iter_problems did not know by name read the bundled files.
  want = sorted(r["name"] for r in problems.task_rows("rlef_synthetic_test"))
  got = sorted(r["name"] for r in data.iter_problems("rlef_synthetic_test", seed=0,
                                                      shard_index=0, num_shards=1))
  assert got == want
  assert not set(got) & {r["name"] for r in problems.bundled_problems("test")}

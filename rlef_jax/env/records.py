"""What an episode leaves behind: per-turn and per-episode records, and the Rollouts batch.

`EpisodeRecord.to_json()` is one line of `rollouts.jsonl` (the fields
evaluation reads, docs/env.md); `to_rollouts` pads the kept episodes' token
dialogs into an `rl.update.Rollouts` batch of static (B, S, T) buckets.

Example:

    rec = out.records[0]
    json.dumps(rec.to_json())
    batch = to_rollouts(out.records, EnvConfig(), tok.pad_id, min_rows=len(rows))
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import jax.numpy as jnp
import numpy as np
from sandbox_runner import JudgeResult

from rlef_jax.env.dialog import Dialog
from rlef_jax.rl.update import Rollouts
from rlef_jax.sampling import bucket_length


def outcome(result: JudgeResult | None, verdict: str | None = None, total: int = 0) -> dict:
  """{"verdict", "passed", "total"} of a judged run, or of an unjudged `verdict`."""
  if result is None:
    return {"verdict": verdict, "passed": 0, "total": total}
  return {"verdict": result.verdict.value, "passed": result.passed, "total": result.total}


@dataclasses.dataclass
class TurnRecord:
  """One response: its text, code, and the verdicts it got."""

  response: str
  code: str | None
  valid: bool
  public: dict | None = None
  score: dict | None = None
  feedback: str | None = None

  def to_json(self) -> dict[str, Any]:
    return dataclasses.asdict(self)


@dataclasses.dataclass
class EpisodeRecord:
  """One episode as evaluation and reports read it (`to_json`: a rollouts.jsonl line).

  `dialogs` holds the token-level dialog(s) (one; k for independent sampling).
  `final` is the final turn's score: {"verdict", "passed", "total"}; a final
  response without code has verdict "no_code", one that does not compile
  "syntax_error" (neither is judged).
  """

  problem: str
  episode: Any
  turns: list[TurnRecord] = dataclasses.field(default_factory=list)
  final: dict | None = None
  solved: bool = False
  rewards: list[float] = dataclasses.field(default_factory=list)
  dropped: str | None = None
  context_limited: bool = False
  dialogs: list[Dialog] = dataclasses.field(default_factory=list, repr=False)

  @property
  def reward(self) -> float:
    return float(sum(self.rewards))

  @property
  def num_tokens(self) -> int:
    return sum(len(d) for d in self.dialogs)

  def to_json(self) -> dict[str, Any]:
    return {"problem": self.problem, "episode": self.episode,
            "turns": [t.to_json() for t in self.turns], "final": self.final,
            "solved": self.solved, "reward": self.reward, "rewards": list(self.rewards),
            "dropped": self.dropped, "context_limited": self.context_limited,
            "num_tokens": self.num_tokens}


@dataclasses.dataclass
class RolloutResult:
  rollouts: Rollouts | None
  records: list[EpisodeRecord]
  stats: dict[str, float]


def to_rollouts(records: Sequence[EpisodeRecord], cfg, pad_id: int,
                min_rows: int = 0) -> Rollouts | None:
  """The kept episodes as a `Rollouts` batch padded to static buckets.

  Rows: one per dialog (independent sampling: one per attempt), padded with
  empty rows (pad ids, every mask False) to a multiple of `batch_multiple`
  of at least `min_rows`, so dropped episodes do not change the shape.
  Length: `sampling.bucket_length` of the longest dialog. Turns: max_turns.
  `group`: rows of one problem (by `EpisodeRecord.problem`) share an index,
  numbered from 0 in order of appearance.
  """
  rows, groups, problems = [], [], {}
  for r in records:
    if r.dropped is not None:
      continue
    g = problems.setdefault(r.problem, len(problems))
    if cfg.independent:
      rows += [(d, [r.rewards[i]]) for i, d in enumerate(r.dialogs)]
      groups += [g] * len(r.dialogs)
    else:
      rows.append((r.dialogs[0], r.rewards))
      groups.append(g)
  if not rows:
    return None
  num_rows = max(len(rows), min_rows)
  num_rows = -(-num_rows // cfg.batch_multiple) * cfg.batch_multiple
  length = bucket_length(max(len(d) for d, _ in rows), cfg.min_seq_bucket)
  turns = cfg.max_turns
  tokens = np.full((num_rows, length), pad_id, np.int32)
  response_mask = np.zeros((num_rows, length), bool)
  turn_index = np.full((num_rows, length), -1, np.int32)
  logp = np.zeros((num_rows, length), np.float32)
  value_positions = np.zeros((num_rows, turns), np.int32)
  turn_mask = np.zeros((num_rows, turns), bool)
  rewards = np.zeros((num_rows, turns), np.float32)
  group = np.full((num_rows,), -1, np.int32)
  group[:len(groups)] = groups
  for b, (d, rs) in enumerate(rows):
    n, t = len(d), len(rs)
    tokens[b, :n] = d.ids
    response_mask[b, :n] = d.response_mask
    turn_index[b, :n] = d.turn_index
    logp[b, :n] = d.logprobs
    value_positions[b, :t] = d.value_positions[:t]
    turn_mask[b, :t] = True
    rewards[b, :t] = rs
  return Rollouts(tokens=jnp.asarray(tokens), response_mask=jnp.asarray(response_mask),
                  turn_index=jnp.asarray(turn_index), behaviour_logp=jnp.asarray(logp),
                  value_positions=jnp.asarray(value_positions),
                  turn_mask=jnp.asarray(turn_mask), rewards=jnp.asarray(rewards),
                  group=jnp.asarray(group))

"""What an episode leaves behind: per-turn and per-episode records, and the Rollouts batch.

`EpisodeRecord.to_json()` is one line of `rollouts.jsonl` (the fields
evaluation reads, docs/env.md); `to_rollouts` pads the kept episodes' token
dialogs into a host-side `rlef_jax.rollouts.Rollouts` batch (numpy) of static
(B, S, T) buckets.

Example:

    rec = out.records[0]
    json.dumps(rec.to_json())
    batch = to_rollouts(out.records, EnvConfig(), tok.pad_id, min_rows=len(rows))
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

from sandbox_runner import JudgeResult

from rlef_jax.env.dialog import Dialog
from rlef_jax import rollouts as rollouts_lib
from rlef_jax.rollouts import Rollouts
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


def summarize(records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
  """Solve rate, reward, turn and token figures of episode records (`to_json()` dicts).

  Dropped episodes are counted (`dropped`) and left out of every rate and mean.
  """
  kept = [r for r in records if not r.get("dropped")]
  n = max(len(kept), 1)
  turns = [t for r in kept for t in r["turns"]]
  valid = sum(bool(t.get("valid", False)) for t in turns)
  tokens = sum(int(r.get("num_tokens", 0)) for r in kept)
  return {
      "episodes": float(len(records)),
      "dropped": float(len(records) - len(kept)),
      "solve_rate": sum(bool(r["solved"]) for r in kept) / n,
      "reward": sum(float(r["reward"]) for r in kept) / n,
      "turns": len(turns) / n,
      "first_turn_solve_rate": sum(
          bool(r["turns"]) and (r["turns"][0].get("public") or {}).get("verdict") == "accepted"
          and bool(r["solved"]) and len(r["turns"]) == 1 for r in kept) / n,
      "valid_code_rate": valid / max(len(turns), 1),
      "invalid_code_rate": (len(turns) - valid) / max(len(turns), 1),
      "context_limited": float(sum(bool(r.get("context_limited")) for r in kept)),
      "tokens": tokens / n,
      "num_tokens": float(tokens),
  }


@dataclasses.dataclass
class RolloutResult:
  rollouts: Rollouts | None
  records: list[EpisodeRecord]
  stats: dict[str, float]


def to_rollouts(records: Sequence[EpisodeRecord], cfg, pad_id: int,
                min_rows: int = 0) -> Rollouts | None:
  """The kept episodes as a host-side (numpy) `Rollouts` batch padded to static buckets.

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
  out = rollouts_lib.empty(num_rows, length, cfg.max_turns, pad_id)
  out.group[:len(groups)] = groups
  for b, (d, rs) in enumerate(rows):
    n, t = len(d), len(rs)
    out.tokens[b, :n] = d.ids
    out.response_mask[b, :n] = d.response_mask
    out.turn_index[b, :n] = d.turn_index
    out.behaviour_logp[b, :n] = d.logprobs
    out.value_positions[b, :t] = d.value_positions[:t]
    out.turn_mask[b, :t] = True
    out.rewards[b, :t] = rs
  return out

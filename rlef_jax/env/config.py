"""`EnvConfig`: the settings of an episode batch, on their own so every room of
the environment (tasks, rollouts, records) and every job can read them
without importing the rollout driver.

Example:

    from rlef_jax.env.config import EnvConfig
    cfg = EnvConfig(max_turns=3, feedback="random")
    cfg.score_tests                      # ("public", "private")
"""

from __future__ import annotations

import dataclasses

from rlef_jax.env import feedback as fb

FEEDBACK_KINDS = ("execution", "random", "none")
_SPLITS = ("public", "private", "generated", "all")


@dataclasses.dataclass(frozen=True)
class EnvConfig:
  """Settings of an episode batch (defaults: the paper's training episode).

  Attributes:
    max_turns: model turns per episode (the paper sweeps 1/3/5/10).
    feedback: "execution" (the paper), "random" (feedback of a wrong solution
      to another problem of the batch; the episode still stops when the true
      public tests pass) or "none" ("Give it another try." only).
    independent: k = max_turns single-turn answers to the first prompt
      instead of a dialog (each scored; one Rollouts row each).
    context_budget: tokens a dialog may reach, the next response's
      max_new_tokens included; past it the episode ends with its last
      response as final (counted as context_limited). Clamped to the
      policy's `max_context` (the model's positions) when it has one.
    feedback_tests: the splits that give feedback and end the episode.
    score_tests: the splits that score the final code (evaluation:
      ("private", "generated")).
    score_every_turn: also score every turn's code (n@k counts each response).
    pass_reward, fail_reward, invalid_code_reward: r_t values.
    judge_groups: pipeline groups of sampling vs judging.
    overlap: judge group g while sampling group g + 1 (False: one after the
      other, the baseline of benchmarks/rollout_overlap.py).
    verdict_cache: reuse verdicts of identical requests (docs/env.md).
    judge_threads: host threads judging (None: the judge's max_workers).
    max_field_chars, max_feedback_tokens: feedback caps (§1.6).
    batch_multiple: Rollouts rows are padded to a multiple of this.
    min_seq_bucket: smallest Rollouts length; lengths are bucketed like
      sampling's prompts (16, 24, 32, 48, ...) so few programs compile.
    random_feedback_pool: (problem, wrong solution) pairs judged for "random".
  """

  max_turns: int = 3
  feedback: str = "execution"
  independent: bool = False
  context_budget: int = 8192
  feedback_tests: tuple[str, ...] = ("public",)
  score_tests: tuple[str, ...] = ("public", "private")
  score_every_turn: bool = False
  pass_reward: float = 1.0
  fail_reward: float = -1.0
  invalid_code_reward: float = -0.2
  judge_groups: int = 2
  overlap: bool = True
  verdict_cache: bool = True
  judge_threads: int | None = None
  max_field_chars: int = fb.MAX_FIELD_CHARS
  max_feedback_tokens: int | None = fb.MAX_FEEDBACK_TOKENS
  batch_multiple: int = 8
  min_seq_bucket: int = 64
  random_feedback_pool: int = 32

  def __post_init__(self):
    if self.max_turns < 1:
      raise ValueError(f"max_turns must be >= 1, not {self.max_turns}")
    if self.feedback not in FEEDBACK_KINDS:
      raise ValueError(f"feedback must be one of {FEEDBACK_KINDS}, not {self.feedback!r}")
    if self.judge_groups < 1 or self.batch_multiple < 1:
      raise ValueError("judge_groups and batch_multiple must be >= 1")
    for field in ("feedback_tests", "score_tests"):
      splits = getattr(self, field)
      splits = (splits,) if isinstance(splits, str) else tuple(splits)
      if not splits or any(x not in _SPLITS for x in splits):
        raise ValueError(f"{field} must be a non-empty tuple of {_SPLITS}, not {splits!r}")
      object.__setattr__(self, field, splits)

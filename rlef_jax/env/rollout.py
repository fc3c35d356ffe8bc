"""Batched multi-turn RLEF episodes (docs/rlef_method.md §1, §2, §4; docs/env.md).

`run_episodes` plays one episode per problem row: the policy answers, the
code runs on the public tests, feedback goes back as the next user turn until
the public tests pass or the turn limit; then the final code is scored
(training: public + private; evaluation: private + generated) and r_t
assigned (+1 / -1 at the final turn, -0.2 for a non-final turn without valid
code, else 0; the KL term belongs to the RL code). It returns the padded
host-side (numpy) `rlef_jax.rollouts.Rollouts` for PPO and one `EpisodeRecord`
per episode for reports and evaluation.

Judging overlaps sampling: the live episodes are split into `judge_groups`
groups that move through the turns as a pipeline; while group g's code is
judged on host threads, the next group is sampled on the device.

Example:

    from rlef_jax import sampling
    from rlef_jax.env import policy, rollout
    judge = sandbox_runner.Judge()
    pol = policy.ModelPolicy(cfg, params, tok, sampling.SamplingSettings(max_new_tokens=256))
    out = rollout.run_episodes(pol, rows, judge, tok, rollout.EnvConfig(), jax.random.key(0))
    out.rollouts.tokens.shape, out.stats["cache_hit_rate"], out.records[0].to_json()
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import time
from typing import Any, Mapping, Sequence

import jax
import numpy as np
from sandbox_runner import BadInput, JudgeRequest, JudgeResult, Verdict, request_for_problem

from rlef_jax.data import humaneval
from rlef_jax.data import schema
from rlef_jax.env import cache as cache_lib
from rlef_jax.env import code as code_lib
from rlef_jax.env.config import EnvConfig
from rlef_jax.env import feedback as fb
from rlef_jax.env import records as records_lib
from rlef_jax.env import tasks
from rlef_jax.env.dialog import Dialog
from rlef_jax.env.policy import Context, Policy, check_ids
from rlef_jax.env.records import EpisodeRecord, RolloutResult, TurnRecord, to_rollouts

__all__ = ["Dialog", "EnvConfig", "EpisodeRecord", "RolloutResult", "TurnRecord", "run_episodes",
           "to_rollouts"]

log = logging.getLogger(__name__)

_PYTHON3 = schema.LANGUAGES.index("PYTHON3")

@dataclasses.dataclass
class _Episode:
  task: tasks.Task
  record: EpisodeRecord
  dialog: Dialog
  done: bool = False
  public: concurrent.futures.Future | None = None
  public_request: JudgeRequest | None = None
  scores: dict = dataclasses.field(default_factory=dict)  # turn -> Future


def wrong_solutions(row: Mapping[str, Any]) -> list[str]:
  """The row's wrong Python 3 solutions that compile: what random feedback is drawn from.

  Assert-style problems (HumanEval) have none: their tests are not stdin/stdout.
  """
  if isinstance(row.get("name"), str) and humaneval.test_style(row) == "assert":
    return []
  wrong = row.get("incorrect_solutions") or {}
  return [src for lang, src in zip(wrong.get("language", []), wrong.get("solution", []))
          if lang == _PYTHON3 and code_lib.is_valid_code(src)]


def random_feedback_ready(rows: Sequence[Mapping[str, Any]]) -> bool:
  """Whether `feedback="random"` can run on these problems (wrong solutions of two or more)."""
  return sum(bool(wrong_solutions(r)) for r in rows if isinstance(r, Mapping)) >= 2


class _Driver:
  """The state of one `run_episodes` call (a class only to share it between steps)."""

  def __init__(self, policy: Policy, tokenizer, cfg: EnvConfig, client: cache_lib.JudgeClient,
               rng: jax.Array):
    self.policy, self.tok, self.cfg, self.client, self.rng = policy, tokenizer, cfg, client, rng
    key_data = jax.random.key_data(rng) if jax.dtypes.issubdtype(
        rng.dtype, jax.dtypes.prng_key) else rng
    self.np_rng = np.random.default_rng(np.asarray(key_data).ravel().tolist())
    self.sample_s = self.wait_s = 0.0
    self.random_pool: list[tuple[str, JudgeRequest, concurrent.futures.Future]] = []
    self.budget = min(cfg.context_budget, getattr(policy, "max_context", cfg.context_budget))

  # Sampling -------------------------------------------------------------------------------------

  def _next_key(self) -> jax.Array:
    self.rng, key = jax.random.split(self.rng)
    return key

  def sample(self, episodes: list[_Episode], turn: int) -> None:
    """Samples response `turn` of each live episode and sends its code to the judge."""
    if not episodes:
      return
    prompts = [ep.dialog.prompt_ids() for ep in episodes]
    check_ids(prompts, self.policy.vocab_size)
    # Context.turn counts the episode's responses from 1 (independent: the attempt).
    contexts = [Context(ep.task.row, len(ep.record.turns) + 1, list(ep.dialog.messages))
                for ep in episodes]
    start = time.monotonic()
    samples = self.policy.sample(prompts, self._next_key(), contexts)
    self.sample_s += time.monotonic() - start
    if len(samples) != len(episodes):
      raise ValueError(f"policy returned {len(samples)} samples for {len(episodes)} prompts")
    for ep, s in zip(episodes, samples):
      check_ids([s.ids], self.policy.vocab_size, "sampled response")
      ep.dialog.add_response(s, turn, self.tok)
      code = code_lib.extract_code(s.text)
      ep.record.turns.append(TurnRecord(s.text, code, code_lib.is_valid_code(code)))
      if code is not None:  # a response without code is never judged
        ep.public_request = ep.task.feedback_request(code, self.cfg)
        ep.public = self.client.submit(ep.public_request)
        if self.cfg.score_every_turn and ep.record.turns[-1].valid:
          self.score_last(ep)

  def wait(self, future: concurrent.futures.Future) -> JudgeResult:
    start = time.monotonic()
    try:
      return future.result()
    finally:
      self.wait_s += time.monotonic() - start

  # Turn ends ------------------------------------------------------------------------------------

  def resolve(self, ep: _Episode, turn: int) -> None:
    """After response `turn` is judged: end the episode, or append its feedback."""
    rec, last = ep.record.turns[-1], turn == self.cfg.max_turns - 1
    result = None
    if ep.public is not None:
      result = self.wait(ep.public)
      ep.public = None
      if result.verdict is Verdict.INFRA_ERROR:
        self.drop(ep, result)
        return
      rec.public = records_lib.outcome(result)
    if (result is not None and result.accepted) or last:
      self.finish(ep)
      return
    text = self.feedback_text(ep, result)
    extra = ep.dialog.user_turn_cost(text, self.tok)
    if len(ep.dialog) + extra + self.policy.max_new_tokens > self.budget:
      ep.record.context_limited = True
      self.finish(ep)
      return
    rec.feedback = text
    ep.dialog.add_user(text, self.tok)

  def feedback_text(self, ep: _Episode, result: JudgeResult | None) -> str:
    if self.cfg.feedback == "none":
      return fb.NO_FEEDBACK
    if self.cfg.feedback == "random":
      return self.random_feedback(ep)
    if result is None:
      return fb.PARSE_FAILURE
    return ep.task.render(ep.public_request, result, self.cfg, self.tok)

  def score_last(self, ep: _Episode) -> None:
    """Sends the latest response to scoring (once; invalid code is never judged)."""
    turn, rec = len(ep.record.turns) - 1, ep.record.turns[-1]
    if rec.valid and turn not in ep.scores:
      ep.scores[turn] = self.client.submit(ep.task.score_request(rec.code, self.cfg))

  def finish(self, ep: _Episode) -> None:
    """The last response is final."""
    ep.done = True
    self.score_last(ep)

  def drop(self, ep: _Episode, result: JudgeResult) -> None:
    ep.done = True
    ep.record.dropped = "infra_error"
    log.warning("episode %s of %r dropped: the judge failed (%s)", ep.record.episode,
                ep.record.problem, (result.infra_detail or "")[:200])

  # Random feedback (ablation) -------------------------------------------------------------------

  def start_random_pool(self, batch: Sequence[tasks.Task]) -> None:
    """Judges wrong solutions of the batch's problems; their feedback is the random feedback."""
    pairs = []
    for task in {t.row["name"]: t for t in batch if t.asserts is None}.values():
      pairs += [(task, src) for src in wrong_solutions(task.row)]
    if len({t.row["name"] for t, _ in pairs}) < 2:
      raise ValueError("feedback='random' needs wrong Python 3 solutions (incorrect_solutions) "
                       "of at least two different problems in the batch")
    order = self.np_rng.permutation(len(pairs))[:self.cfg.random_feedback_pool]
    for i in order:
      task, src = pairs[i]
      # Public tests, then private, stopping at the first failure: many wrong solutions
      # pass the examples, so the private tests supply the failure.
      req = request_for_problem(task.row, src, tests=("public", "private"),
                                stop_on_first_failure=True)
      self.random_pool.append((task.row["name"], req, self.client.submit(req)))

  def random_feedback(self, ep: _Episode) -> str:
    others = [p for p in self.random_pool if p[0] != ep.task.row["name"]]
    for i in self.np_rng.permutation(len(others)):
      _, req, future = others[i]
      result = self.wait(future)
      if result.verdict not in (Verdict.ACCEPTED, Verdict.INFRA_ERROR):
        return fb.execution_feedback(req.tests, result, max_field_chars=self.cfg.max_field_chars,
                                     tokenizer=self.tok, max_tokens=self.cfg.max_feedback_tokens)
    raise ValueError("feedback='random': no wrong solution of another problem failed its tests")

  # Scoring and rewards ---------------------------------------------------------------------------

  def settle(self, ep: _Episode) -> None:
    """Collects the scores and assigns the rewards of a finished episode."""
    rec = ep.record
    for turn, future in sorted(ep.scores.items()):
      result = self.wait(future)
      if result.verdict is Verdict.INFRA_ERROR:
        self.drop(ep, result)
        return
      rec.turns[turn].score = records_lib.outcome(result)
    final = rec.turns[-1]
    if final.score is None:  # invalid final code: known to fail, never judged
      total = len(ep.task.score_request("pass", self.cfg).tests)
      unjudged = "syntax_error" if final.code is not None else "no_code"
      final.score = records_lib.outcome(None, unjudged, total)
    rec.final = final.score
    rec.solved = final.score["verdict"] == Verdict.ACCEPTED.value
    cfg = self.cfg
    if cfg.independent:  # every attempt is a final turn of its own
      for t in rec.turns:
        if t.score is None:
          t.score = records_lib.outcome(None, "syntax_error" if t.code is not None else "no_code",
                             rec.final["total"])
      rec.rewards = [cfg.pass_reward if t.score["verdict"] == Verdict.ACCEPTED.value
                     else cfg.fail_reward for t in rec.turns]
      return
    rec.rewards = [0.0 if t.valid else cfg.invalid_code_reward for t in rec.turns[:-1]]
    rec.rewards.append(cfg.pass_reward if rec.solved else cfg.fail_reward)


def _play(driver: _Driver, episodes: list[_Episode]) -> None:
  """The turn loop over pipeline groups (see the module docstring)."""
  cfg = driver.cfg
  groups = [episodes[g::cfg.judge_groups] for g in range(cfg.judge_groups)]
  for turn in range(cfg.max_turns):
    for group in groups:
      if turn > 0 and cfg.overlap:  # this group's previous turn was judged meanwhile
        for ep in group:
          if not ep.done:
            driver.resolve(ep, turn - 1)
      live = [ep for ep in group if not ep.done]
      driver.sample(live, turn)
      if not cfg.overlap:  # the baseline: nothing judged while sampling
        for ep in live:
          driver.resolve(ep, turn)
          for future in ep.scores.values():
            driver.wait(future)
  if cfg.overlap:
    for ep in episodes:
      if not ep.done:
        driver.resolve(ep, cfg.max_turns - 1)


def _independent(driver: _Driver, episodes: list[_Episode]) -> None:
  """k single-turn answers per problem, each scored; stops at the first that passes public."""
  for _ in range(driver.cfg.max_turns):
    live = [ep for ep in episodes if not ep.done]
    for ep in live:  # each attempt is its own one-turn dialog (turn 0 of its row)
      ep.dialog = Dialog.start(driver.tok, ep.task.prompt)
      ep.record.dialogs.append(ep.dialog)
    driver.sample(live, 0)
    for ep in live:
      driver.score_last(ep)
    for ep in live:
      if ep.public is None:
        continue
      result = driver.wait(ep.public)
      ep.public = None
      if result.verdict is Verdict.INFRA_ERROR:
        driver.drop(ep, result)
        continue
      ep.record.turns[-1].public = records_lib.outcome(result)
      ep.done = result.accepted
  for ep in episodes:
    ep.done = True


def run_episodes(policy: Policy, problems: Sequence[Mapping[str, Any]], judge, tokenizer,
                 cfg: EnvConfig, rng: jax.Array, episode_ids: Sequence[Any] | None = None,
                 cache: cache_lib.VerdictCache | None = None) -> RolloutResult:
  """Plays one episode per row of `problems` (repeat a row for several rollouts).

  Args:
    policy: a `ModelPolicy`, `ScriptedPolicy` or anything with `sample`.
    problems: CodeContests rows (or HumanEval records); unusable rows are
      skipped, counted and logged.
    judge: a `sandbox_runner.Judge`.
    tokenizer: renders user turns; must be the policy's.
    cfg: the episode settings.
    rng: sampling randomness (and the random-feedback draw).
    episode_ids: one id per row (default 0, 1, ...).
    cache: a `VerdictCache` to share across calls (default: a fresh one when
      `cfg.verdict_cache`).
  """
  wall = time.monotonic()
  if episode_ids is None:
    episode_ids = list(range(len(problems)))
  if len(episode_ids) != len(problems):
    raise ValueError(f"{len(episode_ids)} episode ids for {len(problems)} problems")
  if tokenizer.pad_id >= policy.vocab_size:
    raise ValueError(f"pad id {tokenizer.pad_id} is outside the model's {policy.vocab_size} ids")
  if cfg.verdict_cache and cache is None:
    cache = cache_lib.VerdictCache()
  client = cache_lib.JudgeClient(judge, cache if cfg.verdict_cache else None, cfg.judge_threads)
  driver = _Driver(policy, tokenizer, cfg, client, rng)
  episodes, records, skipped, too_long = [], [], 0, 0
  try:
    for row, eid in zip(problems, episode_ids):
      name = row.get("name", "?") if isinstance(row, Mapping) else "?"
      try:
        task = tasks.make_task(row, cfg)
      except (BadInput, ValueError, KeyError, TypeError, SyntaxError) as e:
        skipped += 1
        log.warning("skipping problem %r (episode %s): %s", name, eid, e)
        continue
      dialog = Dialog.start(tokenizer, task.prompt)
      if len(dialog) + policy.max_new_tokens > driver.budget:
        skipped += 1
        too_long += 1
        log.warning("skipping problem %r (episode %s): its %d-token prompt plus %d new tokens "
                    "exceeds the context budget of %d", name, eid, len(dialog),
                    policy.max_new_tokens, driver.budget)
        continue
      record = EpisodeRecord(name, eid, dialogs=[] if cfg.independent else [dialog])
      records.append(record)
      episodes.append(_Episode(task, record, dialog))
    if episodes:
      if cfg.feedback == "random" and not cfg.independent and cfg.max_turns > 1:
        driver.start_random_pool([ep.task for ep in episodes])
      (_independent if cfg.independent else _play)(driver, episodes)
      for ep in episodes:
        if ep.record.dropped is None:
          driver.settle(ep)
  finally:
    client.close()
  rollouts = to_rollouts(records, cfg, tokenizer.pad_id,
                         len(problems) * (cfg.max_turns if cfg.independent else 1))
  stats = _stats(records, cfg, skipped, too_long, driver, client, time.monotonic() - wall)
  log.info("%d episodes (%d dropped for infra errors, %d rows skipped, %d context-limited): "
           "solve rate %.3f, verdict cache hit rate %.3f of %d requests, sample %.1fs, "
           "judge wait %.1fs, wall %.1fs", stats["episodes"], stats["dropped_infra"],
           stats["skipped_bad_rows"], stats["context_limited"], stats["solve_rate"],
           stats["cache_hit_rate"], stats["judge_requests"], stats["sample_s"], stats["judge_s"],
           stats["wall_s"])
  return RolloutResult(rollouts, records, stats)


# `run_episodes` stats that are counts (they add up over calls and processes);
# seconds end in "_s"; every other stat is a per-episode rate or mean.
COUNT_STATS = ("episodes", "dropped_infra", "skipped_bad_rows", "skipped_long_prompts",
               "context_limited", "num_tokens", "judge_requests", "judge_runs", "cache_hits")


def merge_stats(stats: Sequence[Mapping[str, float]], concurrent: bool = False
                ) -> dict[str, float]:
  """`run_episodes` stats of several calls as one: counts summed, rates and means
  weighted by episodes, seconds summed (one call after another) or their
  maximum (`concurrent`: calls that ran side by side, e.g. one per process)."""
  merged: dict[str, float] = {}
  weights = [float(s.get("episodes", 0.0)) for s in stats]
  total = sum(weights)
  keys = dict.fromkeys(k for s in stats for k, v in s.items()
                       if isinstance(v, (int, float)) and not isinstance(v, bool))
  for key in keys:
    values = [float(s.get(key, 0.0)) for s in stats]
    if key in COUNT_STATS:
      merged[key] = sum(values)
    elif key.endswith("_s"):
      merged[key] = max(values) if concurrent else sum(values)
    elif total:
      merged[key] = sum(w * v for w, v in zip(weights, values)) / total
    else:
      merged[key] = sum(values) / len(values)
  return merged


def _stats(records, cfg, skipped, too_long, driver, client, wall_s) -> dict[str, float]:
  summary = records_lib.summarize([r.to_json() for r in records])
  return {
      "episodes": summary["episodes"],
      "dropped_infra": float(sum(r.dropped == "infra_error" for r in records)),
      "skipped_bad_rows": float(skipped),
      "skipped_long_prompts": float(too_long),
      "context_limited": summary["context_limited"],
      "solve_rate": summary["solve_rate"],
      "mean_turns": summary["turns"],
      "invalid_code_rate": summary["invalid_code_rate"],
      "reward_mean": summary["reward"],
      "num_tokens": summary["num_tokens"],
      **client.stats(),
      "sample_s": driver.sample_s,
      "judge_s": driver.wait_s,
      "wall_s": wall_s,
  }



"""The evaluation driver: episodes per mode through the environment, rows out.

One `EvalConfig` is one recipe (the paper's 1@3 at temperature 0.2, or 10@100
at temperature 1.0, both top-p 0.95): N rollouts per problem in each mode,

    multi_turn       execution feedback (the RLEF setting)
    independent      single-turn samples at the same budget (N * turn_limit)
    random_feedback  feedback from a wrong solution to another problem
    no_feedback      only "Give it another try."

scored on every turn (`EnvConfig(score_every_turn=True)`), so every turn
limit up to the one run is an exact cut of the same rollouts: per-turn solve
rates and the 1/3/5/10 turn sweep come from one multi-turn run of
`max(turn_limit, *turn_limits)` turns (docs/evaluation.md says why the cut is
exact). Every episode is appended to `<workdir>/rollouts.jsonl`; the rows are
computed from those records by `report.solve_rates`, nothing else.

Example:

    from rlef_jax import sampling
    from rlef_jax.evaluation import driver
    cfg = driver.EvalConfig(rollouts=4, modes=("multi_turn", "independent"),
                            metrics=("1@3", "pass@1"), turn_limits=(),
                            sampling=sampling.SamplingSettings(0.2, 0.95, max_new_tokens=64))
    rows = driver.evaluate(cfg, model_config=config, params=params, tokenizer=tok,
                           problems=rows, judge=judge, workdir="runs/eval",
                           checkpoint="sft", split="test", rng=jax.random.key(0))
"""

from __future__ import annotations

import dataclasses
import pathlib
import time
from typing import Any, Mapping, Sequence

import jax

from rlef_jax import sampling as sampling_lib
from rlef_jax.env import cache as cache_lib
from rlef_jax.env import policy as policies
from rlef_jax.env import rollout
from rlef_jax.evaluation import metrics, report, stats

_FEEDBACK = {"multi_turn": "execution", "random_feedback": "random", "no_feedback": "none"}


@dataclasses.dataclass(frozen=True)
class EvalConfig:
  """One evaluation recipe.

  Attributes:
    name: tags this recipe's records and rows' provenance (`report["evals"]`).
    metrics: reported in every mode ("1@3", "10@100", "pass@1", ...); the
      per-turn and sweep metrics are added by `per_turn` and `turn_limits`.
    modes: which of `report.MODES` to run.
    sampling: the sampler's settings (temperature, top-p, top-k, max new
      tokens; the paper's 1@3: 0.2 and 0.95).
    rollouts: episodes per problem in each multi-turn mode.
    independent_samples: single-turn samples per problem (None: rollouts *
      turn_limit, the same sample budget).
    turn_limit: the turns of a multi-turn episode for plain "n@k" metrics.
    turn_limits: the sweep, "turn_limit=t:1@t" rows of the multi_turn mode;
      its rollouts run max(turn_limit, *turn_limits) turns.
    per_turn: also report "turn_limit=t:1@t" for t = 1..turn_limit in every
      multi-turn mode (the solve rate by turn).
    score_tests: what "solved" means (the paper: private + generated tests).
    episodes_per_call: episodes handed to the environment at once.
    seed: seeds the bootstrap (the sampler takes the caller's rng).
    bootstrap_resamples: the paper's 200.
    env: base `rlef_jax.env.rollout.EnvConfig` (None: its defaults; the eval
      job passes the gin-bound one); the driver sets max_turns, independent,
      feedback, score_every_turn and score_tests.
  """

  name: str = "1at3"
  metrics: tuple[str, ...] = ("1@3", "pass@1")
  modes: tuple[str, ...] = report.MODES
  sampling: sampling_lib.SamplingSettings = sampling_lib.SamplingSettings(
      temperature=0.2, top_p=0.95, max_new_tokens=1024)
  rollouts: int = 200
  independent_samples: int | None = None
  turn_limit: int = 3
  turn_limits: tuple[int, ...] = (1, 3, 5, 10)
  per_turn: bool = True
  score_tests: tuple[str, ...] = ("private", "generated")
  episodes_per_call: int = 64
  seed: int = 0
  bootstrap_resamples: int = stats.RESAMPLES
  env: Any = None

  def __post_init__(self):
    if not isinstance(self.sampling, sampling_lib.SamplingSettings):
      raise TypeError(f"EvalConfig.sampling must be a sampling.SamplingSettings, got "
                      f"{self.sampling!r}")
    bad = [m for m in self.modes if m not in report.MODES]
    if bad or not self.modes:
      raise ValueError(f"EvalConfig.modes {self.modes!r}: each must be one of {report.MODES}")
    if self.rollouts < 1 or self.turn_limit < 1 or any(t < 1 for t in self.turn_limits):
      raise ValueError("EvalConfig needs rollouts >= 1 and turn limits >= 1")
    if self.episodes_per_call < 1:
      raise ValueError("EvalConfig.episodes_per_call must be >= 1")
    for mode, names in self.mode_metrics().items():
      for name in names:
        metric = metrics.parse_metric(name)
        turns = metric.turns(self.mode_turns(mode), self.run_turns(mode))
        need = metric.k // turns
        if need < 1:
          raise ValueError(f"metric {name!r} buys no rollout of {turns} turns")
        if need > self.episodes(mode):
          raise ValueError(f"metric {name!r} needs {need} rollouts per problem in mode {mode}, "
                           f"but EvalConfig runs {self.episodes(mode)}: k is larger than the "
                           "rollouts (raise EvalConfig.rollouts / independent_samples)")

  def mode_turns(self, mode: str) -> int:
    """The turn limit plain "n@k" metrics cut at in `mode`."""
    return 1 if mode == "independent" else self.turn_limit

  def run_turns(self, mode: str) -> int:
    """The turns the environment runs in `mode` (the sweep needs the longest)."""
    if mode == "independent":
      return 1
    if mode == "multi_turn":
      return max((self.turn_limit, *self.turn_limits))
    return self.turn_limit

  def episodes(self, mode: str) -> int:
    """Episodes per problem in `mode`."""
    if mode == "independent":
      return self.independent_samples or self.rollouts * self.turn_limit
    return self.rollouts

  def mode_metrics(self) -> dict[str, list[str]]:
    """{mode: metric names}, duplicates removed, in report order."""
    out = {}
    for mode in self.modes:
      names = list(self.metrics)
      if mode != "independent":
        if self.per_turn:
          names += [f"turn_limit={t}:1@{t}" for t in range(1, self.turn_limit + 1)]
        if mode == "multi_turn":
          names += [f"turn_limit={t}:1@{t}" for t in self.turn_limits]
      else:
        # A turn-limited metric means nothing for single-turn samples; their
        # per-turn counterpart is 1@t, one submission from t samples.
        names = [n for n in names if metrics.parse_metric(n).turn_limit in (None, 1)]
        if self.per_turn:
          names += [f"1@{t}" for t in range(1, self.turn_limit + 1)]
      out[mode] = list(dict.fromkeys(names))
    return out

  def describe(self) -> dict[str, Any]:
    """What `report.solve_rates` needs (and the settings, for the record)."""
    fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
              if f.name not in ("env", "sampling")}
    return {**fields, **dataclasses.asdict(self.sampling), "metrics": self.mode_metrics(), "requested_metrics": list(self.metrics),
            "modes": list(self.modes), "turn_limits": list(self.turn_limits),
            "score_tests": list(self.score_tests)}


@dataclasses.dataclass
class Evaluation:
  """What one `run` produced: rows, the records behind them, environment stats."""

  rows: list[dict[str, Any]]
  records: list[dict[str, Any]]
  stats: dict[str, dict[str, float]]
  evals: dict[str, dict[str, Any]]


def env_config(cfg: EvalConfig, mode: str):
  """The environment's config for `mode`."""
  base = cfg.env if cfg.env is not None else rollout.EnvConfig()
  return dataclasses.replace(base, max_turns=cfg.run_turns(mode), independent=False,
                             feedback=_FEEDBACK.get(mode, "execution"),
                             score_every_turn=True, score_tests=tuple(cfg.score_tests))


def run(cfg: EvalConfig, *, problems: Sequence[Mapping[str, Any]], judge, tokenizer,
        rng: jax.Array, workdir: str | pathlib.Path | None = None, checkpoint: str = "sft",
        split: str = "test", policy=None, model_config=None, params=None,
        mesh=None, cache=None) -> Evaluation:
  """Runs every mode of `cfg` and computes its rows from the records.

  Give either `policy` (any `rlef_jax.env.policy.Policy`, e.g. a
  ScriptedPolicy) or `model_config` + `params` (a ModelPolicy is built with
  the recipe's sampler settings). `cache`: a `rlef_jax.env.cache.VerdictCache`
  shared by every call (default: a new one for this run when the env config
  caches verdicts), so a program judged in one mode is not judged again.
  """
  if not problems:
    raise ValueError("evaluation needs at least one problem")
  names = [row.get("name") for row in problems]
  if len(set(names)) != len(names):
    raise ValueError("problem names must be unique: records are grouped by name")
  if policy is None:
    if model_config is None or params is None:
      raise ValueError("give a policy, or model_config and params")
    policy = policies.ModelPolicy(model_config, params, tokenizer, cfg.sampling, mesh=mesh)
  out_path = None
  if workdir is not None:
    out_path = pathlib.Path(workdir)
    out_path.mkdir(parents=True, exist_ok=True)
    out_path = out_path / "rollouts.jsonl"
  records, mode_stats = [], {}
  if cache is None and env_config(cfg, cfg.modes[0]).verdict_cache:
    cache = cache_lib.VerdictCache()
  for mode_index, mode in enumerate(cfg.modes):
    env_cfg = env_config(cfg, mode)
    episodes = [(row, i) for i in range(cfg.episodes(mode)) for row in problems]
    calls: list[dict[str, float]] = []
    start = time.monotonic()
    mode_rng = jax.random.fold_in(rng, mode_index)
    for call, lo in enumerate(range(0, len(episodes), cfg.episodes_per_call)):
      chunk = episodes[lo:lo + cfg.episodes_per_call]
      ids = [f"{checkpoint}/{mode}/{row['name']}/{i}" for row, i in chunk]
      result = rollout.run_episodes(policy, [row for row, _ in chunk], judge, tokenizer,
                                    env_cfg, jax.random.fold_in(mode_rng, call),
                                    episode_ids=ids, cache=cache)
      # Rows the environment cannot use are skipped without a record (counted in
      # its stats); records are matched to episodes by id.
      by_id = {record.episode: record for record in result.records}
      new = [{**by_id[eid].to_json(), "eval": cfg.name, "checkpoint": checkpoint,
              "split": split, "mode": mode, "rollout": i, "turn_limit": cfg.mode_turns(mode),
              "max_turns": env_cfg.max_turns, "score_tests": list(cfg.score_tests),
              "temperature": cfg.sampling.temperature, "top_p": cfg.sampling.top_p}
             for eid, (_, i) in zip(ids, chunk) if eid in by_id]
      if out_path is not None:
        report.append_rollouts(out_path, new)
      records += new
      calls.append(result.stats)
    mode_stats[mode] = rollout.merge_stats(calls)
    mode_stats[mode]["eval_wall_s"] = time.monotonic() - start
  evals = {cfg.name: cfg.describe()}
  return Evaluation(report.solve_rates(records, evals), records, mode_stats, evals)


def evaluate(eval_cfg: EvalConfig, *, model_config=None, params=None, tokenizer, problems,
             judge, workdir, checkpoint: str = "sft", split: str = "test", rng: jax.Array,
             policy=None, mesh=None, cache=None) -> list[dict[str, Any]]:
  """`run(...)`'s rows (`report["solve_rates"]`); records appended to workdir/rollouts.jsonl."""
  return run(eval_cfg, problems=problems, judge=judge, tokenizer=tokenizer, rng=rng,
             workdir=workdir, checkpoint=checkpoint, split=split, policy=policy,
             model_config=model_config, params=params, mesh=mesh, cache=cache).rows

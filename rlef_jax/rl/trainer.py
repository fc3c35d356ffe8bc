"""The RLEF training loop: rollouts and PPO updates, lagged by one round or synchronous.

Round k samples `problems_per_round x rollouts_per_problem` episodes with
`rlef_jax.env.rollout.run_episodes` and spends them on one call of the jitted
PPO update (`rl.update.make_update`). Let P_k be the policy after k updates.

* `lag=0` (synchronous): round k is sampled from P_k, then updated on.
* `lag=1`: round k+1 is sampled from P_k (published after round k-1's update)
  while round k's update runs, so sampling/judging overlap the update; the
  behaviour log-probs kept in the batch let the truncated importance weight
  correct for pi_b = P_{k-1} != pi_old = P_k. Rounds 0 and 1 both use P_0.

The update donates its state, so the sampler gets its own copy of the policy
(`publish`: cast to the sampler dtype, placed for inference), never the
donated buffers.

Data: one global problem stream (the train rows in a seeded order per epoch);
round k consumes stream positions [k*P, (k+1)*P), and JAX process p samples
the p-th contiguous part of them, so the global batch is the same rows in the
same order on one host or many. Each process judges its own episodes; rows
become global arrays with `jax.make_array_from_process_local_data`; records
and statistics are all-gathered and only process 0 writes logs.

Checkpoints (`checkpoints.state.TrainCheckpoints`): after round k the policy,
value, both optimizer states, the step, the round (which fixes the RNG
streams: keys are `fold_in`s of the seed by round) and data position, and in
lagged mode the pending batch for round k+1 with its records. Launching the
same command again resumes from the latest one and ends with the same metrics
as an uninterrupted run.

The loop receives what it runs on (mesh, model, tokenizer, problems, an open
judge); `rlef_jax.jobs.TrainJob` builds those from gin-bound specs.

Example:

    from rlef_jax.rl import trainer, update
    from rlef_jax.env.config import EnvConfig
    with sandbox_runner.Judge() as judge:
      report = trainer.Trainer(
          workdir, trainer.TrainerConfig(rounds=2), config=config, params=params,
          value_params=llama.add_value_head(config, params, jax.random.key(1)),
          tokenizer=tok, train_rows=rows, mesh=mesh, judge=judge,
          ppo=update.PPOConfig(), env=EnvConfig()).run()
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import pathlib
import time
from typing import Any, Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

import tqdm
from jax.experimental import multihost_utils

from rlef_jax import rollouts as rollouts_lib
from rlef_jax import sampling as sampling_lib
from rlef_jax import sharding
from rlef_jax.checkpoints import state as ckpt_state
from rlef_jax.env import policy as env_policy
from rlef_jax.env import records as env_records
from rlef_jax.env import rollout
from rlef_jax.models import partitioning
from rlef_jax.models import precision
from rlef_jax.rl import logs
from rlef_jax.rl import update as ppo_update


@dataclasses.dataclass(frozen=True)
class TrainerConfig:
  """Settings of the RLEF loop (see the module docstring).

  Attributes:
    seed: problem order, sampling and update RNG streams.
    rounds: rollout batches = calls of the PPO update.
    problems_per_round: stream positions consumed per round.
    rollouts_per_problem: episodes per problem (a batch of P x R episodes).
    lag: 0 synchronous, 1 one-round lag (sampling overlaps the update).
    train_task: problems to train on (a task name of `rlef_jax.data` or
      `module:function`; the job loads them, see `launch.load_problems`).
    valid_task: problems for the validation solve rate (None: no validation).
    valid_problems: first so many of them (None: all).
    valid_every: rounds between validations (0: never); keeps the best
      checkpoint by the solve rate under `<workdir>/best`. The paper
      validates every 800 updates (= rounds x num_minibatches x epochs).
    valid_temperature: sampling temperature of validation episodes (the
      rest of `sampling` as in training).
    sampling: training's sampler settings (temperature, top-p, top-k, max
      new tokens per response).
    checkpoint_every: rounds between checkpoints (the last round is always saved).
    keep_checkpoints: latest step folders kept.
    async_checkpoints: write checkpoints in the background.
    progress: a tqdm bar over rounds (process 0).
  """

  seed: int = 0
  rounds: int = 100
  problems_per_round: int = 8
  rollouts_per_problem: int = 1
  lag: int = 1
  train_task: str = "rlef_bundled_train"
  valid_task: str | None = None
  valid_problems: int | None = None
  valid_every: int = 0
  valid_temperature: float = 0.2
  sampling: sampling_lib.SamplingSettings = sampling_lib.SamplingSettings(
      temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=512)
  checkpoint_every: int = 1
  keep_checkpoints: int = 2
  async_checkpoints: bool = True
  progress: bool = True


# Metrics that depend on the machine's speed or on process-local caches: not
# part of what exact resume must reproduce.
TIMING_KEYS = ("time", "sample_s", "judge_s", "update_s", "wall_s", "collect_s", "rss_mb",
               "peak_rss_mb", "cache_hit_rate", "checkpoint_s", "valid_s")


# --- small helpers -------------------------------------------------------------


def _process() -> tuple[int, int]:
  return jax.process_index(), jax.process_count()


def gather_json(obj: Any) -> list[Any]:
  """`obj` of every process, in process order (JSON round trip; collective)."""
  if jax.process_count() == 1:
    return [obj]
  data = np.frombuffer(json.dumps(obj).encode(), np.uint8)
  sizes = multihost_utils.process_allgather(np.asarray([data.size], np.int64))
  width = int(np.max(sizes))
  padded = np.zeros((width,), np.uint8)
  padded[:data.size] = data
  rows = multihost_utils.process_allgather(padded)
  return [json.loads(bytes(rows[i, :int(sizes[i][0])]).decode()) for i in range(rows.shape[0])]


@dataclasses.dataclass
class Batch:
  """One round's episodes: global Rollouts (None if every episode dropped) + records."""

  round: int
  rollouts: Any
  records: list[dict[str, Any]]
  stats: dict[str, float]


# --- the trainer -------------------------------------------------------------------


PolicyFn = Callable[[Any, Any, Any], Any]  # (sampler_config, sampler_params, tokenizer) -> Policy


class ResumeError(ValueError):
  """The workdir's checkpoint does not belong to these settings (use a new workdir)."""


def check_config(cfg: TrainerConfig, ppo: ppo_update.PPOConfig, mesh_shape: Sequence[int],
                 processes: int = 1) -> None:
  """ValueError for settings the loop cannot run (cheap; before anything is built).

  `mesh_shape`: (data, fsdp, tensor) of the training mesh.
  """
  if cfg.lag not in (0, 1):
    raise ValueError(f"TrainerConfig.lag = {cfg.lag}: use 0 (synchronous) or 1")
  if cfg.rounds < 1 or cfg.problems_per_round < 1 or cfg.rollouts_per_problem < 1:
    raise ValueError("TrainerConfig.rounds, problems_per_round and rollouts_per_problem must "
                     "be >= 1")
  if cfg.problems_per_round % processes:
    raise ValueError(f"TrainerConfig.problems_per_round = {cfg.problems_per_round} does not "
                     f"split over {processes} processes")
  batch = cfg.problems_per_round * cfg.rollouts_per_problem
  batch_shards = mesh_shape[0] * mesh_shape[1]
  need = ppo.num_minibatches * ppo.microbatches * batch_shards
  if batch % need:
    raise ValueError(
        f"a round of {batch} episodes (problems_per_round x rollouts_per_problem) must be a "
        f"multiple of num_minibatches x microbatches x (data x fsdp) = "
        f"{ppo.num_minibatches} x {ppo.microbatches} x {batch_shards} = {need}")
  if cfg.valid_every and cfg.valid_task is None:
    raise ValueError("TrainerConfig.valid_every > 0 needs TrainerConfig.valid_task")
  if not isinstance(cfg.sampling, sampling_lib.SamplingSettings):
    raise ValueError(f"TrainerConfig.sampling must be a sampling.SamplingSettings, got "
                     f"{cfg.sampling!r}")
  cfg.sampling.replace(temperature=cfg.valid_temperature)  # checks it like the rest


class Trainer:
  """The RLEF loop of one workdir (see the module docstring).

  Args:
    workdir: the run's folder (checkpoints/, best/, tensorboard/, metrics.jsonl,
      rollouts.jsonl, valid_rollouts.jsonl).
    cfg: the loop's settings.
    config, params: the policy where it starts (also the frozen reference),
      placed on `mesh`.
    value_params: the value net (the policy's trunk plus a scalar head), on `mesh`.
    tokenizer: the model's tokenizer (its chat format renders the dialogs).
    train_rows: the problems to train on; valid_rows: validation problems.
    mesh: the training mesh over all devices of all processes.
    judge: an open `sandbox_runner.Judge` (or anything with its `submit`);
      each process passes its own.
    ppo: the update's hyper-parameters.
    env: the episode settings (`rlef_jax.env.config.EnvConfig`).
    precision: the dtypes of the master weights, compute and the sampler's
      copy (default: the config's own, one dtype throughout).
    policy_fn: builds the sampling policy of a round (default: `env.policy.ModelPolicy`
      with the cfg's sampling settings); tests pass a scripted one.
    on_round: called as `on_round(step, metrics_row)` after each round is logged
      (notebooks, tests).
  """

  def __init__(self, workdir: str | pathlib.Path, cfg: TrainerConfig, *, config, params,
               value_params, tokenizer, train_rows: Sequence[Mapping[str, Any]], mesh, judge,
               ppo: ppo_update.PPOConfig, env, valid_rows: Sequence[Mapping[str, Any]] = (),
               precision_policy: precision.PrecisionPolicy | None = None,
               policy_fn: PolicyFn | None = None,
               on_round: Callable[[int, dict], None] | None = None):
    self.workdir = pathlib.Path(workdir)
    self.cfg, self.ppo, self.env_cfg = cfg, ppo, env
    self.config, self.tokenizer, self.mesh, self.judge = config, tokenizer, mesh, judge
    self._initial = (params, value_params)
    if not train_rows:
      raise ValueError("the Trainer needs at least one training problem")
    self.train_rows, self.valid_rows = list(train_rows), list(valid_rows)
    name = lambda d: jax.numpy.dtype(d).name
    self.precision = precision_policy or precision.PrecisionPolicy(
        param_dtype=name(config.param_dtype), compute_dtype=name(config.compute_dtype),
        sampler_dtype=name(config.param_dtype), reference_dtype=name(config.param_dtype))
    self.policy_fn = policy_fn
    self.on_round = on_round
    self.pid, self.nproc = _process()
    check_config(cfg, ppo, tuple(mesh.shape[a] for a in sharding.MESH_AXES), self.nproc)

  # -- building what the loop derives from what it received --

  def _build(self) -> None:
    params, value = self._initial
    self._initial = None
    # Each process samples on its own devices (no cross-host collectives in the sampler).
    self.sampler_mesh = (self.mesh if self.nproc == 1 else sharding.make_mesh(
        sharding.MeshConfig(data=1, fsdp=-1, tensor=1), devices=jax.local_devices()))
    self.ref_params = ppo_update.reference_params(params)
    self.state = ppo_update.init_state(self.config, self.ppo, params, value, self.mesh)
    del params, value
    self.update = ppo_update.make_update(self.config, self.ppo, mesh=self.mesh)
    # The sampler's copy: cast to the sampler dtype, laid out by the inference rules.
    self.sampler_config = self.precision.sampler_config(self.config)
    if self.policy_fn is None:
      settings = self.cfg.sampling
      self.policy_fn = lambda c, p, tok: env_policy.ModelPolicy(
          c, p, tok, settings, mesh=self.sampler_mesh)
    self._stream_cache: dict[int, list[int]] = {}
    self.key = jax.random.key(self.cfg.seed)

  def publish(self):
    """The sampler's own copy of the current policy (cast, placed for inference)."""
    if self.nproc == 1:
      # New buffers (a cast is a computation), so the update may donate the state's.
      return self.precision.sampler_params(self.config, self.state.policy_params,
                                           self.sampler_mesh)
    host = multihost_utils.process_allgather(self.state.policy_params, tiled=True)
    host = jax.tree.map(lambda x: np.asarray(x).astype(self.sampler_config.param_dtype), host)
    return partitioning.shard_params(host, self.sampler_config, self.sampler_mesh,
                                 partitioning.INFERENCE_RULES)

  # -- data --

  def stream_rows(self, start: int, count: int) -> list[tuple[int, dict]]:
    """(position, row) for global stream positions [start, start + count)."""
    n = len(self.train_rows)
    out = []
    for pos in range(start, start + count):
      epoch, i = divmod(pos, n)
      if epoch not in self._stream_cache:
        self._stream_cache = {epoch: np.random.default_rng([self.cfg.seed, epoch])
                              .permutation(n).tolist()}
      out.append((pos, self.train_rows[self._stream_cache[epoch][i]]))
    return out

  def _round_episodes(self, k: int) -> tuple[list[dict], list[str]]:
    cfg = self.cfg
    per = cfg.problems_per_round // self.nproc
    start = k * cfg.problems_per_round + self.pid * per
    rows, ids = [], []
    for pos, row in self.stream_rows(start, per):
      for r in range(cfg.rollouts_per_problem):
        rows.append(row)
        ids.append(f"{pos}.{r}")
    return rows, ids

  def _key(self, stream: int, k: int) -> jax.Array:
    return jax.random.fold_in(jax.random.fold_in(self.key, stream), k)

  # -- one round's episodes --

  def _run_local(self, rows, ids, params, rng, temperature=None):
    """Episodes of this process (may run in a thread: no collectives here)."""
    policy = self.policy_fn(self.sampler_config, params, self.tokenizer)
    if temperature is not None and hasattr(policy, "with_temperature"):
      policy = policy.with_temperature(temperature)
    start = time.monotonic()
    result = rollout.run_episodes(policy, rows, self.judge, self.tokenizer, self.env_cfg,
                                  rng, episode_ids=ids)
    local = result.rollouts  # host-side (numpy): placed on the devices once, in _globalize
    records = [rec.to_json() for rec in result.records]
    stats = {k: float(v) for k, v in result.stats.items()
             if isinstance(v, (int, float)) and not isinstance(v, bool)}
    stats["collect_s"] = time.monotonic() - start
    return local, records, stats

  def _collect_local(self, k: int, params):
    rows, ids = self._round_episodes(k)
    rng = jax.random.fold_in(self._key(0, k), self.pid)
    return self._run_local(rows, ids, params, rng)

  def _collect_handed(self, k: int, handed: list):
    """`_collect_local` on params handed over in a one-item list and taken out
    of it: the executor's work item keeps its arguments until its thread moves
    on, which may be after `future.result()` returns, so a sampler copy passed
    directly would outlive its round by a race."""
    return self._collect_local(k, handed.pop())

  def _globalize(self, k: int, local_out) -> Batch:
    """Local episodes -> one global batch (collective: main thread only)."""
    local, records, stats = local_out
    rows_local = self.cfg.problems_per_round // self.nproc * self.cfg.rollouts_per_problem
    if getattr(self.env_cfg, "independent", False):
      rows_local *= self.env_cfg.max_turns  # one row per attempt
    dims = (0, 0) if local is None else (local.tokens.shape[1], local.turn_mask.shape[1])
    gathered = gather_json({"dims": dims, "records": records, "stats": stats})
    seq = max(g["dims"][0] for g in gathered)
    turns = max(g["dims"][1] for g in gathered)
    all_records = [r for g in gathered for r in g["records"]]
    merged = rollout.merge_stats([g["stats"] for g in gathered], concurrent=True)
    if seq == 0:
      return Batch(k, None, all_records, merged)
    padded = rollouts_lib.pad(local, rows_local, seq, turns, self.tokenizer.pad_id,
                              group_offset=self.pid * rows_local)
    # The one host -> device transfer of the round's batch.
    arrays = {}
    for f, arr in rollouts_lib.as_dict(padded).items():
      global_shape = (rows_local * self.nproc,) + arr.shape[1:]
      sh = partitioning.batch_sharding(self.mesh, global_shape)
      arrays[f] = jax.make_array_from_process_local_data(sh, arr, global_shape)
    return Batch(k, rollouts_lib.from_dict(arrays), all_records, merged)

  def validate_policy(self, step: int, params) -> dict[str, float]:
    """Solve rate of the validation problems (this process's share, gathered)."""
    rows = self.valid_rows[self.pid::self.nproc]
    ids = [f"valid{self.pid + i * self.nproc}" for i in range(len(rows))]
    rng = jax.random.fold_in(self._key(2, step), self.pid)
    _, records, stats = self._run_local(rows, ids, params, rng, self.cfg.valid_temperature)
    gathered = gather_json(records)
    records = [r for g in gathered for r in g]
    self.log.jsonl("valid_rollouts.jsonl", [{**r, "step": step} for r in records])
    summary = env_records.summarize(records)
    return {"valid_solve_rate": summary["solve_rate"], "valid_reward": summary["reward"],
            "valid_s": stats["collect_s"]}

  # -- checkpoints --

  def _meta(self, rounds_done: int, pending: Batch | None) -> dict[str, Any]:
    meta = {
        "round": rounds_done,
        "step": int(jax.device_get(self.state.step)),
        "data_position": rounds_done * self.cfg.problems_per_round,
        "rng": {"seed": self.cfg.seed, "round": rounds_done},
        "config": ckpt_state.config_to_json(self.config),
        "best_valid_solve_rate": self.best,
        "lag": self.cfg.lag,
        "pending": None,
    }
    if pending is not None:
      meta["pending"] = {
          "round": pending.round, "records": pending.records, "stats": pending.stats,
          "shapes": (None if pending.rollouts is None else
                     {f: list(a.shape) for f, a in rollouts_lib.as_dict(pending.rollouts).items()})}
    return meta

  def _items(self, pending: Batch | None) -> dict[str, Any]:
    s = self.state
    return {"policy": s.policy_params, "value": s.value_params, "policy_opt": s.policy_opt_state,
            "value_opt": s.value_opt_state,
            "pending": None if pending is None or pending.rollouts is None
            else rollouts_lib.as_dict(pending.rollouts)}

  def _restore(self, step: int) -> tuple[int, Batch | None]:
    s = self.state
    targets = {"policy": ckpt_state.abstract(s.policy_params),
               "value": ckpt_state.abstract(s.value_params),
               "policy_opt": ckpt_state.abstract(s.policy_opt_state),
               "value_opt": ckpt_state.abstract(s.value_opt_state)}
    _, meta = self.ckpts.restore(step, {})
    pending_meta = meta.get("pending")
    if pending_meta and pending_meta.get("shapes"):
      targets["pending"] = {
          f: jax.ShapeDtypeStruct(tuple(shape), rollouts_lib.DTYPES[f],
                                  sharding=partitioning.batch_sharding(self.mesh, tuple(shape)))
          for f, shape in pending_meta["shapes"].items()}
    items, meta = self.ckpts.restore(step, targets)
    step_sh = ppo_update.state_shardings(self.config, self.ppo, self.mesh).step
    self.state = ppo_update.TrainState(
        items["policy"], items["policy_opt"], items["value"], items["value_opt"],
        jax.device_put(jnp.asarray(meta["step"], jnp.int32), step_sh))
    self.best = meta.get("best_valid_solve_rate")
    if meta["data_position"] != meta["round"] * self.cfg.problems_per_round:
      raise ResumeError(
          f"checkpoint {step} was written with another problems_per_round; use a new workdir")
    pending = None
    if pending_meta:
      rollouts = None
      if "pending" in items:
        rollouts = rollouts_lib.from_dict(items["pending"])
      pending = Batch(pending_meta["round"], rollouts, pending_meta["records"],
                      pending_meta["stats"])
    return meta["round"], pending

  # -- the loop --

  def run(self) -> dict[str, Any]:
    """Trains `cfg.rounds` rounds (or what is left after the latest checkpoint)."""
    t_start = time.monotonic()
    self._build()
    cfg = self.cfg
    primary = self.pid == 0
    self.best = None
    self.ckpts = ckpt_state.TrainCheckpoints(self.workdir / "checkpoints", cfg.keep_checkpoints,
                                             cfg.async_checkpoints)
    self.best_ckpts = ckpt_state.TrainCheckpoints(self.workdir / "best", 1, cfg.async_checkpoints)
    latest = self.ckpts.latest_step()
    start, pending = 0, None
    if latest is not None:
      start, pending = self._restore(latest)
      logging.info("resuming from %s (round %d)", self.ckpts.directory / str(latest), start)
    self.log = logs.RunLog(self.workdir, primary=primary,
                           resume_step=start if latest is not None else None,
                           files=("rollouts.jsonl", "valid_rollouts.jsonl"))
    timings: list[dict[str, float]] = []
    last: dict[str, Any] = {}
    executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="rollouts")
    bar = None
    if cfg.progress and primary:
      bar = tqdm.tqdm(total=cfg.rounds, initial=start, desc="rlef rounds", unit="round")
    try:
      if cfg.lag and pending is None and start < cfg.rounds:
        pending = self._globalize(start, self._collect_local(start, self.publish()))
      for k in range(start, cfg.rounds):
        t0 = time.monotonic()
        future = None
        if cfg.lag:
          batch = pending
          if k + 1 < cfg.rounds:
            future = executor.submit(self._collect_handed, k + 1, [self.publish()])
        else:
          batch = self._globalize(k, self._collect_local(k, self.publish()))
        t_update = time.monotonic()
        if batch.rollouts is not None:
          self.state, metrics = self.update(self.state, self.ref_params, batch.rollouts,
                                            self._key(1, k))
          metrics = {name: float(v) for name, v in jax.device_get(metrics).items()}
        else:
          metrics = {"skipped_update": 1.0}
        update_s = time.monotonic() - t_update
        pending = self._globalize(k + 1, future.result()) if future is not None else None
        wall_s = time.monotonic() - t0
        sampled = (pending.stats if pending is not None else {}) if cfg.lag else batch.stats
        step = k + 1
        row = {"round": step, "data_position": step * cfg.problems_per_round,
               **{f"train/{n}": v for n, v in env_records.summarize(batch.records).items()},
               **{f"env/{n}": v for n, v in batch.stats.items()},
               **metrics,
               # This iteration's parts: in lagged mode the sampling of the next
               # round ran beside this update.
               "sample_s": sampled.get("sample_s", sampled.get("collect_s", 0.0)),
               "judge_s": sampled.get("judge_s", 0.0),
               "update_s": update_s, "wall_s": wall_s,
               "rss_mb": logs.rss_mb(), "peak_rss_mb": logs.peak_rss_mb()}
        timings.append({"round": step, **{n: row[n] for n in
                                           ("sample_s", "judge_s", "update_s", "wall_s")}})
        self.log.jsonl("rollouts.jsonl", [{**r, "step": step} for r in batch.records])
        if cfg.valid_every and step % cfg.valid_every == 0:
          row.update(self.validate_policy(step, self.publish()))
          if self.best is None or row["valid_solve_rate"] > self.best:
            self.best = row["valid_solve_rate"]
            self.best_ckpts.save(step, self._items(None), self._meta(step, None))
        if step % cfg.checkpoint_every == 0 or step == cfg.rounds:
          t_ck = time.monotonic()
          self.ckpts.save(step, self._items(pending), self._meta(step, pending))
          row["checkpoint_s"] = time.monotonic() - t_ck
        self.log.scalars(step, row)
        last = row
        del batch
        if self.on_round is not None:
          self.on_round(step, row)
        if bar is not None:
          bar.update(1)
          bar.set_postfix(reward=f"{row['train/reward']:.2f}",
                          solve=f"{row['train/solve_rate']:.2f}", wall=f"{wall_s:.1f}s")
    finally:
      executor.shutdown(wait=True)
      if bar is not None:
        bar.close()
      self.ckpts.close()
      self.best_ckpts.close()
      self.log.close()
    return self._report(start, timings, last, time.monotonic() - t_start)

  def _report(self, start, timings, last, total_s) -> dict[str, Any]:
    parts = [(t["sample_s"] + t["judge_s"] + t["update_s"], max(t["sample_s"], t["judge_s"],
                                                                  t["update_s"]), t["wall_s"])
             for t in timings]
    overlap = None
    if parts:
      total_sum, total_max, total_wall = (sum(p[i] for p in parts) for i in range(3))
      overlap = {"wall_s": total_wall, "sum_of_parts_s": total_sum, "max_of_parts_s": total_max,
                 "wall_over_sum": total_wall / max(total_sum, 1e-9),
                 "wall_over_max": total_wall / max(total_max, 1e-9)}
    return {
        "job": "train",
        "rounds": self.cfg.rounds,
        "resumed_from_round": start,
        "lag": self.cfg.lag,
        "processes": self.nproc,
        "devices": jax.device_count(),
        "mesh": dict(self.mesh.shape),
        "optimizer_steps": int(jax.device_get(self.state.step)),
        "final": {k: v for k, v in last.items() if not k.startswith("env/")},
        "best_valid_solve_rate": self.best,
        "timings": timings,
        "overlap": overlap,
        "peak_rss_mb": logs.peak_rss_mb(),
        "seconds": total_s,
        "checkpoints": str(self.workdir / "checkpoints"),
        "ok": True,
    }

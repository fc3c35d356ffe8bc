"""Per-round cost of the RLEF loop: sample, judge, update and wall, before/after.

Runs the real loop (`rl.trainer.Trainer`: the model's sampler, the gVisor
judge, the PPO update) twice in one process on the same problems and seeds:

  before: `PPOConfig.length_buckets = False`, no compilation cache: the whole
          update as one fused program over the batch padded to its longest
          dialog's bucket (what main shipped before issue 18).
  after:  `length_buckets = True` (rows cut to their own length bucket,
          `rl.update.BucketedUpdate`) with JAX's persistent compilation cache
          in the run's work directory (`launch.enable_compilation_cache`).

The settings follow gin/tiny_cpu.gin's RL stage (tiny Llama, 8 problems x 2
rollouts, up to 3 turns, 112 new tokens, lag 1, 2 minibatches x 1 epoch),
from a random model unless `--weights` names a trained one (a random model
writes no code and always uses every turn, so its dialogs are longer and
more alike than a warm start's). Lag 1 overlaps sampling and judging with
the update, so on a small CPU they share its cores: sample_s and update_s
are each measured while the other runs. Round 1 includes compilation.
The last line is one JSON object.

    python benchmarks/rlef_round.py --quick      # 2 rounds, a smaller batch
    python benchmarks/rlef_round.py --rounds=4 [--weights=runs/tiny_cpu/sft]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import tempfile
import time

import jax

from rlef_jax import jobs, launch, sampling, sharding
from rlef_jax.env import rollout
from rlef_jax.rl import trainer as trainer_lib
from rlef_jax.rl import update as ppo_update

PARTS = ("sample_s", "judge_s", "update_s", "wall_s")


def run_once(workdir: pathlib.Path, args, length_buckets: bool) -> dict:
  cache = launch.enable_compilation_cache(workdir / "compile_cache" if length_buckets else None)
  cfg = trainer_lib.TrainerConfig(
      seed=0, rounds=args.rounds, problems_per_round=args.problems, rollouts_per_problem=2,
      lag=1, train_task="rlef_jax.demo:train_problems",
      sampling=sampling.SamplingSettings(temperature=1.0, max_new_tokens=args.max_new_tokens),
      checkpoint_every=10_000, keep_checkpoints=1, async_checkpoints=False,
      progress=False)
  ppo = ppo_update.PPOConfig(lr=1e-4, warmup_steps=4, kl_beta=0.05, num_minibatches=2, epochs=1,
                             length_buckets=length_buckets)
  env = rollout.EnvConfig(max_turns=args.turns, context_budget=1024,
                          score_tests=("public", "private"))
  model = launch.ModelSpec(preset="tiny", seed=0, weights=args.weights)
  job = jobs.TrainJob(workdir, cfg, model=model, ppo=ppo, env=env,
                      mesh=sharding.MeshConfig(fsdp=-1))
  start = time.monotonic()
  report = job.run()
  t = job.trainer
  out = {"rounds": report["timings"], "total_s": time.monotonic() - start,
         "programs": (t.update.programs() if length_buckets else
                      t.update.jitted._cache_size()),  # pylint: disable=protected-access
         "tokens": [None] * len(report["timings"])}
  rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  rows = [r for r in rows if "round" in r]
  out["tokens"] = [r.get("train/tokens", 0.0) * r.get("train/episodes", 0.0) for r in rows]
  out["approx_kl"] = [r.get("approx_kl") for r in rows]
  if cache is not None:
    out["cache_files"] = len(list(cache.iterdir()))
  launch.enable_compilation_cache(None)
  return out


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--quick", action="store_true", help="2 small rounds, about a minute")
  parser.add_argument("--rounds", type=int, default=4)
  parser.add_argument("--problems", type=int, default=8, help="problems per round (x2 rollouts)")
  parser.add_argument("--turns", type=int, default=3)
  parser.add_argument("--max_new_tokens", type=int, default=112)
  parser.add_argument("--weights", default=None, help="a model folder (default: random tiny)")
  args = parser.parse_args()
  if args.quick:
    args.rounds, args.problems, args.turns, args.max_new_tokens = 2, 4, 2, 48

  load = os.getloadavg()
  results = {}
  with tempfile.TemporaryDirectory() as tmp:
    for name, buckets in (("before", False), ("after", True)):
      results[name] = run_once(pathlib.Path(tmp) / name, args, buckets)
      print(f"{name}: fused update" if not buckets else f"{name}: length-bucketed update")
      print("  round  sample_s  judge_s  update_s  wall_s  real_tokens")
      for t, tok in zip(results[name]["rounds"], results[name]["tokens"]):
        print(f"  {t['round']:5d}  {t['sample_s']:8.2f}  {t['judge_s']:7.2f}  "
              f"{t['update_s']:8.2f}  {t['wall_s']:6.2f}  {tok:11.0f}")
  summary = {}
  for name, res in results.items():
    later = res["rounds"][1:] or res["rounds"]  # round 1 compiles
    summary[name] = {
        "per_round": [{k: round(t[k], 3) for k in ("round", *PARTS)} for t in res["rounds"]],
        "mean_after_round_1": {k: round(sum(t[k] for t in later) / len(later), 3)
                               for k in PARTS},
        "programs": res["programs"], "total_s": round(res["total_s"], 2)}
    if "cache_files" in res:
      summary[name]["cache_files"] = res["cache_files"]
  b, a = (summary[n]["mean_after_round_1"] for n in ("before", "after"))
  print(json.dumps({
      "benchmark": "rlef_round", "quick": args.quick, "rounds": args.rounds,
      "episodes_per_round": 2 * args.problems, "max_turns": args.turns,
      "max_new_tokens": args.max_new_tokens, "weights": args.weights,
      "backend": jax.default_backend(), "cpu_count": os.cpu_count(),
      "loadavg_at_start": [round(x, 2) for x in load],
      "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
      "update_speedup": round(b["update_s"] / max(a["update_s"], 1e-9), 3),
      "wall_speedup": round(b["wall_s"] / max(a["wall_s"], 1e-9), 3),
      **summary}))


if __name__ == "__main__":
  main()

"""Rollout overlap: one batch of episodes with judging overlapped with sampling, and without.

Tiny Llama (random weights) samples every response on the device; the gVisor
judge runs the code on the bundled problems' tests. A random tiny model
writes no code, so each response is the model's sampled tokens followed by
a scripted code block (on early turns a right program with a stray output
line, which fails every public test after running it in full; a right one
on the last), as `SampledThenScripted` below: the sampling cost is the
model's, the judging that of full-length runs (feedback runs on the public
tests every turn, scoring runs on public + private at the end).
The verdict cache is off so that both runs judge the same programs.

Both settings run in the same process after a warm-up run that compiles
every sampling program: `overlap=False` (sample a group, then judge it) and
`overlap=True` (judge group g on host threads while group g + 1 samples),
alternated `--repeats` times, the best wall time of each kept.
The last line is one JSON object with

  overlap_speedup    = serial wall / overlapped wall
  overlap_efficiency = max(sample_s, judge_s) of the serial run / overlapped wall
                       (1.0: the overlapped run takes only as long as its
                       longer half, the most overlap can give)
  overlap_ceiling    = serial wall / max(serial CPU seconds / cores, sample_s,
                       judge_s): the best speedup possible where both halves
                       share the host's cores (this CPU-only machine)

    python benchmarks/rollout_overlap.py --quick     # under a minute
    python benchmarks/rollout_overlap.py             # 16 episodes, 3 turns
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sys
import time

import jax

import sandbox_runner as sr
from rlef_jax import sampling
from rlef_jax import tokenizer as tokenizers
from rlef_jax.data import problems
from rlef_jax.env import policy as policy_lib
from rlef_jax.env import rollout
from rlef_jax.models import configs, llama


@dataclasses.dataclass(frozen=True)
class SampledThenScripted:
  """The model's sample, then a scripted code block (benchmark only: log-probs 0 there)."""

  model: policy_lib.ModelPolicy
  max_turns: int

  @property
  def vocab_size(self) -> int:
    return self.model.vocab_size

  @property
  def max_new_tokens(self) -> int:
    return self.model.max_new_tokens + 512

  def _code(self, row, turn) -> str:
    # Early turns: the right program plus a stray line, so every public test runs it
    # in full and fails (a feedback turn follows); the last turn: the right program.
    src = row["solutions"]["solution"][(turn - 1) % 2]
    if turn < self.max_turns:
      src += f"\nprint({turn})\n"
    return f"\n```python\n{src}\n```"

  def sample(self, prompts, rng, contexts=None):
    tok = self.model.tokenizer
    out = []
    for s, ctx in zip(self.model.sample(prompts, rng), contexts):
      body = s.ids[:-1] if s.stopped else s.ids
      code = tok.encode(self._code(ctx.problem, ctx.turn)) + [tok.eot_id]
      out.append(policy_lib.Sample(body + code, list(s.logprobs[:len(body)]) + [0.0] * len(code),
                                   tok.decode(body + code[:-1]), True))
    return out


def _cpu_s() -> float:
  """CPU seconds of this process and its reaped children (the sandboxes)."""
  own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
  return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--quick", action="store_true", help="8 episodes, 2 turns, 24 new tokens")
  p.add_argument("--episodes", type=int, default=16)
  p.add_argument("--turns", type=int, default=3)
  p.add_argument("--max_new_tokens", type=int, default=64)
  p.add_argument("--groups", type=int, default=2)
  p.add_argument("--min_prompt_bucket", type=int, default=256)
  p.add_argument("--repeats", type=int, default=2)
  p.add_argument("--judge_workers", type=int, default=os.cpu_count() or 2)
  args = p.parse_args(argv)
  if args.quick:
    args.episodes, args.turns, args.max_new_tokens, args.repeats = 8, 2, 24, 1

  cfg = configs.get("tiny")
  tok = tokenizers.load_tiny_tokenizer()
  params = llama.init_params(cfg, jax.random.key(0))
  # One prompt bucket for most dialogs here: few programs to compile in the warm-up.
  model = policy_lib.ModelPolicy(cfg, params, tok,
                                 sampling.SamplingSettings(max_new_tokens=args.max_new_tokens),
                                 min_prompt_bucket=args.min_prompt_bucket)
  pol = SampledThenScripted(model, args.turns)
  rows = problems.bundled_problems("train")[:args.episodes]
  base = rollout.EnvConfig(max_turns=args.turns, judge_groups=args.groups, verdict_cache=False)
  results = {}
  with sr.Judge(max_workers=args.judge_workers) as judge:
    t = time.monotonic()
    rollout.run_episodes(pol, rows, judge, tok, base, jax.random.key(1))  # compiles
    print(json.dumps({"warmup_s": round(time.monotonic() - t, 2)}), flush=True)
    # Alternated, best of `repeats` each: a shared machine's load moves between runs.
    for _ in range(args.repeats):
      for name, overlap in (("serial", False), ("overlap", True)):
        cpu = _cpu_s()
        out = rollout.run_episodes(pol, rows, judge, tok,
                                   dataclasses.replace(base, overlap=overlap), jax.random.key(1))
        s = {**out.stats, "cpu_s": _cpu_s() - cpu}
        if name not in results or s["wall_s"] < results[name]["wall_s"]:
          results[name] = s
        print(json.dumps({"run": name, **{k: round(s[k], 3) for k in (
            "wall_s", "cpu_s", "sample_s", "judge_s", "judge_latency_s", "judge_runs", "mean_turns",
            "solve_rate", "dropped_infra")}}), flush=True)
  serial, over = results["serial"], results["overlap"]
  print(json.dumps({
      "benchmark": "rollout_overlap", "episodes": len(rows), "turns": args.turns,
      "max_new_tokens": args.max_new_tokens, "groups": args.groups, "repeats": args.repeats,
      "cpus": os.cpu_count(),
      "serial_wall_s": round(serial["wall_s"], 3), "overlap_wall_s": round(over["wall_s"], 3),
      "serial_sample_s": round(serial["sample_s"], 3),
      "serial_judge_s": round(serial["judge_s"], 3),
      "serial_cpu_s": round(serial["cpu_s"], 3),
      # The most overlap could give when both halves share these cores: the serial wall over
      # the longer of (its CPU work spread over every core, its longer half).
      "overlap_ceiling": round(serial["wall_s"] / max(serial["cpu_s"] / (os.cpu_count() or 1),
                                                      serial["sample_s"], serial["judge_s"]), 3),
      "load_average": round(os.getloadavg()[0], 2),
      "overlap_speedup": round(serial["wall_s"] / over["wall_s"], 3),
      "overlap_efficiency": round(max(serial["sample_s"], serial["judge_s"]) / over["wall_s"], 3),
  }))
  return 0


if __name__ == "__main__":
  sys.exit(main())

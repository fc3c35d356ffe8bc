"""Accelerator topologies and a capacity model of one RLEF round.

`TOPOLOGIES` names the slices recipes target, with each chip's published
figures (HBM bytes, bf16 dense FLOP/s, HBM bandwidth) and the host vCPUs that
come with it (the judge runs on those). `round_estimate` turns a round's
shapes into sampling, judging and update seconds from per-unit costs:

* sampling: prefill FLOPs at `prefill_mfu` of the slice's peak, plus decode
  steps each reading the sampler's weights and its filled KV cache from HBM
  at `decode_bw_fraction` of the bandwidth (decode is bandwidth-bound at
  the batch sizes a round has), or its FLOPs if larger;
* judging: every turn's code on the public tests, the final code on the
  public + private tests, at `judge_cpu_s_per_test` (+ per submission) CPU
  seconds each, spread over the hosts' vCPUs given to the judge;
* update: the model FLOPs of `benchmarks/ppo_step.py` (pi_old, rho and V
  passes plus epochs x (fwd + bwd) of policy and value) at `update_mfu`.

`bound` is the largest of the three: with the trainer's one-round lag the
update overlaps the next round's sampling and judging, and judging of one
group overlaps sampling of the next, so the slowest stage sets the pace.

Example:

    from rlef_jax.tools import capacity
    topo = capacity.topology("v5p-128")       # 64 chips, 95 GiB each
    est = capacity.round_estimate(cfg, topo, rollouts=1024, turns=3, ...)
    est["bound"]                               # "sampling" | "judging" | "update"
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

GiB = 1 << 30


@dataclasses.dataclass(frozen=True)
class Chip:
  kind: str
  platform: str           # "tpu" | "gpu"
  hbm_bytes: int
  bf16_flops: float       # dense, per chip
  hbm_bytes_per_s: float
  vcpus_per_chip: float   # host vCPUs per chip on the usual machine type
  host: str               # that machine type


CHIPS = {
    # Cloud TPU docs (system architecture pages) and GCE machine types.
    "v4": Chip("v4", "tpu", 32 * GiB, 275e12, 1228e9, 240 / 4, "ct4p-hightpu-4t (240 vCPU / 4 chips)"),
    "v5e": Chip("v5e", "tpu", 16 * GiB, 197e12, 819e9, 224 / 8, "ct5lp-hightpu-8t (224 vCPU / 8 chips)"),
    "v5p": Chip("v5p", "tpu", 95 * GiB, 459e12, 2765e9, 208 / 4, "ct5p-hightpu-4t (208 vCPU / 4 chips)"),
    "v6e": Chip("v6e", "tpu", 32 * GiB, 918e12, 1640e9, 180 / 8, "ct6e-standard-8t (180 vCPU / 8 chips)"),
    # NVIDIA H100 SXM5 80GB: 989 TFLOP/s bf16 dense, 3.35 TB/s; a3-highgpu-8g host.
    "h100": Chip("h100", "gpu", 80 * 10**9, 989e12, 3.35e12, 208 / 8, "a3-highgpu-8g (208 vCPU / 8 GPUs)"),
}


@dataclasses.dataclass(frozen=True)
class Topology:
  name: str
  chip: Chip
  num_devices: int
  tpu_topology: str | None  # the name `jax.experimental.topologies` takes
  estimate: bool            # figures from a stand-in compiler (GPU on CPU devices)

  @property
  def host_vcpus(self) -> int:
    return max(1, round(self.chip.vcpus_per_chip * self.num_devices))


_V5E_SHAPES = {1: "1x1", 4: "2x2", 8: "2x4", 16: "4x4", 32: "4x8", 64: "8x8", 128: "8x16",
               256: "16x16"}
# v4 / v5p: the name counts TensorCores, two per chip; 3-D tori.
_V5P_SHAPES = {4: "2x2x1", 8: "2x2x2", 16: "2x2x4", 32: "2x4x4", 64: "4x4x4", 128: "4x4x8",
               256: "4x8x8"}


def topology(name: str) -> Topology:
  """The topology called `name`: v4-N / v5p-N (N TensorCores), v5e-N / v6e-N (N chips), KxH100."""
  name = name.lower()
  m = re.fullmatch(r"(v4|v5p|v5e|v6e)-(\d+)", name)
  if m:
    kind, n = m.group(1), int(m.group(2))
    if kind in ("v4", "v5p"):
      chips, shapes = n // 2, _V5P_SHAPES
    else:
      chips, shapes = n, _V5E_SHAPES
    if chips not in shapes or (kind in ("v4", "v5p") and n % 2):
      raise ValueError(f"unknown {kind} slice {name!r}; known sizes: "
                       + ", ".join(f"{kind}-{c * (2 if kind in ('v4', 'v5p') else 1)}" for c in shapes))
    return Topology(name, CHIPS[kind], chips, f"{kind}:{shapes[chips]}", False)
  m = re.fullmatch(r"(\d+)xh100", name)
  if m:
    return Topology(name, CHIPS["h100"], int(m.group(1)), None, True)
  raise ValueError(f"unknown topology {name!r}: use v4-N, v5p-N, v5e-N, v6e-N or KxH100 "
                   "(e.g. v5p-128, v5e-256, v5e-1, 8xh100)")


def decode_bytes_per_step(cfg: Any, params_bytes_per_device: float, batch_per_device: float,
                          filled: float, cache_itemsize: int) -> float:
  """Bytes one decode step reads per device: its weights and its rows' filled cache."""
  kv_per_token = 2 * cfg.num_layers * cfg.num_kv_heads * cfg.head_dim * cache_itemsize
  return params_bytes_per_device + batch_per_device * filled * kv_per_token


def model_flops_per_token(cfg: Any, seq: int) -> tuple[float, float]:
  """(policy, value) forward FLOPs per token: 2 per weight (the embedding lookup
  counts 0) plus attention's 4 * L * H * Dh * seq (PaLM's convention)."""
  attn = 4 * cfg.num_layers * cfg.num_heads * cfg.head_dim * seq
  table = cfg.vocab_size * cfg.hidden_size
  untied = 0 if cfg.tie_word_embeddings else table
  n_policy = cfg.num_params() - untied
  n_value = cfg.num_params() - table - untied + cfg.hidden_size
  return 2.0 * n_policy + attn, 2.0 * n_value + attn


def round_estimate(cfg: Any, topo: Topology, *, rollouts: int, turns: int, max_new_tokens: int,
                   prompt_len: int, rollout_len: int, epochs: int, sampler_tensor: int,
                   sampler_bytes_per_param: int, cache_itemsize: int, target: Any) -> dict[str, Any]:
  """Seconds of sampling, judging and updating one round; `bound` is the largest."""
  chip, n = topo.chip, topo.num_devices
  peak = chip.bf16_flops * n
  # Sampling: every turn prefills its prompt and decodes its response.
  new_tokens = rollouts * turns * max_new_tokens * target.sample_fill
  policy_fwd, value_fwd = model_flops_per_token(cfg, prompt_len)
  prefill_s = rollouts * turns * prompt_len * policy_fwd / (peak * target.prefill_mfu)
  replicas = max(1, n // sampler_tensor)  # sampler rows are split over data x fsdp
  rows_per_replica = rollouts / replicas
  steps = turns * max_new_tokens * target.sample_fill
  weights = cfg.num_params() * sampler_bytes_per_param / sampler_tensor
  filled = prompt_len + max_new_tokens * target.sample_fill / 2
  # Each device holds 1/tensor of the weights and of its replica's rows'
  # cache (kv heads over tensor).
  step_bytes = decode_bytes_per_step(cfg, weights, rows_per_replica / sampler_tensor, filled,
                                     cache_itemsize)
  step_s = max(step_bytes / (chip.hbm_bytes_per_s * target.decode_bw_fraction),
               rows_per_replica * policy_fwd / sampler_tensor / (chip.bf16_flops * target.prefill_mfu))
  decode_s = steps * step_s
  sampling_s = prefill_s + decode_s
  # Judging: public tests after every turn (feedback), public + private for the final code.
  submissions = rollouts * turns
  tests = rollouts * (turns * target.public_tests + target.private_tests)
  judge_cpu_s = submissions * target.judge_cpu_s_per_submission + tests * target.judge_cpu_s_per_test
  judge_cpus = topo.host_vcpus * target.host_cpu_fraction
  judging_s = judge_cpu_s / judge_cpus
  # Update: pi_old + rho + V passes, then epochs x (fwd + bwd) of both nets.
  p_fwd, v_fwd = model_flops_per_token(cfg, rollout_len)
  update_flops = rollouts * rollout_len * ((2 + 3 * epochs) * p_fwd + (1 + 3 * epochs) * v_fwd)
  update_s = update_flops / (peak * target.update_mfu)
  times = {"sampling": sampling_s, "judging": judging_s, "update": update_s}
  bound = max(times, key=times.get)
  # The judge pool that keeps judging under the slower of the device stages.
  device_s = max(sampling_s, update_s)
  pool = judge_cpu_s / device_s if device_s > 0 else float("inf")
  # The per-test CPU cost at which judging would take as long as the slower
  # device stage: real solutions' own run time (large private inputs,
  # time limits) counts against this, not the harness's measured cost.
  break_even = (device_s * judge_cpus - submissions * target.judge_cpu_s_per_submission) / max(tests, 1)
  return {
      "judge_break_even_cpu_s_per_test": round(break_even, 2),
      "sampling_s": round(sampling_s, 1), "prefill_s": round(prefill_s, 1),
      "decode_s": round(decode_s, 1), "decode_step_ms": round(step_s * 1e3, 2),
      "new_tokens": int(new_tokens),
      "judging_s": round(judging_s, 1), "judge_cpu_s": round(judge_cpu_s, 1),
      "judge_submissions": int(submissions), "judge_tests": int(tests),
      "host_vcpus": topo.host_vcpus, "judge_vcpus": round(judge_cpus, 1),
      "judge_pool_for_device_pace": int(pool) + 1,
      "update_s": round(update_s, 1), "update_pflop": round(update_flops / 1e15, 1),
      "bound": bound,
  }

"""What a recipe is meant to run on, and the round it runs: the verifier's settings.

A recipe binds `RecipeTarget.*` after `import rlef_jax.tools.target` (the
import registers it with gin, so `rlef_jax.main` parses the same recipe
unchanged). Nothing in the training job reads it; `verify_recipe` does.

Example (in a gin recipe):

    import rlef_jax.tools.target
    RecipeTarget.topology = "v5p-128"
    RecipeTarget.sampler_tensor = 4
"""

from __future__ import annotations

import dataclasses

import gin


@dataclasses.dataclass(frozen=True)
class RecipeTarget:
  """The slice a recipe targets and the shapes of one RLEF round on it.

  Attributes:
    topology: a name of `capacity.TOPOLOGIES` ("v5p-128", "v5e-256", "8xh100", ...).
    sampler_data, sampler_fsdp, sampler_tensor: the sampler's mesh over the
      same devices (one may be -1); the sampler uses the inference rules
      (weights over tensor only, batch over data x fsdp).
    sampler_batch: rows of one `sampling.generate` call per sampler mesh (the
      env samples a judge group's live episodes at once); None: the round's
      rollouts / EnvConfig.judge_groups.
    prompt_len: the prefill bucket compiled (a dialog's prompt so far).
    rollout_len: tokens per rollout row of the update (None: EnvConfig.context_budget).
    public_tests, private_tests: tests per problem in the judging estimate
      (CodeContests-like; assumptions, not measured here).
    judge_cpu_s_per_test, judge_cpu_s_per_submission: judge CPU cost per test
      and per submission (sandbox start, harness); defaults from
      `benchmarks/judge_throughput.py` (docs/judge.md: 0.591 CPU-s per 20-test
      solution, of which ~0.09 s per submission).
    host_cpu_fraction: share of the hosts' CPUs given to the judge.
    sample_fill: mean fraction of `max_new_tokens` a response uses.
    update_mfu, prefill_mfu: model FLOPs utilisation assumed for the update
      and for prefill (decode is costed by bytes, not FLOPs).
    decode_bw_fraction: fraction of the HBM bandwidth a decode step achieves.
  """

  topology: str = "v5p-128"
  sampler_data: int = -1
  sampler_fsdp: int = 1
  sampler_tensor: int = 1
  sampler_batch: int | None = None
  prompt_len: int = 2048
  rollout_len: int | None = None
  public_tests: int = 2
  private_tests: int = 10
  judge_cpu_s_per_test: float = 0.025
  judge_cpu_s_per_submission: float = 0.09
  host_cpu_fraction: float = 0.75
  sample_fill: float = 0.6
  update_mfu: float = 0.35
  prefill_mfu: float = 0.4
  decode_bw_fraction: float = 0.6


RecipeTarget = gin.external_configurable(RecipeTarget, name="RecipeTarget")  # pylint: disable=invalid-name

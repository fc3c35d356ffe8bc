"""The RL loop learns: a learning regression test (issue 18; docs/learning_test.md).

A random-init 1-layer tiny Llama answers each problem with ONE sampled token
(`max_new_tokens=1`). A thin policy wrapper renders that token as the program
`print(<id>)`, and a deterministic judge accepts it when the id lies in a
target set (30% of the vocabulary along one output-layer direction, see
`target_ids`), so the start solves ~1/3. Everything between is the project's
own loop: `sampling.generate` (via `env.policy.ModelPolicy`, with its
behaviour log-probs), `env.rollout.run_episodes` (Dialog, records,
`to_rollouts`), `rl.trainer.Trainer` with lag 1 (round k+1 sampled from the
policy before update k: the truncated importance weight is live) and the
jitted, sharded PPO update (`rl.update.make_update`).

Headline: the training solve rate rises from ~0.34 to > 0.8 within 8 rounds.
A flipped advantage sign (the loop learns to avoid the set) and a response
mask shifted by one token (the one sampled token gets no gradient) fail it.

A mis-aligned behaviour log-prob or a broken lag correction only reweights
tokens, which Adam and a bandit largely forgive, so invariants every correct
loop satisfies are checked in the same run, per update (one optimizer step per
round, so the reported metrics are measured at pi = pi_old): the batch's
behaviour log-probs equal the teacher-forced log-probs of the params that
sampled it; the reported importance-weight statistics and policy loss equal a
direct computation of docs/ppo.md's formula; approx_kl is 0, round 0's
weights are 1 and later rounds are visibly stale. `tools/mutation_check.sh`
applies each mutation in tests/mutations/ to a copy of the tree and shows this
test failing on each.
"""

from __future__ import annotations

import contextlib
import dataclasses
import pathlib
import re
import shutil
import subprocess
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sandbox_runner import JudgeResult, TestResult, Verdict

from rlef_jax import jobs, launch, sampling, sharding
from rlef_jax.data import schema
from rlef_jax.env import policy as env_policy
from rlef_jax.env import rollout
from rlef_jax.models import llama
from rlef_jax.rl import trainer as trainer_lib
from rlef_jax.rl import update as ppo_update

TARGET_FRACTION = 0.3  # of the vocabulary (see target_ids)
ROUNDS = 8
PROBLEMS = 8


def problems():
  """The task's rows (a `module:function` train task for the Trainer)."""
  return [schema.normalize({
      "name": f"pick{i}", "description": f"Problem {i}: print a lucky number.",
      "public_tests": {"input": [f"{i}\n"], "output": ["lucky\n"]},
      "private_tests": {"input": [f"{i}\n"], "output": ["lucky\n"]}})
      for i in range(PROBLEMS)]


def target_ids(params, fraction: float = TARGET_FRACTION, seed: int = 0) -> np.ndarray:
  """The target set: the `fraction` of ids whose output-layer column points
  furthest along a fixed random direction u of the final hidden state.

  Moving the hidden state along u raises every target logit at once, so the
  policy can learn the set from the few ids a round samples; a set without
  such a direction (every third id) is a 4352-armed bandit: measured, 10
  rounds of 32 episodes at lr 3e-3 stayed at solve rates 0.22-0.50.
  """
  kernel = np.asarray(jax.device_get(params["lm_head"]["kernel"]), np.float32)  # [d, V]
  u = np.random.default_rng(seed).standard_normal(kernel.shape[0])
  proj = u @ kernel
  return np.flatnonzero(proj > np.quantile(proj, 1.0 - fraction))


class TokenJudge:
  """Accepts `print(<id>)` on every test when id is in `targets`, else wrong answer."""

  max_workers = 2

  def __init__(self, targets):
    self.targets = frozenset(int(t) for t in targets)

  def run(self, request):
    match = re.fullmatch(r"print\((\d+)\)\s*", request.program)
    ok = match is not None and int(match.group(1)) in self.targets
    results = [TestResult(Verdict.ACCEPTED if ok else Verdict.WRONG_ANSWER,
                          stdout="lucky\n" if ok else "unlucky\n")]
    if ok:
      results += [TestResult(Verdict.ACCEPTED, stdout="lucky\n")] * (len(request.tests) - 1)
    return JudgeResult.from_tests(results, len(request.tests))


@dataclasses.dataclass(frozen=True)
class TokenPolicy:
  """A `ModelPolicy` whose response text is the program `print(<first sampled id>)`.

  The ids and behaviour log-probs are the sampler's own; only the text the
  judge reads is derived from them.
  """

  inner: env_policy.ModelPolicy

  @property
  def vocab_size(self) -> int:
    return self.inner.vocab_size

  @property
  def max_new_tokens(self) -> int:
    return self.inner.max_new_tokens

  @property
  def max_context(self) -> int:
    return self.inner.max_context

  def sample(self, prompts, rng, contexts=None):
    return [dataclasses.replace(s, text=f"```python\nprint({s.ids[0]})\n```")
            for s in self.inner.sample(prompts, rng, contexts)]


class CheckedTrainer(trainer_lib.Trainer):
  """The Trainer, recording what each update saw and what a direct computation gives."""

  def _build(self):
    super()._build()
    self.targets = target_ids(self.state.policy_params)
    self.judge.targets = frozenset(int(t) for t in self.targets)
    self.published, self.checks = [], []
    update = self.update
    score = jax.jit(lambda p, t: llama.token_logprobs(self.config, p, t))
    values = jax.jit(lambda p, t: llama.value_forward(self.config, p, t))

    def checked(state, ref_params, batch, rng):
      k = len(self.checks)
      host = jax.device_get(batch)
      mask = host.response_mask.astype(bool)
      turns = host.turn_mask.astype(bool)
      tokens = jnp.asarray(host.tokens)
      sampler = np.asarray(score(self.published[k], tokens))  # pi_b: the params that sampled it
      old = np.asarray(score(jax.device_get(state.policy_params), tokens))  # pi_old
      v = np.take_along_axis(np.asarray(values(jax.device_get(state.value_params), tokens)),
                             host.value_positions, axis=1)
      # Advantages (kl_beta = 0, one turn): normalised G - V over the episodes.
      adv = np.where(turns, host.rewards - v, 0.0)
      mean = adv[turns].mean()
      adv = np.where(turns, (adv - mean) / (adv[turns].std() + 1e-8), 0.0)
      adv_tok = np.where(host.turn_index >= 0,
                         np.take_along_axis(adv, np.clip(host.turn_index, 0, None), axis=1), 0.0)
      w = np.exp(old - host.behaviour_logp)
      ratio = np.minimum(w, 1.0)
      eps = self.ppo.clip_eps
      obj = np.minimum(ratio * adv_tok, np.clip(ratio, 1 - eps, 1 + eps) * adv_tok)
      self.checks.append({
          "behaviour_err": float(np.max(np.abs(sampler - host.behaviour_logp)[mask])),
          "response_tokens": int(mask.sum()),
          "episodes": int(turns.sum()),
          "solved": int((host.rewards[turns] > 0).sum()),
          "is_weight_mean": float(w[mask].mean()),
          "is_weight_max": float(w[mask].max()),
          "is_weight_min": float(w[mask].min()),
          "policy_loss": float(-obj[mask].mean()),
      })
      new_state, metrics = update(state, ref_params, batch, rng)
      self.checks[-1]["reported"] = {n: float(x) for n, x in jax.device_get(metrics).items()}
      return new_state, metrics

    self.update = checked

  def publish(self):
    params = super().publish()
    self.published.append(jax.device_get(params))
    return params


def _run(tmp_path, monkeypatch, rounds=ROUNDS, lr=3e-2, seed=0):
  rows = []
  cfg = trainer_lib.TrainerConfig(
      seed=seed, rounds=rounds, problems_per_round=PROBLEMS, rollouts_per_problem=4, lag=1,
      train_task=f"{__name__}:problems", progress=False,
      sampling=sampling.SamplingSettings(temperature=1.0, max_new_tokens=1),
      checkpoint_every=rounds, keep_checkpoints=1, async_checkpoints=False)
  job = jobs.TrainJob(
      tmp_path, cfg, model=launch.ModelSpec(overrides={"num_layers": 1}, seed=seed),
      ppo=ppo_update.PPOConfig(lr=lr, warmup_steps=1, num_minibatches=1, epochs=1,
                               kl_beta=0.0, weight_decay=0.0),
      env=rollout.EnvConfig(max_turns=1), mesh=sharding.MeshConfig(fsdp=2),
      policy_fn=lambda c, p, tok: TokenPolicy(env_policy.ModelPolicy(
          c, p, tok, sampling.SamplingSettings(temperature=1.0, max_new_tokens=1))),
      on_round=lambda step, row: rows.append(row), trainer_cls=CheckedTrainer)
  judge = TokenJudge(())  # its targets are set once the policy exists (CheckedTrainer._build)
  monkeypatch.setattr(launch, "build_judge", lambda spec=None: contextlib.nullcontext(judge))
  start = time.monotonic()
  report = job.run()
  return job.trainer, rows, report, time.monotonic() - start


def test_rl_loop_raises_reward_and_keeps_its_invariants(tmp_path, monkeypatch):
  trainer, rows, report, seconds = _run(tmp_path, monkeypatch)
  solve = [r["train/solve_rate"] for r in rows]
  print(f"solve rate per round: {[round(s, 3) for s in solve]} ({seconds:.0f} s)")
  for k, c in enumerate(trainer.checks):
    print(k, {n: round(v, 5) for n, v in c.items() if n != "reported"},
          {n: round(c["reported"][n], 5) for n in
           ("policy_loss", "is_weight_mean", "is_weight_max", "approx_kl")})
  assert report["optimizer_steps"] == ROUNDS == len(trainer.checks)
  # Headline: reward in reach at the start, clearly raised within a few rounds.
  assert 0.15 <= np.mean(solve[:2]) <= 0.55, solve
  assert np.mean(solve[-2:]) >= 0.8, solve
  assert np.mean(solve[-2:]) - np.mean(solve[:2]) >= 0.4, solve

  checks = trainer.checks
  for k, c in enumerate(checks):
    got = c["reported"]
    where = f"update {k}: {c}"
    assert c["response_tokens"] == c["episodes"] == PROBLEMS * 4, where  # one token each
    # pi_b: the batch's behaviour log-probs are those of the params that sampled it.
    assert c["behaviour_err"] < 1e-4, where
    # One optimizer step per round: the metrics are measured at pi = pi_old.
    assert abs(got["approx_kl"]) < 1e-6 and got["clip_frac"] == 0.0, where
    np.testing.assert_allclose(got["is_weight_mean"], c["is_weight_mean"], rtol=1e-4,
                               err_msg=where)
    np.testing.assert_allclose(got["is_weight_max"], c["is_weight_max"], rtol=1e-4,
                               err_msg=where)
    # The loss with the truncated weight min(pi_old / pi_b, 1), in every round whose
    # rewards differ (with equal rewards the normalised advantages are noise).
    if 0 < c["solved"] < c["episodes"]:
      np.testing.assert_allclose(got["policy_loss"], c["policy_loss"], atol=1e-5,
                                 err_msg=where)
  # Round 0 is synchronous (rounds 0 and 1 both sample P_0): every weight is 1.
  assert abs(checks[0]["is_weight_min"] - 1) < 1e-4 and abs(checks[0]["is_weight_max"] - 1) < 1e-4
  # From round 1 on the behaviour policy is stale, and visibly so: the weights matter.
  assert min(c["is_weight_min"] for c in checks[1:]) < 0.9, checks
  assert sum(0 < c["solved"] < c["episodes"] for c in checks[1:]) >= 3, checks


def test_every_mutation_still_applies():
  """tools/mutation_check.sh shows this test failing on each mutation; a patch
  that no longer applies to the tree would silently test nothing."""
  root = pathlib.Path(__file__).resolve().parent.parent
  if shutil.which("git") is None or not (root / ".git").exists():
    pytest.skip("needs git and a git checkout to check the patches (git apply --check)")
  patches = sorted((root / "tests" / "mutations").glob("*.patch"))
  assert len(patches) >= 4
  for patch in patches:
    proc = subprocess.run(["git", "apply", "--check", str(patch)], cwd=root,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{patch.name} no longer applies: {proc.stderr}"

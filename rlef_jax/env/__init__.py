"""The RLEF environment: prompts, code extraction, feedback, token-level
dialogs and batched multi-turn rollouts with execution feedback (docs/env.md).

Example:

    from rlef_jax.env import feedback, policy, rollout
    pol = policy.ScriptedPolicy(lambda row, turn, msgs: "```python\\nprint(1)\\n```", tok)
    out = rollout.run_episodes(pol, rows, judge, tok, rollout.EnvConfig(), jax.random.key(0))
"""

from rlef_jax.env import (cache, code, config, dialog, feedback, policy, records, rollout, tasks,
                          templates)
from rlef_jax.env.cache import JudgeClient, VerdictCache
from rlef_jax.env.policy import Context, ModelPolicy, Policy, Sample, ScriptedPolicy
from rlef_jax.env.config import EnvConfig
from rlef_jax.env.rollout import EpisodeRecord, RolloutResult, run_episodes

__all__ = ["Context", "EnvConfig", "EpisodeRecord", "JudgeClient", "ModelPolicy", "Policy",
           "RolloutResult", "Sample", "ScriptedPolicy", "VerdictCache", "cache", "code", "config",
           "dialog", "feedback", "policy", "records", "rollout", "run_episodes", "tasks",
           "templates"]

"""The RLEF learning rule (docs/ppo.md).

`ppo`: the PPO losses, turn returns, per-turn KL, advantages and diagnostics as
pure functions; `update`: the jitted, sharded update of policy and value nets.
"""

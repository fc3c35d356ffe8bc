"""The RLEF learning rule: PPO losses, returns/advantages, the jitted update."""

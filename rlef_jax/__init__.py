"""rlef_jax: RLEF (reinforcement learning from execution feedback) in JAX.

Every sub-module imports on its own; nothing here pulls in TensorFlow, torch
or the sandbox. See README.md for the architecture map.
"""

__version__ = "0.1.0"

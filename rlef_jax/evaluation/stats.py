"""Bootstrap confidence intervals over problems.

A solve rate is the mean of per-problem estimates; its interval resamples the
problems with replacement (the paper: 200 resamples, 95%), seeded so a report
is reproducible. Percentile intervals.

Example:

    from rlef_jax.evaluation import stats
    lo, hi = stats.bootstrap_ci([0.0, 1.0, 0.5, 1.0], resamples=200, seed=0)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

RESAMPLES = 200
LEVEL = 0.95


def bootstrap_ci(values: Sequence[float], resamples: int = RESAMPLES, seed: int = 0,
                 level: float = LEVEL) -> tuple[float, float]:
  """Percentile bootstrap interval of the mean of `values` (one per problem).

  Raises:
    ValueError: no values, resamples < 1, or a level outside (0, 1).
  """
  values = np.asarray(values, dtype=np.float64)
  if values.ndim != 1 or values.size == 0:
    raise ValueError("a bootstrap interval needs at least one per-problem value")
  if resamples < 1 or not 0.0 < level < 1.0:
    raise ValueError(f"need resamples >= 1 and 0 < level < 1, not {resamples}, {level}")
  rng = np.random.default_rng(seed)
  picks = rng.integers(0, values.size, size=(resamples, values.size))
  means = values[picks].mean(axis=1)
  tail = (1.0 - level) / 2.0
  lo, hi = np.quantile(means, [tail, 1.0 - tail])
  return float(lo), float(hi)


def paired_difference(a: Sequence[float], b: Sequence[float], resamples: int = RESAMPLES,
                      seed: int = 0, level: float = LEVEL) -> tuple[float, tuple[float, float]]:
  """(mean(a - b), percentile interval) with the same problems resampled for both.

  `a[i]` and `b[i]` are two estimates on problem i (two checkpoints, or two
  modes); pairing removes the between-problem variance the two share.
  """
  if len(a) != len(b):
    raise ValueError(f"paired values need equal lengths, not {len(a)} and {len(b)}")
  diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
  return float(diff.mean()) if diff.size else 0.0, bootstrap_ci(diff, resamples, seed, level)

"""Solve-rate estimators: pass@k and AlphaCode's n@k for multi-turn rollouts.

Both are exact expectations computed from N samples of one problem (no subset
is enumerated), unbiased for the rate of a policy that draws k fresh samples.

n@k in the multi-turn setting (docs/evaluation.md): every model response is a
sample, so a budget of k samples is `m = k // turns` rollouts of up to `turns`
turns; each rollout offers one submission, its last response (the earlier ones
failed the public tests, else the dialog would have stopped). Of the m
candidates, n are submitted: those whose code passed the public tests first,
ties broken uniformly at random; the problem counts as solved when a submitted
one passes the scoring tests. 1@3 = one rollout of up to 3 turns; 10@100 = 33
rollouts, 10 submissions.

Example:

    from rlef_jax.evaluation import metrics
    metrics.pass_at_k(n=200, c=13, k=10)                    # ~0.50
    metrics.n_at_k(public=[1, 1, 0, 0], solved=[0, 1, 0, 1], n=1, k=6, turns=3)  # 0.5
    metrics.parse_metric("turn_limit=5:1@5")    # Metric(n=1, k=5, turn_limit=5)
"""

from __future__ import annotations

import dataclasses
import math
import re
from fractions import Fraction
from typing import Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
  """Unbiased pass@k from n samples of which c are correct: 1 - C(n-c, k) / C(n, k).

  Computed as a product of k-free ratios, stable for any n (Chen et al. 2021).

  Raises:
    ValueError: k < 1, k > n, or c outside [0, n].
  """
  n, c, k = int(n), int(c), int(k)
  if k < 1:
    raise ValueError(f"pass@k needs k >= 1, not {k}")
  if k > n:
    raise ValueError(f"pass@{k} needs at least {k} samples, the problem has {n}")
  if not 0 <= c <= n:
    raise ValueError(f"correct count {c} is outside [0, {n}]")
  if n - c < k:
    return 1.0
  fail = 1.0
  for i in range(n - c + 1, n + 1):
    fail *= 1.0 - k / i
  return 1.0 - fail


def n_at_k(public: Sequence[bool], solved: Sequence[bool], n: int, k: int,
           turns: int = 1) -> float:
  """Expected n@k of one problem from its rollouts (each already cut at `turns`).

  Args:
    public: per rollout, whether its last response passed the public tests.
    solved: per rollout, whether its last response passed the scoring tests.
    n: submissions.
    k: the sample budget; `k // turns` rollouts are drawn without replacement.
    turns: the turn limit of a rollout (1 = independent single-turn samples).

  Returns:
    The probability that, for m = k // turns rollouts drawn uniformly from the
    given ones and n of them submitted (public-passing first, random ties), a
    submission is solved. It averages the submission rule over every m-subset
    and every tie order, so it is unbiased for m fresh rollouts.

  Raises:
    ValueError: bad n, k, turns, lengths, or fewer rollouts than k // turns.
  """
  if len(public) != len(solved):
    raise ValueError(f"{len(public)} public verdicts but {len(solved)} solved flags")
  if n < 1 or turns < 1:
    raise ValueError(f"n@k needs n >= 1 and turns >= 1, not n={n}, turns={turns}")
  m = k // turns
  if m < 1:
    raise ValueError(f"budget k={k} buys no rollout of {turns} turns")
  total = len(public)
  if m > total:
    raise ValueError(f"{n}@{k} with {turns} turns needs {m} rollouts per problem, "
                     f"the problem has {total}")
  public = [bool(p) for p in public]
  solved = [bool(s) for s in solved]
  a = sum(public)                                   # public-passing rollouts
  a_good = sum(p and s for p, s in zip(public, solved))
  b = total - a
  b_good = sum(s for p, s in zip(public, solved) if not p)
  n = min(n, m)
  fail = Fraction(0)
  # j public-passing rollouts among the m drawn (hypergeometric). The submitted
  # public-passing ones are a uniform min(j, n)-subset of all a of them, the rest
  # a uniform (n - j)-subset of the b failing ones, independently.
  for j in range(max(0, m - b), min(a, m) + 1):
    weight = Fraction(math.comb(a, j) * math.comb(b, m - j), math.comb(total, m))
    take_a, take_b = min(j, n), max(0, n - j)
    fail += (weight * _none_good(a, a_good, take_a) * _none_good(b, b_good, take_b))
  return float(1 - fail)


def _none_good(size: int, good: int, take: int) -> Fraction:
  """P(a uniform `take`-subset of `size` items holds none of the `good` ones)."""
  return Fraction(math.comb(size - good, take), math.comb(size, take))


@dataclasses.dataclass(frozen=True)
class Metric:
  """A parsed metric name: n submissions from k samples at a turn limit.

  `turn_limit=None` means the mode's own turn limit (independent sampling: 1);
  pass@k is k@k at turn limit 1 (the first responses only).
  """
  n: int
  k: int
  turn_limit: int | None = None
  name: str = ""

  def turns(self, mode_turns: int, max_turns: int | None = None) -> int:
    """The turn limit this metric cuts rollouts at, given the mode's limit.

    Raises:
      ValueError: the cut is past `max_turns`, the turns the rollouts ran.
    """
    limit = mode_turns if self.turn_limit is None else self.turn_limit
    if max_turns is not None and limit > max_turns:
      raise ValueError(f"metric {self.name!r} cuts rollouts at {limit} turns but the "
                       f"rollouts have at most {max_turns}")
    return limit


_N_AT_K = re.compile(r"^(?:turn_limit=(\d+):)?(\d+)@(\d+)$")
_PASS_AT_K = re.compile(r"^pass@(\d+)$")
GRAMMAR = '"n@k" (e.g. "1@3", "10@100"), "pass@k", or "turn_limit=t:n@k" (e.g. "turn_limit=5:1@5")'


def parse_metric(name: str) -> Metric:
  """Parses "1@3", "10@100", "pass@1", "turn_limit=5:1@5".

  Raises:
    ValueError: an unknown metric name, or one with n, k or t below 1 or n > k.
  """
  if not isinstance(name, str):
    raise ValueError(f"a metric is a string like {GRAMMAR}, not {name!r}")
  if match := _PASS_AT_K.match(name):
    k = int(match[1])
    metric = Metric(n=k, k=k, turn_limit=1, name=name)
  elif match := _N_AT_K.match(name):
    limit = int(match[1]) if match[1] is not None else None
    metric = Metric(n=int(match[2]), k=int(match[3]), turn_limit=limit, name=name)
  else:
    raise ValueError(f"unknown metric {name!r}; known forms: {GRAMMAR}")
  limit = 1 if metric.turn_limit is None else metric.turn_limit
  if min(metric.n, metric.k, limit) < 1 or metric.n > metric.k:
    raise ValueError(f"metric {name!r} needs 1 <= n <= k and a turn limit >= 1")
  return metric

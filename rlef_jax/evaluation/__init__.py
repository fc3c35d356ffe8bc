"""Evaluation: n@k estimators, bootstrap intervals, the eval driver, reports, plots.

Modules import on their own: `metrics` and `stats` need only numpy; `driver`
runs episodes through `rlef_jax.env`; `report` recomputes every solve rate
(and the paired differences) from `rollouts.jsonl`; `plots` draws them with
matplotlib; `job` is the gin edge (`python -m rlef_jax.main` job "eval");
`python -m rlef_jax.evaluation W --check` re-derives a workdir. See
docs/evaluation.md.

Example:

    from rlef_jax.evaluation import metrics
    metrics.n_at_k(public=[1, 0, 0], solved=[1, 0, 1], n=1, k=3, turns=3)   # 2/3
"""

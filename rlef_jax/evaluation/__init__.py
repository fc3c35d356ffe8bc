"""Evaluation: n@k estimators, bootstrap intervals, the eval driver, reports, plots.

Modules import on their own: `metrics` and `stats` need only numpy; `driver`
runs episodes through `rlef_jax.env`; `report` recomputes every solve rate
from `rollouts.jsonl`; `plots` draws them with matplotlib; `job` is the gin
edge (`python -m rlef_jax.main` job "eval"). See docs/evaluation.md.
"""

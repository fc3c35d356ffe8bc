"""Solve-rate rows from per-rollout records, and the files a report is made of.

Everything a report says is a function of `rollouts.jsonl`: each line is one
episode's `EpisodeRecord.to_json()` plus the keys this package adds (`eval`,
`checkpoint`, `split`, `mode`, `rollout`, `turn_limit`, `max_turns`,
`temperature`, `top_p`). `solve_rates(records, evals)` turns them into the
`report["solve_rates"]` rows (DESIGN.md):

    {"checkpoint", "split", "mode", "metric", "value", "ci95": [lo, hi],
     "problems", "rollouts"}

`value` is the mean over problems of the per-problem estimate
(`metrics.n_at_k`), `ci95` the seeded bootstrap over problems, `problems` the
problems averaged and `rollouts` the episode records behind the row (dropped
episodes excluded).

Example:

    from rlef_jax.evaluation import report
    records = report.read_rollouts("runs/eval/rollouts.jsonl")
    saved = json.load(open("runs/eval/report.json"))
    rows = report.solve_rates(records, saved["evals"])
"""

from __future__ import annotations

import collections
import json
import pathlib
from typing import Any, Iterable, Mapping, Sequence

from rlef_jax.evaluation import metrics, stats

MODES = ("multi_turn", "independent", "random_feedback", "no_feedback")
ROW_KEYS = ("checkpoint", "split", "mode", "metric", "value", "ci95", "problems", "rollouts")
ACCEPTED = "accepted"


def _accepted(outcome: Mapping[str, Any] | None) -> bool:
  return outcome is not None and outcome.get("verdict") == ACCEPTED


def cut(record: Mapping[str, Any], turns: int) -> tuple[bool, bool]:
  """(public passed, solved) of the rollout's last response within `turns` turns.

  A rollout that ended earlier (its public tests passed) keeps its last turn.

  Raises:
    ValueError: the record has no turns, or the response needed has no scoring
      verdict (run the environment with `score_every_turn=True`).
  """
  responses = record["turns"]
  if not responses:
    raise ValueError(f"episode {record.get('episode')!r} of {record.get('problem')!r} has no turns")
  index = min(turns, len(responses)) - 1
  turn = responses[index]
  score = turn.get("score")
  if score is None and index == len(responses) - 1:
    score = record.get("final")
  if score is None:
    if not turn.get("valid", False):  # no code, or code that does not compile: never judged
      return False, False
    raise ValueError(f"turn {index + 1} of episode {record.get('episode')!r} "
                     f"({record.get('problem')!r}) has no scoring verdict: evaluate with "
                     "EnvConfig(score_every_turn=True)")
  # Every response with code runs on the public tests (the last one too).
  return _accepted(turn.get("public")), _accepted(score)


def problem_values(records: Sequence[Mapping[str, Any]], metric: metrics.Metric,
                   mode_turns: int) -> tuple[dict[str, float], int]:
  """({problem: n@k estimate}, rollouts used) for one mode's records."""
  turns = metric.turns(mode_turns)
  by_problem: dict[str, list[tuple[bool, bool]]] = collections.defaultdict(list)
  used = 0
  for record in records:
    if record.get("dropped"):
      continue
    ran = record.get("max_turns", mode_turns)
    if turns > ran:
      raise ValueError(f"metric {metric.name!r} cuts at {turns} turns but episode "
                       f"{record.get('episode')!r} ran with at most {ran}")
    by_problem[record["problem"]].append(cut(record, turns))
    used += 1
  values = {}
  for name in sorted(by_problem):
    public, solved = zip(*by_problem[name])
    try:
      values[name] = metrics.n_at_k(public, solved, n=metric.n, k=metric.k, turns=turns)
    except ValueError as e:
      raise ValueError(f"{metric.name} on problem {name!r}: {e}") from e
  return values, used


def row(records: Sequence[Mapping[str, Any]], metric_name: str, *, mode_turns: int,
        checkpoint: str, split: str, mode: str, seed: int = 0,
        resamples: int = stats.RESAMPLES) -> dict[str, Any]:
  """One `report["solve_rates"]` row from the records of one (checkpoint, split, mode)."""
  if mode not in MODES:
    raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
  metric = metrics.parse_metric(metric_name)
  values, used = problem_values(records, metric, mode_turns)
  if not values:
    raise ValueError(f"no undropped rollouts for {checkpoint}/{split}/{mode}")
  per_problem = list(values.values())
  lo, hi = stats.bootstrap_ci(per_problem, resamples=resamples, seed=seed)
  return {"checkpoint": checkpoint, "split": split, "mode": mode, "metric": metric_name,
          "value": sum(per_problem) / len(per_problem), "ci95": [lo, hi],
          "problems": len(per_problem), "rollouts": used}


def solve_rates(records: Iterable[Mapping[str, Any]],
                evals: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
  """Every row the evals ask for, in a stable order.

  Args:
    records: rollouts.jsonl lines (any mix of evals, checkpoints, splits, modes).
    evals: `report["evals"]`: per eval name, `{"metrics": {mode: [names]},
      "turn_limit": t, "seed": s, "bootstrap_resamples": r}`.
  """
  groups: dict[tuple, list] = collections.defaultdict(list)
  for record in records:
    groups[record["eval"], record["checkpoint"], record["split"], record["mode"]].append(record)
  rows, seen = [], {}
  for (name, checkpoint, split, mode), group in groups.items():
    if name not in evals:
      raise ValueError(f"rollouts of eval {name!r} but the report describes only {sorted(evals)}")
    spec = evals[name]
    mode_turns = 1 if mode == "independent" else int(spec["turn_limit"])
    for metric_name in spec["metrics"].get(mode, ()):
      new = row(group, metric_name, mode_turns=mode_turns, checkpoint=checkpoint, split=split,
                mode=mode, seed=int(spec.get("seed", 0)),
                resamples=int(spec.get("bootstrap_resamples", stats.RESAMPLES)))
      key = tuple(new[k] for k in ROW_KEYS[:4])
      if key in seen:
        raise ValueError(f"two evals ({seen[key]!r}, {name!r}) both report {key}; give them "
                         "different metrics or checkpoint names")
      seen[key] = name
      rows.append(new)
  return rows


def comparisons(records: Iterable[Mapping[str, Any]], evals: Mapping[str, Mapping[str, Any]]
                ) -> list[dict[str, Any]]:
  """Paired differences behind the paper's claims, per eval, split and requested metric.

  Within a checkpoint: multi_turn minus each other mode; across checkpoints:
  each later checkpoint minus the first, per mode. Each difference is over the
  problems both sides evaluated, with a paired bootstrap interval:
  `{"metric", "split", "a": [checkpoint, mode], "b": [...], "difference",
  "ci95", "problems"}`.
  """
  groups: dict[tuple, list] = collections.defaultdict(list)
  for record in records:
    groups[record["eval"], record["split"], record["checkpoint"], record["mode"]].append(record)
  out = []
  for name, spec in evals.items():
    splits = list(dict.fromkeys(k[1] for k in groups if k[0] == name))
    for split in splits:
      have = [(k[2], k[3]) for k in groups if k[:2] == (name, split)]
      checkpoints = list(dict.fromkeys(c for c, _ in have))
      pairs = [((c, "multi_turn"), (c, m)) for c in checkpoints for m in MODES
               if m != "multi_turn" and (c, m) in have and (c, "multi_turn") in have]
      pairs += [((c, m), (checkpoints[0], m)) for c in checkpoints[1:] for m in MODES
                if (c, m) in have and (checkpoints[0], m) in have]
      for metric_name in spec.get("requested_metrics", ()):
        metric = metrics.parse_metric(metric_name)
        for a, b in pairs:
          values = []
          for checkpoint, mode in (a, b):
            if metric_name not in spec["metrics"].get(mode, ()):
              break
            mode_turns = 1 if mode == "independent" else int(spec["turn_limit"])
            values.append(problem_values(groups[name, split, checkpoint, mode], metric,
                                         mode_turns)[0])
          if len(values) < 2:
            continue
          shared = sorted(set(values[0]) & set(values[1]))
          if not shared:
            continue
          diff, ci = stats.paired_difference([values[0][p] for p in shared],
                                             [values[1][p] for p in shared],
                                             int(spec.get("bootstrap_resamples", stats.RESAMPLES)),
                                             int(spec.get("seed", 0)))
          out.append({"metric": metric_name, "split": split, "a": list(a), "b": list(b),
                      "difference": diff, "ci95": list(ci), "problems": len(shared)})
  return out


def format_comparisons(rows: Sequence[Mapping[str, Any]]) -> str:
  """A Markdown table of `comparisons` rows, in percentage points."""
  lines = ["| metric | split | a | b | a - b (points) | 95% CI | problems |",
           "|---|---|---|---|---|---|---|"]
  for r in rows:
    lo, hi = r["ci95"]
    lines.append(f"| {r['metric']} | {r['split']} | {' / '.join(r['a'])} | {' / '.join(r['b'])} "
                 f"| {100 * r['difference']:+.1f} | [{100 * lo:+.1f}, {100 * hi:+.1f}] | "
                 f"{r['problems']} |")
  return "\n".join(lines)


def read_rollouts(path: str | pathlib.Path) -> list[dict[str, Any]]:
  """The records of a rollouts.jsonl file."""
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f if line.strip()]


def append_rollouts(path: str | pathlib.Path, records: Iterable[Mapping[str, Any]]) -> None:
  with open(path, "a", encoding="utf-8") as f:
    for record in records:
      f.write(json.dumps(record) + "\n")


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
  """A Markdown table of rows: value and interval in percent."""
  lines = ["| checkpoint | split | mode | metric | solve rate % | 95% CI | problems | rollouts |",
           "|---|---|---|---|---|---|---|---|"]
  for r in rows:
    lo, hi = r["ci95"]
    lines.append(f"| {r['checkpoint']} | {r['split']} | {r['mode']} | {r['metric']} | "
                 f"{100 * r['value']:.1f} | [{100 * lo:.1f}, {100 * hi:.1f}] | "
                 f"{r['problems']} | {r['rollouts']} |")
  return "\n".join(lines)


CURVES = (("train/reward", "reward"), ("train/solve_rate", "solve rate"),
          ("train/valid_code_rate", "valid-code rate"))


def read_curves(metrics_jsonl: str | pathlib.Path) -> dict[str, list[tuple[int, float]]]:
  """{metric: [(step, value), ...]} of the `CURVES` metrics in a metrics.jsonl."""
  out = {name: [] for name, _ in CURVES}
  for line in pathlib.Path(metrics_jsonl).read_text().splitlines():
    row = json.loads(line)
    for name in out:
      if name in row:
        out[name].append((int(row["step"]), float(row[name])))
  return out


def training_curve(metrics_jsonl: str | pathlib.Path, window: int = 5) -> dict:
  """Per-round training reward / solve rate / valid-code rate, and the mean
  solve rate of the first and last `window` rounds (`rises`: last > first)."""
  curves = read_curves(metrics_jsonl)
  out: dict[str, Any] = {name.split("/", 1)[1]: [v for _, v in points]
                         for name, points in curves.items()}
  solve = out["solve_rate"]
  if len(solve) >= 2 * window:
    first, last = sum(solve[:window]) / window, sum(solve[-window:]) / window
    out.update({"window": window, "first_solve_rate": first, "last_solve_rate": last,
                "rises": bool(last > first)})
  return out


def public_vs_private(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
  """How often passing the public tests meant passing the private ones.

  Over kept episodes: `public_passes` counts those whose last turn passed
  every public test, `solved` those of them solved on the scored tests.
  """
  kept = [r for r in records if not r.get("dropped") and r.get("turns")]
  passes = [r for r in kept
            if (r["turns"][-1].get("public") or {}).get("verdict") == "accepted"]
  solved = sum(bool(r["solved"]) for r in passes)
  return {"episodes": len(kept), "public_passes": len(passes), "solved": solved,
          "private_given_public": solved / len(passes) if passes else None}

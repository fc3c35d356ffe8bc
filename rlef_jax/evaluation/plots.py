"""PNG plots of solve-rate rows (matplotlib, no pyplot state) and a summary page.

Each plot reads only `report["solve_rates"]` rows, so it redraws from any
run's report.json. Every point or bar carries its 95% bootstrap interval.

    solve_rate_vs_turns.png    "turn_limit=t:1@t" against t per (checkpoint,
                               mode); independent sampling's 1@t beside it
    solve_rate_vs_budget.png   n@k against the sample budget k, per n
    before_after.png           the requested metrics, one bar per checkpoint
    intervals.png              every row with its interval
    training_curves.png        (`training_curves`, from a training run's
                               metrics.jsonl) reward, solve rate and
                               valid-code rate per round

Example:

    from rlef_jax.evaluation import plots
    paths = plots.draw_all(report["solve_rates"], "runs/eval")
    plots.write_summary(report["solve_rates"], paths, "runs/eval")
"""

from __future__ import annotations

import collections
import html
import pathlib
import re
from typing import Any, Mapping, Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rlef_jax.evaluation import metrics, report

_TURN = re.compile(r"^turn_limit=(\d+):1@(\d+)$")


def _errors(rows):
  lower = [100 * (r["value"] - r["ci95"][0]) for r in rows]
  upper = [100 * (r["ci95"][1] - r["value"]) for r in rows]
  return [lower, upper]


def _save(fig: Figure, path: pathlib.Path) -> pathlib.Path:
  FigureCanvasAgg(fig)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  return path


def _label(checkpoint, mode):
  return f"{checkpoint} / {mode}"


def vs_turns(rows: Sequence[Mapping[str, Any]], path) -> pathlib.Path | None:
  """Solve rate by turn limit; None when no row has a turn limit."""
  lines = collections.defaultdict(list)
  for r in rows:
    match = _TURN.match(r["metric"])
    if match and match[1] == match[2]:
      lines[r["checkpoint"], r["split"], r["mode"]].append((int(match[1]), r))
    elif r["mode"] == "independent":
      metric = metrics.parse_metric(r["metric"])
      if metric.n == 1 and metric.turn_limit is None:
        lines[r["checkpoint"], r["split"], r["mode"]].append((metric.k, r))
  if not lines:
    return None
  fig = Figure(figsize=(6.4, 4.2))
  ax = fig.add_subplot()
  for (checkpoint, split, mode), points in sorted(lines.items()):
    points.sort(key=lambda p: p[0])
    xs = [p[0] for p in points]
    ax.errorbar(xs, [100 * p[1]["value"] for p in points], yerr=_errors([p[1] for p in points]),
                marker="o", capsize=3, linestyle="--" if mode == "independent" else "-",
                label=f"{_label(checkpoint, mode)} ({split})")
  _int_ticks(ax, [x for points in lines.values() for x, _ in points])
  ax.set_xlabel("turn limit t (samples per rollout; independent: samples)")
  ax.set_ylabel("1@t solve rate (%)")
  ax.set_title("Solve rate vs turns")
  ax.legend(fontsize=7)
  return _save(fig, path)


def _int_ticks(ax, xs):
  ticks = sorted(set(xs))
  ax.set_xticks(ticks)
  ax.set_xticklabels([str(t) for t in ticks])
  ax.minorticks_off()


def vs_budget(rows: Sequence[Mapping[str, Any]], path) -> pathlib.Path | None:
  """n@k (and pass@k) against the sample budget k; one panel per n (pass@k apart)."""
  panels = collections.defaultdict(lambda: collections.defaultdict(list))
  for r in rows:
    metric = metrics.parse_metric(r["metric"])
    if r["metric"].startswith("pass@"):
      panels["pass@k"][r["checkpoint"], r["split"], r["mode"]].append((metric.k, r))
    elif metric.turn_limit is None:
      panels[f"{metric.n}@k"][r["checkpoint"], r["split"], r["mode"]].append((metric.k, r))
  if not panels:
    return None
  kinds = sorted(panels)
  fig = Figure(figsize=(4.6 * len(kinds), 4.2))
  for i, kind in enumerate(kinds):
    ax = fig.add_subplot(1, len(kinds), i + 1)
    xs = []
    for (checkpoint, split, mode), points in sorted(panels[kind].items()):
      points.sort(key=lambda p: p[0])
      xs += [p[0] for p in points]
      ax.errorbar([p[0] for p in points], [100 * p[1]["value"] for p in points],
                  yerr=_errors([p[1] for p in points]), marker="o", capsize=3,
                  label=f"{_label(checkpoint, mode)} ({split})")
    ax.set_xscale("log")
    _int_ticks(ax, xs)
    ax.set_xlabel("sample budget k (model responses)")
    ax.set_ylabel("solve rate (%)")
    ax.set_title(f"{kind} vs budget")
    ax.legend(fontsize=6)
  return _save(fig, path)


def before_after(rows: Sequence[Mapping[str, Any]], path,
                 metric_names: Sequence[str] | None = None) -> pathlib.Path | None:
  """One panel per (split, mode); per metric, one bar per checkpoint."""
  chosen = [r for r in rows if metric_names is None or r["metric"] in metric_names]
  if metric_names is None:
    chosen = [r for r in chosen if not _TURN.match(r["metric"])]
  if not chosen:
    return None
  checkpoints = list(dict.fromkeys(r["checkpoint"] for r in chosen))
  panels = list(dict.fromkeys((r["split"], r["mode"]) for r in chosen))
  index = {(r["checkpoint"], r["split"], r["mode"], r["metric"]): r for r in chosen}
  fig = Figure(figsize=(3.6 * len(panels), 4.0))
  width = 0.8 / len(checkpoints)
  for p, (split, mode) in enumerate(panels):
    ax = fig.add_subplot(1, len(panels), p + 1)
    names = list(dict.fromkeys(r["metric"] for r in chosen if (r["split"], r["mode"]) == (split, mode)))
    for c, checkpoint in enumerate(checkpoints):
      xs, bars = [], []
      for g, name in enumerate(names):
        if (checkpoint, split, mode, name) in index:
          xs.append(g + c * width)
          bars.append(index[checkpoint, split, mode, name])
      ax.bar(xs, [100 * b["value"] for b in bars], width, yerr=_errors(bars), capsize=3,
             label=checkpoint)
    ax.set_xticks([g + 0.4 - width / 2 for g in range(len(names))])
    ax.set_xticklabels(names, fontsize=7, rotation=30)
    ax.set_ylim(0, 100)
    ax.set_title(f"{mode} ({split})", fontsize=9)
    if p == 0:
      ax.set_ylabel("solve rate (%)")
      ax.legend(fontsize=7, title="checkpoint", title_fontsize=7)
  fig.suptitle("Before / after: solve rates by checkpoint")
  return _save(fig, path)


def intervals(rows: Sequence[Mapping[str, Any]], path) -> pathlib.Path | None:
  """Every row as a point with its interval bar."""
  if not rows:
    return None
  fig = Figure(figsize=(7.0, max(2.5, 0.28 * len(rows) + 1.0)))
  ax = fig.add_subplot()
  ys = list(range(len(rows)))[::-1]
  ax.errorbar([100 * r["value"] for r in rows], ys, xerr=_errors(rows), fmt="o", capsize=3)
  ax.set_yticks(ys)
  ax.set_yticklabels([f"{r['checkpoint']} {r['mode']} {r['metric']} ({r['split']})"
                      for r in rows], fontsize=7)
  ax.set_xlabel("solve rate (%) with 95% bootstrap interval")
  ax.set_title("All solve rates")
  return _save(fig, path)


def draw_all(rows: Sequence[Mapping[str, Any]], folder: str | pathlib.Path,
             metric_names: Sequence[str] | None = None) -> dict[str, pathlib.Path]:
  """Draws every plot the rows allow into `folder`; {name: path}."""
  folder = pathlib.Path(folder)
  folder.mkdir(parents=True, exist_ok=True)
  drawn = {
      "solve_rate_vs_turns": vs_turns(rows, folder / "solve_rate_vs_turns.png"),
      "solve_rate_vs_budget": vs_budget(rows, folder / "solve_rate_vs_budget.png"),
      "before_after": before_after(rows, folder / "before_after.png", metric_names),
      "intervals": intervals(rows, folder / "intervals.png"),
  }
  return {name: path for name, path in drawn.items() if path is not None}


def write_summary(rows: Sequence[Mapping[str, Any]], images: Mapping[str, pathlib.Path],
                  folder: str | pathlib.Path, title: str = "rlef_jax evaluation",
                  comparisons: Sequence[Mapping[str, Any]] = ()
                  ) -> tuple[pathlib.Path, pathlib.Path]:
  """summary.md and summary.html beside the plots: the tables, then each image."""
  folder = pathlib.Path(folder)
  names = {name: pathlib.Path(p).name for name, p in images.items()}
  md = [f"# {title}", "", report.format_table(rows), ""]
  if comparisons:
    md += ["## Paired differences", "", report.format_comparisons(comparisons), ""]
  md += [f"![{name}]({file})" for name, file in names.items()]
  md_path = folder / "summary.md"
  md_path.write_text("\n".join(md) + "\n", encoding="utf-8")
  head = "".join(f"<th>{h}</th>" for h in ("checkpoint", "split", "mode", "metric",
                                           "solve rate %", "95% CI", "problems", "rollouts"))
  body = "".join(
      "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
          r["checkpoint"], r["split"], r["mode"], r["metric"], f"{100 * r['value']:.1f}",
          f"[{100 * r['ci95'][0]:.1f}, {100 * r['ci95'][1]:.1f}]", r["problems"],
          r["rollouts"])) + "</tr>" for r in rows)
  if comparisons:
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
            c["metric"], c["split"], " / ".join(c["a"]), " / ".join(c["b"]),
            f"{100 * c['difference']:+.1f}",
            f"[{100 * c['ci95'][0]:+.1f}, {100 * c['ci95'][1]:+.1f}]", c["problems"])) + "</tr>"
        for c in comparisons)
    body_diff = ("<h2>Paired differences (points)</h2><table border='1'><tr><th>metric</th>"
                 "<th>split</th><th>a</th><th>b</th><th>a - b</th><th>95% CI</th>"
                 f"<th>problems</th></tr>{cells}</table>")
  else:
    body_diff = ""
  images_html = "".join(f'<h2>{html.escape(name)}</h2><img src="{html.escape(file)}">'
                        for name, file in names.items())
  page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
          f"</title></head><body><h1>{html.escape(title)}</h1><table border='1'>"
          f"<tr>{head}</tr>{body}</table>{body_diff}{images_html}</body></html>\n")
  html_path = folder / "summary.html"
  html_path.write_text(page, encoding="utf-8")
  return md_path, html_path


def training_curves(metrics_jsonl: str | pathlib.Path, path, window: int = 5
                    ) -> pathlib.Path | None:
  """Per-round training reward, solve rate and valid-code rate, each with its
  running mean over `window` rounds; None when the file has no rounds."""
  curves = report.read_curves(metrics_jsonl)
  if not any(curves.values()):
    return None
  fig = Figure(figsize=(10.5, 3.4))
  for i, (name, label) in enumerate(report.CURVES):
    ax = fig.add_subplot(1, len(report.CURVES), i + 1)
    points = curves[name]
    if points:
      xs, ys = zip(*points)
      ax.plot(xs, ys, marker=".", linewidth=0.8, alpha=0.6, label="per round")
      if len(ys) >= window:
        run = [sum(ys[j - window + 1:j + 1]) / window for j in range(window - 1, len(ys))]
        ax.plot(xs[window - 1:], run, linewidth=2, label=f"mean of {window}")
      ax.legend(fontsize=7)
    ax.set_xlabel("RLEF round")
    ax.set_title(label)
  return _save(fig, pathlib.Path(path))

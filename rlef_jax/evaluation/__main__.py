"""Recompute an eval workdir's report from its rollouts.jsonl and redraw its plots.

    python -m rlef_jax.evaluation runs/eval_1at3            # rows, comparisons, plots, summary
    python -m rlef_jax.evaluation runs/eval_1at3 --check    # exit 1 if report.json disagrees

The recomputed rows replace nothing unless `--write` is given; the plots and
summary are always redrawn from the recomputed rows.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

from rlef_jax.evaluation import plots, report


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("workdir", type=pathlib.Path)
  parser.add_argument("--check", action="store_true",
                      help="exit 1 when report.json's rows differ from the recomputed ones")
  parser.add_argument("--write", action="store_true",
                      help="write the recomputed rows and comparisons into report.json")
  args = parser.parse_args(argv)
  report_path = args.workdir / "report.json"
  saved = json.loads(report_path.read_text())
  records = report.read_rollouts(args.workdir / "rollouts.jsonl")
  rows = report.solve_rates(records, saved["evals"])
  comparisons = report.comparisons(records, saved["evals"])
  print(report.format_table(rows))
  images = plots.draw_all(rows, args.workdir)
  plots.write_summary(rows, images, args.workdir, comparisons=comparisons)
  if args.write:
    report_path.write_text(json.dumps({**saved, "solve_rates": rows, "comparisons": comparisons},
                                      indent=2) + "\n")
  if args.check and (rows != saved.get("solve_rates") or
                     comparisons != saved.get("comparisons", comparisons)):
    print(f"{report_path}: solve_rates differ from those recomputed from rollouts.jsonl",
          file=sys.stderr)
    return 1
  return 0


if __name__ == "__main__":
  sys.exit(main())

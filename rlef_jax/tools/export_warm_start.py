"""Exports a finished `sft` run as the shipped warm start, with its provenance.

The CPU demo starts RLEF from a warm start ("instruct" model) trained by the
project's own `sft` job from `gin/tiny_sft.gin`, as the paper starts from
Llama 3.1 Instruct. This tool writes it as a Hugging Face folder
(`config.json` + `model.safetensors`, read back by `checkpoints.load_hf_llama`
and by `ModelSpec.weights = "tiny-warm-start"`) and a `provenance.json` that
ties it to its recipe: the recipe and its SHA-256, the operative gin
bindings, the generator's version and seeds, the git commit, steps, tokens
seen (replayed from `sft.batch_indices`, a pure function of the step), the
final training loss, the loss on a fixed batch (the recipe's first
`FIXED_BATCH` dialogs; `tests/test_warm_start.py` recomputes it), wall time,
machine, and, with `--eval_report`, the measured solve rates.

    python -m rlef_jax.main --gin_file=gin/tiny_sft.gin --workdir=runs/warm_start
    python -m rlef_jax.tools.export_warm_start --workdir=runs/warm_start \\
        --out=rlef_jax/assets/warm_start

Example (library use):

    from rlef_jax.tools import export_warm_start as ews
    prov = ews.export("runs/warm_start", "gin/tiny_sft.gin", "/tmp/warm_start")
    print(prov["tokens_seen"], prov["fixed_batch_loss"])
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import platform
import subprocess
import sys
from typing import Any, Sequence

import gin
import jax
import numpy as np

from rlef_jax import jobs  # noqa: F401  (registers every configurable the recipe binds)
from rlef_jax import launch
from rlef_jax.checkpoints import hf, state
from rlef_jax.data import synthetic
from rlef_jax.rl import sft
from rlef_jax.sampling import bucket_length

FIXED_BATCH = 16
ROOT = pathlib.Path(__file__).resolve().parents[2]


def sha256(path: str | pathlib.Path) -> str:
  return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def parse_recipe(recipe: str | pathlib.Path, bindings: Sequence[str] = ()) -> None:
  """Parses `recipe` (and base.gin from its folder) into gin's global config."""
  gin.clear_config()
  gin.add_config_file_search_path(str(pathlib.Path(recipe).resolve().parent))
  gin.parse_config_files_and_bindings([str(recipe)], list(bindings))


def recipe_dialogs(cfg: sft.SFTConfig) -> list[list[dict]]:
  """The dialogs the recipe's `sft` job trained on."""
  rows = launch.load_problems(cfg.task) if sft.source_needs_rows(cfg.source) else None
  return sft.load_dialogs(cfg, rows)


def fixed_batch(cfg: sft.SFTConfig, tokenizer, dialogs: Sequence[Any]) -> dict[str, np.ndarray]:
  """The first `FIXED_BATCH` kept dialogs of the recipe, padded as `sft` pads them."""
  kept = [d for d in dialogs if len(sft.encode(tokenizer, d)[0]) <= cfg.max_len]
  return sft.encode_batch(tokenizer, kept[:FIXED_BATCH], cfg.max_len)


def fixed_batch_loss(config, params, batch: dict[str, np.ndarray]) -> float:
  return float(jax.jit(lambda p, t, m: sft.loss(config, p, t, m))(
      params, batch["tokens"], batch["loss_mask"]))


def tokens_seen(cfg: sft.SFTConfig, tokenizer, dialogs: Sequence[Any]) -> dict[str, int]:
  """Real, padded and target tokens the run's `cfg.steps` batches held."""
  encoded = [sft.encode(tokenizer, d) for d in dialogs]
  kept = [(len(ids), int(np.sum(m))) for ids, m in encoded if len(ids) <= cfg.max_len]
  lengths = [n for n, _ in kept]
  top = bucket_length(max(lengths), 64)
  real = padded = target = 0
  for step in range(cfg.steps):
    idx = sft.batch_indices(len(kept), cfg.batch_size, step, cfg.seed, lengths,
                            cfg.length_groups)
    real += sum(lengths[i] for i in idx)
    target += sum(kept[i][1] for i in idx)
    width = (min(bucket_length(max(lengths[i] for i in idx), 64), top) if cfg.length_groups
             else top)
    padded += width * len(idx)
  return {"tokens_seen": real, "padded_tokens": padded, "target_tokens": target,
          "dialogs": len(dialogs), "dialogs_kept": len(kept),
          "dialog_views": cfg.steps * cfg.batch_size}


def _git() -> dict[str, Any]:
  def run(*args):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False).stdout.strip()
  return {"commit": run("rev-parse", "HEAD"), "dirty": bool(run("status", "--porcelain"))}


def _machine() -> dict[str, Any]:
  cpu = ""
  try:
    cpu = next((line.split(":", 1)[1].strip() for line in
                pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "")
  except OSError:
    pass
  return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(),
          "python": platform.python_version(), "jax": jax.__version__,
          "platform": jax.default_backend()}


def export(workdir: str | pathlib.Path, recipe: str | pathlib.Path, out: str | pathlib.Path,
           bindings: Sequence[str] = (),
           eval_report: str | pathlib.Path | Sequence[str | pathlib.Path] | None = None,
           notes: Sequence[str] = ()) -> dict[str, Any]:
  """Writes `out` (HF folder + provenance.json) from the `sft` run in `workdir`."""
  workdir, out = pathlib.Path(workdir), pathlib.Path(out)
  report = json.loads((workdir / "report.json").read_text())
  if report.get("job") != "sft" or not report.get("ok"):
    raise ValueError(f"{workdir}: not a finished sft run (report.json job/ok)")
  parse_recipe(recipe, bindings)
  cfg, spec = launch.SFTConfig(), launch.ModelSpec()
  if report["steps"] != cfg.steps:
    raise ValueError(f"{workdir} ran {report['steps']} steps, the recipe says {cfg.steps}")
  config, params = state.load_policy(workdir)
  tokenizer = launch.build_tokenizer(spec)
  dialogs = recipe_dialogs(cfg)
  counts = tokens_seen(cfg, tokenizer, dialogs)
  loss = fixed_batch_loss(config, params, fixed_batch(cfg, tokenizer, dialogs))
  hf.save_hf_llama(out, config, params)
  operative = (workdir / "operative_config.gin").read_text()
  prov = {
      "name": "tiny-warm-start",
      "recipe": os.path.relpath(pathlib.Path(recipe).resolve(), ROOT),
      "recipe_sha256": sha256(recipe),
      "base_sha256": sha256(pathlib.Path(recipe).resolve().parent / "base.gin"),
      "bindings": list(bindings),
      "operative_config": operative,
      "generator": {"module": "rlef_jax.data.synthetic", "version": synthetic.GENERATOR_VERSION,
                    "split": "train", "problem_seed": gin.query_parameter(
                        "sft_dialogs.problem_seed"),
                    "dialog_seed": gin.query_parameter("sft_dialogs.seed"),
                    "problems": gin.query_parameter("sft_dialogs.num")},
      "git": _git(),
      "steps": report["steps"], "batch_size": cfg.batch_size, **counts,
      "final_loss": report["final_loss"], "losses": report["losses"],
      "fixed_batch": FIXED_BATCH, "fixed_batch_loss": loss,
      "wall_s": report["seconds"], "peak_rss_mb": report.get("peak_rss_mb"),
      "machine": _machine(), "parameters": int(sum(x.size for x in jax.tree.leaves(params))),
      "notes": list(notes),
  }
  (out / "provenance.json").write_text(json.dumps(prov, indent=2) + "\n")
  return attach(out, eval_report) if eval_report else prov


def attach(out, eval_report, notes: Sequence[str] = ()) -> dict[str, Any]:
  """Adds eval reports' `sft` solve-rate rows (and notes) to `out`'s provenance.

  Only `solve_rates` and `notes` change: the weights and everything the
  recipe test checks stay as exported. Each row keeps its report's split.
  """
  path = pathlib.Path(out) / "provenance.json"
  prov = json.loads(path.read_text())
  reports = [eval_report] if isinstance(eval_report, (str, pathlib.Path)) else eval_report
  rows = []
  for report_path in reports:
    report = json.loads(pathlib.Path(report_path).read_text())
    if "solve_rates" not in report:
      raise ValueError(f"{report_path}: not an evaluation report (no solve_rates)")
    rows += [{**row, "split": row.get("split", report.get("split")), "report": str(report_path)}
             for row in report["solve_rates"] if row.get("checkpoint", "sft") == "sft"]
  keys = lambda r: (r.get("split"), r.get("mode"), r.get("metric"), r.get("eval"))
  new = {keys(r) for r in rows}
  prov["solve_rates"] = [r for r in prov.get("solve_rates", []) if keys(r) not in new] + rows
  prov["notes"] = list(prov.get("notes", [])) + list(notes)
  path.write_text(json.dumps(prov, indent=2) + "\n")
  return prov


def main(argv: Sequence[str] | None = None) -> int:
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--workdir", default="runs/warm_start")
  ap.add_argument("--gin_file", default=str(ROOT / "gin" / "tiny_sft.gin"))
  ap.add_argument("--gin_bindings", action="append", default=[])
  ap.add_argument("--out", default=str(launch.NAMED_WEIGHTS["tiny-warm-start"]))
  ap.add_argument("--eval_report", action="append", default=[],
                  help="an eval report.json whose solve_rates go into the provenance "
                       "(repeatable: one per split)")
  ap.add_argument("--note", action="append", default=[], help="a line for `notes`")
  ap.add_argument("--attach_only", action="store_true",
                  help="only add --eval_report rows and --note lines to --out's provenance")
  args = ap.parse_args(argv)
  if args.attach_only:
    if not args.eval_report:
      ap.error("--attach_only needs at least one --eval_report")
    prov = attach(args.out, args.eval_report, args.note)
    print(json.dumps(prov["solve_rates"], indent=1))
    return 0
  prov = export(args.workdir, args.gin_file, args.out, args.gin_bindings, args.eval_report,
                args.note)
  print(json.dumps({k: prov[k] for k in ("steps", "tokens_seen", "final_loss",
                                         "fixed_batch_loss", "wall_s")}))
  return 0


if __name__ == "__main__":
  sys.exit(main())

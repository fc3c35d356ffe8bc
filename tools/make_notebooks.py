"""Writes the notebooks under notebooks/ from the cell sources below.

Notebooks are generated so their diffs stay reviewable; tests/test_notebooks.py
executes every code cell of every notebook and checks the files are current.

    python tools/make_notebooks.py          # rewrite notebooks/*.ipynb
    python tools/make_notebooks.py --check  # exit 1 if a notebook is stale
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

QUICKSTART = [
    ("markdown", """\
# rlef_jax quickstart: sample with a Llama, judge in gVisor

The pieces of one RLEF turn, each imported on its own: the Llama 3 tokenizer's
chat format, a Flax Llama (the project's tiny preset, random weights, so the
answers are noise), the jitted KV-cache sampler with its behaviour log-probs,
and the sandboxed judge scoring code on a problem's tests.

In Colab: `!pip install "rlef_jax[data] @ git+<this repository>"` and
`!apt-get install -y runsc` first."""),
    ("code", """\
import jax
import numpy as np
import sandbox_runner as sr
from rlef_jax import sampling, tokenizer
from rlef_jax.data import problems
from rlef_jax.models import configs, llama

print(jax.devices())"""),
    ("markdown", "A problem from the project's bundled set (Hugging Face CodeContests row layout):"),
    ("code", """\
problem = problems.bundled_problems("train")[0]
print(problem["name"])
print(problem["description"][:400])"""),
    ("markdown", "Render the first user turn in Meta's chat format and sample four answers:"),
    ("code", """\
tok = tokenizer.load_tiny_tokenizer()
cfg = configs.get("tiny")
params = llama.init_params(cfg, jax.random.key(0))
prompt = ("Provide a Python solution for the following competitive programming question: "
          + problem["description"] + ".")
ids = tok.render_dialog([{"role": "user", "content": prompt}])
out = sampling.generate(cfg, params, [ids] * 4, jax.random.key(1), max_new_tokens=32,
                        temperature=1.0, stop_tokens=tok.stop_tokens)
for row in range(4):
  n = int(out.lengths[row])
  print(repr(tok.decode(out.tokens[row, :n].tolist())[:60]),
        "mean log-prob %.2f" % float(np.mean(out.logprobs[row, :n])))"""),
    ("markdown", """\
An untrained model writes noise; a reference solution from the data set, a
wrong one and the noise are judged together, each in its own fresh sandbox:"""),
    ("code", """\
programs = {
    "reference": problem["solutions"]["solution"][0],
    "incorrect": problem["incorrect_solutions"]["solution"][0],
    "sampled": tok.decode(out.tokens[0, :int(out.lengths[0])].tolist()),
}
with sr.Judge() as judge:
  results = judge.run_batch([sr.request_for_problem(problem, code, tests="all")
                             for code in programs.values()])
for name, result in zip(programs, results):
  print(f"{name:10s} {result.verdict.value:14s} {result.passed}/{result.total}")
assert results[0].verdict == sr.Verdict.ACCEPTED
assert results[1].verdict != sr.Verdict.ACCEPTED"""),
]

ABLATIONS = [
    ("markdown", """\
# rlef_jax ablations: n@k solve rates, baselines, turn limits

Evaluates a checkpoint the way the RLEF paper does (docs/evaluation.md): n@k
with every model response counted as a sample, 95% bootstrap intervals over
problems, the independent-sampling baseline at the same budget, random and no
feedback, and per-turn solve rates; then draws the plots. Point `WORKDIR` at
the folder of a finished `eval` job to only load and plot it.

Colab: run the first cell (it installs the package and gVisor's `runsc`; set
`RLEF_JAX_SOURCE` to this repository's pip URL first)."""),
    ("code", """\
import os
import subprocess
import sys

IN_COLAB = "google.colab" in sys.modules
if IN_COLAB:  # elsewhere the package is already installed (pip install -e ".[data]")
  source = os.environ.get("RLEF_JAX_SOURCE")  # e.g. "rlef_jax[data] @ git+https://<repository>"
  if not source:
    raise RuntimeError("set RLEF_JAX_SOURCE (%env RLEF_JAX_SOURCE=...) to this repository's "
                       "pip URL, then rerun this cell")
  subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)
  subprocess.run("curl -fsSL https://gvisor.dev/archive.key | gpg --dearmor -o "
                 "/usr/share/keyrings/gvisor-archive-keyring.gpg && echo 'deb [signed-by="
                 "/usr/share/keyrings/gvisor-archive-keyring.gpg] https://storage.googleapis.com/"
                 "gvisor/releases release main' > /etc/apt/sources.list.d/gvisor.list && "
                 "apt-get update -q && apt-get install -y -q runsc", shell=True, check=True)"""),
    ("markdown", """\
Settings. `REDUCED` (set by the test suite) keeps everything to seconds: two
problems, two rollouts, 16 new tokens, two modes, a one-layer tiny model
(bound through gin, as a recipe would). `WEIGHTS` may name a training workdir,
an orbax step folder or a Hugging Face folder; None evaluates a fresh tiny model."""),
    ("code", """\
import json
import pathlib

import gin
from rlef_jax import launch  # noqa: F401  (registers ModelSpec with gin)
from rlef_jax import jobs, sampling
from rlef_jax.evaluation import driver, plots, report

REDUCED = os.environ.get("RLEF_NOTEBOOK_REDUCED") == "1"
WORKDIR = os.environ.get("RLEF_EVAL_WORKDIR")        # a finished eval job's folder, or None
WEIGHTS = os.environ.get("RLEF_EVAL_WEIGHTS")        # a checkpoint folder, or None
OUT = pathlib.Path("ablations_eval")
PROBLEMS = 2 if REDUCED else 15
if REDUCED and not WEIGHTS:
  gin.bind_parameter("ModelSpec.overrides", {"num_layers": 1})
recipe = driver.EvalConfig(
    name="notebook", metrics=("1@2", "pass@1") if REDUCED else ("1@3", "pass@1"),
    rollouts=2 if REDUCED else 8, turn_limit=2 if REDUCED else 3,
    turn_limits=() if REDUCED else (1, 3, 5),
    modes=("multi_turn", "independent") if REDUCED else report.MODES,
    sampling=sampling.SamplingSettings(temperature=0.2, top_p=0.95,
                                       max_new_tokens=16 if REDUCED else 256))
print(recipe.mode_metrics())"""),
    ("markdown", """\
Run the evaluation (or load `WORKDIR`): every episode goes to
`rollouts.jsonl`, every row of `report.json` is computed from it."""),
    ("code", """\
if WORKDIR:
  OUT = pathlib.Path(WORKDIR)
else:
  jobs.eval_job(str(OUT), task="rlef_bundled_test", limit=PROBLEMS, evals=[recipe],
                checkpoints={"checkpoint": WEIGHTS}, shard=False)
saved = json.loads((OUT / "report.json").read_text())
rows = saved["solve_rates"]
assert report.solve_rates(report.read_rollouts(OUT / "rollouts.jsonl"), saved["evals"]) == rows
print(report.format_table(rows))
print(report.format_comparisons(saved["comparisons"]))"""),
    ("markdown", """\
A check of the ablation machinery that needs no trained model: a scripted
policy that answers correctly at turn 1 one time in three, and at turn 2 only
if the feedback shows its own problem's public input. True feedback should
then reach 100% by turn 2; random feedback and no feedback should stay at the
first-turn rate; independent sampling sits in between."""),
    ("code", """\
import collections
from rlef_jax import tokenizer
from rlef_jax.env.policy import ScriptedPolicy

calls = collections.Counter()

def respond(row, turn, messages):
  right = "```python\\n" + row["solutions"]["solution"][0] + "\\n```"
  if turn == 1:
    calls[row["name"]] += 1
    return right if calls[row["name"]] % 3 == 1 else "```python\\nprint('no idea')\\n```"
  shown = "input `" + row["public_tests"]["input"][0].strip()
  return right if shown in messages[-1]["content"] else "```python\\nprint('no idea')\\n```"

scripted_recipe = driver.EvalConfig(name="scripted", metrics=("1@2", "pass@1"), rollouts=3,
                                    turn_limit=2, turn_limits=(3,))
SCRIPTED = OUT.parent / (OUT.name + "_scripted")
jobs.eval_job(str(SCRIPTED), task="rlef_bundled_test", limit=3, evals=[scripted_recipe],
              checkpoints={"scripted": None}, shard=False,
              policy_factory=lambda config, params, tok, cfg: ScriptedPolicy(respond, tok))
scripted = json.loads((SCRIPTED / "report.json").read_text())["solve_rates"]
by = {(r["mode"], r["metric"]): r["value"] for r in scripted}
print(report.format_table(scripted))
print(report.format_comparisons(json.loads((SCRIPTED / "report.json").read_text())["comparisons"]))
assert by["multi_turn", "1@2"] == 1.0 and abs(by["no_feedback", "1@2"] - 1 / 3) < 1e-9"""),
    ("markdown", "The plots (PNG files beside each report), with 95% bootstrap interval bars:"),
    ("code", """\
drawn = {**plots.draw_all(rows, OUT), **{"scripted_" + k: v
                                         for k, v in plots.draw_all(scripted, SCRIPTED).items()}}
try:
  from IPython.display import Image, display
except ImportError:
  display = None
for name, path in drawn.items():
  print(name, path)
  if display is not None:
    display(Image(filename=str(path)))
assert all(pathlib.Path(p).stat().st_size > 0 for p in drawn.values())"""),
]

NOTEBOOKS = {"quickstart.ipynb": QUICKSTART, "ablations.ipynb": ABLATIONS}


def _cell(kind: str, source: str) -> dict:
  cell = {"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True)}
  if kind == "code":
    cell.update(execution_count=None, outputs=[])
  return cell


def render(cells) -> str:
  notebook = {
      "cells": [_cell(kind, source) for kind, source in cells],
      "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                  "name": "python3"},
                   "language_info": {"name": "python"}},
      "nbformat": 4,
      "nbformat_minor": 5,
  }
  return json.dumps(notebook, indent=1) + "\n"


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--check", action="store_true")
  args = parser.parse_args()
  stale = []
  for name, cells in NOTEBOOKS.items():
    path, text = ROOT / "notebooks" / name, render(cells)
    if args.check:
      if not path.exists() or path.read_text() != text:
        stale.append(name)
    else:
      path.write_text(text)
  if stale:
    print(f"stale notebooks: {', '.join(stale)}; run python tools/make_notebooks.py",
          file=sys.stderr)
  return 1 if stale else 0


if __name__ == "__main__":
  sys.exit(main())

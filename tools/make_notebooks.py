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

NOTEBOOKS = {"quickstart.ipynb": QUICKSTART}


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

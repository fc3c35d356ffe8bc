"""The README's library snippet ("## Using the pieces") runs as written, with
the tiny preset and its own tokenizer in place of Llama 3.1 8B.

Substitutions (each must match exactly once, so an edit of the README that
drops one fails here):
  "/ckpt/Llama-3.1-8B-Instruct"     -> a tiny Llama (1 layer) saved with save_hf_llama
  tokenizer.load_llama3_tokenizer() -> tokenizer.load_tiny_tokenizer()
  max_new_tokens=1024               -> max_new_tokens=48
"""

import contextlib
import io
import pathlib
import re

import jax
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _snippet() -> str:
  text = (ROOT / "README.md").read_text()
  section = text.split("## Using the pieces", 1)[1]
  return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.gvisor
def test_readme_library_snippet_runs(tmp_path):
  from rlef_jax import checkpoints
  from rlef_jax.models import configs, llama

  cfg = configs.get("tiny", num_layers=1)
  checkpoints.save_hf_llama(tmp_path / "tiny_hf", cfg, llama.init_params(cfg, jax.random.key(0)))
  code = _snippet()
  for old, new in [('"/ckpt/Llama-3.1-8B-Instruct"', repr(str(tmp_path / "tiny_hf"))),
                   ("tokenizer.load_llama3_tokenizer()", "tokenizer.load_tiny_tokenizer()"),
                   ("max_new_tokens=1024", "max_new_tokens=48")]:
    assert code.count(old) == 1, old
    code = code.replace(old, new)
  out = io.StringIO()
  namespace = {}
  with contextlib.redirect_stdout(out):
    exec(compile(code, "README.md", "exec"), namespace)  # pylint: disable=exec-used
  verdict, passed, total = out.getvalue().split()
  assert verdict.split(".")[-1].lower() in {"accepted", "wrong_answer", "runtime_error",
                                            "syntax_error", "time_limit"}
  assert 0 <= int(passed) <= int(total) == len(namespace["problem_row"]["public_tests"]["input"])
  assert namespace["out"].tokens.shape[0] == 1 and namespace["cfg"].num_layers == 1

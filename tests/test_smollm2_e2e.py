"""SmolLM2-135M-Instruct (the real GGUF from pip) end to end on CPU: it answers
two bundled problems, its code is judged in gVisor, the feedback turn is
rendered in ChatML and the next answer sampled; every `behaviour_logp`
equals a teacher-forced forward at its position."""

import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sandbox_runner as sr

from rlef_jax import sampling
from rlef_jax import tokenizer as tokenizers
from rlef_jax.checkpoints import CheckpointError, load_gguf_llama, resolve_gguf
from rlef_jax.data import problems
from rlef_jax.env import policy, rollout
from rlef_jax.models import llama

pytestmark = [
    pytest.mark.gvisor,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("runsc") is None, reason="gVisor runsc is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="runsc run needs root here"),
]
pytest.importorskip("gguf", reason="ggml's gguf package is not installed (test extra)")
pytest.importorskip("tokenizers")


def test_smollm2_answers_bundled_problems_with_chatml_feedback():
  try:
    path = resolve_gguf("smollm2-135m-instruct")
  except CheckpointError as e:
    pytest.skip(f"SmolLM2 GGUF not installed: {e}")
  tok = tokenizers.load_hf_tokenizer(path)
  cfg, params = load_gguf_llama(path)
  rows = problems.bundled_problems("train")[:2]
  pol = policy.ModelPolicy(cfg, params, tok, sampling.SamplingSettings(max_new_tokens=48),
                           min_prompt_bucket=64)
  with sr.Judge(max_workers=2) as judge:
    out = rollout.run_episodes(pol, rows, judge, tok, rollout.EnvConfig(max_turns=2),
                               jax.random.key(0))
  assert out.stats["dropped_infra"] == 0
  header = tok.render_header("assistant")
  ro = jax.tree.map(np.asarray, out.rollouts)
  n = len(rows)
  logits = jax.jit(lambda t: llama.forward(cfg, params, t))(jnp.asarray(ro.tokens[:n]))
  logp = np.asarray(jax.nn.log_softmax(logits, axis=-1))
  for b, rec in enumerate(out.records):
    # Two turns each: 48 tokens are too few for a whole program, and an answer
    # without code gets the parse-failure feedback: the feedback turn exists.
    assert len(rec.turns) == 2 and rec.turns[0].feedback, rec.turns
    dialog = rec.dialogs[0]
    assert ro.tokens[b, :len(dialog)].tolist() == dialog.ids
    # The dialog is the model's chat template (ChatML, default system turn).
    text = tok.decode(dialog.ids)
    assert text == tokenizers._render_template(tok.chat_template, dialog.messages, False)  # pylint: disable=protected-access
    assert text.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")
    assert f"<|im_end|>\n<|im_start|>user\n{rec.turns[0].feedback}<|im_end|>\n" \
           "<|im_start|>assistant\n" in text
    pos = np.flatnonzero(ro.response_mask[b])
    forced = logp[b, pos - 1, ro.tokens[b, pos]]
    np.testing.assert_allclose(ro.behaviour_logp[b, pos], forced, atol=1e-4, rtol=0)
    for t, vp in enumerate(ro.value_positions[b, :2]):
      assert ro.tokens[b, vp - len(header) + 1:vp + 1].tolist() == header
      first = pos[ro.turn_index[b, pos] == t]
      assert first.size and first[0] == vp + 1
    print(f"\n--- {rows[b]['name']}: {[t.public and t.public['verdict'] for t in rec.turns]}\n"
          + text)

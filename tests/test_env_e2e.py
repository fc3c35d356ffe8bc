"""End-to-end episodes with the gVisor judge on bundled problems: scripted and tiny-Llama policies.

The tiny Llama tests check each record's indices against the tokens: every
`response_mask` position holds a sampled id whose `behaviour_logp` equals a
teacher-forced `llama.forward` log-prob there, and `value_positions` point at
the assistant header's last token. A random tiny Llama writes no code, so a
second one has hand-set weights that make it write a fenced program (a bigram
chain: every layer's output projections zeroed, each chain token's embedding
a basis vector that the head maps to the next chain token): its code is
sampled, extracted, judged in gVisor and answered with real feedback.
"""

import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sandbox_runner as sr

from rlef_jax import sampling
from rlef_jax import tokenizer as tokenizers
from rlef_jax.data import humaneval, problems
from rlef_jax.env import feedback, policy, rollout
from rlef_jax.models import configs, llama

pytestmark = [
    pytest.mark.gvisor,
    pytest.mark.skipif(shutil.which("runsc") is None, reason="gVisor runsc is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="runsc run needs root here"),
]
TOK = tokenizers.load_tiny_tokenizer()


@pytest.fixture(scope="module")
def judge():
  with sr.Judge(max_workers=2) as j:
    yield j


def _fenced(src):
  return f"Here is my solution.\n```python\n{src}\n```"


def test_scripted_episodes_with_the_real_judge(judge):
  rows = problems.bundled_problems("train")[:2]  # 001's wrong solution passes its examples
  right = {r["name"]: r["solutions"]["solution"][0] for r in rows}
  wrong = {r["name"]: r["incorrect_solutions"]["solution"][0] for r in rows}

  def respond(row, turn, messages):
    return ["no code", _fenced(wrong[row["name"]]), _fenced(right[row["name"]])][turn - 1]

  out = rollout.run_episodes(policy.ScriptedPolicy(respond, TOK), rows, judge, TOK,
                             rollout.EnvConfig(), jax.random.key(0))
  sum_two, even_odd = out.records
  n_score = [len(r["public_tests"]["input"]) + len(r["private_tests"]["input"]) for r in rows]
  # 001: the wrong program passes the public examples: the episode ends, private tests fail.
  assert len(sum_two.turns) == 2 and sum_two.turns[1].public["verdict"] == "accepted"
  assert sum_two.final["verdict"] == "wrong_answer" and sum_two.rewards == [-0.2, -1.0]
  # 002: wrong on the example, feedback shows it, then the right program passes everything.
  assert [t.public and t.public["verdict"] for t in even_odd.turns] == [None, "wrong_answer",
                                                                         "accepted"]
  fb = even_odd.turns[1].feedback
  example = rows[1]["public_tests"]
  assert fb.startswith(f"Your code failed the following tests:\n\n- input `{example['input'][0]}`"
                       f" failed:\nExpected output `{example['output'][0]}` but got `")
  assert fb.endswith(feedback.FORMAT_INSTRUCTION)
  assert even_odd.final == {"verdict": "accepted", "passed": n_score[1], "total": n_score[1]}
  assert even_odd.rewards == [-0.2, 0.0, 1.0] and even_odd.solved
  assert out.stats["dropped_infra"] == 0 and out.rollouts.tokens.shape[0] == 8


def test_humaneval_episode_gets_per_assert_feedback(judge):
  row = next(r for r in humaneval.problems() if r["name"] == "HumanEval/53")

  def respond(row, turn, messages):
    body = "    return x - y" if turn == 1 else "    return x + y"
    return _fenced(row["description"] + body)

  out = rollout.run_episodes(policy.ScriptedPolicy(respond, TOK), [row], judge, TOK,
                             rollout.EnvConfig(), jax.random.key(0))
  rec = out.records[0]
  assert rec.dialogs[0].messages[0]["content"] == feedback.humaneval_prompt(row["description"])
  fb = rec.turns[0].feedback
  assert fb.startswith("Your code failed some test cases:\n\n"
                       "- Failure: `assert add(0, 1) == 1`:\n`AssertionError`\n"
                       "- Success: `assert add(1, 0) == 1`\n"
                       "- Failure: `assert add(2, 3) == 5`:\n`AssertionError`\n")
  assert fb.endswith("\n\nGive it another try.")
  assert rec.turns[0].public == {"verdict": "wrong_answer", "passed": 1, "total": 6}
  assert rec.solved and rec.final == {"verdict": "accepted", "passed": 1, "total": 1}


def _check_against_forward(cfg, params, out):
  ro = jax.tree.map(np.asarray, out.rollouts)
  assert ro.tokens.shape[0] == 8 and out.stats["dropped_infra"] == 0
  assert ro.tokens.shape[1] == sampling.bucket_length(max(r.num_tokens for r in out.records), 64)
  logits = jax.jit(lambda t: llama.forward(cfg, params, t))(jnp.asarray(ro.tokens[:3]))
  logp = np.asarray(jax.nn.log_softmax(logits, axis=-1))
  header = TOK.render_header("assistant")
  for b, rec in enumerate(out.records):
    pos = np.flatnonzero(ro.response_mask[b])
    assert pos.size > 0 and ro.tokens[b, :len(rec.dialogs[0])].tolist() == rec.dialogs[0].ids
    forced = logp[b, pos - 1, ro.tokens[b, pos]]
    np.testing.assert_allclose(ro.behaviour_logp[b, pos], forced, atol=1e-4, rtol=0)
    assert (ro.tokens[b, pos] < cfg.vocab_size).all()
    for t, vp in enumerate(ro.value_positions[b, :2]):
      assert ro.tokens[b, vp - len(header) + 1:vp + 1].tolist() == header
      first = pos[ro.turn_index[b, pos] == t]
      assert first.size and first[0] == vp + 1  # response t starts right after c_t
    # The record's text is the decoded sample; the tokens are the sampled ids.
    for t, turn in enumerate(rec.turns):
      ids = ro.tokens[b, pos[ro.turn_index[b, pos] == t]].tolist()
      assert TOK.decode([i for i in ids if i not in TOK.stop_tokens]) == turn.response


def test_tiny_llama_rollouts_line_up_with_a_teacher_forced_forward(judge):
  cfg = configs.get("tiny")
  params = llama.init_params(cfg, jax.random.key(0))
  rows = problems.bundled_problems("train")[:3]
  pol = policy.ModelPolicy(cfg, params, TOK, sampling.SamplingSettings(max_new_tokens=12))
  out = rollout.run_episodes(pol, rows, judge, TOK, rollout.EnvConfig(max_turns=2),
                             jax.random.key(1))
  # Every episode reached turn 2 (a random model writes no code: parse-failure feedback).
  assert all(len(r.turns) == 2 and r.turns[0].feedback == feedback.PARSE_FAILURE
             for r in out.records)
  _check_against_forward(cfg, params, out)


# " ```python\nprint(input())\n ```" in ids that are all different, so a bigram
# model can write it: ' `' '``' 'python' '\n' 'print' '(input' '())\n' ' ``' '`'.
CHAIN_TEXT = " ```python\nprint(input())\n ```"
CHAIN = [920, 2099, 2546, 10, 2352, 1821, 1809, 2199, 96]


def _chain_params(cfg, params, start, chain, end, gain=2.0):
  params = jax.tree.map(np.array, params)
  for name in ("attn/wo", "mlp/w_down"):
    block, leaf = name.split("/")
    params["layers"][block][leaf][:] = 0.0  # every layer adds nothing to the residual
  seq = [start] + chain + [end]
  for k, (tok, nxt) in enumerate(zip(seq[:-1], seq[1:])):
    params["embed"]["embedding"][tok] = np.eye(cfg.hidden_size)[k]
    params["lm_head"]["kernel"][k] = 0.0
    params["lm_head"]["kernel"][k, nxt] = gain * np.sqrt(cfg.hidden_size)
  return jax.tree.map(jnp.asarray, params)


def test_tiny_llama_writes_code_that_is_judged_and_answered(judge):
  assert TOK.decode(CHAIN) == CHAIN_TEXT and len(set(CHAIN)) == len(CHAIN)
  cfg = configs.get("tiny")
  header_end = TOK.render_header("assistant")[-1]
  params = _chain_params(cfg, llama.init_params(cfg, jax.random.key(0)), header_end, CHAIN,
                         TOK.eot_id)
  rows = problems.bundled_problems("train")[:3]
  pol = policy.ModelPolicy(cfg, params, TOK, sampling.SamplingSettings(max_new_tokens=12))
  out = rollout.run_episodes(pol, rows, judge, TOK, rollout.EnvConfig(max_turns=2),
                             jax.random.key(1))
  for row, rec in zip(rows, out.records):
    assert [t.response for t in rec.turns] == [CHAIN_TEXT] * 2
    assert rec.turns[0].code == "print(input())\n " and rec.turns[0].valid
    # The echo fails the first example, and the feedback says so from the real run.
    example = row["public_tests"]
    assert rec.turns[0].public["verdict"] == "wrong_answer"
    assert rec.turns[0].feedback.startswith(
        f"Your code failed the following tests:\n\n- input `{example['input'][0]}` failed:\n"
        f"Expected output `{example['output'][0]}` but got `{example['input'][0].splitlines()[0]}")
    assert rec.final["verdict"] == "wrong_answer" and rec.rewards == [0.0, -1.0]
  # Turn 2 repeats turn 1's program: its public run is a cache hit.
  assert out.stats["cache_hits"] == 3 and out.stats["judge_runs"] == 6
  _check_against_forward(cfg, params, out)

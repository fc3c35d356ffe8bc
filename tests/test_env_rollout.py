"""Termination, rewards, faults, ablations and the Rollouts layout, with a ScriptedPolicy.

The judge here is a small deterministic stand-in (verdicts from markers in the
program) so that every branch, infra errors included, is reachable; the
gVisor judge drives the same paths in test_env_e2e.py.
"""

import dataclasses
import logging
import threading

import jax
import numpy as np
import pytest
from sandbox_runner import JudgeResult, TestResult, Verdict

from rlef_jax import tokenizer as tokenizers
from rlef_jax.data import schema
from rlef_jax.env import feedback, policy, rollout
from rlef_jax.env.policy import ModelPolicy, Sample, ScriptedPolicy
from rlef_jax.models import configs

TOK = tokenizers.load_tiny_tokenizer()
RESPONSES = {
    "ok": "```python\nprint('OK')\n```",
    "wrong": "Try this:\n```python\nprint('WRONG')\n```",
    "pub": "```python\nprint('PUBLIC_ONLY')\n```",
    "nocode": "I do not know.",
    "bad": "```python\nprint('BAD'\n```",
    "infra": "```python\nprint('INFRA')\n```",
}


class MarkerJudge:
  """Accepts OK, fails WRONG, passes only public tests for PUBLIC_ONLY, INFRA fails the judge."""

  max_workers = 2

  def __init__(self):
    self.programs, self._lock = [], threading.Lock()

  def run(self, request):
    with self._lock:
      self.programs.append(request.program)
    if "INFRA" in request.program:
      return JudgeResult(Verdict.INFRA_ERROR, 0, len(request.tests), [], infra_attempts=3,
                         infra_detail="sandbox would not boot")
    results = []
    for test in request.tests:
      try:
        compile(request.program, "solution.py", "exec")
      except SyntaxError:
        results.append(TestResult(Verdict.SYNTAX_ERROR, traceback="SyntaxError: '(' was never closed"))
        break
      ok = "OK" in request.program or ("PUBLIC_ONLY" in request.program
                                       and test.input.startswith("pub"))
      results.append(TestResult(Verdict.ACCEPTED if ok else Verdict.WRONG_ANSWER,
                                stdout=test.expected_output if ok else "nope\n"))
      if not ok and request.stop_on_first_failure:
        break
    return JudgeResult.from_tests(results, len(request.tests))


def _row(name, public=1, private=2, wrong=()):
  return schema.normalize({
      "name": name, "description": f"Solve {name}.",
      "public_tests": {"input": [f"pub-{name}-{i}\n" for i in range(public)],
                       "output": [f"{i}\n" for i in range(public)]},
      "private_tests": {"input": [f"priv-{name}-{i}\n" for i in range(private)],
                        "output": [f"{i}\n" for i in range(private)]},
      "incorrect_solutions": {"language": [3] * len(wrong), "solution": list(wrong)}})


def _scripted(table, max_new_tokens=512):
  def respond(row, turn, messages):
    assert messages[-1]["role"] == "user"
    return RESPONSES[table[row["name"]][turn - 1]]
  return ScriptedPolicy(respond, TOK, max_new_tokens=max_new_tokens)


def _run(table, cfg=rollout.EnvConfig(), judge=None, rows=None, **kw):
  rows = rows or [_row(name) for name in table]
  judge = judge or MarkerJudge()
  return rollout.run_episodes(_scripted(table), rows, judge, TOK, cfg, jax.random.key(0), **kw), judge


# name: responses per turn -> (turns taken, rewards, final verdict, solved)
TABLE = {
    "pass1": (["ok"], [1.0], "accepted", True),
    "pass2": (["wrong", "ok"], [0.0, 1.0], "accepted", True),
    "pass3": (["wrong", "wrong", "ok"], [0.0, 0.0, 1.0], "accepted", True),
    "never": (["wrong", "wrong", "wrong"], [0.0, 0.0, -1.0], "wrong_answer", False),
    "public_not_private": (["pub"], [-1.0], "wrong_answer", False),
    "nocode_then_pass": (["nocode", "ok"], [-0.2, 1.0], "accepted", True),
    "bad_then_pass": (["bad", "ok"], [-0.2, 1.0], "accepted", True),
    "nocode_final": (["wrong", "wrong", "nocode"], [0.0, 0.0, -1.0], "no_code", False),
    "bad_final": (["wrong", "nocode", "bad"], [0.0, -0.2, -1.0], "syntax_error", False),
}


@pytest.fixture(scope="module")
def table_run():
  table = {name: spec[0] for name, spec in TABLE.items()}
  table["infra"] = ["wrong", "infra"]
  return _run(table, rollout.EnvConfig(verdict_cache=False))


@pytest.mark.parametrize("name", sorted(TABLE))
def test_termination_and_rewards(table_run, name):
  out, _ = table_run
  responses, rewards, final, solved = TABLE[name]
  rec = next(r for r in out.records if r.problem == name)
  assert [t.response for t in rec.turns] == [RESPONSES[k] for k in responses]
  assert rec.rewards == pytest.approx(rewards)
  assert rec.final["verdict"] == final and rec.solved is solved and rec.dropped is None
  assert rec.final["total"] == 3  # public + private: the training scoring set
  # Feedback after every non-final turn, of the kind its response earned.
  for t, kind in zip(rec.turns[:-1], responses):
    if kind == "nocode":
      assert t.feedback == feedback.PARSE_FAILURE and t.public is None
    elif kind == "bad":
      assert t.feedback.startswith("Your code failed the following tests:\n\n- input `pub-")
      assert "SyntaxError" in t.feedback and t.public["verdict"] == "syntax_error"
    else:
      assert t.feedback.startswith("Your code failed the following tests:")
      assert f"- input `pub-{name}-0\n` failed:\nExpected output `0\n` but got `nope\n`" in t.feedback
  assert rec.turns[-1].feedback is None
  if name == "public_not_private":
    assert rec.turns[0].public == {"verdict": "accepted", "passed": 1, "total": 1}


def test_infra_error_drops_the_episode(table_run):
  out, _ = table_run
  rec = next(r for r in out.records if r.problem == "infra")
  assert rec.dropped == "infra_error" and rec.final is None and rec.rewards == []
  assert out.stats["dropped_infra"] == 1 and out.stats["episodes"] == len(TABLE) + 1
  # Dropped rows are padding: the batch keeps its shape, its rows all masked out.
  ro = out.rollouts
  assert ro.tokens.shape[0] == 16 and int(ro.turn_mask.any(axis=1).sum()) == len(TABLE)


def test_judge_calls_no_code_never_judged(table_run):
  out, judge = table_run
  # One public run per response holding code (compilable or not), one scoring run per
  # valid final response; responses without code, and invalid finals, are never judged.
  kept = [r for r in out.records if r.dropped is None]
  public = sum(t.code is not None for r in kept for t in r.turns)
  score = sum(r.turns[-1].valid for r in kept)
  assert len(judge.programs) == public + score + 2  # the infra episode: one good run, one failed
  assert out.stats["judge_runs"] == len(judge.programs) and out.stats["cache_hit_rate"] == 0


def test_rollouts_layout(table_run):
  out, _ = table_run
  ro = jax.tree.map(np.asarray, out.rollouts)
  kept = [r for r in out.records if r.dropped is None]
  assert ro.tokens.shape[1] >= max(r.num_tokens for r in kept) and ro.tokens.shape[1] % 8 == 0
  assert ro.rewards.shape == ro.turn_mask.shape == ro.value_positions.shape == (16, 3)
  header = TOK.render_header("assistant")
  for b, rec in enumerate(kept):
    d = rec.dialogs[0]
    n = len(d)
    assert ro.tokens[b, :n].tolist() == d.ids
    assert (ro.tokens[b, n:] == TOK.pad_id).all() and not ro.response_mask[b, n:].any()
    assert ro.turn_mask[b].sum() == len(rec.turns)
    assert ro.rewards[b, :len(rec.turns)].tolist() == pytest.approx(rec.rewards)
    for t, vp in enumerate(ro.value_positions[b, :len(rec.turns)]):
      assert ro.tokens[b, vp - len(header) + 1:vp + 1].tolist() == header
      # The response of turn t starts right after its prompt's last token.
      assert ro.turn_index[b, vp + 1] == t and ro.response_mask[b, vp + 1]
      assert not ro.response_mask[b, vp]
    sampled = TOK.encode(rec.turns[0].response) + [TOK.eot_id]
    start = ro.value_positions[b, 0] + 1
    assert ro.tokens[b, start:start + len(sampled)].tolist() == sampled
    assert (ro.turn_index[b] >= 0).sum() == ro.response_mask[b].sum()
  pad = slice(len(kept), None)
  assert not ro.response_mask[pad].any() and not ro.turn_mask[pad].any()
  assert (ro.tokens[pad] == TOK.pad_id).all() and TOK.pad_id < configs.get("tiny").vocab_size
  rec = kept[0].to_json()
  assert set(rec) >= {"problem", "episode", "turns", "final", "solved", "reward", "dropped",
                      "context_limited", "num_tokens"}
  assert set(rec["turns"][0]) == {"response", "code", "valid", "public", "score", "feedback"}


def test_context_budget_ends_the_dialog_and_is_counted():
  table = {"a": ["wrong", "ok"], "b": ["ok"]}
  first = len(TOK.render_dialog([{"role": "user", "content": feedback.initial_prompt("Solve a.")}]))
  cfg = rollout.EnvConfig(context_budget=first + 20 + 512)  # one response fits, feedback does not
  out, _ = _run(table, cfg)
  a, b = out.records
  assert a.context_limited and len(a.turns) == 1 and a.rewards == [-1.0]
  assert a.turns[0].feedback is None and a.final["verdict"] == "wrong_answer"
  assert not b.context_limited and b.solved
  assert out.stats["context_limited"] == 1


def test_overlap_groups_and_cache_do_not_change_outcomes():
  table = {f"p{i}": TABLE[k][0] for i, k in enumerate(sorted(TABLE))}
  base, _ = _run(table, rollout.EnvConfig(overlap=False, judge_groups=1, verdict_cache=False))
  for cfg in (rollout.EnvConfig(), rollout.EnvConfig(judge_groups=3),
              rollout.EnvConfig(overlap=False, judge_groups=2)):
    other, _ = _run(table, cfg)
    assert [r.to_json() for r in other.records] == [r.to_json() for r in base.records]
    assert all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(other.rollouts),
                                                    jax.tree.leaves(base.rollouts)))


def test_verdict_cache_hits_repeated_programs(caplog):
  rows = [_row("same")] * 4
  table = {"same": ["wrong", "ok"]}
  cache = rollout.cache_lib.VerdictCache()
  out, judge = _run(table, rollout.EnvConfig(), rows=rows, cache=cache)
  # 4 episodes x (2 public runs + 1 score) = 12 requests, 3 distinct.
  assert out.stats["judge_requests"] == 12 and len(judge.programs) == 3
  assert out.stats["cache_hit_rate"] == pytest.approx(9 / 12)
  with caplog.at_level(logging.INFO, logger="rlef_jax.env.rollout"):
    again, judge2 = _run(table, rollout.EnvConfig(), rows=rows, cache=cache)
  assert "verdict cache hit rate 1.000 of 12 requests" in caplog.text
  assert judge2.programs == [] and again.stats["cache_hit_rate"] == 1.0
  fresh, judge3 = _run(table, rollout.EnvConfig(verdict_cache=False), rows=rows)
  assert len(judge3.programs) == 12 and fresh.stats["cache_hit_rate"] == 0.0


def test_no_feedback_ablation():
  out, _ = _run({"a": ["wrong", "nocode", "ok"]}, rollout.EnvConfig(feedback="none"))
  assert [t.feedback for t in out.records[0].turns] == ["Give it another try."] * 2 + [None]
  assert out.records[0].solved


def test_random_feedback_comes_from_another_problems_wrong_solution():
  rows = [_row("a", wrong=["print('WRONG a')"]), _row("b", wrong=["print('WRONG b')"])]
  out, _ = _run({"a": ["wrong", "ok"], "b": ["wrong", "wrong", "pub"]},
                rollout.EnvConfig(feedback="random"), rows=rows)
  a, b = out.records
  assert "`pub-b-0\n`" in a.turns[0].feedback and "pub-a" not in a.turns[0].feedback
  assert all("`pub-a-0\n`" in t.feedback for t in b.turns[:-1])
  # The true public tests still end the episode.
  assert len(a.turns) == 2 and a.solved and len(b.turns) == 3
  with pytest.raises(ValueError, match="at least two different problems"):
    _run({"a": ["wrong", "ok"]}, rollout.EnvConfig(feedback="random"), rows=[rows[0]])


def test_independent_sampling():
  out, _ = _run({"a": ["wrong", "nocode", "ok"], "b": ["ok"], "c": ["wrong", "pub", "ok"]},
                rollout.EnvConfig(independent=True))
  a, b, c = out.records
  assert len(a.turns) == 3 and len(a.dialogs) == 3 and len(b.turns) == 1
  assert all(t.feedback is None for t in a.turns)
  assert [t.score["verdict"] for t in a.turns] == ["wrong_answer", "no_code", "accepted"]
  assert a.solved and a.rewards == [-1.0, -1.0, 1.0]
  # Stops at the first attempt that passes the public tests: that one is submitted.
  assert len(c.turns) == 2 and not c.solved and c.final["verdict"] == "wrong_answer"
  # Every attempt answers the first prompt alone: its own one-turn row.
  assert all(d.messages[:1] == a.dialogs[0].messages[:1] and len(d.messages) == 2
             for d in a.dialogs)
  ro = jax.tree.map(np.asarray, out.rollouts)
  assert ro.tokens.shape[0] == 16 and ro.turn_mask.sum() == 6  # 3 problems x k=3, padded
  assert ro.turn_mask[:6, 0].all() and not ro.turn_mask[:, 1:].any()
  assert ro.rewards[:6, 0].tolist() == [-1.0, -1.0, 1.0, 1.0, -1.0, -1.0]


def test_score_every_turn():
  out, judge = _run({"a": ["wrong", "nocode", "ok"]},
                    rollout.EnvConfig(score_every_turn=True, score_tests=("private",)))
  turns = out.records[0].turns
  assert [t.score and t.score["verdict"] for t in turns] == ["wrong_answer", None, "accepted"]
  assert len(judge.programs) == 4  # 2 public + 2 scoring runs; the final score is reused
  assert turns[-1].score["total"] == 2 and out.records[0].final == turns[-1].score


def test_bad_rows_are_skipped_counted_and_logged(caplog):
  rows = [_row("good"), _row("nopublic", public=0), {"name": "nodesc"}, "not a row"]
  with caplog.at_level(logging.WARNING, logger="rlef_jax.env.rollout"):
    out, _ = _run({"good": ["ok"]}, rows=rows)
  assert out.stats["skipped_bad_rows"] == 3 and [r.problem for r in out.records] == ["good"]
  assert "skipping problem 'nopublic' (episode 1): problem 'nopublic' has no public tests" in caplog.text
  assert "skipping problem 'nodesc'" in caplog.text
  empty, _ = _run({}, rows=[_row("x", public=0)])
  assert empty.rollouts is None and empty.records == []


def test_out_of_vocabulary_ids_are_refused():
  with pytest.raises(ValueError, match="tokenizer .* has 128256 ids but the model's vocabulary has 4352"):
    ModelPolicy(configs.get("tiny"), None, tokenizers.load_llama3_tokenizer())

  class Wild:
    vocab_size, max_new_tokens = 4352, 8

    def sample(self, prompts, rng, contexts=None):
      return [Sample([5, 9000], [0.0, 0.0], "x", False) for _ in prompts]

  with pytest.raises(ValueError, match="token id 9000 at position 1, outside the model's vocabulary"):
    rollout.run_episodes(Wild(), [_row("a")], MarkerJudge(), TOK, rollout.EnvConfig(),
                         jax.random.key(0))
  with pytest.raises(ValueError, match="outside the model's vocabulary of 100"):
    policy.check_ids([[1, 2, 100]], 100)


def test_budget_is_clamped_to_the_models_positions():
  @dataclasses.dataclass(frozen=True)
  class Short(ScriptedPolicy):
    max_context: int = 0

  first = len(TOK.render_dialog([{"role": "user", "content": feedback.initial_prompt("Solve a.")}]))
  table = {"a": ["wrong", "ok"]}
  pol = Short(lambda row, turn, m: RESPONSES[table[row["name"]][turn - 1]], TOK,
              max_new_tokens=64, max_context=first + 64 + 20)
  out = rollout.run_episodes(pol, [_row("a")], MarkerJudge(), TOK, rollout.EnvConfig(),
                             jax.random.key(0))
  assert out.records[0].context_limited and len(out.records[0].turns) == 1
  pol = dataclasses.replace(pol, max_context=first + 63)
  out = rollout.run_episodes(pol, [_row("a")], MarkerJudge(), TOK, rollout.EnvConfig(),
                             jax.random.key(0))
  assert out.records == [] and out.stats["skipped_long_prompts"] == 1


def test_config_is_checked():
  assert rollout.EnvConfig(score_tests=["private", "generated"]).score_tests == ("private", "generated")
  assert rollout.EnvConfig(feedback_tests="public").feedback_tests == ("public",)
  for bad in (dict(score_tests=("privat",)), dict(feedback_tests=()), dict(max_turns=0),
              dict(feedback="noise"), dict(judge_groups=0)):
    with pytest.raises(ValueError):
      rollout.EnvConfig(**bad)

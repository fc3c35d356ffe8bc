"""SFT: the loss is on the last (successful) response only; a short run learns
and its workdir loads as a policy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlef_jax import jobs
from rlef_jax import launch, sharding, tokenizer
from rlef_jax.checkpoints import state as ckpt_state
from rlef_jax.models import configs, llama
from rlef_jax.rl import ppo, sft

TOK = tokenizer.load_tiny_tokenizer()
DIALOG = [{"role": "user", "content": "Solve it."},
          {"role": "assistant", "content": "```python\nprint(1)\n```"},
          {"role": "user", "content": "Wrong answer. Try again."},
          {"role": "assistant", "content": "```python\nprint(2)\n```"}]


def test_loss_mask_covers_exactly_the_last_response_and_its_eot():
  ids, mask = sft.encode(TOK, DIALOG)
  target = TOK.encode(DIALOG[-1]["content"]) + [TOK.eot_id]
  assert sum(mask) == len(target)
  assert [i for i, m in zip(ids, mask) if m] == target
  assert ids[-len(target):] == target and not any(mask[:-len(target)])
  # The first response is context only, though it is an assistant turn too.
  assert ids[:len(ids) - len(target)] == TOK.render_dialog(DIALOG[:-1])
  with pytest.raises(ValueError, match="end with an assistant"):
    sft.encode(TOK, DIALOG[:-1])


def test_loss_is_the_mean_nll_of_the_masked_tokens():
  cfg = configs.get("tiny", num_layers=1)
  params = llama.init_params(cfg, jax.random.key(0))
  batch = sft.encode_batch(TOK, [DIALOG, DIALOG[:2]], max_len=256)
  got = sft.loss(cfg, params, jnp.asarray(batch["tokens"]), jnp.asarray(batch["loss_mask"]))
  logp = np.asarray(ppo.token_logprobs(llama.forward(cfg, params, batch["tokens"]),
                                       batch["tokens"]))
  want = -logp[batch["loss_mask"]].mean()
  np.testing.assert_allclose(float(got), want, rtol=1e-5)
  # The output layer on a window of the targets only: the same loss and gradient.
  window = sft.target_window(batch["loss_mask"])
  assert window < batch["tokens"].shape[1]
  args = (jnp.asarray(batch["tokens"]), jnp.asarray(batch["loss_mask"]))
  full = jax.value_and_grad(lambda p: sft.loss(cfg, p, *args))(params)
  windowed = jax.value_and_grad(lambda p: sft.loss(cfg, p, *args, window))(params)
  np.testing.assert_allclose(float(windowed[0]), want, rtol=1e-5)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6),
               full[1], windowed[1])
  # A window too short for the targets scores only those inside it.
  short = float(sft.loss(cfg, params, *args, 2))
  assert short != float(got)


def test_rollout_dialogs_keep_solved_episodes_with_their_feedback():
  rows = [{"name": "p", "description": "Add two numbers."}]
  records = [
      {"problem": "p", "solved": True, "dropped": None,
       "turns": [{"response": "a", "feedback": "fb1"}, {"response": "b", "feedback": None}]},
      {"problem": "p", "solved": False, "dropped": None, "turns": [{"response": "c"}]},
  ]
  (dialog,) = sft.rollout_dialogs(records, rows)
  assert [m["role"] for m in dialog] == ["user", "assistant", "user", "assistant"]
  assert dialog[2]["content"] == "fb1" and dialog[3]["content"] == "b"
  assert "Add two numbers." in dialog[0]["content"]


def test_short_run_learns_and_loads_as_a_policy(tmp_path):
  cfg = sft.SFTConfig(steps=3, batch_size=4, lr=3e-3, warmup_steps=1, log_every=1,
                      max_len=512, progress=False)
  spec = launch.ModelSpec(overrides={"num_layers": 1})
  report = jobs.fine_tune(tmp_path, cfg, spec, sharding.MeshConfig(fsdp=2))
  losses = [l["loss"] for l in report["losses"]]
  assert len(losses) == 3 and losses[-1] < losses[0]
  assert report["examples"] >= 40  # one solution for each bundled train problem
  config, params = ckpt_state.load_policy(tmp_path)
  assert config == launch.model_config(spec)
  fresh = llama.init_params(config, jax.random.key(spec.seed))
  assert any(not np.array_equal(a, b) for a, b in
             zip(jax.tree.leaves(params), jax.tree.leaves(fresh)))
  # A finished run launched again does no more steps.
  again = jobs.fine_tune(tmp_path, cfg, spec, sharding.MeshConfig(fsdp=2))
  assert again["resumed_from_step"] == 3 and again["losses"] == []


def test_batch_indices_group_by_length_and_stay_a_function_of_the_step():
  n, b, g = 50, 4, 3
  lengths = list(np.random.default_rng(0).integers(10, 500, n))
  plain = [sft.batch_indices(n, b, s, seed=7) for s in range(30)]
  stream = [i for batch in plain for i in batch]
  # Without grouping: epoch permutations, consecutive positions.
  assert sorted(stream[:n]) == list(range(n)) and sorted(stream[n:2 * n]) == list(range(n))
  grouped = [sft.batch_indices(n, b, s, 7, lengths, g) for s in range(30)]
  for w in range(30 // g):
    window = grouped[w * g:(w + 1) * g]
    # The same examples as the plain window, cut into batches of similar length.
    assert sorted(i for batch in window for i in batch) == sorted(stream[w * g * b:(w + 1) * g * b])
    spans = sorted((min(lengths[i] for i in bt), max(lengths[i] for i in bt)) for bt in window)
    assert all(hi <= lo2 for (_, hi), (lo2, _) in zip(spans, spans[1:]))
  # Batch order inside windows is shuffled, not always short-first.
  assert any(max(lengths[i] for i in grouped[w * g]) > min(lengths[i] for i in grouped[w * g + 1])
             for w in range(30 // g))
  # A pure function of the step: a resumed run sees the same batches.
  assert [sft.batch_indices(n, b, s, 7, lengths, g) for s in (29, 3, 17)] == \
      [grouped[29], grouped[3], grouped[17]]
  with pytest.raises(ValueError, match="one length per example"):
    sft.batch_indices(n, b, 0, 7, lengths[:-1], g)


def test_cosine_decay_ends_at_its_floor_and_constant_stays_flat():
  params = {"w": jnp.ones((3,))}
  grads = {"w": jnp.ones((3,))}

  def lr_at(cfg, step):
    tx = sft.make_optimizer(cfg)
    state = tx.init(params)
    for _ in range(step + 1):
      updates, state = tx.update(grads, state, params)
    # AdamW's first update of a constant gradient is -lr * sign: read lr back.
    return float(-updates["w"][0])

  cos = sft.SFTConfig(steps=10, lr=1.0, warmup_steps=2, decay="cosine", final_lr_fraction=0.1,
                      max_grad_norm=None)
  flat = sft.SFTConfig(steps=10, lr=1.0, warmup_steps=2, max_grad_norm=None)
  schedule = sft.make_schedule(cos)
  assert float(schedule(0)) == pytest.approx(0.5)
  assert float(schedule(2)) == pytest.approx(1.0)
  assert float(schedule(10)) == pytest.approx(0.1)
  assert float(schedule(6)) == pytest.approx(0.1 + 0.9 * 0.5)
  assert float(sft.make_schedule(flat)(9)) == pytest.approx(1.0)
  assert lr_at(cos, 0) == pytest.approx(0.5, rel=1e-3)
  with pytest.raises(launch.LaunchError, match="decay"):
    jobs.check_sft(sft.SFTConfig(decay="linear"), launch.ModelSpec(), sharding.MeshConfig())

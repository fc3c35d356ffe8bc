"""The KV-cache sampler against teacher-forced forward passes."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlef_jax import sampling, sharding
from rlef_jax.models import configs, llama

CFG = configs.get("tiny", vocab_size=512, num_layers=2)
PROMPTS = [[5, 17, 200, 3, 9], [44, 45], [7] * 11, [300, 301, 302]]
NEW = 12
# ~15% of the vocabulary stops a row, so rows end at different steps.
STOPS = tuple(range(0, 512, 7))


@pytest.fixture(scope="module")
def params():
  p = llama.init_params(CFG, jax.random.key(0))
  # Larger weights than the 0.02 init give peaked, varied next-token
  # distributions, so top-p/top-k and greedy choices are non-trivial.
  return jax.tree.map(lambda x: x * 4 if x.ndim > 1 else x, p)


def _teacher_forced_logprobs(params, prompts, out):
  """Log-probs of the sampled tokens from one causal forward over prompt + completion."""
  p = sampling.bucket_length(max(map(len, prompts)))
  tokens, lengths = sampling.left_pad(prompts, p)
  seq = np.concatenate([tokens, np.asarray(out.tokens)], axis=1)
  n = out.tokens.shape[1]
  mask = np.concatenate([np.arange(p)[None] >= (p - lengths)[:, None],
                         np.arange(n)[None] < np.asarray(out.lengths)[:, None]], axis=1)
  logits = jax.jit(llama.forward, static_argnums=0)(CFG, params, seq, attention_mask=mask)
  logp = jax.nn.log_softmax(logits[:, p - 1:-1], axis=-1)
  return np.take_along_axis(np.asarray(logp), np.asarray(out.tokens)[..., None], -1)[..., 0]


# Both forms of the sampler: per-layer cache with `decode_layout` params (the
# CPU default) and a stacked cache under `lax.scan`.
FORMS = pytest.mark.parametrize("unroll", [True, False], ids=["per_layer", "scan"])


@FORMS
def test_recorded_logprobs_equal_teacher_forced_forward(params, unroll):
  out = sampling.generate(CFG, params, PROMPTS, jax.random.key(1), NEW, temperature=0.7,
                          top_p=0.9, top_k=50, stop_tokens=STOPS, unroll_layers=unroll)
  lengths, tokens, logprobs = map(np.asarray, (out.lengths, out.tokens, out.logprobs))
  assert logprobs.dtype == np.float32
  valid = np.arange(NEW)[None] < lengths[:, None]
  assert 0 < valid.sum() < valid.size  # some rows stopped early, some tokens recorded
  want = _teacher_forced_logprobs(params, PROMPTS, out)
  np.testing.assert_allclose(np.where(valid, logprobs, 0), np.where(valid, want, 0), atol=1e-4)
  for row in range(len(PROMPTS)):
    n = lengths[row]
    is_stop = np.isin(tokens[row, :n], STOPS)
    # A row ends at its first stop token (or the budget) and is padded after.
    assert not is_stop[:-1].any()
    assert bool(out.stopped[row]) == bool(is_stop[-1]) and (n == NEW or is_stop[-1])
    assert (tokens[row, n:] == 0).all() and (logprobs[row, n:] == 0).all()


@FORMS
def test_greedy_equals_stepwise_argmax_of_full_forward(params, unroll):
  out = sampling.generate(CFG, params, PROMPTS, jax.random.key(0), NEW, temperature=0.0,
                          unroll_layers=unroll)
  fwd = jax.jit(llama.forward, static_argnums=0)
  for row, prompt in enumerate(PROMPTS):
    # One fixed-length buffer; causality makes later slots irrelevant.
    buf = np.zeros((1, len(prompt) + NEW), np.int32)
    buf[0, :len(prompt)] = prompt
    for i in range(NEW):
      logits = fwd(CFG, params, buf)[0, len(prompt) + i - 1]
      buf[0, len(prompt) + i] = int(jnp.argmax(logits))
    np.testing.assert_array_equal(np.asarray(out.tokens[row]), buf[0, len(prompt):])
    assert int(out.lengths[row]) == NEW


@FORMS
def test_prompt_alone_equals_prompt_in_padded_batch(params, unroll):
  kw = dict(max_new_tokens=NEW, temperature=1.0, top_p=0.95, stop_tokens=STOPS,
            unroll_layers=unroll)
  alone = sampling.generate(CFG, params, PROMPTS[1:2], jax.random.key(3), **kw)
  # A 20-token neighbour moves the batch to a 24-slot bucket: more padding.
  batch = sampling.generate(CFG, params, [PROMPTS[1], list(range(1, 21)), PROMPTS[0]],
                            jax.random.key(3), **kw)
  n = int(alone.lengths[0])
  assert int(batch.lengths[0]) == n
  np.testing.assert_array_equal(np.asarray(batch.tokens[0]), np.asarray(alone.tokens[0]))
  np.testing.assert_allclose(batch.logprobs[0], alone.logprobs[0], atol=1e-5)


@FORMS
def test_decode_segments_do_not_change_the_samples(params, unroll):
  # Segments of 5 slots put several attention-length boundaries inside the
  # 12-token budget; the defaults (32, or the whole cache) cover it with one.
  kw = dict(max_new_tokens=NEW, temperature=0.7, top_p=0.9, stop_tokens=STOPS[::3],
            unroll_layers=unroll)
  whole = sampling.generate(CFG, params, PROMPTS, jax.random.key(4), **kw)
  split = sampling.generate(CFG, params, PROMPTS, jax.random.key(4), segment=5, **kw)
  np.testing.assert_array_equal(np.asarray(split.tokens), np.asarray(whole.tokens))
  np.testing.assert_array_equal(np.asarray(split.lengths), np.asarray(whole.lengths))
  np.testing.assert_allclose(split.logprobs, whole.logprobs, atol=1e-5)
  valid = np.arange(NEW)[None] < np.asarray(split.lengths)[:, None]
  want = _teacher_forced_logprobs(params, PROMPTS, split)
  np.testing.assert_allclose(np.where(valid, split.logprobs, 0), np.where(valid, want, 0), atol=1e-4)


def test_prompt_lengths_share_a_compiled_program(params):
  sampling.generate(CFG, params, [[1, 2, 3]] * 2, jax.random.key(0), 4, temperature=0.0)
  compiled = (sampling.prefill._cache_size(), sampling.decode._cache_size())
  sampling.generate(CFG, params, [[1] * 9, [2] * 16], jax.random.key(0), 4, temperature=0.0)
  assert (sampling.prefill._cache_size(), sampling.decode._cache_size()) == compiled
  got = [sampling.bucket_length(n) for n in (1, 16, 17, 24, 25, 33, 48, 49, 100, 1000)]
  assert got == [16, 16, 24, 24, 32, 48, 48, 64, 128, 1024]
  assert sampling.bucket_length(20, minimum=32) == 32 and sampling.bucket_length(3, 4) == 4


def test_both_forms_sample_the_same(params):
  kw = dict(max_new_tokens=NEW, temperature=1.0, top_p=0.9, stop_tokens=STOPS)
  scan = sampling.generate(CFG, params, PROMPTS, jax.random.key(6), unroll_layers=False, **kw)
  unrolled = sampling.generate(CFG, params, PROMPTS, jax.random.key(6), unroll_layers=True, **kw)
  np.testing.assert_array_equal(np.asarray(unrolled.tokens), np.asarray(scan.tokens))
  np.testing.assert_allclose(unrolled.logprobs, scan.logprobs, atol=1e-5)


def test_padded_rows_are_few_sizes_with_bounded_waste():
  assert [sampling.padded_rows(n) for n in range(1, 26)] == (
      [1, 2, 4, 4] + [8] * 4 + [16] * 8 + [24] * 8 + [32])
  # The mesh's batch shards divide every size: below the multiple, the power of two
  # rounded up to them.
  assert [sampling.padded_rows(n, 8, 4) for n in (1, 3, 5, 9)] == [4, 4, 8, 16]
  assert [sampling.padded_rows(n, 8, 6) for n in (1, 7, 25, 30)] == [6, 12, 48, 48]
  assert sampling.padded_rows(5, 1) == 5
  with pytest.raises(ValueError, match="batch_multiple"):
    sampling.padded_rows(3, 0)


def test_batch_sizes_share_a_compiled_program_and_empty_rows_stay_empty(params):
  kw = dict(max_new_tokens=6, temperature=1.0, top_p=0.9, stop_tokens=STOPS)
  seven = sampling.generate(CFG, params, PROMPTS + [[9, 8, 7], [4], [6, 6]], jax.random.key(2),
                            **kw)
  compiled = (sampling.prefill._cache_size(), sampling.decode._cache_size())
  five = sampling.generate(CFG, params, PROMPTS + [[9, 8, 7]], jax.random.key(2), **kw)
  assert (sampling.prefill._cache_size(), sampling.decode._cache_size()) == compiled
  three = sampling.generate(CFG, params, PROMPTS[:3], jax.random.key(2), **kw)  # 4 rows
  assert seven.tokens.shape == (7, 6) and five.tokens.shape == (5, 6)
  assert three.tokens.shape == (3, 6)
  # The padding rows change nothing for the real ones: keys are per row.
  np.testing.assert_array_equal(np.asarray(five.tokens), np.asarray(seven.tokens[:5]))
  np.testing.assert_allclose(five.logprobs, seven.logprobs[:5], atol=1e-5)
  np.testing.assert_array_equal(np.asarray(three.tokens), np.asarray(five.tokens[:3]))
  np.testing.assert_allclose(three.logprobs, five.logprobs[:3], atol=1e-5)
  # An empty row (prompt length 0) is done at once and records nothing.
  tokens, lengths = sampling.left_pad(PROMPTS[:2], 16)
  lengths[1] = 0
  settings = sampling.SamplingParams(temperature=1.0, stop_tokens=STOPS)
  cache = sampling._new_cache(CFG, 2, 22)
  cache, state = sampling.prefill(CFG, params, cache, tokens, lengths, jax.random.key(0), settings, 6)
  _, state = sampling.decode(CFG, params, cache, state, settings)
  assert int(state.lengths[1]) == 0 and (np.asarray(state.tokens[1]) == 0).all()
  assert int(state.lengths[0]) > 0
  with pytest.raises(ValueError, match="batch_multiple"):
    sampling.generate(CFG, params, PROMPTS, jax.random.key(0), 4, batch_multiple=0)


def test_positions_past_the_config_are_refused(params):
  cfg = CFG.replace(max_position_embeddings=16)
  with pytest.raises(ValueError, match="max_position_embeddings"):
    sampling.generate(cfg, params, [[1] * 11], jax.random.key(0), 6)
  out = sampling.generate(cfg, params, [[1] * 11], jax.random.key(0), 5)  # positions 0..15
  assert out.tokens.shape == (1, 5)


def test_padded_array_input_matches_lists(params):
  tokens, lengths = sampling.left_pad(PROMPTS, 11)
  a = sampling.generate(CFG, params, tokens, jax.random.key(0), 4, temperature=0.0,
                        prompt_lengths=lengths)
  b = sampling.generate(CFG, params, PROMPTS, jax.random.key(0), 4, temperature=0.0)
  np.testing.assert_array_equal(a.tokens, b.tokens)


def test_all_rows_stop_immediately():
  p = llama.init_params(CFG, jax.random.key(0))
  out = sampling.generate(CFG, p, PROMPTS, jax.random.key(0), 8, stop_tokens=range(512))
  np.testing.assert_array_equal(out.lengths, 1)
  assert bool(out.stopped.all()) and (np.asarray(out.tokens)[:, 1:] == 0).all()


def test_filter_logits_top_k_and_top_p():
  logits = jnp.log(jnp.array([[0.5, 0.3, 0.15, 0.05]]))
  keep = lambda f: np.asarray(f > jnp.finfo(jnp.float32).min / 2)[0].tolist()
  assert keep(sampling.filter_logits(logits, 1.0, 1.0, 2)) == [True, True, False, False]
  # The nucleus is the smallest prefix holding >= top_p of the mass.
  assert keep(sampling.filter_logits(logits, 1.0, 0.5, 0)) == [True, False, False, False]
  assert keep(sampling.filter_logits(logits, 1.0, 0.8, 0)) == [True, True, False, False]
  assert keep(sampling.filter_logits(logits, 1.0, 0.81, 0)) == [True, True, True, False]
  np.testing.assert_allclose(sampling.filter_logits(logits, 2.0, 1.0, 0), logits / 2)


def test_nucleus_equals_sort_and_cumsum():
  rng = np.random.default_rng(4)
  logits = (rng.normal(size=(64, 1000)) * rng.uniform(0.5, 5, (64, 1))).astype(np.float32)
  for top_p in (0.3, 0.9, 0.99):
    got = np.asarray(sampling.filter_logits(jnp.asarray(logits), 1.0, top_p, 0)) > -1e30
    probs = np.asarray(jax.nn.softmax(logits, axis=-1))
    order = np.argsort(-probs, axis=-1)
    ranked = np.take_along_axis(probs, order, -1)
    keep_ranked = np.cumsum(ranked, -1) - ranked < top_p
    want = np.zeros_like(got)
    np.put_along_axis(want, order, keep_ranked, -1)
    # float32 cumsum order may differ at the boundary token in rare rows.
    assert (got != want).sum(-1).max() <= 1 and (got == want).all(-1).mean() > 0.95


def test_sampling_frequencies_follow_filtered_distribution():
  probs = np.array([0.4, 0.3, 0.2, 0.1])
  logits = jnp.log(jnp.tile(jnp.asarray(probs, jnp.float32), (20000, 1)))
  settings = sampling.SamplingParams(temperature=1.0, top_k=3)
  tokens, logp = jax.jit(sampling._sample, static_argnums=2)(logits, jax.random.key(0), settings)
  freq = np.bincount(np.asarray(tokens), minlength=4) / 20000
  want = np.array([0.4, 0.3, 0.2, 0.0]) / 0.9
  # 20000 draws: binomial standard error <= 0.0036; 5 sigma.
  np.testing.assert_allclose(freq, want, atol=0.018)
  # Recorded log-probs are the unfiltered model's.
  np.testing.assert_allclose(logp, np.log(probs)[np.asarray(tokens)], rtol=1e-5)


def test_categorical_frequencies_on_a_large_vocabulary():
  rng = np.random.default_rng(7)
  logits = jnp.asarray(rng.normal(size=(1, 1000)) * 2, jnp.float32)
  probs = jax.nn.softmax(sampling.filter_logits(logits, 1.0, 0.9, 0), axis=-1)
  draws = 200_000
  keys = jax.random.split(jax.random.key(3), draws)
  tokens = np.asarray(jax.jit(sampling.categorical)(keys, jnp.tile(probs, (draws, 1))))
  p = np.asarray(probs[0], np.float64)
  assert set(np.unique(tokens)) <= set(np.flatnonzero(p > 0))  # never outside the nucleus
  freq = np.bincount(tokens, minlength=1000) / draws
  # Every entry within 5 binomial standard errors (plus float slack).
  np.testing.assert_array_less(np.abs(freq - p), 5 * np.sqrt(p * (1 - p) / draws) + 1e-5)


def test_prompt_ids_outside_the_vocabulary_are_refused(params):
  # A Llama 3 tokenizer (128k ids) paired with a 512-id model: refused, not clamped.
  with pytest.raises(ValueError, match=r"token id 128000 outside the model's vocabulary \[0, 512\)"):
    sampling.generate(CFG, params, [[1, 2], [5, 128000, 7]], jax.random.key(0), max_new_tokens=2)
  with pytest.raises(ValueError, match="token id -1"):
    sampling.generate(CFG, params, [[1, -1]], jax.random.key(0), max_new_tokens=2)


@pytest.mark.parametrize("bad, message", [
    (dict(temperature=-0.1), "temperature must be a finite number >= 0"),
    (dict(temperature=float("nan")), "temperature must be a finite number >= 0"),
    (dict(top_p=0.0), r"top_p must lie in \(0, 1\]"),
    (dict(top_p=1.5), r"top_p must lie in \(0, 1\]"),
    (dict(top_k=-1), "top_k must be >= 0"),
    (dict(max_new_tokens=0), "max_new_tokens must be >= 1"),
])
def test_bad_sampling_settings_are_refused_by_the_settings_and_by_generate(params, bad, message):
  with pytest.raises(ValueError, match=message):
    sampling.SamplingSettings(**bad)
  kw = {**dataclasses.asdict(sampling.SamplingSettings(max_new_tokens=2)), **bad}
  with pytest.raises(ValueError, match=message):
    sampling.generate(CFG, params, [[1, 2]], jax.random.key(0), **kw)


def test_settings_object_samples_as_its_keywords(params):
  """`**asdict(settings)` is generate's own keywords: the same samples, one compiled key."""
  settings = sampling.SamplingSettings(temperature=0.7, top_p=0.9, top_k=40, max_new_tokens=NEW)
  a = sampling.generate(CFG, params, PROMPTS, jax.random.key(3), **dataclasses.asdict(settings),
                        stop_tokens=STOPS)
  b = sampling.generate(CFG, params, PROMPTS, jax.random.key(3), max_new_tokens=NEW,
                        temperature=0.7, top_p=0.9, top_k=40, stop_tokens=STOPS)
  np.testing.assert_array_equal(np.asarray(a.tokens), np.asarray(b.tokens))
  assert sampling.SamplingParams.of(settings, STOPS, 5) == sampling.SamplingParams(
      0.7, 0.9, 40, STOPS, 5)


def test_sampler_copy_under_inference_rules_samples_the_same(params):
  """The inference layout (tensor-parallel weights, batch over data x fsdp) is the same model."""
  from rlef_jax.models import precision
  mesh = sharding.make_mesh(sharding.MeshConfig(data=2, fsdp=2, tensor=2))
  pol = precision.PrecisionPolicy(sampler_dtype="float32", compute_dtype="float32")
  s_cfg = pol.sampler_config(CFG)
  copy = pol.sampler_params(CFG, params, mesh)
  kw = dict(max_new_tokens=6, temperature=0.0)
  want = sampling.generate(CFG, params, PROMPTS, jax.random.key(1), **kw)
  got = sampling.generate(s_cfg, copy, PROMPTS, jax.random.key(1), mesh=mesh, unroll_layers=False, **kw)
  np.testing.assert_array_equal(got.tokens, want.tokens)
  np.testing.assert_allclose(got.logprobs, want.logprobs, atol=1e-4)

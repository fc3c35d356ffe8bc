"""Jitted prefill + KV-cache decode for batches of prompts of different lengths.

Prompts are left-padded to a bucketed length P (`bucket_length`: 16, 24, 32,
48, 64, 96, ..., so varying prompt lengths reuse a handful of compiled
programs); every row ends at slot P - 1, so decode step i writes slot P + i
for all rows while RoPE positions stay per-row (slot minus the row's
padding). Decoding runs in `lax.while_loop`s that stop when every row has
emitted a stop token or the budget is spent. Each sampled token's log-prob is
recorded under the untempered model in float32: the behaviour log-probs PPO
needs.

Two forms of the same computation, chosen by the cache passed in:

* a stacked cache: layers under `lax.scan`, and decoding in segments of cache
  slots, one loop each, attending only to the cache up to the segment's end;
* a per-layer cache (`llama.init_cache(..., per_layer=True)`, the default on
  CPU): params in `llama.decode_layout` (unrolled layers, [out, in] kernels),
  each layer's buffers read in place, and one loop over the whole cache. On
  XLA:CPU slicing a weight or a cache buffer copies it, and a decode step is
  bound by those bytes.

Example:

    from rlef_jax import sampling
    out = sampling.generate(cfg, params, [[1, 5, 9], [1, 7]], jax.random.key(0),
                            max_new_tokens=64, temperature=1.0, top_p=0.95,
                            stop_tokens=(tok.eot_id,))
    # The same four settings as one object (what configs and policies hold):
    settings = sampling.SamplingSettings(temperature=1.0, top_p=0.95, max_new_tokens=64)
    out = sampling.generate(cfg, params, [[1, 5, 9]], jax.random.key(0),
                            **dataclasses.asdict(settings), stop_tokens=(tok.eot_id,))
    out.tokens[b, :out.lengths[b]]   # row b's completion (stop token included)
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from rlef_jax.models import partitioning
from rlef_jax.models import llama
from rlef_jax.models.configs import LlamaConfig


@dataclasses.dataclass(frozen=True)
class SamplingSettings:
  """What to sample: the one set of settings training, evaluation and a policy share.

  `TrainerConfig.sampling`, `EvalConfig.sampling` and `ModelPolicy.sampling`
  hold one each; `generate` takes the same four as keywords
  (`**dataclasses.asdict(settings)`) and checks them here.

  Attributes:
    temperature: 0 for greedy decoding.
    top_p: nucleus mass kept (1: no filter).
    top_k: most probable ids kept (0: no filter).
    max_new_tokens: per response.
  """

  temperature: float = 1.0
  top_p: float = 1.0
  top_k: int = 0
  max_new_tokens: int = 512

  def __post_init__(self):
    if not (math.isfinite(self.temperature) and self.temperature >= 0):
      raise ValueError(f"temperature must be a finite number >= 0 (0: greedy), got {self.temperature}")
    if not 0 < self.top_p <= 1:
      raise ValueError(f"top_p must lie in (0, 1] (1: no filter), got {self.top_p}")
    if self.top_k < 0:
      raise ValueError(f"top_k must be >= 0 (0: no filter), got {self.top_k}")
    if self.max_new_tokens < 1:
      raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")

  def replace(self, **changes) -> "SamplingSettings":
    return dataclasses.replace(self, **changes)


@dataclasses.dataclass(frozen=True)
class SamplingParams:
  """Static settings of the compiled sampler (part of its programs' cache key).

  `generate` derives it from a checked `SamplingSettings` (its token filters)
  and the tokenizer's stop and pad ids; `max_new_tokens` is a static argument
  of its own (it sizes the output buffers).
  temperature 0 means greedy; top_k 0 and top_p 1 disable those filters.
  """

  temperature: float = 1.0
  top_p: float = 1.0
  top_k: int = 0
  stop_tokens: tuple[int, ...] = ()
  pad_id: int = 0

  @classmethod
  def of(cls, settings: SamplingSettings, stop_tokens: Sequence[int] = (),
         pad_id: int = 0) -> "SamplingParams":
    """The compiled sampler's key for `settings` and a tokenizer's stop and pad ids."""
    return cls(float(settings.temperature), float(settings.top_p), int(settings.top_k),
               tuple(int(t) for t in stop_tokens), int(pad_id))


class SampleOutput(NamedTuple):
  """tokens [B, max_new] (pad_id after a row ends), lengths [B] (stop token
  included), logprobs [B, max_new] float32 untempered (0 after the end),
  stopped [B] (ended on a stop token rather than the budget)."""

  tokens: jax.Array
  lengths: jax.Array
  logprobs: jax.Array
  stopped: jax.Array


class _State(NamedTuple):
  step: jax.Array          # tokens sampled so far (the next one's index)
  tokens: jax.Array        # [B, N]
  logprobs: jax.Array      # [B, N]
  done: jax.Array          # [B]
  lengths: jax.Array       # [B]
  kv_mask: jax.Array       # [B, S] slots holding real tokens
  prompt_lengths: jax.Array  # [B]
  rng: jax.Array


def bucket_length(n: int, minimum: int = 16) -> int:
  """The padded prompt length for a longest prompt of n tokens.

  The next of 16, 24, 32, 48, 64, 96, ... (powers of two and their halfway
  points): at most a third of a prefill is padding, against a half with
  powers of two alone, for twice as many compiled programs.
  """
  n = max(n, minimum, 1)
  power = 1 << (n - 1).bit_length()  # the next power of two >= n
  half = 3 * power // 4  # the halfway point below it
  return half if n <= half and half >= minimum else power


def left_pad(prompts: Sequence[Sequence[int]], length: int, pad_id: int = 0) -> tuple[np.ndarray, np.ndarray]:
  """Left-padded int32 [B, length] tokens and the prompt lengths [B]."""
  lengths = np.array([len(p) for p in prompts], np.int32)
  if lengths.min() < 1 or lengths.max() > length:
    raise ValueError(f"prompt lengths must be in [1, {length}], got {lengths.min()}..{lengths.max()}")
  tokens = np.full((len(prompts), length), pad_id, np.int32)
  for row, p in enumerate(prompts):
    tokens[row, length - len(p):] = p
  return tokens, lengths


def filter_logits(logits: jax.Array, temperature: float, top_p: float, top_k: int) -> jax.Array:
  """Tempered logits with everything outside top-k / the top-p nucleus set to -inf."""
  logits = logits / temperature
  neg_inf = jnp.finfo(logits.dtype).min
  if top_k > 0:
    kth = jax.lax.top_k(logits, top_k)[0][..., -1:]
    logits = jnp.where(logits < kth, neg_inf, logits)
  if top_p < 1.0:
    logits = jnp.where(_nucleus(jax.nn.softmax(logits, axis=-1), top_p), logits, neg_inf)
  return logits


def _nucleus(probs: jax.Array, top_p: float) -> jax.Array:
  """Mask of the smallest most-probable set holding >= top_p of the mass.

  Bisects on the float32 bit patterns of the probabilities (monotone for
  non-negative floats) for the largest threshold whose kept mass still
  reaches top_p: 32 masked sums over the vocabulary instead of a full sort
  per step, and the exact set a sort-and-cumsum gives (up to exact ties).
  """
  bits = jax.lax.bitcast_convert_type(probs, jnp.int32)

  def mass(threshold):
    return jnp.sum(jnp.where(bits >= threshold[:, None], probs, 0.0), axis=-1)

  def halve(_, bounds):
    lo, hi = bounds  # mass(lo) >= top_p > mass(hi)
    mid = lo + (hi - lo) // 2
    enough = mass(mid) >= top_p
    return jnp.where(enough, mid, lo), jnp.where(enough, hi, mid)

  lo = jnp.zeros(bits.shape[:-1], jnp.int32)
  hi = jnp.max(bits, axis=-1) + 1
  lo, _ = jax.lax.fori_loop(0, 32, halve, (lo, hi))
  return bits >= lo[:, None]


def categorical(keys: jax.Array, probs: jax.Array) -> jax.Array:
  """One draw per row from probs [B, V] (zeros allowed), by inverting the CDF.

  One uniform per row (`keys` [B]) and a cumulative sum, where
  `jax.random.categorical` draws a Gumbel variate per vocabulary entry: on
  XLA:CPU those B x V random bits and the argmax over them took ~2.3 ms of a
  ~24 ms decode step (batch 32, 8192 tokens). Exact up to float32 rounding of
  the cumulative sum (~1e-7 of the mass); an entry of probability 0 is never
  drawn.
  """
  cdf = jnp.cumsum(probs.astype(jnp.float32), axis=-1)
  u = jax.vmap(lambda k: jax.random.uniform(k, (), jnp.float32))(keys) * cdf[:, -1]
  # The first entry whose cumulative mass exceeds u: one with positive mass.
  token = jnp.sum(cdf <= u[:, None], axis=-1)
  return jnp.minimum(token, probs.shape[-1] - 1).astype(jnp.int32)


def _sample(logits: jax.Array, rng: jax.Array, settings: SamplingParams) -> tuple[jax.Array, jax.Array]:
  """Next tokens [B] and their untempered float32 log-probs."""
  if settings.temperature == 0:
    token = jnp.argmax(logits, axis=-1)
  else:
    filtered = filter_logits(logits, settings.temperature, settings.top_p, settings.top_k)
    # One key per row: a row's draws do not depend on the batch it sits in.
    keys = jax.vmap(jax.random.fold_in, (None, 0))(rng, jnp.arange(logits.shape[0]))
    token = categorical(keys, jax.nn.softmax(filtered, axis=-1))
  logp = jnp.take_along_axis(jax.nn.log_softmax(logits, axis=-1), token[:, None], axis=-1)[:, 0]
  return token.astype(jnp.int32), logp


def _record(state: _State, logits: jax.Array, settings: SamplingParams) -> _State:
  """Samples the token at index `state.step` from logits [B, V] and records it."""
  rng, key = jax.random.split(state.rng)
  token, logp = _sample(logits, key, settings)
  live = ~state.done
  token = jnp.where(live, token, settings.pad_id)
  logp = jnp.where(live, logp, 0.0)
  stop = jnp.isin(token, jnp.asarray(settings.stop_tokens, jnp.int32)) & live
  return state._replace(
      step=state.step + 1,
      tokens=jax.lax.dynamic_update_index_in_dim(state.tokens, token, state.step, 1),
      logprobs=jax.lax.dynamic_update_index_in_dim(state.logprobs, logp, state.step, 1),
      done=state.done | stop,
      lengths=state.lengths + live.astype(jnp.int32),
      rng=rng)


def _per_layer(cache: llama.KVCache) -> bool:
  return isinstance(cache.k, tuple)


@functools.partial(jax.jit, static_argnames=("config", "settings", "max_new_tokens"),
                   donate_argnames=("cache",))
def prefill(config: LlamaConfig, params: Any, cache: llama.KVCache, tokens: jax.Array,
            prompt_lengths: jax.Array, rng: jax.Array, settings: SamplingParams,
            max_new_tokens: int) -> tuple[llama.KVCache, _State]:
  """Runs the left-padded prompts [B, P] and samples the first new token.

  A row of prompt length 0 is empty: done from the start, it records nothing.
  """
  if _per_layer(cache):
    params = llama.decode_layout(config, params)
  b, p = tokens.shape
  slots = jnp.arange(cache.length)
  pad = p - prompt_lengths
  kv_mask = (slots[None, :] >= pad[:, None]) & (slots[None, :] < p)
  positions = jnp.maximum(jnp.arange(p)[None, :] - pad[:, None], 0)
  # The prompt attends only to its own slots: the rest of the cache is empty.
  logits, cache = llama.forward_with_cache(config, params, tokens, cache, 0, positions, kv_mask,
                                           last_only=True, attend_len=p)
  state = _State(
      step=jnp.zeros((), jnp.int32),
      tokens=jnp.full((b, max_new_tokens), settings.pad_id, jnp.int32),
      logprobs=jnp.zeros((b, max_new_tokens), jnp.float32),
      done=prompt_lengths == 0,  # empty rows (batch padding) never sample
      lengths=jnp.zeros((b,), jnp.int32),
      kv_mask=kv_mask,
      prompt_lengths=prompt_lengths,
      rng=rng)
  return cache, _record(state, logits[:, 0], settings)


@functools.partial(jax.jit, static_argnames=("config", "settings", "segment"),
                   donate_argnames=("cache", "state"))
def decode(config: LlamaConfig, params: Any, cache: llama.KVCache, state: _State,
           settings: SamplingParams, segment: int | None = None) -> tuple[llama.KVCache, _State]:
  """Feeds back sampled tokens until every row stopped or the budget is spent.

  The steps run in segments of `segment` cache slots, one `lax.while_loop`
  each, and a segment's attention reads only the cache up to its last slot:
  a static shape per loop, and fewer reads than attending to the whole cache
  at every step (a third fewer for a 64-slot prompt and 256 new tokens; near
  half for budgets much longer than the prompt). Default for a stacked cache:
  32 slots, or a budget / 8 for budgets past 256 (at most 8 loops: each is a
  copy of the step in the program, and the TPU compiler took minutes for an
  8B model's 32 loops); the whole cache, one loop, for a per-layer cache, whose buffers a
  slice would copy (measured on XLA:CPU, 27M params, batch 32, 256 new
  tokens: 38 ms per step in 32-slot segments, 24 ms in one loop).

  With a per-layer cache the params are put in `llama.decode_layout` before
  the loops (a no-op for params already in it, as `generate` passes them): a
  transient second copy of the weights, and a compile time that grows with
  depth.
  """
  if _per_layer(cache):
    params = llama.decode_layout(config, params)
  total_slots = cache.length
  prompt_slots = total_slots - state.tokens.shape[1]
  budget = state.tokens.shape[1]
  if segment is None:
    # At most 8 loops: each is a copy of the whole decode step in the program,
    # and compile time (minutes for an 8B model on the TPU compiler at 32-slot
    # segments of a 1024-token budget) grows with their count.
    segment = total_slots if _per_layer(cache) else max(32, -(-budget // 8))

  def run_segment(carry, end):
    def cond(carry):
      _, state = carry
      # Step s writes slot prompt_slots + s - 1, which must lie below `end`.
      return (state.step < jnp.minimum(budget, end - prompt_slots + 1)) & ~jnp.all(state.done)

    def body(carry):
      cache, state = carry
      index = state.step - 1  # the last sampled token, fed back now
      slot = prompt_slots + index
      token = jax.lax.dynamic_index_in_dim(state.tokens, index, 1)          # [B, 1]
      kv_mask = jax.lax.dynamic_update_index_in_dim(
          state.kv_mask, jnp.ones_like(state.done), slot, 1)
      positions = (state.prompt_lengths + index)[:, None]
      logits, cache = llama.forward_with_cache(config, params, token, cache, slot, positions,
                                               kv_mask, attend_len=end)
      return cache, _record(state._replace(kv_mask=kv_mask), logits[:, 0], settings)

    return jax.lax.while_loop(cond, body, carry)

  carry = (cache, state)
  for end in range(prompt_slots + segment, total_slots + segment, segment):
    carry = run_segment(carry, min(end, total_slots))
  return carry


def generate(config: LlamaConfig, params: Any, prompts: Sequence[Sequence[int]] | np.ndarray,
             rng: jax.Array, max_new_tokens: int, temperature: float = 1.0, top_p: float = 1.0,
             top_k: int = 0, stop_tokens: Sequence[int] = (), pad_id: int = 0,
             prompt_lengths: np.ndarray | None = None, mesh: Mesh | None = None,
             min_bucket: int = 16, segment: int | None = None,
             unroll_layers: bool | None = None, batch_multiple: int = 8) -> SampleOutput:
  """Samples up to `max_new_tokens` for each prompt.

  Args:
    prompts: token lists, or a left-padded int array [B, P] with `prompt_lengths`
      (re-padded to the bucketed length).
    max_new_tokens, temperature, top_p, top_k: the fields of `SamplingSettings`
      (checked there; temperature 0 for greedy decoding).
    mesh: place the cache and batch on this mesh by the rules table that
      `config.sharding_rules` names (params should already be placed there:
      `precision.PrecisionPolicy.sampler_params` gives a bf16 copy under the
      inference rules, tensor-parallel weights and no per-step gathers).
    segment: decode steps per attention length (see `decode`); smaller ones
      read less cache but compile more loops.
    unroll_layers: a per-layer cache and `llama.decode_layout` params (see the
      module docstring) rather than `lax.scan` over stacked ones. Default: on
      CPU only, where it cut a decode step from 79 to ~35 ms (246M params,
      batch 4); elsewhere the scan keeps compile time and memory flat in depth.
    batch_multiple: the batch is padded with empty rows (done from the start,
      never sampled from; see `padded_rows`) to a multiple of this, and of
      the mesh's batch shards, so that nearby batch sizes (a multi-turn
      loop's retries) share one compiled program; a batch smaller than that
      multiple goes only to the next power of two (an empty row still costs
      a full row of prefill); 1 disables it. The output has the caller's rows.
  """
  if unroll_layers is None:
    devices = mesh.devices.flat if mesh is not None else jax.devices()
    unroll_layers = next(iter(devices)).platform == "cpu"
  checked = SamplingSettings(float(temperature), float(top_p), int(top_k), int(max_new_tokens))
  settings = SamplingParams.of(checked, stop_tokens, pad_id)
  if prompt_lengths is None:
    prompts = [list(p) for p in prompts]
    tokens, lengths = left_pad(prompts, bucket_length(max(len(p) for p in prompts), min_bucket), pad_id)
  else:
    lengths = np.asarray(prompt_lengths, np.int32)
    given = np.asarray(prompts, np.int32)
    tokens, _ = left_pad([row[len(row) - n:] for row, n in zip(given, lengths)],
                         bucket_length(given.shape[1], min_bucket), pad_id)
  rows = len(lengths)
  # An id the embedding has no row for would be clamped silently by the
  # gather (a 128k-id Llama 3 tokenizer paired with a small model).
  real = np.arange(tokens.shape[1])[None, :] >= tokens.shape[1] - lengths[:, None]
  bad = real & ((tokens < 0) | (tokens >= config.vocab_size))
  if bad.any():
    row, col = map(int, np.argwhere(bad)[0])
    raise ValueError(f"prompt {row} holds token id {int(tokens[row, col])} outside the model's "
                     f"vocabulary [0, {config.vocab_size}); is the tokenizer the model's?")
  if int(lengths.max()) + max_new_tokens > config.max_position_embeddings:
    raise ValueError(f"a {int(lengths.max())}-token prompt plus {max_new_tokens} new tokens "
                     f"exceeds max_position_embeddings ({config.max_position_embeddings})")
  if batch_multiple < 1:
    raise ValueError(f"batch_multiple must be >= 1, got {batch_multiple}")
  rules = partitioning.rules_for(config.sharding_rules)
  shards = partitioning.batch_shards(mesh, rules) if mesh is not None else 1
  extra = padded_rows(rows, batch_multiple, shards) - rows
  tokens = np.concatenate([tokens, np.full((extra, tokens.shape[1]), pad_id, np.int32)])
  lengths = np.concatenate([lengths, np.zeros((extra,), np.int32)])
  if mesh is None:
    out = _run(config, params, tokens, lengths, rng, settings, max_new_tokens, segment,
               unroll_layers)
  else:
    with jax.set_mesh(mesh):
      tokens = jax.device_put(tokens, partitioning.batch_sharding(mesh, tokens.shape, rules=rules))
      lengths = jax.device_put(lengths, partitioning.batch_sharding(mesh, lengths.shape, rules=rules))
      out = _run(config, params, tokens, lengths, rng, settings, max_new_tokens, segment,
                 unroll_layers)
  return SampleOutput(*(x[:rows] for x in out)) if extra else out


def padded_rows(rows: int, batch_multiple: int = 8, shards: int = 1) -> int:
  """The batch `generate` runs for `rows` prompts: few compiled sizes, bounded waste.

  A multiple of m = lcm(batch_multiple, shards); below m, the next power of
  two (rounded up to the shards): an empty row costs a full row of prefill,
  so a short tail (the last retries of a multi-turn batch) is not padded to
  m (docs/model.md has the measurement).

      padded_rows(2) == 2, padded_rows(3) == 4, padded_rows(5) == 8,
      padded_rows(13) == 16, padded_rows(17) == 24, padded_rows(3, 8, 8) == 8
  """
  if batch_multiple < 1 or shards < 1:
    raise ValueError(f"batch_multiple and shards must be >= 1, got {batch_multiple}, {shards}")
  multiple = math.lcm(batch_multiple, shards)
  if rows >= multiple:
    return -(-rows // multiple) * multiple
  power = 1 << max(rows - 1, 0).bit_length()
  return min(multiple, -(-power // shards) * shards)


@functools.partial(jax.jit, static_argnames=("config", "batch", "length", "per_layer"))
def _new_cache(config: LlamaConfig, batch: int, length: int, per_layer: bool = False) -> llama.KVCache:
  # Under `jax.set_mesh` the constraint lays the buffers out by the rules table.
  cache = llama.init_cache(config, batch, length, per_layer=per_layer)
  rules = partitioning.rules_for(config.sharding_rules)
  return llama.KVCache(*(jax.tree.map(lambda c, kind=kind: partitioning.constrain(
      c, partitioning.cache_axes(kind, c.ndim), rules), buffers) for kind, buffers in zip("kv", cache)))


_decode_layout = jax.jit(llama.decode_layout, static_argnums=0)


def _run(config, params, tokens, lengths, rng, settings, max_new_tokens, segment,
         unroll_layers) -> SampleOutput:
  cache = _new_cache(config, tokens.shape[0], tokens.shape[1] + max_new_tokens, unroll_layers)
  if unroll_layers:  # once for both calls (each would otherwise copy the weights)
    params = _decode_layout(config, params)
  cache, state = prefill(config, params, cache, tokens, lengths, rng, settings, max_new_tokens)
  _, state = decode(config, params, cache, state, settings, segment)
  return SampleOutput(state.tokens, state.lengths, state.logprobs, state.done)

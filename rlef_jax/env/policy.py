"""Policies the environment samples from: the model, or a script of text responses.

A policy maps token prompts (whole dialogs ending in the assistant header) to
one `Sample` each: the ids as sampled (stop token included when the row
stopped), their untempered behaviour log-probs, and the decoded text.
`ModelPolicy` wraps `rlef_jax.sampling.generate`; `ScriptedPolicy` answers
with text from a function (tokenized, log-probs 0) so tests and benchmarks run
the environment's code paths without a model. Both refuse token ids outside
the model's vocabulary.

Example:

    from rlef_jax import sampling
    from rlef_jax.env import policy
    from rlef_jax.models import configs, llama
    from rlef_jax import tokenizer as tokenizers
    tok = tokenizers.load_tiny_tokenizer()
    cfg = configs.get("tiny")
    model = policy.ModelPolicy(cfg, llama.init_params(cfg, jax.random.key(0)), tok,
                               sampling.SamplingSettings(temperature=1.0, max_new_tokens=64))
    samples = model.sample([tok.render_dialog([{"role": "user", "content": "Hi"}])],
                           jax.random.key(1))
    scripted = policy.ScriptedPolicy(lambda row, turn, messages: "```python\\nprint(1)\\n```", tok)
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Protocol, Sequence

import jax
import numpy as np

from rlef_jax import sampling
from rlef_jax.models.configs import LlamaConfig


@dataclasses.dataclass(frozen=True)
class Sample:
  """One sampled response.

  Attributes:
    ids: the sampled token ids, stop token included when `stopped`.
    logprobs: behaviour log-prob of each id (untempered, float).
    text: the decoded response without its stop token.
    stopped: ended on a stop token (False: the token budget ran out).
  """

  ids: list[int]
  logprobs: list[float]
  text: str
  stopped: bool


@dataclasses.dataclass(frozen=True)
class Context:
  """What a scripted policy may look at: the episode's row, turn and messages."""

  problem: Mapping[str, Any]
  turn: int
  messages: Sequence[Mapping[str, str]]


class Policy(Protocol):
  """`sample(prompts, rng, contexts=None) -> list[Sample]`, one per prompt."""

  vocab_size: int
  max_new_tokens: int

  def sample(self, prompts: Sequence[Sequence[int]], rng: jax.Array,
             contexts: Sequence[Context] | None = None) -> list[Sample]:
    ...


def check_ids(prompts: Sequence[Sequence[int]], vocab_size: int, what: str = "prompt") -> None:
  """Raises ValueError naming the first id outside [0, vocab_size)."""
  for row, ids in enumerate(prompts):
    arr = np.asarray(ids, np.int64)
    bad = np.flatnonzero((arr < 0) | (arr >= vocab_size))
    if bad.size:
      raise ValueError(
          f"{what} {row} holds token id {int(arr[bad[0]])} at position {int(bad[0])}, outside "
          f"the model's vocabulary of {vocab_size} ids: the tokenizer does not match the model "
          "(e.g. the 128,256-id Llama 3 tokenizer with the tiny model)")


def _check_tokenizer(tokenizer, vocab_size: int) -> None:
  if tokenizer.vocab_size > vocab_size:
    raise ValueError(f"tokenizer {tokenizer!r} has {tokenizer.vocab_size} ids but the model's "
                     f"vocabulary has {vocab_size}: pair the model with its own tokenizer")


@dataclasses.dataclass(frozen=True)
class ModelPolicy:
  """Samples with `sampling.generate`; `.replace(params=new)` for the next round.

  Samples by `sampling` (temperature, top-p, top-k, max new tokens); stops at
  the tokenizer's stop tokens; pads with its pad id. The sampled ids of a row
  are everything up to and including its stop token.
  `min_prompt_bucket` is generate's smallest prompt bucket: a larger one
  means fewer compiled programs across turns, at the price of more padding.
  """

  config: LlamaConfig
  params: Any
  tokenizer: Any
  sampling: sampling.SamplingSettings = sampling.SamplingSettings()
  mesh: Any = None
  min_prompt_bucket: int = 16

  def __post_init__(self):
    if not isinstance(self.sampling, sampling.SamplingSettings):
      raise TypeError(f"ModelPolicy.sampling must be a sampling.SamplingSettings, got "
                      f"{self.sampling!r}")
    _check_tokenizer(self.tokenizer, self.config.vocab_size)

  @property
  def vocab_size(self) -> int:
    return self.config.vocab_size

  @property
  def max_new_tokens(self) -> int:
    return self.sampling.max_new_tokens

  @property
  def max_context(self) -> int:
    """Prompt plus new tokens the model's positions allow (the env clamps its budget to it)."""
    return self.config.max_position_embeddings

  def replace(self, **changes) -> "ModelPolicy":
    return dataclasses.replace(self, **changes)

  def with_temperature(self, temperature: float) -> "ModelPolicy":
    """The same policy sampling at another temperature (e.g. validation's)."""
    return self.replace(sampling=self.sampling.replace(temperature=temperature))

  def sample(self, prompts: Sequence[Sequence[int]], rng: jax.Array,
             contexts: Sequence[Context] | None = None) -> list[Sample]:
    del contexts  # A model reads only the tokens.
    if not prompts:
      return []
    check_ids(prompts, self.vocab_size)
    out = sampling.generate(self.config, self.params, prompts, rng,
                            **dataclasses.asdict(self.sampling),
                            stop_tokens=self.tokenizer.stop_tokens, pad_id=self.tokenizer.pad_id,
                            mesh=self.mesh, min_bucket=self.min_prompt_bucket)
    tokens, lengths, logprobs, stopped = (np.asarray(x) for x in out)
    samples = []
    for b in range(len(prompts)):
      ids = tokens[b, :lengths[b]].tolist()
      check_ids([ids], self.vocab_size, "sampled response")
      text_ids = ids[:-1] if stopped[b] else ids
      samples.append(Sample(ids, logprobs[b, :lengths[b]].astype(float).tolist(),
                            self.tokenizer.decode(text_ids), bool(stopped[b])))
    return samples


@dataclasses.dataclass(frozen=True)
class ScriptedPolicy:
  """Responses given as text by `respond(problem_row, turn, messages)`.

  Each text is encoded and closed with `<|eot_id|>` (log-probs 0); a text
  longer than `max_new_tokens` is cut there and does not stop, as a model's
  would. Turns count from 1; `messages` is the dialog so far.
  """

  respond: Callable[[Mapping[str, Any], int, Sequence[Mapping[str, str]]], str]
  tokenizer: Any
  max_new_tokens: int = 512

  @property
  def vocab_size(self) -> int:
    return self.tokenizer.vocab_size

  def sample(self, prompts: Sequence[Sequence[int]], rng: jax.Array,
             contexts: Sequence[Context] | None = None) -> list[Sample]:
    del rng
    if contexts is None or len(contexts) != len(prompts):
      raise ValueError("ScriptedPolicy needs one Context per prompt")
    check_ids(prompts, self.vocab_size)
    samples = []
    for ctx in contexts:
      ids = self.tokenizer.encode(self.respond(ctx.problem, ctx.turn, ctx.messages))
      ids.append(self.tokenizer.eot_id)
      stopped = len(ids) <= self.max_new_tokens
      ids = ids[:self.max_new_tokens]
      text_ids = ids[:-1] if stopped else ids
      samples.append(Sample(ids, [0.0] * len(ids), self.tokenizer.decode(text_ids), stopped))
    return samples

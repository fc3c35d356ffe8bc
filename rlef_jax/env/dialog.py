"""One episode's dialog at token level: the ids the policy saw and produced.

Sampled ids enter as sampled (never re-tokenized from their text), so each
`behaviour_logp` stays on the token that produced it; user turns are added
with the tokenizer's own `render_message` / `render_header`. A dialog whose
responses all stopped on `<|eot_id|>` is exactly
`tokenizer.render_dialog(messages)`; a response cut by the token budget is
closed with an `<|eot_id|>` that the policy did not sample (mask False). The
chat format comes from the tokenizer: `dialog_prefix` opens the dialog (Llama
3: BOS; ChatML: the default system turn) and `turn_suffix` follows each end
of turn (Llama 3: nothing; ChatML: a newline), both unsampled.
`value_positions[t]` is the last token of the assistant header that opens
response t: the prompt c_t's last token, where PPO reads V(c_t).

Example:

    d = Dialog.start(tok, feedback.initial_prompt(row["description"]))
    d.add_response(sample, turn=0)
    d.add_user(feedback_text, tok)
    d.ids, d.response_mask, d.value_positions
"""

from __future__ import annotations

import dataclasses

from rlef_jax.env.policy import Sample


@dataclasses.dataclass
class Dialog:
  """Parallel per-token lists plus the messages as text."""

  ids: list[int]
  response_mask: list[bool]
  turn_index: list[int]
  logprobs: list[float]
  value_positions: list[int]
  messages: list[dict[str, str]]

  @classmethod
  def start(cls, tokenizer, prompt: str) -> "Dialog":
    prefix = tokenizer.dialog_prefix("user")
    n = len(prefix)
    d = cls(list(prefix), [False] * n, [-1] * n, [0.0] * n, [], [])
    d.add_user(prompt, tokenizer)
    return d

  def _extend(self, ids, sampled: bool, turn: int = -1, logprobs=None) -> None:
    self.ids.extend(ids)
    self.response_mask.extend([sampled] * len(ids))
    self.turn_index.extend([turn if sampled else -1] * len(ids))
    self.logprobs.extend(logprobs if logprobs is not None else [0.0] * len(ids))

  @staticmethod
  def user_turn_ids(text: str, tokenizer) -> list[int]:
    """What `add_user(text)` appends: the user message and the assistant header."""
    return (list(tokenizer.render_message({"role": "user", "content": text}))
            + list(tokenizer.render_header("assistant")))

  def user_turn_cost(self, text: str, tokenizer) -> int:
    """Tokens `add_user(text)` would add to this dialog."""
    return len(self.user_turn_ids(text, tokenizer))

  def add_user(self, text: str, tokenizer) -> None:
    """A user message and the assistant header that asks for the next response."""
    self._extend(self.user_turn_ids(text, tokenizer), False)
    self.value_positions.append(len(self.ids) - 1)
    self.messages.append({"role": "user", "content": text})

  def add_response(self, sample: Sample, turn: int, tokenizer) -> None:
    """The sampled ids of response `turn` (0-based), closed if it did not stop."""
    if len(sample.ids) != len(sample.logprobs):
      raise ValueError(f"{len(sample.ids)} ids but {len(sample.logprobs)} log-probs")
    if self.messages[-1]["role"] != "user" or turn != len(self.value_positions) - 1:
      raise ValueError(f"response {turn} does not follow the user turn {len(self.value_positions)}")
    self._extend(sample.ids, True, turn, [float(x) for x in sample.logprobs])
    if not sample.stopped:
      self._extend([tokenizer.eot_id], False)
    self._extend(list(tokenizer.turn_suffix), False)
    self.messages.append({"role": "assistant", "content": sample.text})

  def prompt_ids(self) -> list[int]:
    return list(self.ids)

  def __len__(self) -> int:
    return len(self.ids)

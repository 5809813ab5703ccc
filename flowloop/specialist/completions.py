"""Text completions with log-probabilities, for ``flow serve-model``'s ``POST /v1/completions``.

The ``openai`` backend scores a reply by sending the rendered chat with ``echo`` and
``logprobs`` and summing the log-probabilities of the reply's tokens (the way
lm-evaluation-harness scores served models). vLLM answers that; this module makes the
specialist's own server answer it too, so a model served with ``flow serve-model`` can be
evaluated from another machine with the same numbers as in process. The prompt is tokenized as
it is written (special tokens such as ``<|im_start|>`` in the text are parsed as such, as the chat
template produces them), its log-probabilities come from one forward pass, and a continuation
of ``max_tokens`` is decoded greedily.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_TOP_LOGPROBS = 5


class CompletionRefused(ValueError):
    """A request this model cannot answer (an empty prompt, no offsets from the tokenizer)."""


@dataclass
class TextCompletion:
    """The continuation and, per token of (echoed prompt +) continuation, its log-probability."""

    text: str
    tokens: list[str]
    token_logprobs: list[float | None]
    top_logprobs: list[dict[str, float] | None]
    text_offset: list[int]
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str

    def logprobs(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "token_logprobs": self.token_logprobs,
                "top_logprobs": self.top_logprobs, "text_offset": self.text_offset}


def complete_text(loaded: Any, prompt: str, max_tokens: int, *, echo: bool = False, top: int = 0) -> TextCompletion:
    """Greedy continuation of ``prompt`` with ``loaded`` (a :class:`LoadedModel`), with log-probabilities."""
    import torch

    tokenizer, model, device = loaded.tokenizer, loaded.model, loaded.device
    if not getattr(tokenizer, "is_fast", False):
        raise CompletionRefused("this model's tokenizer gives no character offsets (it is not a fast tokenizer)")
    encoded = tokenizer(prompt, add_special_tokens=False, return_offsets_mapping=True)
    prompt_ids = list(encoded["input_ids"])
    if not prompt_ids:
        raise CompletionRefused("the prompt is empty")
    offsets = [int(start) for start, _ in encoded["offset_mapping"]]
    generated: list[int] = []
    if max_tokens > 0:
        ids = torch.tensor([prompt_ids], device=device)
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens,
                                 do_sample=False, temperature=None, top_p=None, top_k=None,
                                 pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        generated = out[0, len(prompt_ids):].tolist()
    # Offsets of generated tokens: where each one's text starts in prompt + continuation.
    gen_offsets = [len(prompt) + len(tokenizer.decode(generated[:i])) for i in range(len(generated))]
    text = tokenizer.decode(generated)
    full = prompt_ids + generated
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([full], device=device)).logits[0]
        logprobs = torch.log_softmax(logits[:-1].float(), dim=-1)
        picked = logprobs.gather(1, torch.tensor(full[1:], device=device).unsqueeze(1)).squeeze(1).tolist()
        k = max(0, min(top, MAX_TOP_LOGPROBS))
        tops = torch.topk(logprobs, k, dim=-1) if k else None
    values: list[float | None] = [None, *[float(v) for v in picked]]
    top_rows: list[dict[str, float] | None] = [None]
    for i in range(len(full) - 1):
        if tops is None:
            top_rows.append(None)
        else:
            top_rows.append({tokenizer.decode([int(t)]): float(v) for t, v in zip(tops.indices[i].tolist(), tops.values[i].tolist())})
    first = 0 if echo else len(prompt_ids)
    return TextCompletion(
        text=(prompt if echo else "") + text,
        tokens=[tokenizer.decode([t]) for t in full[first:]],
        token_logprobs=values[first:],
        top_logprobs=top_rows[first:],
        text_offset=(offsets + gen_offsets)[first:] if echo else [o - len(prompt) for o in gen_offsets],
        prompt_tokens=len(prompt_ids),
        completion_tokens=len(generated),
        finish_reason="stop" if generated and generated[-1] == tokenizer.eos_token_id else "length",
    )

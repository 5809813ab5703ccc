"""Batching helpers of the suites: every prompt of a suite asked of a model, with progress.

What a model must answer is :class:`flowloop.inference.Model` (the in-process transformers
backend, a served model, or the table-driven fake of ``flowloop.inference.fake``). Suites never
touch tokenizers or tensors, so the same suite code scores the base model, any specialist
version or the fake.
"""

from __future__ import annotations

from collections.abc import Sequence

from flowloop.inference.model import Model, Scored
from flowloop.types import Message, Progress

# Suites hand over all their prompts at once and the model batches them. Progress is reported
# per chunk of ``CHUNK`` prompts so the bar still moves during a long suite.
CHUNK = 8


def generate_all(
    scorer: Model, conversations: Sequence[list[Message]], max_new_tokens: int, progress: Progress | None = None
) -> list[str]:
    """Greedy replies to every chat, in order."""
    out: list[str] = []
    for start in range(0, len(conversations), CHUNK):
        out += scorer.generate_many(list(conversations[start : start + CHUNK]), max_new_tokens)
        if progress:
            progress(len(out), len(conversations))
    return out


def loglik_all(
    scorer: Model,
    pairs: Sequence[tuple[list[Message], str]],
    *,
    end_of_turn: bool = True,
    progress: Progress | None = None,
    unit: int = 1,
) -> list[Scored]:
    """``loglikelihood`` of every (prompt, completion) pair, in order.

    ``unit`` pairs make one item of the suite (the options of one question), so progress counts
    items, not pairs.
    """
    out: list[Scored] = []
    step = CHUNK * unit
    for start in range(0, len(pairs), step):
        out += scorer.loglikelihood_many(list(pairs[start : start + step]), end_of_turn=end_of_turn)
        if progress:
            progress(len(out) // unit, len(pairs) // unit)
    return out


def per_token(scored: tuple[float, int]) -> float:
    """Length-normalised log-likelihood of one scored pair."""
    total, n_tokens = scored
    return total / max(n_tokens, 1)

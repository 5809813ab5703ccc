"""What an evaluated model must do: the two calls every suite is written against.

The real implementation is ``flowloop.models.loader.LoadedModel`` (transformers in process);
``flowloop.evaluate.fake.TableScorer`` is a deterministic one for metric tests. Suites never
touch tokenizers or tensors, so the same suite code scores the base model, any specialist
version or the fake.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

Message = dict[str, str]


@runtime_checkable
class Scorer(Protocol):
    """A model the suites can query. ``version`` names it in results (``base``, ``v3``)."""

    version: str

    def generate(self, messages: list[Message], max_new_tokens: int) -> str:
        """Greedy completion of a chat (the assistant's reply text)."""
        ...

    def loglikelihood(
        self, prompt_messages: list[Message], completion_text: str, *, end_of_turn: bool = True
    ) -> tuple[float, int]:
        """Sum of log-probabilities of ``completion_text`` as the assistant reply, and its token count.

        ``end_of_turn=True`` scores a complete reply (the end-of-turn token included, as training
        saw it); ``False`` scores a prefix of a reply (a first word, a first sentence).
        """
        ...


# Suites hand over all their prompts at once; a scorer with ``generate_many`` /
# ``loglikelihood_many`` (the real loader) batches them, any other is asked one by one. Progress
# is reported per chunk of ``CHUNK`` prompts so the bar still moves during a long suite.
CHUNK = 8
Progress = Callable[[int, int], None] | None


def generate_all(scorer: Scorer, conversations: Sequence[list[Message]], max_new_tokens: int, progress: Progress = None) -> list[str]:
    """Greedy replies to every chat, in order."""
    many = getattr(scorer, "generate_many", None)
    out: list[str] = []
    for start in range(0, len(conversations), CHUNK):
        chunk = list(conversations[start : start + CHUNK])
        out += many(chunk, max_new_tokens) if many else [scorer.generate(m, max_new_tokens) for m in chunk]
        if progress:
            progress(len(out), len(conversations))
    return out


def loglik_all(
    scorer: Scorer, pairs: Sequence[tuple[list[Message], str]], *, end_of_turn: bool = True, progress: Progress = None, unit: int = 1
) -> list[tuple[float, int]]:
    """``loglikelihood`` of every (prompt, completion) pair, in order.

    ``unit`` pairs make one item of the suite (the options of one question), so progress counts
    items, not pairs.
    """
    many = getattr(scorer, "loglikelihood_many", None)
    out: list[tuple[float, int]] = []
    step = CHUNK * unit
    for start in range(0, len(pairs), step):
        chunk = list(pairs[start : start + step])
        if many:
            out += many(chunk, end_of_turn=end_of_turn)
        else:
            out += [scorer.loglikelihood(prompt, text, end_of_turn=end_of_turn) for prompt, text in chunk]
        if progress:
            progress(len(out) // unit, len(pairs) // unit)
    return out


def per_token(scored: tuple[float, int]) -> float:
    """Length-normalised log-likelihood of one scored pair."""
    total, n_tokens = scored
    return total / max(n_tokens, 1)

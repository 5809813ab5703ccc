"""What an evaluated model must do: the two calls every suite is written against.

The real implementation is ``flowloop.specialist.loader.LoadedModel`` (transformers in process);
``flowloop.evaluate.fake.TableScorer`` is a deterministic one for metric tests. Suites never
touch tokenizers or tensors, so the same suite code scores the base model, any specialist
version or the fake.
"""

from __future__ import annotations

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


def normalised_loglik(scorer: Scorer, prompt: list[Message], completion: str, *, end_of_turn: bool = True) -> float:
    """Log-likelihood per token, so a longer option is not penalised for its length."""
    total, n_tokens = scorer.loglikelihood(prompt, completion, end_of_turn=end_of_turn)
    return total / max(n_tokens, 1)

"""The one model interface: what every backend (in-process, a server, the test fake) answers.

Everything that asks a model something goes through this protocol: ``flow ask``, the
OpenAI-compatible server, agentic curation, the planner and the evaluation suites. Four calls
are the evaluation's needs: greedy generation and the log-likelihood of a given reply, each one
at a time and batched (a backend that cannot batch loops; one that can, like the in-process
transformers model, makes evaluation affordable on a CPU). The fifth, ``sample``, is the
planner's: several different drafts of one reply, seeded so that a run can be repeated.
Backends are looked up by name in :mod:`flowloop.inference.registry`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from flowloop.types import Message

Scored = tuple[float, int]
"""Sum of the completion's token log-probabilities, and how many tokens it has."""


@runtime_checkable
class Model(Protocol):
    """A model to ask. ``name`` is the backend (``transformers``, ``openai``, ``fake``);
    ``version`` names what answers (``base``, ``v3``, a served model's name) in results."""

    name: str
    version: str

    def generate(self, messages: list[Message], max_new_tokens: int) -> str:
        """Greedy reply to one chat (the assistant's text, special tokens removed)."""
        ...

    def generate_many(self, conversations: Sequence[list[Message]], max_new_tokens: int) -> list[str]:
        """Greedy replies to several chats, in order; the same answers as one by one."""
        ...

    def sample(self, messages: list[Message], max_new_tokens: int, n: int, *, seed: int = 0,
               temperature: float = 0.8, top_p: float = 0.95) -> list[str]:
        """``n`` sampled replies to one chat (nucleus sampling at ``temperature``), in order; the
        same ``seed`` gives the same replies from the same model."""
        ...

    def loglikelihood(self, prompt_messages: list[Message], completion_text: str, *, end_of_turn: bool = True) -> Scored:
        """Log-likelihood of ``completion_text`` as the assistant's reply to ``prompt_messages``.

        ``end_of_turn=True`` scores a complete reply (its end-of-turn token included, as training
        saw it); ``False`` scores a prefix of a reply (a first word, a first sentence).
        """
        ...

    def loglikelihood_many(
        self, pairs: Sequence[tuple[list[Message], str]], *, end_of_turn: bool = True
    ) -> list[Scored]:
        """:meth:`loglikelihood` of several (prompt, completion) pairs, in order."""
        ...


__all__ = ["Model", "Scored"]

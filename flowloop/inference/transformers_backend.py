"""In-process transformers backend (the default): the base model or a registered version.

The model loads on the first question, not at construction, so building a backend is free and
a command that only wants the configured name does not pay for torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flowloop.inference.model import Scored
from flowloop.repo import FlowRepo
from flowloop.types import Message


class TransformersBackend:
    """:func:`flowloop.models.loader.load_specialist` behind the model protocol."""

    name = "transformers"

    def __init__(self, repo: FlowRepo, which: str = "current", loaded: Any = None) -> None:
        self.repo = repo
        self.which = which
        self._loaded = loaded

    @property
    def loaded(self) -> Any:
        if self._loaded is None:
            from flowloop.models.loader import load_specialist

            self._loaded = load_specialist(self.repo, self.which)
        return self._loaded

    @property
    def version(self) -> str:
        """``base`` or ``vN`` once loaded (``current`` resolves then); what was asked for before."""
        return self._loaded.version if self._loaded is not None else self.which

    def generate(self, messages: list[Message], max_new_tokens: int) -> str:
        return str(self.loaded.generate(messages, max_new_tokens))

    def generate_many(self, conversations: Sequence[list[Message]], max_new_tokens: int) -> list[str]:
        return list(self.loaded.generate_many(conversations, max_new_tokens))

    def sample(self, messages: list[Message], max_new_tokens: int, n: int, *, seed: int = 0,
               temperature: float = 0.8, top_p: float = 0.95) -> list[str]:
        return list(self.loaded.sample(messages, max_new_tokens, n, seed=seed, temperature=temperature, top_p=top_p))

    def loglikelihood(self, prompt_messages: list[Message], completion_text: str, *, end_of_turn: bool = True) -> Scored:
        return self.loaded.loglikelihood(prompt_messages, completion_text, end_of_turn=end_of_turn)  # type: ignore[no-any-return]

    def loglikelihood_many(self, pairs: Sequence[tuple[list[Message], str]], *, end_of_turn: bool = True) -> list[Scored]:
        return list(self.loaded.loglikelihood_many(pairs, end_of_turn=end_of_turn))


def create(repo: FlowRepo, which: str) -> TransformersBackend:
    return TransformersBackend(repo, which)

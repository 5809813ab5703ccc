"""In-process transformers backend (the default): loads the base model or a registered version.

The model loads on the first question, not at construction, so building a backend is free and
a command that only wants the configured name does not pay for torch.
"""

from __future__ import annotations

from typing import Any

from flowloop.repo import FlowRepo

Message = dict[str, str]


class TransformersBackend:
    """Greedy generation with :func:`flowloop.models.loader.load_specialist`."""

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
    def model(self) -> str:
        return self._loaded.version if self._loaded is not None else self.which

    def chat(self, messages: list[Message], max_new_tokens: int) -> str:
        return self.loaded.generate(messages, max_new_tokens)


def create(repo: FlowRepo, which: str) -> TransformersBackend:
    return TransformersBackend(repo, which)

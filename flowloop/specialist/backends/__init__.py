"""Inference backends: one small Protocol, one module per implementation, one registry dict.

``flow ask`` and the Python API talk to a backend, never to a model directly, so a team that
serves its specialist with vLLM or Ollama points ``[inference] backend = "openai"`` and ``url``
at it and nothing else changes. Built-ins are registered in ``BACKENDS`` exactly the way another
implementation would be.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from flowloop.errors import InferenceError
from flowloop.repo import FlowRepo
from flowloop.specialist.backends import openai_backend, transformers_backend

Message = dict[str, str]


@runtime_checkable
class InferenceBackend(Protocol):
    """Answers a chat. ``model`` names what answered (``base``, ``v3``, a served model name)."""

    name: str
    model: str

    def chat(self, messages: list[Message], max_new_tokens: int) -> str:
        """The assistant's reply to ``messages``."""
        ...


BackendFactory = Callable[[FlowRepo, str], InferenceBackend]

BACKENDS: dict[str, BackendFactory] = {
    "transformers": transformers_backend.create,
    "openai": openai_backend.create,
}


def get_backend(repo: FlowRepo, model: str = "current", name: str | None = None) -> InferenceBackend:
    """The backend ``name`` (default ``settings.inference.backend``) for ``model``."""
    chosen = name or repo.settings.inference.backend
    if chosen not in BACKENDS:
        raise InferenceError(f"unknown inference backend {chosen!r}", field="inference.backend",
                             hint=f"use one of: {', '.join(BACKENDS)}")
    return BACKENDS[chosen](repo, model)


__all__ = ["BACKENDS", "InferenceBackend", "get_backend"]

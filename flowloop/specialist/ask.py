"""Ask the specialist: the role's prompt, a context pack from the index, an answer (``flow ask``).

The specialist is used the way it was trained: the messages come from the same builders the
dataset pipeline used (``flowloop.pipeline.prompts``), with the same context budget
(``dataset.context_budget``). A planning question gets the planning context of training
(context pack + similar earlier tasks, as of now); review and explain questions get a context
pack. With no index built yet the question is still answered, without context, and the answer
says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flowloop.errors import IndexError_, QueryError
from flowloop.inference.model import Model
from flowloop.repo import FlowRepo
from flowloop.types import Message

ROLES = ("plan", "review", "explain")


@dataclass
class Answer:
    """The reply and what produced it."""

    text: str
    role: str
    model: str
    backend: str
    messages: list[Message]
    documents: list[dict[str, Any]] = field(default_factory=list)
    context_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Context:
    text: str = ""
    documents: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


def ask(
    repo: FlowRepo,
    question: str,
    role: str = "explain",
    model: str = "current",
    *,
    backend: Model | None = None,
    use_context: bool = True,
    max_new_tokens: int | None = None,
) -> Answer:
    """Answer ``question`` in ``role`` with ``model`` (``base`` / ``current`` / ``vN``).

    ``backend`` defaults to the configured one (:func:`flowloop.inference.get_model`); pass a
    :class:`~flowloop.inference.Model` to reuse a loaded model across questions.
    """
    from flowloop.pipeline import prompts

    question = (question or "").strip()
    if not question:
        raise QueryError("the question is empty", field="question", hint='flow ask "how do we store money?"')
    if role not in ROLES:
        raise QueryError(f"unknown role {role!r}", field="role", hint=f"use one of: {', '.join(ROLES)}")
    settings = repo.settings
    context = gather_context(repo, question, role) if use_context else Context(note="context off")
    builders = {"plan": prompts.planning_messages, "review": prompts.review_messages,
                "explain": prompts.explain_messages}
    messages = builders[role](settings, question, context.text)
    if backend is None:
        from flowloop.inference.registry import get_model

        backend = get_model(repo, model)
    text = backend.generate(messages, max_new_tokens or settings.inference.max_new_tokens)
    return Answer(text=text, role=role, model=backend.version, backend=backend.name, messages=messages,
                  documents=context.documents, context_note=context.note)


def gather_context(repo: FlowRepo, question: str, role: str, retriever: Any | None = None) -> Context:
    """The context the role was trained with; empty (with a note) when there is no index yet.

    ``retriever``: a warm :class:`flowloop.index.api.Retriever` to reuse (the MCP server's)."""
    budget = repo.settings.dataset.context_budget
    try:
        if role == "plan":
            from flowloop.pipeline.planning_context import planning_context

            found = planning_context(repo, question, dt.datetime.now(dt.timezone.utc), budget=budget,
                                     retriever=retriever)
            return Context(found.text, found.documents)
        from flowloop.index.api import context_pack

        pack = retriever.context_pack(question, budget=budget) if retriever else context_pack(repo, question, budget=budget)
        return Context(pack.text, [d.to_dict() for d in pack.documents])
    except IndexError_ as exc:
        return Context(note=f"answered without context: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))

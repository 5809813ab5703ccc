"""The retrieval usage log: what was asked, the candidates with their scores, what was injected.

Each search and context call becomes one ``RetrievalEvent`` in the signals store (the same
``events`` table every other signal lives in). These events are the training data of the tuned
embedder and reranker (seed, Step 2); hooks later add ``used`` from the agent's transcript.

Two ways in, because a cold ``flow context`` must finish within a second and importing
SQLAlchemy and opening the store costs ~0.3-0.4 s of that:

- ``direct``: the event goes into the store now (servers, the MCP server, library callers);
  opening the store moves any pending events in first.
- ``pending``: the event is appended to the signals spool (``flowloop.signals.spool``,
  ``.flow/state/retrieval-pending.jsonl``); whoever opens the store next moves it in.
"""

from __future__ import annotations

from typing import Any

from flowloop.repo import FlowRepo


def make_event(
    operation: str,
    query: str,
    candidates: list[tuple[str, float, str]],
    injected: list[str],
    task: str | None = None,
    session: str | None = None,
) -> Any:
    """A validated ``RetrievalEvent``; ``candidates`` are ``(id, score, path)``, best first."""
    from flowloop.signals.events import Candidate, RetrievalEvent

    return RetrievalEvent(
        operation=operation,  # type: ignore[arg-type]
        query=query,
        candidates=[Candidate(id=doc_id, score=float(score), path=path) for doc_id, score, path in candidates],
        injected=injected,
        task=task,
        session=session,
        source="index",
    )


def log_retrieval(
    repo: FlowRepo,
    operation: str,
    query: str,
    candidates: list[tuple[str, float, str]],
    injected: list[str],
    task: str | None = None,
    session: str | None = None,
    direct: bool = True,
) -> None:
    """Record one retrieval: into the store now (``direct``) or as a pending line."""
    event = make_event(operation, query, candidates, injected, task=task, session=session)
    if not direct:
        from flowloop.signals.spool import append_pending

        append_pending(repo, event)
        return
    from flowloop.signals.store import open_store

    with open_store(repo) as store:  # opening drains the spool: pending events go in first
        store.add([event])

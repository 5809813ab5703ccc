"""The retrieval usage log: what was asked, the candidates with their scores, what was injected.

Each search and context call becomes one ``RetrievalEvent`` in the signals store (the same
``events`` table every other signal lives in). These events are the training data of the tuned
embedder and reranker (seed, Step 2); hooks later add ``used`` from the agent's transcript.

Two ways in, because a cold ``flow context`` must finish within a second and importing
SQLAlchemy and opening the store costs ~0.3-0.4 s of that:

- ``direct``: the event goes into the store now (servers, the MCP server, library callers);
  any pending events are moved in first.
- ``pending``: the event is appended as one JSON line to ``.flow/state/retrieval-pending.jsonl``
  (one ``write`` under an exclusive ``flock``: lines never interleave). The next direct write,
  ``flow index``, or the signals store itself moves them in with :func:`drain_pending`
  (idempotent: a line imported twice is a duplicate, never a second event).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from flowloop.repo import FlowRepo

PENDING = "retrieval-pending.jsonl"


def pending_path(repo: FlowRepo) -> Path:
    return repo.state_dir / PENDING


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


def append_pending(repo: FlowRepo, event: Any) -> None:
    """Append one event line; safe against concurrent writers and a concurrent drain."""
    import fcntl

    line = (json.dumps(event.model_dump(mode="json"), ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    path = repo.state_path(PENDING)
    while True:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            # A drain may have renamed the file between open and lock: then write to the new one.
            try:
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.write(fd, line)
                return
        finally:
            os.close(fd)


def drain_pending(repo: FlowRepo, store: Any) -> int:
    """Move pending events into ``store`` (a ``SignalStore``); returns how many lines were read.

    The file is renamed first, then locked, so appenders either finished before the rename or
    write to a fresh file. A file the store refuses (a corrupt line) is set aside as
    ``retrieval-pending.rejected.jsonl`` and the error names it."""
    path = pending_path(repo)
    total = sum(_import_file(repo, store, stale) for stale in _orphans(repo))
    if not path.exists():
        return total
    draining = path.with_name(f"{PENDING}.{os.getpid()}.draining")
    try:
        os.replace(path, draining)
    except FileNotFoundError:
        return total  # another drain took it
    return total + _import_file(repo, store, draining)


def _orphans(repo: FlowRepo) -> list[Path]:
    """Files of drains that died mid-way (their process is gone): imported again, idempotently."""
    found = []
    for leftover in repo.state_dir.glob(f"{PENDING}.*.draining"):
        try:
            os.kill(int(leftover.name.split(".")[-2]), 0)
        except ProcessLookupError:
            found.append(leftover)
        except (ValueError, PermissionError):
            continue
    return found


def _import_file(repo: FlowRepo, store: Any, draining: Path) -> int:
    import fcntl

    with draining.open("rb") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # wait for an appender that opened the file before the rename
        data = fh.read()
    if not data.strip():
        draining.unlink()
        return 0
    from flowloop.errors import SignalError

    try:
        result = store.import_jsonl(draining)
    except SignalError as exc:
        rejected = draining.with_name("retrieval-pending.rejected.jsonl")
        os.replace(draining, rejected)
        raise SignalError(
            f"pending retrieval events could not be stored: {exc.render()}", path=rejected,
            hint="fix or delete the file; the index works without it",
        ) from exc
    draining.unlink()
    return int(result.events)


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
        append_pending(repo, event)
        return
    from flowloop.signals.store import open_store

    with open_store(repo) as store:
        drain_pending(repo, store)
        store.add([event])

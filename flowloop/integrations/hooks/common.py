"""What the hook handlers share: reading the payload's common fields and storing events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from flowloop.errors import CollectorError
from flowloop.repo import FlowRepo

# The session id `flow hooks doctor` sends: its sample prompt is not real usage, so not logged.
DOCTOR_SESSION = "flow-hooks-doctor"


def store_events(repo: FlowRepo, events: list[Any]) -> int:
    """Add ``events`` to the signals store; returns how many were new (keys make repeats no-ops)."""
    from flowloop.signals.store import open_store

    with open_store(repo) as store:
        return store.add(events).added


def session_id(payload: dict[str, Any]) -> str:
    session = payload.get("session_id")
    if not isinstance(session, str) or not session.strip():
        raise CollectorError("hook input has no session_id", field="session_id")
    return session.strip()


def transcript_path(payload: dict[str, Any]) -> Path | None:
    raw = payload.get("transcript_path")
    return Path(raw).expanduser() if isinstance(raw, str) and raw.strip() else None


def task_of(text: str, session: str, fallback: str | None = None) -> str:
    """The task id named in the prompt (``ABC-123``, ``#123``), else ``fallback``, else the session."""
    from flowloop.signals.gitlog import find_task

    return find_task(text) or fallback or f"session:{session}"


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)

"""One call per ``flow signal`` command: record, list, export, import.

Recording: the CLI hands over plain dicts (from options or JSON on stdin); this module fills defaults (kind, task, source), checks the kind
fits the command (``flow signal prefer`` records category A only), validates everything before
storing anything, and stores the lot in one transaction.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Sequence

from flowloop.atomic import atomic_write_text
from flowloop.errors import SignalError
from flowloop.repo import FlowRepo
from flowloop.signals.events import EventBase
from flowloop.signals.jsonl import as_event
from flowloop.signals.store import ImportResult, check_kinds, open_store, scrub_event, store_exists
from flowloop.types import Progress

PREFERENCE_KINDS = ("preference", "approval", "rewrite", "scope_change")


@dataclass(frozen=True)
class RecordResult:
    events: list[EventBase]
    added: int
    duplicates: int


def record(
    repo: FlowRepo,
    items: Sequence[dict[str, Any]],
    *,
    where: str = "event",
    default_kind: str | None = None,
    allowed: Sequence[str] | None = None,
    defaults: dict[str, Any] | None = None,
) -> RecordResult:
    """Validate ``items`` as events (filling ``defaults`` where absent) and store them."""
    parsed: list[EventBase] = []
    for number, item in enumerate(items, start=1):
        data = dict(item)
        if default_kind is not None:
            data.setdefault("kind", default_kind)
        for key, value in (defaults or {}).items():
            if value is not None:
                data.setdefault(key, value)
        if allowed is not None and data.get("kind") not in allowed:
            raise SignalError(
                f"kind {data.get('kind')!r} is not accepted here",
                path=where,
                line=number if len(items) > 1 else None,
                field="kind",
                hint=f"use one of: {', '.join(allowed)} (or `flow signal import` for any kind)",
            )
        # Scrubbed here, not only in the store: the CLI echoes these events back to the terminal.
        parsed.append(scrub_event(as_event(data, where, number if len(items) > 1 else None)))
    with open_store(repo) as store:
        result = store.add(parsed)
    return RecordResult(events=parsed, added=result.added, duplicates=result.duplicates)


def list_events(repo: FlowRepo, kind: str | None = None, task: str | None = None) -> list[EventBase]:
    """Stored events, oldest first, filtered by kind and task."""
    if not store_exists(repo):
        if kind is not None:
            check_kinds(kind)  # a bad filter is an error even on an empty repository
        return []
    with open_store(repo) as store:
        return store.query(kind=kind, task=task)


def export_events(repo: FlowRepo, output: Path | IO[str]) -> int:
    """Every stored event as JSON Lines on a stream, or atomically into a file; returns how many."""
    with open_store(repo) as store:
        if not isinstance(output, Path):
            return store.export_jsonl(output)
        buffer = io.StringIO()
        written = store.export_jsonl(buffer)
    atomic_write_text(output, buffer.getvalue())
    return written


def import_events(
    repo: FlowRepo, path: Path, progress: Progress | None = None
) -> ImportResult:
    """Store the events of a JSONL file: all lines valid, or nothing stored."""
    with open_store(repo) as store:
        return store.import_jsonl(path, progress=progress)

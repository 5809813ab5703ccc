"""The spool: events written as JSON lines now and moved into the signals store later.

A caller on a path that cannot afford opening the store (a cold ``flow context`` must finish
within a second; importing SQLAlchemy and opening the store costs ~0.3-0.4 s of that) appends
its events here instead; whoever opens the store next moves them in (``open_store`` does, so
does ``flow index``). Any event kind may be spooled: a line is one event's JSON, the same format
``flow signal import`` reads. The file keeps its first user's name (``retrieval-pending.jsonl``)
so spools written by earlier versions are still drained.

Appends are one ``write`` under an exclusive ``flock``, so lines never interleave. A drain
renames the file first and then locks it, so an appender either finished before the rename or
writes to a fresh file. Importing is idempotent: a line imported twice is a duplicate, never a
second event. This module imports only the event schema; the store is handed in by its caller.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Protocol

from flowloop.errors import SignalError
from flowloop.repo import FlowRepo
from flowloop.signals.events import EventBase

PENDING = "retrieval-pending.jsonl"
REJECTED = "retrieval-pending.rejected.jsonl"


class _Imported(Protocol):
    @property
    def events(self) -> int: ...


class Importer(Protocol):
    """What a drain needs of the store (``SignalStore`` is one): import a JSON Lines file whole."""

    def import_jsonl(self, path: Path) -> _Imported: ...


def pending_path(repo: FlowRepo) -> Path:
    return repo.state_dir / PENDING


def has_pending(repo: FlowRepo) -> bool:
    """Whether there is anything to drain: a spool file, or one a dead drain left behind."""
    return pending_path(repo).exists() or any(repo.state_dir.glob(f"{PENDING}.*.draining"))


def append_pending(repo: FlowRepo, event: EventBase) -> None:
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


def drain_pending(repo: FlowRepo, store: Importer) -> int:
    """Move pending events into ``store``; returns how many lines were read.

    The file is renamed first, then locked, so appenders either finished before the rename or
    write to a fresh file. A file the store refuses (a corrupt line) is set aside as
    ``retrieval-pending.rejected.jsonl`` and the error names it."""
    path = pending_path(repo)
    total = sum(_import_file(store, stale) for stale in _orphans(repo))
    if not path.exists():
        return total
    draining = path.with_name(f"{PENDING}.{os.getpid()}.draining")
    try:
        os.replace(path, draining)
    except FileNotFoundError:
        return total  # another drain took it
    return total + _import_file(store, draining)


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


def _import_file(store: Importer, draining: Path) -> int:
    import fcntl

    with draining.open("rb") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # wait for an appender that opened the file before the rename
        data = fh.read()
    if not data.strip():
        draining.unlink()
        return 0
    try:
        result = store.import_jsonl(draining)
    except SignalError as exc:
        rejected = draining.with_name(REJECTED)
        os.replace(draining, rejected)
        raise SignalError(
            f"pending retrieval events could not be stored: {exc.render()}", path=rejected,
            hint="fix or delete the file; the index works without it",
        ) from exc
    draining.unlink()
    return int(result.events)

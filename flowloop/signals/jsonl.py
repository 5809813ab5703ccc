"""JSON Lines in and out of the store: how a team moves from SQLite to PostgreSQL, and how the
bundled example ships its signals.

Reading validates every line before anything is stored, so a bad line (named ``FILE:LINE`` with
the field at fault) leaves the store untouched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

from flowloop.errors import SignalError
from flowloop.signals.events import EventBase, parse_event
from flowloop.types import Progress


def read_events(path: Path, progress: Progress | None = None) -> list[EventBase]:
    """Every event in the JSONL file ``path``; the first bad line raises with its line number."""
    return list(iter_events(path, progress))


def iter_events(path: Path, progress: Progress | None = None) -> Iterator[EventBase]:
    """The events of ``path`` one line at a time (memory stays flat for a big export);
    ``progress(bytes_read, file_size)``. The first bad line raises with its line number."""
    try:
        fh = path.open("rb")
    except FileNotFoundError as exc:
        raise SignalError("no such file", path=path, hint="pass a JSONL file written by `flow signal export`") from exc
    except OSError as exc:
        raise SignalError(f"cannot read: {exc.strerror}", path=path) from exc
    with fh:
        total = os.fstat(fh.fileno()).st_size
        number = 0
        for number, line in enumerate(fh, start=1):
            if line.strip():
                yield parse_line(line, path, number)
            if progress is not None and number % 500 == 0:
                progress(fh.tell(), total)
        if progress is not None:
            progress(total, total)


def parse_line(line: bytes | str, path: Path | str, number: int) -> EventBase:
    """One JSONL line as an event, or a SignalError at ``path:number``."""
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
    except UnicodeDecodeError as exc:
        raise SignalError("not valid UTF-8", path=path, line=number, hint="save the file as UTF-8") from exc
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SignalError(
            f"not valid JSON: {exc.msg} (column {exc.colno})",
            path=path,
            line=number,
            hint="each line must be one JSON object",
        ) from exc
    return as_event(data, path, number)


def as_event(data: Any, path: Path | str, number: int | None) -> EventBase:
    """``parse_event`` with the error re-anchored at ``path:number`` (no doubled prefix)."""
    where = f"{path}:{number}" if number else str(path)
    try:
        return parse_event(data, where=where)
    except SignalError as exc:
        message = exc.message.removeprefix(f"{where}: ")
        raise SignalError(message, path=path, line=number, field=exc.field, hint=exc.hint) from exc


def parse_events_text(text: str, where: str = "stdin") -> list[dict[str, Any]]:
    """JSON objects from ``text``: one object, a JSON array of objects, or JSON Lines."""
    stripped = text.strip()
    if not stripped:
        raise SignalError(f"{where}: no event given", hint="pipe one JSON object, or JSON Lines")
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError:
        whole = None
        items: list[Any] = []
        for number, line in enumerate(stripped.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SignalError(
                    f"not valid JSON: {exc.msg} (column {exc.colno})",
                    path=where,
                    line=number,
                    hint="send one JSON object, a JSON array, or one object per line",
                ) from exc
    else:
        items = whole if isinstance(whole, list) else [whole]
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise SignalError(
                f"item {number} is not a JSON object", path=where, hint="each event is a JSON object"
            )
    return items

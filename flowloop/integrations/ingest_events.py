"""The body of ``POST /v1/events`` -> validated events, all or nothing.

Kept apart from HTTP (``flowloop.integrations.ingest``): it takes parsed JSON and raises
:class:`SignalError` naming the field (``events[3].value``); the HTTP layer maps that to 422.

A naive client retries by sending the same body again. When an event carries neither an
``idempotency_key`` nor a ``created_at``, the receiver stamps the time, so the automatic key
(a hash that includes the time) would differ on every retry and the event would be stored
twice. Such events get a key from their content alone instead: sending the same content twice
stores it once (send a ``created_at`` or a key to record identical content again).
"""

from __future__ import annotations

from typing import Any

from flowloop.errors import SignalError
from flowloop.signals.events import EventBase, parse_event


def events_from_json(data: Any) -> list[EventBase]:
    """One event object or a list of them; every one valid, or :class:`SignalError`."""
    from_list = isinstance(data, list)
    items = data if from_list else [data]
    if not items:
        raise SignalError("empty list of events", field="body")
    events = []
    for index, item in enumerate(items):
        where = f"events[{index}]" if from_list else "event"
        try:
            event = parse_event(item, where=where)
        except SignalError as exc:
            field = f"{where}.{exc.field}" if exc.field else where
            raise SignalError(exc.message, field=field if from_list else (exc.field or "body"), hint=exc.hint) from exc
        if "idempotency_key" not in item and "created_at" not in item:
            event.idempotency_key = event.content_key(with_time=False)
        events.append(event)
    return events

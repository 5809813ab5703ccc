"""Error-monitoring reports (Sentry-style JSON) -> one ``error_rate`` outcome event.

The translation behind ``POST /v1/webhooks/errors`` of ``flow ingest serve``, kept apart from
HTTP: it takes parsed JSON and raises :class:`SignalError` naming the field at fault; the HTTP
layer (``flowloop.integrations.ingest``) turns that into a status code.

Fields (top level, or under ``data``): ``release`` and/or ``commit``; ``errors`` (count,
required); ``total`` (events/requests/sessions in the window: the value is ``errors / total``) or
else ``window`` (``30m``, ``1h``, ``7d``: the value is errors per hour); optional
``environment``, ``project``, ``timestamp``. Numbers must be finite.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from typing import Any

from flowloop.errors import FlowError, SignalError
from flowloop.repo import FlowRepo
from flowloop.signals.events import OutcomeEvent

_WINDOW = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SHA = re.compile(r"[0-9a-fA-F]{7,40}")


def error_rate_event(repo: FlowRepo, data: Any, request_id: str | None = None) -> OutcomeEvent:
    """The ``error_rate`` outcome of one report (see the module docstring)."""
    if not isinstance(data, dict):
        raise SignalError("the body must be a JSON object", field="body")
    nested = data.get("data") if isinstance(data.get("data"), dict) else {}

    def get(name: str) -> Any:
        return data[name] if name in data else nested.get(name)

    release = _optional_str(get("release"), "release")
    commit = _optional_str(get("commit"), "commit")
    if commit is None and release and _SHA.fullmatch(release):
        commit = release  # Sentry releases are commonly the git sha
    if release is None and commit is None:
        raise SignalError("name the deployed 'release' or 'commit'", field="release")
    errors = _number(get("errors"), "errors")
    if errors is None or errors < 0:
        raise SignalError("'errors' must be a non-negative number", field="errors")
    total = _number(get("total"), "total")
    window = _optional_str(get("window"), "window")
    if total is not None:
        if total <= 0:
            raise SignalError("'total' must be a positive number", field="total")
        if errors > total:
            raise SignalError("'errors' is larger than 'total'", field="errors")
        value = errors / total
    else:
        if window is None:
            raise SignalError("give 'total' (a rate) or 'window' (errors per hour)", field="total")
        found = _WINDOW.match(window)
        if not found or float(found.group(1)) <= 0:
            raise SignalError("'window' must look like 30m, 1h or 7d", field="window")
        value = errors / (float(found.group(1)) * _SECONDS[found.group(2)] / 3600)
    when = _timestamp(get("timestamp"))
    fields = {"release": release, "commit": commit, "errors": errors, "total": total, "window": window,
              "environment": _optional_str(get("environment"), "environment"),
              "project": _optional_str(get("project"), "project"),
              "timestamp": when.isoformat() if when else None, "request": request_id}
    # The key hashes what the report says (and its request id), never the arrival time: a
    # resent report dedupes.
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return OutcomeEvent(
        task=task_for(repo, commit) if commit else f"release:{release}",
        metric="error_rate", value=value, window=window, commit=commit, repo_commit=commit,
        created_at=when or dt.datetime.now(dt.timezone.utc),
        idempotency_key=f"errors:{digest}", source="ingest:errors",
    )


def task_for(repo: FlowRepo, commit: str) -> str:
    """The task a commit belongs to (from its message), else the short sha."""
    from flowloop.signals.collect_git import commit_task

    try:
        return commit_task(repo, commit)
    except FlowError:
        return commit[:12]


def _number(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SignalError(f"'{field}' must be a number", field=field)
    if not math.isfinite(value):
        raise SignalError(f"'{field}' must be a finite number", field=field)
    return value


def _optional_str(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SignalError(f"'{field}' must be a string", field=field)
    return value.strip()


def _timestamp(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
        if isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    except (ValueError, OverflowError, OSError) as exc:
        raise SignalError(f"'timestamp' is not a time: {exc}", field="timestamp") from exc
    raise SignalError("'timestamp' must be an ISO time or epoch seconds", field="timestamp")

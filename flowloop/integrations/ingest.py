"""``flow ingest serve``: an HTTP door for signals from CI, agents and error monitoring.

A small FastAPI app (served by uvicorn, loopback by default):

- ``POST /v1/events``: one event object or a list of them (the ``flowloop.signals.events``
  schema); all-or-nothing: one invalid event rejects the request and nothing is stored.
- ``POST /v1/junit?commit=SHA``: a JUnit XML body -> ``ci_passed``/``tests_total``/
  ``tests_failed`` outcomes of that commit.
- ``POST /v1/webhooks/errors``: Sentry-style JSON -> an ``error_rate`` outcome. Fields (top level,
  or under ``data``): ``release`` and/or ``commit``; ``errors`` (count, required); ``total``
  (events/requests/sessions in the window: the value is ``errors / total``) or else ``window``
  (``30m``, ``1h``, ``7d``: the value is errors per hour); optional ``environment``,
  ``project``, ``timestamp``.
- ``GET /healthz``: liveness, no auth, no data.

Every other route needs ``Authorization: Bearer <token>`` (compared in constant time). Bad input
is a 4xx JSON ``{"error": ..., "field": ...}``. Neither this module nor uvicorn's access log ever
records request headers, so the token is never logged.
"""

# No `from __future__ import annotations`: FastAPI must see real classes on the nested handlers.
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import re
import threading
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from flowloop.errors import CollectorError, FlowError, SignalError, StoreError
from flowloop.repo import FlowRepo

MAX_BODY = 20 * 1024 * 1024
MAX_EVENTS = 10_000
MIN_TOKEN_CHARS = 16
_WINDOW = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Rejected(Exception):
    """A request we refuse: its HTTP status, a message, and the field at fault."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def check_serve_options(host: str, token: str, allow_remote: bool) -> None:
    """Refuse to start without a strong token, or on a non-loopback address unless allowed."""
    if not token:
        raise CollectorError(
            "no ingest token set", field="signals.ingest_token",
            hint="export FLOW_INGEST_TOKEN=$(python -c 'import secrets; print(secrets.token_urlsafe(32))')",
        )
    if len(token) < MIN_TOKEN_CHARS:
        raise CollectorError(f"the ingest token is shorter than {MIN_TOKEN_CHARS} characters",
                             field="signals.ingest_token", hint="use a long random token")
    if not allow_remote and not _is_loopback(host):
        raise CollectorError(f"refusing to listen on non-loopback address {host!r}", field="host",
                             hint="pass --allow-remote (and put TLS in front) to accept remote clients")


def serve(repo: FlowRepo, host: str, port: int, token: str, allow_remote: bool = False, log_level: str = "info") -> None:
    """Run the server until interrupted."""
    import uvicorn

    check_serve_options(host, token, allow_remote)
    config = uvicorn.Config(create_app(repo, token), host=host, port=port, log_level=log_level, server_header=False)
    uvicorn.Server(config).run()


def create_app(repo: FlowRepo, token: str) -> Any:
    """The FastAPI application for ``repo``; ``token`` is the bearer token clients must send."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    if not token:
        raise CollectorError("no ingest token set", field="signals.ingest_token")
    expected = f"Bearer {token}".encode()
    sink = _Sink(repo)

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        yield
        sink.close()

    app = FastAPI(title="flowloop ingest", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    @app.exception_handler(Rejected)
    async def rejected(_: Request, exc: Rejected) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": exc.message, "field": exc.field}, status_code=exc.status, headers=headers)

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Any:
        if request.url.path != "/healthz":
            sent = request.headers.get("authorization", "").encode()
            if not sent:
                return await rejected(request, Rejected(401, "missing bearer token", "Authorization"))
            if not hmac.compare_digest(sent, expected):
                return await rejected(request, Rejected(401, "invalid bearer token", "Authorization"))
            length = request.headers.get("content-length", "0")
            if length.isdigit() and int(length) > MAX_BODY:
                return await rejected(request, Rejected(413, f"body larger than {MAX_BODY} bytes", "body"))
        return await call_next(request)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"ok": True}

    @app.post("/v1/events")
    async def post_events(request: Request) -> dict[str, Any]:
        events = parse_events_body(await _body(request))
        return await run_in_threadpool(sink.add, events)

    @app.post("/v1/junit")
    async def post_junit(request: Request, commit: str | None = None) -> dict[str, Any]:
        from flowloop.signals.collect_junit import check_commit, junit_events, parse_junit_bytes

        if not commit:
            raise Rejected(422, "the query parameter 'commit' is required", "commit")
        try:
            commit = check_commit(commit)
            counts = parse_junit_bytes(await _body(request), "request body")
        except CollectorError as exc:
            raise Rejected(400 if exc.line else 422, exc.render(), exc.field or "body") from exc
        task = await run_in_threadpool(_task_for, repo, commit)
        result = await run_in_threadpool(sink.add, junit_events(counts, commit, task, source="ingest:junit"))
        return {**result, "tests_total": counts.total, "tests_failed": counts.failed, "ci_passed": counts.passed}

    @app.post("/v1/webhooks/errors")
    async def post_errors(request: Request) -> dict[str, Any]:
        data = _json(await _body(request))
        event = await run_in_threadpool(error_rate_event, repo, data, request.headers.get("request-id"))
        return {**await run_in_threadpool(sink.add, [event]), "value": event.value}

    return app


class _Sink:
    """One store for the app's life; writes serialized (handlers run on a thread pool)."""

    def __init__(self, repo: FlowRepo) -> None:
        self.repo = repo
        self.lock = threading.Lock()
        self.store: Any = None

    def add(self, events: list[Any]) -> dict[str, Any]:
        from flowloop.signals.store import open_store

        with self.lock:
            try:
                if self.store is None:
                    self.store = open_store(self.repo)
                result = self.store.add(events)
            except SignalError as exc:
                raise Rejected(422, exc.render(), exc.field) from exc
            except StoreError as exc:
                raise Rejected(503, f"signals store unavailable: {exc.message}") from exc
        return {"added": result.added, "duplicates": result.duplicates}

    def close(self) -> None:
        with self.lock:
            if self.store is not None:
                self.store.close()
                self.store = None


def parse_events_body(body: bytes) -> list[Any]:
    """Validate every event of a request before any is stored (all-or-nothing)."""
    from flowloop.signals.events import parse_event

    data = _json(body)
    items = data if isinstance(data, list) else [data]
    if not items:
        raise Rejected(422, "empty list of events", "body")
    if len(items) > MAX_EVENTS:
        raise Rejected(413, f"more than {MAX_EVENTS} events in one request; split it", "body")
    events = []
    for index, item in enumerate(items):
        where = f"events[{index}]" if isinstance(data, list) else "event"
        try:
            events.append(parse_event(item, where=where))
        except SignalError as exc:
            field = f"{where}.{exc.field}" if exc.field else where
            raise Rejected(422, exc.message, field if isinstance(data, list) else (exc.field or "body")) from exc
    return events


def error_rate_event(repo: FlowRepo, data: Any, request_id: str | None = None) -> Any:
    """The ``error_rate`` outcome of a Sentry-style error report (see the module docstring)."""
    from flowloop.signals.events import OutcomeEvent

    if not isinstance(data, dict):
        raise Rejected(422, "the body must be a JSON object", "body")
    nested = data.get("data") if isinstance(data.get("data"), dict) else {}

    def get(name: str) -> Any:
        return data[name] if name in data else nested.get(name)

    release = _optional_str(get("release"), "release")
    commit = _optional_str(get("commit"), "commit")
    if commit is None and release and re.fullmatch(r"[0-9a-fA-F]{7,40}", release):
        commit = release  # Sentry releases are commonly the git sha
    if release is None and commit is None:
        raise Rejected(422, "name the deployed 'release' or 'commit'", "release")
    errors = get("errors")
    if isinstance(errors, bool) or not isinstance(errors, (int, float)) or errors < 0:
        raise Rejected(422, "'errors' must be a non-negative number", "errors")
    total = get("total")
    window = _optional_str(get("window"), "window")
    if total is not None:
        if isinstance(total, bool) or not isinstance(total, (int, float)) or total <= 0:
            raise Rejected(422, "'total' must be a positive number", "total")
        if errors > total:
            raise Rejected(422, "'errors' is larger than 'total'", "errors")
        value = errors / total
    else:
        if window is None:
            raise Rejected(422, "give 'total' (a rate) or 'window' (errors per hour)", "total")
        found = _WINDOW.match(window)
        if not found or float(found.group(1)) <= 0:
            raise Rejected(422, "'window' must look like 30m, 1h or 7d", "window")
        value = errors / (float(found.group(1)) * _SECONDS[found.group(2)] / 3600)
    when = _timestamp(get("timestamp"))
    fields = {"release": release, "commit": commit, "errors": errors, "total": total, "window": window,
              "environment": _optional_str(get("environment"), "environment"),
              "project": _optional_str(get("project"), "project"),
              "timestamp": when.isoformat() if when else None, "request": request_id}
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return OutcomeEvent(
        task=_task_for(repo, commit) if commit else f"release:{release}",
        metric="error_rate", value=value, window=window, commit=commit, repo_commit=commit,
        created_at=when or dt.datetime.now(dt.timezone.utc),
        idempotency_key=f"errors:{digest}", source="ingest:errors",
    )


async def _body(request: Any) -> bytes:
    body: bytes = await request.body()
    if len(body) > MAX_BODY:
        raise Rejected(413, f"body larger than {MAX_BODY} bytes", "body")
    return body


def _json(body: bytes) -> Any:
    if not body.strip():
        raise Rejected(400, "empty body; send JSON", "body")
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise Rejected(400, "the body is not UTF-8", "body") from exc
    except json.JSONDecodeError as exc:
        raise Rejected(400, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", "body") from exc


def _optional_str(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Rejected(422, f"'{field}' must be a string", field)
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
        raise Rejected(422, f"'timestamp' is not a time: {exc}", "timestamp") from exc
    raise Rejected(422, "'timestamp' must be an ISO time or epoch seconds", "timestamp")


def _task_for(repo: FlowRepo, commit: str) -> str:
    from flowloop.signals.collect_git import commit_task

    try:
        return commit_task(repo, commit)
    except FlowError:
        return commit[:12]


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False

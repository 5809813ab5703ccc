"""``flow ingest serve``: an HTTP door for signals from CI, agents and error monitoring.

A small FastAPI app (served by uvicorn, loopback by default). This module is the HTTP layer
only: authentication, body limits, JSON decoding, routes and status codes. What a body means
lives in ``ingest_events`` (events), ``error_reports`` (Sentry-style reports) and
``flowloop.signals.collect_junit`` (JUnit); they raise :class:`FlowError` subclasses and
:func:`_status` maps those to HTTP here.

- ``POST /v1/events``: one event object or a list of them (the ``flowloop.signals.events``
  schema); all-or-nothing: one invalid event rejects the request and nothing is stored. A
  resent event that has neither key nor ``created_at`` is stored once (see ``ingest_events``).
- ``POST /v1/junit?commit=SHA``: a JUnit XML body -> ``ci_passed``/``tests_total``/
  ``tests_failed`` outcomes of that commit.
- ``POST /v1/webhooks/errors``: Sentry-style JSON -> an ``error_rate`` outcome.
- ``POST /v1/pilrs``: a JSON document -> a *proposed* PILR (``ingest_pilrs``): screened, then
  quarantined until ``flow pilr accept``; refused (422) when the screen finds the worst.
- ``GET /healthz``: liveness, no auth, no data.

Every other route needs ``Authorization: Bearer <token>`` (compared in constant time). Bodies
are read as a stream and refused past ``MAX_BODY`` bytes (a chunked upload has no
Content-Length to check first); one event may be at most ``MAX_EVENT_BYTES``; JSON must be
strict (no ``NaN``/``Infinity``). Bad input is a 4xx JSON ``{"error": ..., "field": ...}``.
Request headers are never logged, and the access log drops query strings (a client that puts
``?token=`` in the URL would otherwise write its token to the log).
"""

# No `from __future__ import annotations`: FastAPI must see real classes on the nested handlers.
import hmac
import ipaddress
import json
import logging
import threading
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from flowloop.errors import CollectorError, FlowError, StoreError
from flowloop.integrations.error_reports import error_rate_event, task_for
from flowloop.repo import FlowRepo

MAX_BODY = 20 * 1024 * 1024
MAX_EVENTS = 10_000
MAX_EVENT_BYTES = 1024 * 1024  # a long agent transcript turn is tens of KB; 10 MB is not a signal
MIN_TOKEN_CHARS = 16


class Rejected(Exception):
    """A request we refuse: its HTTP status, a message, and the field at fault."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def _status(exc: FlowError) -> int:
    """The HTTP status of a library error about the request (the one place that maps them)."""
    if isinstance(exc, StoreError):
        return 503
    if isinstance(exc, CollectorError) and exc.line:
        return 400  # a body that does not parse (JUnit XML at a line)
    return 422


class _NoQueryInAccessLog(logging.Filter):
    """uvicorn's access log line without the query string: it may carry a token."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?[query omitted]", *args[3:])
        return True


def _quiet_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _NoQueryInAccessLog) for f in access.filters):
        access.addFilter(_NoQueryInAccessLog())


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
    _quiet_access_log()

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        yield
        sink.close()

    app = FastAPI(title="flowloop ingest", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    @app.exception_handler(Rejected)
    async def rejected(_: Request, exc: Rejected) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": exc.message, "field": exc.field}, status_code=exc.status, headers=headers)

    @app.exception_handler(FlowError)
    async def refused(_: Request, exc: FlowError) -> JSONResponse:
        status = _status(exc)
        message = f"signals store unavailable: {exc.message}" if status == 503 else (
            exc.render() if isinstance(exc, CollectorError) else exc.message)
        return JSONResponse({"error": message, "field": exc.field or ("body" if status == 400 else None)},
                            status_code=status)

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
        commit = check_commit(commit)
        counts = parse_junit_bytes(await _body(request), "request body")
        task = await run_in_threadpool(task_for, repo, commit)
        result = await run_in_threadpool(sink.add, junit_events(counts, commit, task, source="ingest:junit"))
        return {**result, "tests_total": counts.total, "tests_failed": counts.failed, "ci_passed": counts.passed}

    @app.post("/v1/pilrs")
    async def post_pilr(request: Request) -> dict[str, Any]:
        from flowloop.integrations.ingest_pilrs import propose_from_json

        data = _json(await _body(request))
        return await run_in_threadpool(propose_from_json, repo, data, "http")

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

        with self.lock:  # SignalError (422) and StoreError (503) reach the app's handler
            if self.store is None:
                self.store = open_store(self.repo)
            result = self.store.add(events)
        return {"added": result.added, "duplicates": result.duplicates}

    def close(self) -> None:
        with self.lock:
            if self.store is not None:
                self.store.close()
                self.store = None


def parse_events_body(body: bytes) -> list[Any]:
    """Request limits, then every event validated before any is stored (all-or-nothing)."""
    from flowloop.integrations.ingest_events import events_from_json

    data = _json(body)
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_EVENTS:
        raise Rejected(413, f"more than {MAX_EVENTS} events in one request; split it", "body")
    for index, item in enumerate(items):
        size = len(json.dumps(item, ensure_ascii=False).encode())
        if size > MAX_EVENT_BYTES:
            where = f"events[{index}]" if isinstance(data, list) else "event"
            raise Rejected(413, f"{where} is {size} bytes, over the {MAX_EVENT_BYTES}-byte limit of one event", where)
    return events_from_json(data)


async def _body(request: Any) -> bytes:
    """The body, read as it arrives and refused as soon as it passes ``MAX_BODY``."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise Rejected(413, f"body larger than {MAX_BODY} bytes", "body")
        chunks.append(chunk)
    return b"".join(chunks)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (send a finite number or null)")


def _json(body: bytes) -> Any:
    if not body.strip():
        raise Rejected(400, "empty body; send JSON", "body")
    try:
        return json.loads(body, parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise Rejected(400, "the body is not UTF-8", "body") from exc
    except json.JSONDecodeError as exc:
        raise Rejected(400, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", "body") from exc
    except ValueError as exc:
        raise Rejected(400, str(exc), "body") from exc


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False

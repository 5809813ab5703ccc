"""Issue 11 on the ingest server, through real HTTP: naive retries, tokens in URLs, streamed
bodies, oversized events and non-finite numbers."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from flowloop.integrations.ingest import MAX_BODY, MAX_EVENT_BYTES
from flowloop.repo import FlowRepo
from test_ingest_http import AUTH, TOKEN, count, server  # noqa: F401 - the fixture

EVENT = {"kind": "outcome", "task": "T-1", "metric": "ci_passed", "value": 1}


def test_a_naive_clients_retry_is_stored_once(server: tuple[str, FlowRepo]) -> None:  # noqa: F811
    url, repo = server
    with httpx.Client(base_url=url, headers=AUTH) as client:
        for _ in range(3):
            assert client.post("/v1/events", json=[EVENT, {**EVENT, "task": "T-2"}]).status_code == 200
        timed = client.post("/v1/events", json={**EVENT, "created_at": "2025-01-01T00:00:00Z"})
        assert timed.json() == {"added": 1, "duplicates": 0}  # a time makes it a distinct event
    assert count(repo) == 3


def test_a_token_in_the_query_string_never_reaches_the_log(
    server: tuple[str, FlowRepo], caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    url, _ = server
    with httpx.Client(base_url=url) as client:
        client.post(f"/v1/events?token={TOKEN}", json=EVENT)
        client.post(f"/v1/events?token={TOKEN}", json=EVENT, headers=AUTH)
    # The server's log (uvicorn's access and error loggers); httpx logs the client's own URL.
    logged = "\n".join(record.getMessage() for record in caplog.records if record.name.startswith("uvicorn"))
    assert "/v1/events" in logged  # the access log is on
    assert TOKEN not in logged


def test_an_endless_chunked_body_is_refused_once_past_the_limit(server: tuple[str, FlowRepo]) -> None:  # noqa: F811
    url, repo = server
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall((f"POST /v1/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n"
                      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode())
        chunk = b"[" + b" " * (1024 * 1024 - 1)
        sent = 0
        try:
            while sent <= MAX_BODY + len(chunk):  # never the final 0-chunk: the body has no end
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
                chunk = b" " * len(chunk)
        except OSError:
            pass  # the server answered and closed: what we want
        reply = sock.recv(65536).decode(errors="replace")
    assert reply.startswith("HTTP/1.1 413"), reply[:200]
    assert count(repo) == 0


def test_one_oversized_event_is_refused(server: tuple[str, FlowRepo]) -> None:  # noqa: F811
    url, repo = server
    big = {"kind": "correction", "task": "T", "agent": "a", "correction": "x" * (10 * 1024 * 1024)}
    with httpx.Client(base_url=url, headers=AUTH, timeout=60) as client:
        one = client.post("/v1/events", json=big)
        assert one.status_code == 413 and one.json()["field"] == "event"
        listed = client.post("/v1/events", json=[EVENT, big])
        assert listed.status_code == 413 and listed.json()["field"] == "events[1]"
        fits = {**big, "correction": "x" * (MAX_EVENT_BYTES // 2)}
        assert client.post("/v1/events", json=fits).status_code == 200
    assert count(repo) == 1


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused(server: tuple[str, FlowRepo], literal: str) -> None:  # noqa: F811
    url, repo = server
    with httpx.Client(base_url=url, headers={**AUTH, "Content-Type": "application/json"}) as client:
        body = json.dumps(EVENT).replace('"value": 1', f'"value": {literal}')
        response = client.post("/v1/events", content=body)
        assert response.status_code == 400 and literal in response.json()["error"]
        huge = client.post("/v1/events", content=json.dumps(EVENT).replace('"value": 1', '"value": 1e400'))
        assert huge.status_code == 422 and huge.json()["field"] == "value"
        sentry = client.post("/v1/webhooks/errors", content=f'{{"release": "abc1234", "errors": {literal}, "total": 10}}')
        assert sentry.status_code == 400
        sentry = client.post("/v1/webhooks/errors", content='{"release": "abc1234", "errors": 1, "total": 1e400}')
        assert sentry.status_code == 422 and sentry.json()["field"] == "total"
    assert count(repo) == 0


def test_error_reports_translate_without_http(tmp_path: Path) -> None:
    from flowloop.errors import SignalError
    from flowloop.integrations.error_reports import error_rate_event
    from flowloop.repo import init_repo

    repo = init_repo(tmp_path / "p").repo
    event = error_rate_event(repo, {"data": {"release": "v1.2", "errors": 3, "window": "30m"}})
    assert event.value == 6 and event.task == "release:v1.2"
    with pytest.raises(SignalError) as caught:
        error_rate_event(repo, {"release": "v1", "errors": float("nan"), "total": 3})
    assert caught.value.field == "errors"

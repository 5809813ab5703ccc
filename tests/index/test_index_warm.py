"""``flow serve`` keeps a Retriever warm; ``warm_context`` uses it or returns None, fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from flowloop.index.api import build_index, context_pack
from flowloop.index.warm import request, state_file, warm_context
from flowloop.repo import FlowRepo
from helpers_serving import start_flow_serve, stop_flow_serve

FLOW = str(Path(sys.executable).with_name("flow"))
TASK = "retry failed card payments"


@pytest.fixture
def served(kb_repo: FlowRepo) -> Iterator[tuple[FlowRepo, subprocess.Popen[str]]]:
    build_index(kb_repo)
    proc = start_flow_serve(kb_repo)
    try:
        yield kb_repo, proc
    finally:
        stop_flow_serve(proc)


def test_warm_context_matches_cold_pack(served: tuple[FlowRepo, subprocess.Popen[str]]) -> None:
    repo, _ = served
    record = json.loads(state_file(repo).read_text())
    assert record["url"].startswith(("unix://", "http://127.0.0.1:"))
    warm = warm_context(repo, TASK, budget=300, timeout_s=5.0, session="s-1")
    cold = context_pack(repo, TASK, budget=300, log=False)
    assert warm is not None
    assert [d.id for d in warm.documents] == [d.id for d in cold.documents]
    assert warm.text == cold.text and warm.tokens == cold.tokens <= 300
    hits = request(repo, "/search", {"query": "stripe webhooks", "k": 2}, timeout_s=5.0)
    assert hits is not None and hits["hits"][0]["id"] == "cum-duplicate-webhooks"
    # A second server for the same repository is refused; the first keeps its socket.
    second = subprocess.run([FLOW, "-C", str(repo.root), "serve"], capture_output=True, text=True, timeout=120)
    assert second.returncode == 2 and "already answers" in second.stderr
    # A bad request is answered with an error, not a crash; the server keeps serving.
    assert request(repo, "/context", {"task": ""}, timeout_s=5.0) is None
    assert warm_context(repo, TASK, budget=300, timeout_s=5.0) is not None


def test_server_stops_cleanly_and_logs_usage(served: tuple[FlowRepo, subprocess.Popen[str]]) -> None:
    repo, proc = served
    assert warm_context(repo, TASK, budget=300, timeout_s=5.0, session="sess-42") is not None
    stop_flow_serve(proc)
    assert proc.returncode == 0
    assert not state_file(repo).exists() and not (repo.state_dir / "warm.sock").exists()
    from flowloop.signals.store import open_store

    with open_store(FlowRepo(repo.root)) as store:
        events = store.query("retrieval")
    assert [(e.query, e.session) for e in events] == [(TASK, "sess-42")]  # type: ignore[attr-defined]
    assert events[0].injected  # type: ignore[attr-defined]


def test_no_server_means_none_quickly(kb_repo: FlowRepo) -> None:
    build_index(kb_repo)
    started = time.monotonic()
    assert warm_context(kb_repo, TASK, budget=300, timeout_s=0.5) is None
    # A stale record (server killed -9) is also just None.
    kb_repo.state_path("warm.json").write_text(json.dumps({"pid": 1, "url": f"unix://{kb_repo.state_dir}/gone.sock"}))
    assert warm_context(kb_repo, TASK, budget=300, timeout_s=0.5) is None
    kb_repo.state_path("warm.json").write_text("{not json")
    assert warm_context(kb_repo, TASK, budget=300, timeout_s=0.5) is None
    assert time.monotonic() - started < 5  # generous: no connection attempt may hang


def test_a_silent_server_times_out(kb_repo: FlowRepo) -> None:
    import socket

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts connections, never answers
    try:
        port = listener.getsockname()[1]
        kb_repo.state_path("warm.json").write_text(json.dumps({"pid": os.getpid(), "url": f"http://127.0.0.1:{port}"}))
        started = time.monotonic()
        assert warm_context(kb_repo, TASK, budget=300, timeout_s=0.3) is None
        assert time.monotonic() - started < 3
    finally:
        listener.close()


def test_tcp_port_mode(kb_repo: FlowRepo) -> None:
    build_index(kb_repo)
    proc = start_flow_serve(kb_repo, "--port", "0")
    try:
        assert json.loads(state_file(kb_repo).read_text())["url"].startswith("http://127.0.0.1:")
        pack = warm_context(kb_repo, TASK, budget=300, timeout_s=5.0)
        assert pack is not None and "evg-payment-retries" in {d.id for d in pack.documents}
    finally:
        stop_flow_serve(proc)

"""Real local servers for tests: an ASGI app (uvicorn on 127.0.0.1) for served models, and
`flow serve` as a subprocess for the warm path."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` on a free loopback port until the block ends; yields its ``/v1`` base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


FLOW = str(Path(sys.executable).with_name("flow"))


def start_flow_serve(repo: Any, *args: str) -> "subprocess.Popen[str]":
    """``flow serve`` for ``repo`` in a subprocess, returned once it answers ``/health``."""
    from flowloop.index.warm import is_running, state_file

    proc = subprocess.Popen([FLOW, "-C", str(repo.root), "serve", *args], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"flow serve exited: {proc.stderr.read() if proc.stderr else ''}")
        if state_file(repo).exists() and is_running(repo, timeout_s=2.0):
            return proc
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("flow serve did not start")


def stop_flow_serve(proc: "subprocess.Popen[str]") -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

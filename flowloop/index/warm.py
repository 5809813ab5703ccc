"""The warm path for agent hooks: a server that keeps a Retriever loaded, and its client.

A hook must answer within about a second and a cold process cannot load an embedder and an index
that fast on every prompt, so ``flow serve`` keeps one :class:`Retriever` in memory behind a tiny
HTTP API (stdlib only) on a unix socket (``.flow/state/warm.sock``; owner-only by file mode) or a
localhost port, and records its address in ``.flow/state/warm.json``. Every prompt goes to
that address and its answer is injected into the agent, so the client reaches only the user's
own local server, never one a repository file names (see :func:`_address`). The client,
:func:`warm_context`, imports nothing heavy and returns ``None`` on any failure (no server, a
stale address, a timeout, a bad answer): a hook then simply injects nothing.

API: ``GET /health``; ``POST /context`` ``{"task", "budget"?, "session"?}`` -> a context pack;
``POST /search`` ``{"query", "k"?, "types"?}`` -> ``{"hits": [...]}``. Errors: 400 ``{"error"}``.
A higher layer may add routes (``serve(routes=...)``): ``flow serve`` adds ``POST /score``, the
reward model kept warm for ``flow validate`` (``flowloop.specialist.warm_scoring``); a route
runs under its own lock, so a slow scoring call never holds up a hook's context pack.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from pathlib import Path
from collections.abc import Mapping
from typing import Any, Callable

from flowloop.errors import ConfigError
from flowloop.index.types import ContextPack, Hit
from flowloop.repo import FlowRepo

MAX_UNIX_PATH = 100  # sun_path is 108 bytes on Linux; longer paths fall back to a TCP port
MAX_REPLY = 4 * 1024 * 1024  # a context pack is a few KB; more is not a warm server of ours


def state_file(repo: FlowRepo) -> Path:
    return repo.state_dir / "warm.json"


def socket_file(repo: FlowRepo) -> Path:
    return repo.state_dir / "warm.sock"


# -- client -------------------------------------------------------------------------------------


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._unix_path)
        self.sock = sock


def _address(repo: FlowRepo) -> str | None:
    """The user's own warm server: ``FLOW_INDEX__WARM_URL`` or what ``flow serve`` recorded.

    Every prompt of the agent goes to this address and its answer is injected into the agent, so
    it may only ever be a server on this machine that the user started: the default socket under
    ``.flow/state/`` (owned by the user), or a loopback port recorded by a live ``flow serve`` of
    the user's. A repository file never chooses it: ``[index] warm_url`` in config.toml is
    refused (``ConfigError``; nothing is sent).
    """
    if "index.warm_url" in repo.settings.refused_from_file:
        raise ConfigError(
            "[index] warm_url is ignored: a repository file must not choose where your prompts go, "
            "so no context was fetched",
            path=repo.config_path, field="index.warm_url",
            hint="delete that line; hooks use the server `flow serve` records, or FLOW_INDEX__WARM_URL from your shell",
        )
    configured = repo.settings.index.warm_url
    if configured:
        if not _is_local(configured):
            raise ConfigError(
                f"FLOW_INDEX__WARM_URL {configured!r} is not a local server",
                field="index.warm_url", hint="use unix://PATH or http://127.0.0.1:PORT",
            )
        return configured
    record = _record(repo)
    if record is None:
        return None
    url, pid = record
    if url.startswith("unix://"):
        # Only the socket `flow serve` makes, and only if it is ours: never a path a file names.
        return url if url == f"unix://{socket_file(repo)}" and _owned_socket(socket_file(repo)) else None
    return url if _is_local(url) and _alive_and_ours(pid) else None


def _record(repo: FlowRepo) -> tuple[str, int] | None:
    path = state_file(repo)
    try:
        if path.stat().st_uid != os.getuid():
            return None  # written by someone else: not the user's own server
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    url, pid = data.get("url"), data.get("pid")
    if not isinstance(url, str) or isinstance(pid, bool) or not isinstance(pid, int):
        return None
    return url, pid


def _is_local(url: str) -> bool:
    """``unix://PATH``, or ``http://`` to a loopback address with a port; nothing else."""
    import ipaddress
    from urllib.parse import urlsplit

    if url.startswith("unix://"):
        return len(url) > len("unix://")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme != "http" or port is None or parts.username or parts.password:
        return False
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _owned_socket(path: Path) -> bool:
    import stat

    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISSOCK(info.st_mode) and info.st_uid == os.getuid()


def _alive_and_ours(pid: int) -> bool:
    """A live process this user may signal (signal 0 sends nothing): the server it recorded."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:
        return False  # alive, but another user's
    except OSError:
        return False
    return True


def _connect(url: str, timeout_s: float) -> http.client.HTTPConnection:
    from urllib.parse import urlsplit

    if url.startswith("unix://"):
        return _UnixConnection(url[len("unix://") :], timeout_s)
    if _is_local(url):
        parts = urlsplit(url)
        return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout_s)
    raise ValueError(f"unsupported warm server address {url!r}")


def request(repo: FlowRepo, path: str, body: dict[str, Any] | None, timeout_s: float) -> dict[str, Any] | None:
    """One JSON request to the warm server; None when it is absent, slow or broken.

    Raises :class:`ConfigError` when the configuration names a server that is not the user's
    own (nothing is sent then).
    """
    url = _address(repo)
    if url is None:
        return None
    try:
        conn = _connect(url, timeout_s)
        try:
            if body is None:
                conn.request("GET", path)
            else:
                conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            response = conn.getresponse()
            payload = response.read(MAX_REPLY + 1)
        finally:
            conn.close()
        if response.status != 200 or len(payload) > MAX_REPLY:
            return None
        data = json.loads(payload)
    except (OSError, ValueError, http.client.HTTPException):
        return None  # no server, stale address, timeout (socket.timeout is an OSError), bad reply
    return data if isinstance(data, dict) else None


def warm_context(
    repo: FlowRepo, task: str, budget: int | None = None, timeout_s: float = 0.8, session: str | None = None
) -> ContextPack | None:
    """The context pack from a running ``flow serve``, or None if none answered in ``timeout_s``."""
    from flowloop.scrub import scrub

    # Scrubbed before it leaves the hook: the server logs queries to the usage log.
    data = request(repo, "/context", {"task": scrub(task), "budget": budget, "session": session}, timeout_s)
    if data is None:
        return None
    try:
        return ContextPack.from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None


def warm_search(repo: FlowRepo, query: str, k: int, timeout_s: float = 5.0) -> list[Hit] | None:
    """Search hits from a running ``flow serve``, or None (no server, a refused address, a bad answer)."""
    if not state_file(repo).exists() and not repo.settings.index.warm_url:
        return None  # no server announced: do not even try to connect
    try:
        data = request(repo, "/search", {"query": query, "k": k}, timeout_s)
        return None if data is None else [Hit(**hit) for hit in data["hits"]]
    except (ConfigError, KeyError, TypeError):
        return None


def is_running(repo: FlowRepo, timeout_s: float = 0.5) -> bool:
    return request(repo, "/health", None, timeout_s) is not None


# -- server -------------------------------------------------------------------------------------


Route = Callable[[dict[str, Any]], dict[str, Any]]


def _handler_class(retriever: Any, lock: Any, routes: Mapping[str, Route] | None = None) -> type:
    import threading
    from http.server import BaseHTTPRequestHandler

    routes = dict(routes or {})
    route_lock = threading.Lock()  # one call of an added route at a time, apart from retrieval

    from flowloop.errors import FlowError

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return  # a hook per prompt would flood the terminal

        def _send(self, status: int, data: dict[str, Any]) -> None:
            body = json.dumps(data).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - stdlib naming
            if self.path != "/health":
                self._send(404, {"error": "unknown path"})
                return
            self._send(200, {"ok": True, "pid": os.getpid(), "generation": retriever.reader.generation})

        def do_POST(self) -> None:  # noqa: N802 - stdlib naming
            try:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object")
                if self.path in routes:
                    with route_lock:
                        data = routes[self.path](body)
                    self._send(200, data)
                    return
                with lock:  # one retrieval at a time: SQLite connection and model are shared
                    if self.path == "/context":
                        pack = retriever.context_pack(str(body.get("task") or ""), budget=body.get("budget"),
                                                      session=body.get("session"))
                        data = pack.to_dict()
                    elif self.path == "/search":
                        hits = retriever.search(str(body.get("query") or ""), k=int(body.get("k") or 10),
                                                types=body.get("types"))
                        data = {"hits": [h.to_dict() for h in hits]}
                    else:
                        self._send(404, {"error": "unknown path"})
                        return
            except (FlowError, ValueError, TypeError) as exc:
                self._send(400, {"error": str(exc)})
                return
            except Exception as exc:  # process boundary: a server request reports, never dies
                self._send(500, {"error": f"{type(exc).__name__}: {exc}"})
                return
            self._send(200, data)

    return Handler


def serve(repo: FlowRepo, port: int | None = None, ready: Callable[[str], None] | None = None,
          routes: Mapping[str, Route] | None = None) -> None:
    """Serve until interrupted; ``port`` None means the unix socket (or a free port if its path
    is too long). ``ready(address)`` is called once the server accepts requests; ``routes`` adds
    POST paths (path -> function of the JSON body, returning the JSON answer)."""
    import datetime as dt
    import socketserver
    import threading
    from http.server import ThreadingHTTPServer

    from flowloop.atomic import atomic_write_text
    from flowloop.index.api import Retriever

    from flowloop.errors import LockError

    try:
        running = is_running(repo)
    except ConfigError:
        running = False  # a refused [index] warm_url: hooks report it; this server is the user's own
    if running:
        raise LockError("a warm server already answers for this repository", path=state_file(repo),
                        hint="stop it first (its pid is in that file), or use it")
    retriever = Retriever(repo, log_mode="background").warm_up()
    handler = _handler_class(retriever, threading.Lock(), routes)
    sock_path = socket_file(repo)
    server: socketserver.BaseServer
    if port is None and len(str(sock_path)) <= MAX_UNIX_PATH:

        class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        sock_path.parent.mkdir(parents=True, exist_ok=True)
        sock_path.unlink(missing_ok=True)
        old_umask = os.umask(0o177)  # the socket is readable by its owner only
        try:
            server = UnixServer(str(sock_path), handler)
        finally:
            os.umask(old_umask)
        url = f"unix://{sock_path}"
    else:
        server = ThreadingHTTPServer(("127.0.0.1", port or 0), handler)
        server.daemon_threads = True
        url = f"http://127.0.0.1:{server.server_address[1]}"
    record = {"pid": os.getpid(), "url": url, "started_at": dt.datetime.now(dt.timezone.utc).isoformat()}
    atomic_write_text(repo.state_path("warm.json"), json.dumps(record))
    try:
        if ready is not None:
            ready(url)
        server.serve_forever(poll_interval=0.25)
    finally:
        server.server_close()
        try:
            if json.loads(state_file(repo).read_text(encoding="utf-8")).get("pid") == os.getpid():
                state_file(repo).unlink()
        except (OSError, ValueError):
            pass
        if url.startswith("unix://"):
            sock_path.unlink(missing_ok=True)
        retriever.close()

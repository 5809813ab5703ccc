"""How a retriever writes its usage events: now, as a pending line, or from a background thread.

Every search and context call is recorded (``flowloop.index.usage.log_retrieval``); where it is
written is a policy of the caller, not of retrieval:

- ``direct``: into the signals store before the call returns (library callers, tests);
- ``pending``: one JSON line appended to the pending file, which a cold ``flow context`` can
  afford (the store is not opened);
- ``background``: a queue and one thread that write into the store after the answer has gone
  out (the MCP server and the warm server, whose latency is the user's).

A store problem in the background thread must not stop a server nor the thread: its message is
kept in :attr:`UsageLog.errors` for the server to report.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from flowloop.repo import FlowRepo

MODES = ("direct", "pending", "background")


class UsageLog:
    """Records retrieval usage events for one repository in one of :data:`MODES`."""

    def __init__(self, repo: FlowRepo, mode: str = "direct") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown log_mode {mode!r}")
        self.repo = repo
        self.mode = mode
        self.errors: list[str] = []
        self._queue: queue.Queue[Any] | None = None
        self._thread: threading.Thread | None = None
        if mode == "background":
            self._queue = queue.Queue()
            self._thread = threading.Thread(target=self._worker, name="flow-usage-log", daemon=True)
            self._thread.start()

    def record(
        self,
        operation: str,
        query: str,
        candidates: list[tuple[str, float, str]],
        injected: list[str],
        session: str | None = None,
    ) -> None:
        """One search or context call: the candidates ``(id, score, path)`` and what was injected."""
        if self._queue is not None:
            self._queue.put(((operation, query, candidates, injected), {"session": session}))
            return
        from flowloop.index.usage import log_retrieval

        log_retrieval(self.repo, operation, query, candidates, injected, session=session, direct=self.mode == "direct")

    def _worker(self) -> None:
        from flowloop.errors import FlowError
        from flowloop.index.usage import log_retrieval

        assert self._queue is not None
        while True:
            item = self._queue.get()
            if item is None:
                return
            args, kwargs = item
            try:
                log_retrieval(self.repo, *args, direct=True, **kwargs)
            except FlowError as exc:  # a store problem must not stop the server; keep the reason
                self.errors.append(exc.render())
            except Exception as exc:  # the thread's boundary: the store can raise raw database errors
                # (a corrupt file), and a dead thread would drop every later event unseen.
                self.errors.append(f"usage event not stored: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        """Write what the background thread still holds, then stop it."""
        if self._thread is not None and self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

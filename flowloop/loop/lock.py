"""One ``flow loop`` at a time: an ``fcntl`` lock on ``.flow/state/loop.lock``.

``flock`` locks belong to the open file and vanish when the process dies, so a crashed or killed
run never leaves a stale lock behind (no PID-file guessing). The file keeps the holder's PID
and start time only to make the refusal message useful; it is never deleted (deleting a lock
file while another process waits on it breaks mutual exclusion).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from pathlib import Path
from types import TracebackType
from typing import IO

from flowloop.errors import LockError

LOCK_NAME = "loop.lock"


class LoopLock:
    """Context manager: holds the lock or raises :class:`LockError` at once (never waits)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def __enter__(self) -> "LoopLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip()
            fh.close()
            raise LockError(
                f"another `flow loop` is running{_describe(holder)}",
                path=self.path,
                hint="wait for it to finish; the lock is released when that process exits",
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}))
        fh.flush()
        self._fh = fh
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


def _describe(holder: str) -> str:
    try:
        data = json.loads(holder)
    except ValueError:
        return ""
    return f" (pid {data.get('pid')}, since {data.get('since')})"

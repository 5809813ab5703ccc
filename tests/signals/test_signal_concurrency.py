"""Concurrent writer processes: N x M events give exactly N x M rows, retries included.

The workers are separate Python processes (as hooks, collectors and the ingest server are), all
opening the same fresh store at once, so the first-open migration race is covered too.
"""

from __future__ import annotations

import os
import subprocess
import sys

from flowloop.repo import FlowRepo
from flowloop.signals.store import open_store

WORKER = r"""
import sys
from pathlib import Path
from flowloop.repo import FlowRepo
from flowloop.signals.events import OutcomeEvent
from flowloop.signals.store import open_store

worker, m, batch, root = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
mine = [OutcomeEvent(task=f"w{worker}", metric="n", value=i, idempotency_key=f"w{worker}-{i}") for i in range(m)]
shared = [OutcomeEvent(task="shared", metric="n", value=i, idempotency_key=f"shared-{i}") for i in range(10)]
added = duplicates = 0
with open_store(FlowRepo(Path(root))) as store:
    for n, start in enumerate(range(0, m, batch)):
        chunk = mine[start:start + batch]
        result = store.add(chunk)
        added, duplicates = added + result.added, duplicates + result.duplicates
        if n % 3 == 0:  # a retry after a lost acknowledgement, as a collector would send it
            result = store.add(chunk)
            added, duplicates = added + result.added, duplicates + result.duplicates
        if n == 2:  # every worker also sends the same events: stored once in total
            result = store.add(shared)
            added, duplicates = added + result.added, duplicates + result.duplicates
print(added, duplicates)
"""


def run_workers(repo: FlowRepo, n: int, m: int, batch: int) -> list[tuple[int, int]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(i), str(m), str(batch), str(repo.root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for i in range(n)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        added, duplicates = out.split()
        results.append((int(added), int(duplicates)))
    return results


def test_concurrent_writers_lose_and_duplicate_nothing(store_repo: FlowRepo) -> None:
    n, m, batch = 4, 240, 20
    results = run_workers(store_repo, n, m, batch)
    with open_store(store_repo) as store:
        assert store.count() == n * m + 10
        stored = store.query()
        keys = [event.idempotency_key for event in stored]
        assert len(set(keys)) == len(keys)
        for worker in range(n):
            values = sorted(int(e.value) for e in stored if e.task == f"w{worker}")  # type: ignore[attr-defined]
            assert values == list(range(m))
    # Every event a worker sent was either added once or reported as a duplicate.
    assert sum(added for added, _ in results) == n * m + 10
    retried = len(range(0, m, batch)[::3]) * batch
    assert sum(duplicates for _, duplicates in results) == n * retried + (n - 1) * 10

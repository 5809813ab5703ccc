"""Signals store benchmark: events/s with 1, 4 and 16 concurrent writer processes, SQLite and
PostgreSQL, verifying that nothing is lost or duplicated; plus ``flow collect git`` on a
generated 10,000-commit repository.

Each writer is its own Python process (as hooks, collectors and the ingest server are). Writers
open the store, wait on a common start signal, then send their events in batches; every fifth
batch is sent twice (a retry after a lost acknowledgement), and all writers also send one shared
batch, so idempotency is exercised under contention. Throughput counts distinct events stored
over the span from the first writer's start to the last writer's end. A second series writes
single-event transactions (the hook path: one event per call) as the baseline that batching is
compared against.

PostgreSQL: ``FLOW_TEST_DATABASE_URL`` if set, else a throwaway server (fsync on) started from the
local binaries like the test fixture does.

    .venv/bin/python benchmarks/signals.py [--events 16000] [--skip-git]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "signals.json"
TARGET_EVENTS_PER_S = 1000

WORKER = r"""
import json, sys, time
from flowloop.signals.events import OutcomeEvent, PreferenceEvent, WorkRecordEvent
from flowloop.signals.store import open_url

worker, count, batch, url = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def event(i, tag):
    key = f"{tag}-{i}"
    if i % 3 == 0:
        return WorkRecordEvent(task=f"T-{i % 97}", description=f"Fix rounding in ledger totals #{i}",
                               files=["ledger/totals.py", f"ledger/m{i % 13}.py"], idempotency_key=key)
    if i % 3 == 1:
        return PreferenceEvent(task=f"T-{i % 97}", prompt="Which plan should we follow for the export?",
                               chosen=f"Plan {i}: stream rows", rejected=["Plan B: load all in memory"],
                               idempotency_key=key)
    return OutcomeEvent(task=f"T-{i % 97}", metric="ci_passed", value=i % 2, commit=f"{i:040x}", idempotency_key=key)

mine = [event(i, f"w{worker}") for i in range(count)]
shared = [event(i, "shared") for i in range(min(batch, 50))]
added = duplicates = 0
with open_url(url) as store:
    sys.stdout.write("ready\n"); sys.stdout.flush()
    sys.stdin.readline()  # the common start signal
    start = time.time()
    for n, first in enumerate(range(0, count, batch)):
        chunk = mine[first:first + batch]
        sends = [chunk, chunk] if n % 5 == 4 else [chunk]
        if n == 1:
            sends.append(shared)
        for part in sends:
            result = store.add(part)
            added += result.added
            duplicates += result.duplicates
    end = time.time()
print(json.dumps({"added": added, "duplicates": duplicates, "start": start, "end": end}))
"""


def run_config(url: str, writers: int, per_writer: int, batch: int) -> dict[str, Any]:
    """Run ``writers`` processes against a fresh database at ``url``; verify and time them."""
    from flowloop.signals.store import open_url

    with open_url(url) as store:  # migrate once, outside the timed span
        assert store.count() == 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(i), str(per_writer), str(batch), url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(writers)
    ]
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"writer failed to start: {proc.stderr.read() if proc.stderr else ''}")
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"writer failed: {err[-2000:]}")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    span = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    shared = min(batch, 50)
    expected = writers * per_writer + shared
    with open_url(url) as store:
        stored = store.count()
        keys = {e.idempotency_key for e in store.iter_events()}
    added = sum(r["added"] for r in reports)
    sent = sum(r["added"] + r["duplicates"] for r in reports)
    ok = stored == expected == added == len(keys)
    return {
        "writers": writers,
        "batch": batch,
        "events": expected,
        "sent_with_retries": sent,
        "stored": stored,
        "duplicates_reported": sum(r["duplicates"] for r in reports),
        "seconds": round(span, 3),
        "events_per_s": round(expected / span, 1) if span > 0 else None,
        "sends_per_s": round(sent / span, 1) if span > 0 else None,
        "exact": ok,
    }


class Postgres:
    """An admin URL to a server, and fresh databases on it."""

    def __init__(self) -> None:
        self.server = None
        url = os.environ.get("FLOW_TEST_DATABASE_URL", "")
        if not url:
            from flowloop.signals.pgtemp import start_temp_postgres

            self.server = start_temp_postgres(durable=True)
            url = self.server.url
        from sqlalchemy.engine import make_url

        self.base = make_url(url)
        self.created: list[str] = []

    def fresh(self) -> str:
        import psycopg

        name = f"flowbench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self._admin(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.base.set(database=name).render_as_string(hide_password=False)

    def _admin(self) -> str:
        return self.base.set(drivername="postgresql").render_as_string(hide_password=False)

    def close(self) -> None:
        import psycopg

        if self.server is not None:
            self.server.stop()
            return
        with psycopg.connect(self._admin(), autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_git(commits: int) -> dict[str, Any] | None:
    """``flow collect git`` on a generated repository (the collectors' generator and command)."""
    if not (ROOT / "flowloop" / "signals" / "collect_git.py").exists():
        return None  # slot: the git collector is not there yet
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from gen_git_repo import generate_repo, time_collect  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory(prefix="flow-bench-git-") as folder:
        path = Path(folder) / "repo"
        generated = generate_repo(path, commits=commits)
        try:
            timings = time_collect(path)
        except subprocess.CalledProcessError as exc:
            return {"commits": generated.commits, "error": f"{exc.cmd}: {exc.stderr}"}
    return {"commits": generated.commits, "generate_s": round(generated.seconds, 2), **timings}


def main() -> None:
    parser = argparse.ArgumentParser(description="signals store throughput")
    parser.add_argument("--events", type=int, default=16_000, help="distinct events per batched run")
    parser.add_argument("--single-events", type=int, default=800, help="distinct events per single-event run")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--writers", default="1,4,16")
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--skip-git", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    writer_counts = [int(n) for n in args.writers.split(",")]

    rows: list[dict[str, Any]] = []
    postgres = None if args.skip_postgres else Postgres()
    try:
        with tempfile.TemporaryDirectory(prefix="flow-bench-") as folder:
            for backend in ("sqlite", "postgresql"):
                if backend == "postgresql" and postgres is None:
                    continue
                for batch, total in ((args.batch, args.events), (1, args.single_events)):
                    for writers in writer_counts:
                        url = (
                            f"sqlite:///{Path(folder) / f'{uuid.uuid4().hex}.db'}"
                            if backend == "sqlite"
                            else postgres.fresh()  # type: ignore[union-attr]
                        )
                        row = {"backend": backend, **run_config(url, writers, max(1, total // writers), batch)}
                        rows.append(row)
                        print(json.dumps(row), file=sys.stderr)
    finally:
        if postgres is not None:
            postgres.close()
    import platform

    report: dict[str, Any] = {
        "target_events_per_s": TARGET_EVENTS_PER_S,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": rows,
        "collect_git": None,
        "baseline": "batch=1 rows: one transaction per event (the hook path)",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")  # kept if the git part fails
    git = None if args.skip_git else bench_git(args.commits)
    report["collect_git"] = git
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    lines = [
        "| store | writers | batch | events | sent (with retries) | seconds | events/s | exact | >= target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        meets = "yes" if (r["events_per_s"] or 0) >= TARGET_EVENTS_PER_S else "no"
        lines.append(
            f"| {r['backend']} | {r['writers']} | {r['batch']} | {r['events']} | {r['sent_with_retries']} | "
            f"{r['seconds']} | {r['events_per_s']} | {'yes' if r['exact'] else 'NO'} | {meets if r['batch'] > 1 else '-'} |"
        )
    if git and "error" in git:
        lines += ["", f"flow collect git failed: {git['error']}"]
    elif git:
        lines += [
            "",
            "| flow collect git | commits | full run s | events added | incremental s |",
            "| --- | ---: | ---: | ---: | ---: |",
            f"| generated repo | {git['commits']} | {git['full_s']} | {git['full_added']} | {git['incremental_s']} |",
        ]
    print("\n".join(lines))
    if not all(r["exact"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Faults and load: what holds when processes race, die, or are fed hostile input.

Four groups, each a function that returns rows ``{"group", "case", "held", "detail"}`` (the
test suite runs the same functions at small sizes, ``tests/test_faults.py``):

1. ``concurrent_events``: W writers, each its own ``flow signal outcome -`` process sending E
   events, all started at once and each re-sent once (a retry after a lost reply): exactly
   W x E rows, on SQLite and on PostgreSQL.
2. ``sigkill_*``: ``flow index --rebuild``, ``flow signal import``, ``flow dataset build`` and
   ``flow train sft`` killed with SIGKILL at random moments; after each kill the previous
   index, store, dataset and registry must be whole, and the next run must succeed.
3. ``ingest_faults``: a real ``flow ingest serve`` on 127.0.0.1 fed malformed, oversized and
   unauthenticated requests (nothing stored, a 4xx each), then a burst of valid events from
   several threads, every one sent three times: each stored exactly once.
4. ``hook_faults``: every hook event fed empty, garbage and 5 MB stdin, and a transcript_path
   naming a 5 MB garbage file, a FIFO and ``/dev/zero``: exit 0, no traceback, within the
   agent's 60 s hook budget.

Loops are bounded, everything listens on loopback only. PostgreSQL: ``FLOW_TEST_DATABASE_URL``
if set, else a throwaway server from the local binaries (as the tests do), else that row is
skipped and says so.

    .venv/bin/python benchmarks/faults.py [--writers 16] [--events 50] [--kills 3] [--seed 7]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ledgerline"
RESULTS = ROOT / "benchmarks" / "results" / "faults.json"
FLOW = str(Path(sys.executable).with_name("flow"))
HOOK_BUDGET_S = 60.0  # Claude Code's default hook timeout
TOKEN = "faults-bench-token-" + "x" * 24

Row = dict[str, Any]


def row(group: str, case: str, held: bool, detail: str) -> Row:
    return {"group": group, "case": case, "held": bool(held), "detail": detail}


def flow(root: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None,
         timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FLOW, "-C", str(root), *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def kill_after(root: Path, args: list[str], delay_s: float, env: dict[str, str] | None = None) -> str:
    """Start ``flow args``; SIGKILL it after ``delay_s`` unless it finished first."""
    proc = subprocess.Popen([FLOW, "-C", str(root), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})}, start_new_session=True)
    try:
        proc.wait(timeout=delay_s)
        return f"finished before the kill at {delay_s:.1f}s"
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: a trainer may have children
        proc.wait()
        return f"killed at {delay_s:.1f}s"


def example_repo(parent: Path) -> Path:
    """The bundled example copied (without state) and its shipped signals imported."""
    root = parent / f"ledgerline-{uuid.uuid4().hex[:6]}"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("state"))
    done = flow(root, "signal", "import", str(root / ".flow" / "signals" / "events.jsonl"))
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return root


# -- 1. concurrent CLI events -------------------------------------------------------------------


def concurrent_events(root: Path, writers: int, per_writer: int, database_url: str | None, label: str) -> list[Row]:
    env = {"FLOW_DATABASE_URL": database_url} if database_url else {}

    def body(w: int) -> str:
        return "".join(json.dumps({"kind": "outcome", "task": f"W-{w}", "metric": "ci_passed", "value": i % 2,
                                   "idempotency_key": f"bench:{w}:{i}"}) + "\n" for i in range(per_writer))

    def send(w: int) -> subprocess.Popen[str]:
        proc = subprocess.Popen([FLOW, "-C", str(root), "signal", "outcome", "-"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
        return proc

    started = time.monotonic()
    procs = [send(w % writers) for w in range(writers * 2)]  # every writer twice: the retry races the original
    failures = []
    for index, proc in enumerate(procs):
        out, err = proc.communicate(body(index % writers), timeout=600)
        if proc.returncode != 0:
            failures.append(err.strip()[-200:])
    wall = time.monotonic() - started
    count_env = {**os.environ, **env}
    counted = subprocess.run([FLOW, "-C", str(root), "signal", "stats", "--json"], capture_output=True, text=True,
                             env=count_env, timeout=300)
    total = json.loads(counted.stdout)["total"] if counted.returncode == 0 else -1
    expected = writers * per_writer
    held = not failures and total == expected
    detail = f"{total} rows of {expected} expected from {len(procs)} CLI processes in {wall:.1f}s"
    if failures:
        detail += f"; {len(failures)} failed: {failures[0]}"
    return [row("concurrent events", f"{writers} x {per_writer} CLI events, each re-sent ({label})", held, detail)]


# -- 2. SIGKILL at random moments ----------------------------------------------------------------


def _search(root: Path) -> list[str] | None:
    done = flow(root, "search", "refund a card payment", "--json", timeout=300)
    return [hit["id"] for hit in json.loads(done.stdout)] if done.returncode == 0 else None


def sigkill_index(root: Path, kills: int, rng: random.Random, window: tuple[float, float]) -> list[Row]:
    if flow(root, "index").returncode != 0:
        return [row("sigkill", "flow index --rebuild", False, "the first build failed")]
    before = _search(root)
    notes, held = [], bool(before)
    for _ in range(kills):
        notes.append(kill_after(root, ["index", "--rebuild"], rng.uniform(*window)))
        after = _search(root)
        held = held and after == before  # readers keep the previous generation whole
    again = flow(root, "index", "--rebuild")
    held = held and again.returncode == 0 and _search(root) == before
    return [row("sigkill", "flow index --rebuild", held,
                f"{'; '.join(notes)}; search unchanged after each; the next --rebuild succeeded")]


def _count(root: Path, env: dict[str, str] | None = None) -> int:
    done = flow(root, "signal", "stats", "--json", env=env, timeout=300)
    return int(json.loads(done.stdout)["total"]) if done.returncode == 0 else -1


def sigkill_import(root: Path, kills: int, rng: random.Random, window: tuple[float, float], lines: int) -> list[Row]:
    path = root / "big-import.jsonl"
    with path.open("w") as fh:
        for i in range(lines):
            fh.write(json.dumps({"kind": "correction", "task": f"IMP-{i % 300}", "agent": "use a float " * 30,
                                 "correction": "use integer cents " * 30, "idempotency_key": f"imp:{i}"}) + "\n")
    base = _count(root)
    notes, held = [], base >= 0
    for _ in range(kills):
        notes.append(kill_after(root, ["signal", "import", str(path)], rng.uniform(*window)))
        held = held and _count(root) in (base, base + lines)  # all of the file or none of it
    done = flow(root, "signal", "import", str(path))
    final = _count(root)
    held = held and done.returncode == 0 and final == base + lines
    size = path.stat().st_size / 2**20
    return [row("sigkill", f"flow signal import ({size:.0f} MB)", held,
                f"{'; '.join(notes)}; store all-or-nothing after each; next import: {final - base} of {lines} added")]


def _dataset_versions(root: Path) -> list[int] | None:
    folder = root / ".flow" / "state" / "datasets"
    found = []
    for sub in sorted(folder.glob("v*")) if folder.is_dir() else []:
        if not sub.name[1:].isdigit():
            continue
        try:
            json.loads((sub / "manifest.json").read_text())
        except (OSError, ValueError):
            return None  # a version folder without a whole manifest: not whole
        found.append(int(sub.name[1:]))
    return sorted(found)


def _new_signal(root: Path, n: int) -> None:
    """One more correction, so the next build has new inputs (same inputs are reused)."""
    line = json.dumps({"kind": "correction", "task": f"DS-{n}", "agent": "float money", "correction": f"cents {n}"})
    flow(root, "signal", "correct", "-", stdin=line + "\n")


def sigkill_dataset(root: Path, kills: int, rng: random.Random, window: tuple[float, float]) -> list[Row]:
    if flow(root, "dataset", "build").returncode != 0:
        return [row("sigkill", "flow dataset build", False, "the first build failed")]
    before = _dataset_versions(root)
    notes, held = [], bool(before)
    for n in range(kills):
        _new_signal(root, n)
        notes.append(kill_after(root, ["dataset", "build"], rng.uniform(*window)))
        now = _dataset_versions(root)
        stats = flow(root, "dataset", "stats", "--json")
        held = held and now is not None and stats.returncode == 0 and set(before or []) <= set(now)
        before = now or before
    done = flow(root, "dataset", "build")
    final = _dataset_versions(root)
    held = held and done.returncode == 0 and final is not None and flow(root, "dataset", "stats", "--json").returncode == 0
    return [row("sigkill", "flow dataset build", held,
                f"{'; '.join(notes)}; every version's manifest whole, latest loads; next build: versions {final}")]


def _registry(root: Path) -> list[str] | None:
    done = flow(root, "models", "list", "--json", timeout=300)
    if done.returncode != 0:
        return None
    data = json.loads(done.stdout)
    versions = data.get("versions", data) if isinstance(data, dict) else data
    return sorted(str(v.get("version")) for v in versions)


def sigkill_train(root: Path, kills: int, rng: random.Random, window: tuple[float, float], steps: int,
                  extra: list[str] | None = None) -> list[Row]:
    if _dataset_versions(root) in (None, []) and flow(root, "dataset", "build").returncode != 0:
        return [row("sigkill", "flow train sft", False, "no dataset to train on")]
    args = ["train", "sft", "--max-steps", str(steps), "--force", *(extra or [])]
    before = _registry(root)
    notes, held = [], before is not None
    for _ in range(kills):
        notes.append(kill_after(root, args, rng.uniform(*window)))
        now = _registry(root)
        held = held and now is not None and set(before or []) <= set(now)  # nothing half-registered or lost
        before = now if now is not None else before
    done = flow(root, *args, "--json")
    final = _registry(root)
    held = held and done.returncode == 0 and final is not None and len(final) == len(before or []) + 1
    return [row("sigkill", f"flow train sft ({steps} steps)", held,
                f"{'; '.join(notes)}; registry whole after each; next run: {done.returncode == 0 and 'registered' or done.stderr[-200:]}, versions {final}")]


# -- 3. the ingest server ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ingest_faults(root: Path, burst: int, threads: int = 8) -> list[Row]:
    import httpx

    port = _free_port()
    server = subprocess.Popen([FLOW, "-C", str(root), "ingest", "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "FLOW_INGEST_TOKEN": TOKEN})
    url = f"http://127.0.0.1:{port}"
    rows: list[Row] = []
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                return [row("ingest", "server start", False, (server.stderr.read() if server.stderr else "")[-300:])]
            time.sleep(0.2)
        auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        base_count = _count(root)
        good = {"kind": "outcome", "task": "ING-1", "metric": "ci_passed", "value": 1}
        bad_cases: list[tuple[str, Callable[[httpx.Client], httpx.Response], set[int]]] = [
            ("no token", lambda c: c.post("/v1/events", json=good), {401}),
            ("wrong token", lambda c: c.post("/v1/events", json=good, headers={"Authorization": "Bearer nope"}), {401}),
            ("token in the query", lambda c: c.post(f"/v1/events?token={TOKEN}", json=good), {401}),
            ("invalid JSON", lambda c: c.post("/v1/events", content=b"{oops", headers=auth), {400}),
            ("not UTF-8", lambda c: c.post("/v1/events", content=b"\xff\xfe", headers=auth), {400}),
            ("NaN value", lambda c: c.post("/v1/events", content=b'{"kind":"outcome","task":"T","metric":"m","value":NaN}', headers=auth), {400}),
            ("unknown field", lambda c: c.post("/v1/events", json={**good, "colour": 1}, headers=auth), {422}),
            ("half-valid list", lambda c: c.post("/v1/events", json=[good, {"kind": "outcome"}], headers=auth), {422}),
            ("10 MB event", lambda c: c.post("/v1/events", json={**good, "window": "x" * (10 * 2**20)}, headers=auth), {413}),
            ("21 MB body", lambda c: c.post("/v1/events", content=b"[" + b" " * (21 * 2**20) + b"]", headers=auth), {413}),
            ("XML entity bomb", lambda c: c.post("/v1/junit?commit=" + "a" * 40, headers=auth, content=(
                b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
                b'<testsuite tests="1">&b;</testsuite>')), {400}),
            ("webhook with Infinity", lambda c: c.post("/v1/webhooks/errors", headers=auth,
                                                       content=b'{"release":"abc1234","errors":Infinity,"total":3}'), {400}),
        ]
        with httpx.Client(base_url=url, timeout=120) as client:
            for name, call, wanted in bad_cases:
                try:
                    status, note = call(client).status_code, ""
                except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                    if wanted != {413}:
                        raise
                    # The server answered 413 and closed while the client was still sending the
                    # rest of an oversized body: refused before it was read, as intended.
                    status, note = 413, f" (connection closed mid-upload: {type(exc).__name__})"
                rows.append(row("ingest", f"refused: {name}", status in wanted, f"HTTP {status}{note}"))
        stored_bad = _count(root) - base_count
        rows.append(row("ingest", "nothing stored from refused requests", stored_bad == 0, f"{stored_bad} rows added"))

        events = [{"kind": "outcome", "task": f"BURST-{i}", "metric": "ci_passed", "value": i % 2} for i in range(burst)]
        sends = [e for e in events for _ in range(3)]  # the original and two resends, without keys or times
        random.Random(3).shuffle(sends)
        started = time.monotonic()

        def post(event: dict[str, Any]) -> int:
            with httpx.Client(base_url=url, timeout=120) as client:
                return client.post("/v1/events", json=event, headers=auth).status_code

        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            statuses = list(pool.map(post, sends))
        wall = time.monotonic() - started
        added = _count(root) - base_count
        rows.append(row("ingest", f"burst of {burst} events from {threads} threads, each sent 3 times",
                        added == burst and set(statuses) == {200},
                        f"{added} stored of {burst}; {len(sends)} requests in {wall:.1f}s ({len(sends) / wall:.0f}/s)"))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return rows


# -- 4. hooks ------------------------------------------------------------------------------------


def hook_faults(root: Path, scratch: Path, events: tuple[str, ...] = ("session-start", "user-prompt-submit",
                "post-tool-use", "stop", "session-end")) -> list[Row]:
    garbage = scratch / "garbage.jsonl"
    garbage.write_bytes(random.Random(5).randbytes(5 * 2**20))
    fifo = scratch / "transcript.fifo"
    if not fifo.exists():
        os.mkfifo(fifo)

    def payload(path: str) -> str:
        return json.dumps({"session_id": "s-faults", "transcript_path": path, "cwd": str(root),
                           "hook_event_name": "Stop", "prompt": "hello", "tool_name": "ExitPlanMode",
                           "tool_input": {"plan": "p"}})

    inputs = {"empty stdin": "", "garbage stdin": "\x00\xff{[ not json", "5 MB stdin": "x" * (5 * 2**20),
              "5 MB garbage transcript": payload(str(garbage)), "FIFO transcript": payload(str(fifo)),
              "/dev/zero transcript": payload("/dev/zero")}
    rows = []
    for name, stdin in inputs.items():
        worst, bad = 0.0, []
        for event in events:
            started = time.monotonic()
            try:
                done = subprocess.run([FLOW, "hook", event], input=stdin, capture_output=True, text=True,
                                      cwd=root, timeout=HOOK_BUDGET_S)
            except subprocess.TimeoutExpired:
                bad.append(f"{event}: over {HOOK_BUDGET_S:.0f}s")
                continue
            took = time.monotonic() - started
            worst = max(worst, took)
            if done.returncode != 0 or "Traceback" in done.stderr:
                bad.append(f"{event}: exit {done.returncode}")
        rows.append(row("hooks", name, not bad, f"{len(events)} events, slowest {worst:.1f}s"
                        + (f"; {'; '.join(bad)}" if bad else "; exit 0, no traceback")))
    return rows


# -- driver --------------------------------------------------------------------------------------


class Postgres:
    """A server URL (FLOW_TEST_DATABASE_URL or a throwaway one) and fresh databases on it."""

    def __init__(self) -> None:
        self.server = None
        url = os.environ.get("FLOW_TEST_DATABASE_URL", "")
        if not url:
            from flowloop.signals.pgtemp import start_temp_postgres

            self.server = start_temp_postgres(durable=False)
            url = self.server.url
        from sqlalchemy.engine import make_url

        self.base = make_url(url)

    def fresh(self) -> str:
        import psycopg

        name = f"flowfaults_{uuid.uuid4().hex[:10]}"
        admin = self.base.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.base.set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()


def print_table(rows: list[Row]) -> None:
    width = max(len(r["case"]) for r in rows)
    print(f"| group | case{' ' * (width - 4)} | held | detail |")
    print(f"| --- | {'-' * width} | --- | --- |")
    for r in rows:
        print(f"| {r['group']} | {r['case']:<{width}} | {'yes' if r['held'] else 'NO'} | {r['detail']} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--train-kills", type=int, default=2)
    parser.add_argument("--train-steps", type=int, default=2)
    parser.add_argument("--import-lines", type=int, default=30_000)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rows: list[Row] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="flow-faults-") as tmp:
        scratch = Path(tmp)
        from flowloop.repo import init_repo

        sqlite_root = init_repo(scratch / "events-sqlite").repo.root
        rows += concurrent_events(sqlite_root, args.writers, args.events, None, "SQLite")
        try:
            pg = Postgres()
        except Exception as exc:  # noqa: BLE001 - a script boundary: report, do not die
            rows.append(row("concurrent events", "PostgreSQL", False, f"no server: {exc}"))
        else:
            try:
                pg_root = init_repo(scratch / "events-pg").repo.root
                rows += concurrent_events(pg_root, args.writers, args.events, pg.fresh(), "PostgreSQL")
            finally:
                pg.close()
        repo = example_repo(scratch)
        # The import case gets its own store: its tens of thousands of rows would swamp the
        # example's dataset build and training.
        cases: list[tuple[str, Callable[[], list[Row]]]] = [
            ("flow index --rebuild", lambda: sigkill_index(repo, args.kills, rng, (0.5, 20.0))),
            ("flow signal import", lambda: sigkill_import(init_repo(scratch / "import").repo.root, args.kills, rng,
                                                          (0.3, 8.0), args.import_lines)),
            ("flow dataset build", lambda: sigkill_dataset(repo, args.kills, rng, (0.5, 10.0))),
            ("flow train sft", lambda: sigkill_train(repo, args.train_kills, rng, (3.0, 40.0), args.train_steps,
                                                     ["--batch-size", "1"])),
            ("ingest", lambda: ingest_faults(init_repo(scratch / "ingest").repo.root, args.burst)),
            ("hooks", lambda: hook_faults(init_repo(scratch / "hooks").repo.root, scratch)),
        ]
        for name, case in cases:
            try:
                rows += case()
            except subprocess.TimeoutExpired as exc:  # a script boundary: a row, not a traceback
                rows.append(row("timeout", name, False, f"{' '.join(map(str, exc.cmd[3:]))} ran over {exc.timeout:.0f}s"))
    wall = time.monotonic() - started
    print_table(rows)
    held = all(r["held"] for r in rows)
    print(f"\n{sum(r['held'] for r in rows)}/{len(rows)} held in {wall:.0f}s")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"args": vars(args), "wall_s": round(wall, 1), "all_held": held, "rows": rows},
                                  indent=2) + "\n")
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())

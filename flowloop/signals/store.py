"""The signals store: every behavioral event, once, with secrets scrubbed.

One ``events`` table (see ``schema.py``) in SQLite (``.flow/state/signals.db``) or PostgreSQL
(``settings.database_url`` / ``FLOW_DATABASE_URL``). Writes are idempotent: an event whose
``idempotency_key`` is already stored counts as a duplicate, never an error, so collectors and
hooks may retry freely. Each ``add`` call is one transaction: all of the batch or nothing.

Opening is cheap (it sits on agent hook paths): one engine, one query for the schema revision;
migrations run only when the database is behind.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Sequence

import sqlalchemy as sa

from flowloop.errors import SignalError, StoreError
from flowloop.repo import FlowRepo
from flowloop.scrub import scrub_value
from flowloop.signals.db import WRITE, create_engine, normalize_url, redact_url, sqlite_url, with_retries
from flowloop.signals.events import KINDS, EventBase, parse_event
from flowloop.signals.migrate import ensure_schema
from flowloop.signals.schema import COMMON_COLUMNS, events
from flowloop.signals.spool import drain_pending, has_pending

# Never scrubbed: identifiers and hashes the store itself relies on. (``idempotency_key`` is
# chosen by the client and may quote anything, so it is scrubbed, see ``_safe_key``.)
_VERBATIM = frozenset({"id", "kind", "created_at", "schema_version"})
_COMMON = frozenset(COMMON_COLUMNS)
IMPORT_BATCH = 2000


@dataclass(frozen=True)
class AddResult:
    """What one ``add`` did: events newly stored, and events whose key was already there."""

    added: int
    duplicates: int

    @property
    def total(self) -> int:
        return self.added + self.duplicates


@dataclass(frozen=True)
class ImportResult:
    """What one ``import_jsonl`` did; ``events`` is the number of event lines read."""

    path: Path
    events: int
    added: int
    duplicates: int


@dataclass(frozen=True)
class StoreStats:
    """Counts of stored events, in total, by kind, and by ISO week (``2025-W07``) and kind."""

    total: int
    by_kind: dict[str, int]
    by_week: dict[str, dict[str, int]] = field(default_factory=dict)


def scrub_event(event: EventBase) -> EventBase:
    """``event`` with secrets redacted from every text field (the same object if none)."""
    return _scrubbed(event)[0]


def _scrubbed(event: EventBase) -> tuple[EventBase, dict[str, Any]]:
    """The scrubbed event and its JSON form (one dump serves both the check and the row)."""
    data = event.model_dump(mode="json")
    cleaned = {key: value if key in _VERBATIM else scrub_value(value) for key, value in data.items()}
    cleaned["idempotency_key"] = _safe_key(data["idempotency_key"])
    if cleaned == data:
        return event, data
    try:
        # Re-validate: redaction must not turn a valid event into an invalid one.
        return parse_event(cleaned, where=f"event {event.id} (after redacting secrets)"), cleaned
    except SignalError as exc:
        raise SignalError(exc.message, field=exc.field, hint="the event differs only in secrets; drop it") from exc


def _safe_key(key: str) -> str:
    """The key with secrets redacted, plus a hash of the original so that two keys differing
    only in their secret stay two keys (and a retry of the same one still dedupes)."""
    import hashlib

    from flowloop.scrub import scrub

    cleaned = scrub(key)
    if cleaned == key:
        return key
    return f"{cleaned}#{hashlib.sha256(key.encode()).hexdigest()[:16]}"


class SignalStore:
    """Events in one database. Use as a context manager, or call ``close()``."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return redact_url(str(self.engine.url))

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "SignalStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writes --------------------------------------------------------------------------------

    def add(self, events_: Iterable[EventBase]) -> AddResult:
        """Store ``events_`` in one transaction; keys already stored count as duplicates."""
        batch = list(events_)
        return self._write(lambda: iter([batch]))

    def _write(self, batches: Callable[[], Iterator[Iterable[EventBase]]]) -> AddResult:
        """All batches from ``batches()`` in one transaction (called again on a retry)."""
        stored_at = dt.datetime.now(dt.timezone.utc)
        counts = {"seen": 0}

        def write() -> int:
            added = 0
            counts["seen"] = 0
            stmt = _insert_ignore(self.engine.dialect.name)
            with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
                for batch in batches():
                    rows: dict[str, dict[str, Any]] = {}
                    for event in batch:
                        counts["seen"] += 1
                        if not isinstance(event, EventBase):
                            raise SignalError(f"expected an event, got {type(event).__name__}",
                                              hint="build events with parse_event")
                        row = _to_row(*_scrubbed(event), stored_at)
                        rows.setdefault(row["idempotency_key"], row)  # a key twice in one batch is a duplicate
                    if rows:
                        # Sorted keys: concurrent PostgreSQL batches take row locks in one order.
                        added += len(conn.execute(stmt, [rows[key] for key in sorted(rows)]).all())
            return added

        added = with_retries(write)
        return AddResult(added=added, duplicates=counts["seen"] - added)

    def import_jsonl(self, path: Path, progress: Callable[[int, int], None] | None = None) -> ImportResult:
        """Validate every line of ``path`` first, then store all of it in one transaction.

        Two streaming passes (validate, then write in batches of ``IMPORT_BATCH``) instead of
        holding the whole file and every event in memory: a 100 MB export once peaked at
        ~640 MB."""
        from flowloop.signals.jsonl import iter_events

        lines = sum(1 for _ in iter_events(path, progress=progress))  # every line valid, or raise

        def batches() -> Iterator[list[EventBase]]:
            batch: list[EventBase] = []
            for event in iter_events(path):
                batch.append(event)
                if len(batch) >= IMPORT_BATCH:
                    yield batch
                    batch = []
            if batch:
                yield batch

        result = self._write(batches)
        return ImportResult(path=path, events=lines, added=result.added, duplicates=result.duplicates)

    # -- reads ---------------------------------------------------------------------------------

    def query(
        self,
        kind: str | Sequence[str] | None = None,
        task: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[EventBase]:
        """Events matching every filter given, oldest first (``since <= created_at < until``)."""
        return list(self.iter_events(kind=kind, task=task, since=since, until=until))

    def iter_events(
        self,
        kind: str | Sequence[str] | None = None,
        task: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        chunk: int = 1000,
    ) -> Iterator[EventBase]:
        """Like :meth:`query`, streamed ``chunk`` rows at a time (for exports of big stores)."""
        stmt = sa.select(events).where(*_filters(kind, task, since, until))
        stmt = stmt.order_by(events.c.created_at, events.c.seq)
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=chunk).execute(stmt):
                yield _to_event(row._mapping)

    def count(self, kind: str | Sequence[str] | None = None) -> int:
        stmt = sa.select(sa.func.count()).select_from(events).where(*_filters(kind, None, None, None))
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def stats(self) -> StoreStats:
        """Counts by kind and by ISO week of ``created_at``."""
        by_kind: Counter[str] = Counter()
        by_week: dict[str, Counter[str]] = {}
        with self.engine.connect() as conn:
            for kind, created in conn.execute(sa.select(events.c.kind, events.c.created_at)):
                by_kind[kind] += 1
                year, week, _ = created.isocalendar()
                by_week.setdefault(f"{year}-W{week:02d}", Counter())[kind] += 1
        return StoreStats(
            total=sum(by_kind.values()),
            by_kind=dict(sorted(by_kind.items())),
            by_week={week: dict(sorted(counts.items())) for week, counts in sorted(by_week.items())},
        )

    def export_jsonl(self, fh: IO[str]) -> int:
        """Write every event as one JSON line, oldest first; returns the number written."""
        written = 0
        for event in self.iter_events():
            fh.write(json.dumps(event.model_dump(mode="json"), ensure_ascii=False, sort_keys=True))
            fh.write("\n")
            written += 1
        return written


def store_exists(repo: FlowRepo) -> bool:
    """Whether there is a store to read: a configured URL, or the default SQLite file. A read
    (``flow signal list``) must not create the database and its folders."""
    return bool(repo.settings.database_url.strip()) or (repo.state_dir / "signals.db").exists()


def open_store(repo: FlowRepo) -> SignalStore:
    """The repository's store: ``settings.database_url`` if set, else ``.flow/state/signals.db``."""
    settings = repo.settings
    url = settings.database_url.strip() or sqlite_url(repo.state_path("signals.db"))
    store = open_url(url, busy_timeout_ms=settings.signals.busy_timeout_ms)
    # Cold paths spool their events (a store write costs more than their budget); whoever
    # opens the store next brings them in.
    if has_pending(repo):
        try:
            drain_pending(repo, store)
        except BaseException:
            store.close()
            raise
    return store


def open_url(url: str, busy_timeout_ms: int = 30_000) -> SignalStore:
    """A store at ``url`` (SQLite or PostgreSQL), migrated to the newest schema."""
    engine = create_engine(normalize_url(url), busy_timeout_ms=busy_timeout_ms)
    try:
        ensure_schema(engine)
    except (StoreError, sa.exc.SQLAlchemyError):
        engine.dispose()
        raise
    return SignalStore(engine)


def _insert_ignore(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(events).on_conflict_do_nothing(index_elements=["idempotency_key"])
    return stmt.returning(events.c.idempotency_key)


def _to_row(event: EventBase, data: dict[str, Any], stored_at: dt.datetime) -> dict[str, Any]:
    row: dict[str, Any] = {name: data[name] for name in COMMON_COLUMNS}
    row["created_at"] = event.created_at  # the datetime, not its JSON string
    row["payload"] = {key: value for key, value in data.items() if key not in _COMMON}
    row["stored_at"] = stored_at
    return row


def _to_event(row: Any) -> EventBase:
    data = dict(row["payload"])
    data.update({name: row[name] for name in COMMON_COLUMNS})
    return parse_event(data, where=f"stored event {row['id']}")


def check_kinds(kind: str | Sequence[str]) -> list[str]:
    wanted = [kind] if isinstance(kind, str) else list(kind)
    for name in wanted:
        if name not in KINDS:
            raise SignalError(f"unknown kind {name!r}", field="kind", hint=f"use one of: {', '.join(KINDS)}")
    return wanted


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def _filters(
    kind: str | Sequence[str] | None, task: str | None, since: dt.datetime | None, until: dt.datetime | None
) -> list[Any]:
    where: list[Any] = []
    if kind is not None:
        where.append(events.c.kind.in_(check_kinds(kind)))
    if task is not None:
        where.append(events.c.task == task)
    if since is not None:
        where.append(events.c.created_at >= _utc(since))
    if until is not None:
        where.append(events.c.created_at < _utc(until))
    return where

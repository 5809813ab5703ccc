"""The store contract: idempotent batches, filters, ordering, scrubbing, migrations."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
import sqlalchemy as sa

from flowloop.errors import SignalError, StoreError
from flowloop.repo import FlowRepo, init_repo
from flowloop.signals import migrations
from flowloop.signals.events import CorrectionEvent, EventBase, OutcomeEvent, PreferenceEvent, WorkRecordEvent
from flowloop.signals.migrate import MIGRATIONS_DIR, current_revision
from flowloop.signals.schema import VERSION_TABLE
from flowloop.signals.store import AddResult, open_store, open_url

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.timezone.utc)


def outcome(i: int, task: str = "T", at: dt.datetime | None = None) -> OutcomeEvent:
    return OutcomeEvent(task=task, metric="ci_passed", value=i % 2, created_at=at or T0 + dt.timedelta(minutes=i))


def test_add_counts_and_retries_are_duplicates(store_repo: FlowRepo) -> None:
    batch = [outcome(i) for i in range(50)]
    with open_store(store_repo) as store:
        assert store.add(batch) == AddResult(added=50, duplicates=0)
        # A retry of the whole batch, and of a part mixed with new events.
        assert store.add(batch) == AddResult(added=0, duplicates=50)
        assert store.add(batch[:10] + [outcome(100)]) == AddResult(added=1, duplicates=10)
        # The same key twice inside one batch is stored once.
        assert store.add([outcome(200), outcome(200)]) == AddResult(added=1, duplicates=1)
        assert store.add([]) == AddResult(0, 0)
        assert store.count() == 52
        assert store.count("outcome") == 52 and store.count(["preference", "correction"]) == 0


def test_explicit_idempotency_key_wins_over_content(store_repo: FlowRepo) -> None:
    first = CorrectionEvent(agent="a", correction="b", idempotency_key="hook:session-1:turn-3")
    edited = CorrectionEvent(agent="a", correction="something else", idempotency_key="hook:session-1:turn-3")
    with open_store(store_repo) as store:
        assert store.add([first]).added == 1
        assert store.add([edited]).duplicates == 1
        [kept] = store.query()
    assert kept.correction == "b"  # type: ignore[attr-defined]


def test_query_filters_and_order(store_repo: FlowRepo) -> None:
    # Inserted out of time order and with mixed offsets: results come back oldest first, in UTC.
    plus2 = dt.timezone(dt.timedelta(hours=2))
    events: list[EventBase] = [
        outcome(3, "A"),
        PreferenceEvent(task="A", chosen="x", rejected=["y"], created_at=(T0 + dt.timedelta(minutes=1)).astimezone(plus2)),
        outcome(2, "B"),
        WorkRecordEvent(task="B", description="d", created_at=T0),
    ]
    with open_store(store_repo) as store:
        store.add(events)
        everything = store.query()
        assert [e.created_at for e in everything] == sorted(e.created_at for e in events)
        assert all(e.created_at.tzinfo is not None and e.created_at.utcoffset() == dt.timedelta(0) for e in everything)
        assert [e.kind for e in store.query(task="A")] == ["preference", "outcome"]
        assert [e.task for e in store.query(kind="outcome")] == ["B", "A"]
        assert {e.kind for e in store.query(kind=["preference", "work_record"])} == {"preference", "work_record"}
        window = store.query(since=T0 + dt.timedelta(minutes=1), until=T0 + dt.timedelta(minutes=3))
        assert [e.kind for e in window] == ["preference", "outcome"]  # since inclusive, until exclusive
        # A naive datetime means UTC.
        assert len(store.query(since=dt.datetime(2025, 3, 3, 9, 2))) == 2
        with pytest.raises(SignalError) as info:
            store.query(kind="nope")
        assert info.value.field == "kind"


def test_secrets_are_scrubbed_before_the_write(store_repo: FlowRepo) -> None:
    secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    event = PreferenceEvent(
        task="T",
        prompt=f"deploy with {secret}",
        chosen="rotate the key",
        rejected=[f"hardcode {secret} in settings.py"],
        actor="dev password=hunter22",
    )
    with open_store(store_repo) as store:
        store.add([event])
        [stored] = store.query()
        with store.engine.connect() as conn:
            raw = conn.execute(sa.text("SELECT payload, actor FROM events")).one()
    assert secret not in str(raw) and "hunter22" not in str(raw)
    assert stored.prompt == "deploy with [REDACTED:stripe_key]"  # type: ignore[attr-defined]
    assert stored.idempotency_key == event.idempotency_key  # a retry of the original still dedupes


def test_scrub_that_breaks_an_event_is_refused(store_repo: FlowRepo) -> None:
    event = PreferenceEvent(chosen="use sk_live_4eC39HqLyjWDarjtT1zdp7dc", rejected=["use sk_live_99999999999999999999ab"])
    with open_store(store_repo) as store:
        with pytest.raises(SignalError, match="chosen option"):
            store.add([outcome(1), event])
        assert store.count() == 0  # nothing of the batch


def test_non_event_in_batch_stores_nothing(store_repo: FlowRepo) -> None:
    with open_store(store_repo) as store:
        with pytest.raises(SignalError):
            store.add([outcome(1), {"kind": "outcome"}])  # type: ignore[list-item]
        assert store.count() == 0


def test_sqlite_is_default_in_wal_mode(tmp_path) -> None:
    repo = init_repo(tmp_path).repo
    with open_store(repo) as store:
        store.add([outcome(1)])
        assert store.backend == "sqlite"
    db = repo.state_dir / "signals.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()[0] == migrations.HEAD
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(events)")}
    assert {"ix_events_kind_created_at", "ix_events_task", "ix_events_created_at"} <= indexes


def test_database_url_selects_postgres(store_repo: FlowRepo) -> None:
    with open_store(store_repo) as store:
        expected = "postgresql" if store_repo.settings.database_url else "sqlite"
        assert store.backend == expected


def test_common_columns_are_the_common_event_fields() -> None:
    from flowloop.signals.schema import COMMON_COLUMNS

    assert set(COMMON_COLUMNS) == set(EventBase.model_fields)


def test_head_constant_matches_alembic() -> None:
    from alembic.script import ScriptDirectory

    assert ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head() == migrations.HEAD


def test_reopen_does_not_migrate_again(store_repo: FlowRepo) -> None:
    with open_store(store_repo) as store:
        store.add([outcome(1)])
        with store.engine.connect() as conn:
            assert current_revision(conn) == migrations.HEAD
    with open_store(store_repo) as store:
        assert store.count() == 1


def test_newer_schema_is_refused(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'future.db'}"
    open_url(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer"):
        open_url(url)


def test_bad_urls_are_clear_errors(tmp_path) -> None:
    with pytest.raises(StoreError) as info:
        open_url("mysql://u:p@localhost/db")
    assert info.value.field == "database_url"
    with pytest.raises(StoreError, match="cannot open"):
        open_url("postgresql://nobody:secretpw@127.0.0.1:1/none")
    try:
        open_url("postgresql://nobody:secretpw@127.0.0.1:1/none")
    except StoreError as exc:
        assert "secretpw" not in str(exc)


def test_stats_by_kind_and_week(store_repo: FlowRepo) -> None:
    monday_w10 = dt.datetime(2025, 3, 3, 12, tzinfo=dt.timezone.utc)
    with open_store(store_repo) as store:
        store.add(
            [
                outcome(0, at=monday_w10),
                outcome(1, at=monday_w10 + dt.timedelta(days=6)),  # Sunday, same ISO week
                outcome(2, at=monday_w10 + dt.timedelta(days=7)),
                CorrectionEvent(agent="a", correction="b", created_at=monday_w10),
            ]
        )
        stats = store.stats()
    assert stats.total == 4
    assert stats.by_kind == {"correction": 1, "outcome": 3}
    assert stats.by_week == {"2025-W10": {"correction": 1, "outcome": 2}, "2025-W11": {"outcome": 1}}

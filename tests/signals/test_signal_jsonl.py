"""Export and import: SQLite -> PostgreSQL without loss; a bad line stores nothing."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from flowloop.errors import SignalError
from flowloop.repo import FlowRepo, init_repo
from flowloop.signals.events import (
    ApprovalEvent,
    Candidate,
    CorrectionEvent,
    EventBase,
    OutcomeEvent,
    PreferenceEvent,
    RetrievalEvent,
    RewriteEvent,
    ScopeChangeEvent,
    WorkRecordEvent,
)
from flowloop.signals.store import open_store, open_url

T0 = dt.datetime(2025, 1, 6, 8, 30, 15, 123456, tzinfo=dt.timezone.utc)


def one_of_each() -> list[EventBase]:
    at = [T0 + dt.timedelta(hours=i) for i in range(8)]
    return [
        PreferenceEvent(task="T1", prompt="p", chosen="a", rejected=["b", "c"], created_at=at[0], session="s1"),
        ApprovalEvent(task="T1", output="ok", created_at=at[1], actor="ana"),
        RewriteEvent(task="T2", agent_output="teh", final="the", created_at=at[2]),
        ScopeChangeEvent(task="T2", plan="x\ny", approved_plan="x", created_at=at[3]),
        CorrectionEvent(task="T3", agent="a", correction="b", context="ünïcode ✓", created_at=at[4]),
        OutcomeEvent(task="T3", metric="time_to_green_s", value=812.5, window="7d", created_at=at[5]),
        RetrievalEvent(query="q", candidates=[Candidate(id="evg-a", score=0.25)], injected=["evg-a"], created_at=at[6]),
        WorkRecordEvent(task="T4", description="d", files=["a.py"], author_time=at[7], created_at=at[7], source="git"),
    ]


def dump(events: list[EventBase]) -> list[dict]:
    return [event.model_dump(mode="json") for event in events]


@pytest.mark.postgres
def test_sqlite_to_postgres_round_trip_without_loss(tmp_path: Path, postgres_url: str) -> None:
    events = one_of_each()
    with open_url(f"sqlite:///{tmp_path / 'signals.db'}") as source:
        source.add(events)
        exported = tmp_path / "signals.jsonl"
        with exported.open("w", encoding="utf-8") as fh:
            assert source.export_jsonl(fh) == len(events)
        before = dump(source.query())
    with open_url(postgres_url) as target:
        first = target.import_jsonl(exported)
        assert (first.events, first.added, first.duplicates) == (8, 8, 0)
        again = target.import_jsonl(exported)  # idempotent
        assert (again.added, again.duplicates) == (0, 8)
        assert dump(target.query()) == before == dump(events)
        # ...and back again, byte for byte.
        back = io.StringIO()
        target.export_jsonl(back)
    assert back.getvalue() == exported.read_text(encoding="utf-8")


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def good_lines() -> list[str]:
    return [json.dumps(item) for item in dump(one_of_each())]


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ('{"kind": "outcome", "metric": "ci_passed"}', "value", "Field required"),
        ('{"kind": "teleport"}', "kind", "unknown"),
        ('{"kind": "outcome", "metric": "m", "value": 1', None, "not valid JSON"),
        ('["not", "an", "object"]', None, "JSON object"),
        ('{"kind": "preference", "chosen": "a", "rejected": ["b"], "mood": "x"}', "mood", "Extra inputs"),
    ],
)
def test_bad_line_names_file_line_field_and_stores_nothing(
    store_repo: FlowRepo, tmp_path: Path, bad: str, field: str | None, message: str
) -> None:
    lines = good_lines()
    lines.insert(5, bad)  # line 6
    path = write_lines(tmp_path / "in.jsonl", lines)
    with open_store(store_repo) as store:
        with pytest.raises(SignalError) as info:
            store.import_jsonl(path)
        assert store.count() == 0
    error = info.value
    assert (error.path, error.line, error.field) == (path, 6, field)
    assert message in error.message
    assert str(error).startswith(f"{path}:6: ")


def test_blank_lines_are_skipped_and_non_utf8_is_named(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "p").repo
    path = write_lines(tmp_path / "in.jsonl", ["", *good_lines()[:2], "   "])
    with open_store(repo) as store:
        assert store.import_jsonl(path).added == 2
        broken = tmp_path / "broken.jsonl"
        broken.write_bytes(good_lines()[0].encode() + b"\n\xff\xfe\n")
        with pytest.raises(SignalError, match="UTF-8") as info:
            store.import_jsonl(broken)
        assert info.value.line == 2
        with pytest.raises(SignalError, match="no such file"):
            store.import_jsonl(tmp_path / "missing.jsonl")

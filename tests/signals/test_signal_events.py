"""Every event kind: valid payloads round-trip through both stores; invalid ones are refused
with the field at fault named."""

from __future__ import annotations

from typing import Any

import pytest

from flowloop.errors import SignalError
from flowloop.repo import FlowRepo
from flowloop.signals.events import KINDS, parse_event
from flowloop.signals.store import open_store

VALID: dict[str, dict[str, Any]] = {
    "preference": {"kind": "preference", "task": "T-1", "prompt": "which plan?", "chosen": "A", "rejected": ["B", "C"]},
    "approval": {"kind": "approval", "task": "T-1", "prompt": "plan it", "output": "1. do x"},
    "rewrite": {"kind": "rewrite", "task": "T-2", "agent_output": "colour", "final": "color"},
    "scope_change": {"kind": "scope_change", "task": "T-3", "plan": "a\nb\nc", "approved_plan": "a\nc"},
    "correction": {"kind": "correction", "task": "T-4", "context": "tests", "agent": "mock it", "correction": "use sqlite"},
    "outcome": {"kind": "outcome", "task": "T-5", "metric": "ci_passed", "value": 1, "commit": "3f78"},
    "retrieval": {
        "kind": "retrieval",
        "operation": "context",
        "query": "ledger rounding",
        "candidates": [{"id": "evg-money", "score": 0.8, "path": ".flow/pilrs/evergreen/evg-money.md"}],
        "injected": ["evg-money"],
        "used": [],
    },
    "work_record": {
        "kind": "work_record",
        "task": "T-6",
        "description": "Fix rounding in ledger totals",
        "files": ["ledger/totals.py"],
        "commit": "3f786850e387550fdab836ed7e6dc881de23001b",
        "author_time": "2025-03-04T10:00:00+01:00",
        "session": "s-1",
        "actor": "dev@example.com",
        "repo_commit": "3f786850e387550fdab836ed7e6dc881de23001b",
        "source": "git",
    },
}

INVALID: list[tuple[str, dict[str, Any], str | None]] = [
    ("preference", {"kind": "preference", "chosen": "A", "rejected": []}, "rejected"),
    ("preference", {"kind": "preference", "chosen": "", "rejected": ["B"]}, "chosen"),
    ("preference", {"kind": "preference", "chosen": "A", "rejected": ["A"]}, None),
    ("approval", {"kind": "approval", "prompt": "x"}, "output"),
    ("rewrite", {"kind": "rewrite", "agent_output": "x"}, "final"),
    ("scope_change", {"kind": "scope_change", "plan": "x", "approved_plan": ""}, "approved_plan"),
    ("correction", {"kind": "correction", "agent": "x"}, "correction"),
    ("outcome", {"kind": "outcome", "metric": "ci_passed", "value": "green"}, "value"),
    ("retrieval", {"kind": "retrieval", "query": "q", "operation": "delete"}, "operation"),
    ("retrieval", {"kind": "retrieval", "query": "q", "candidates": [{"id": "x"}]}, "candidates.0.score"),
    ("work_record", {"kind": "work_record", "description": "d", "files": "a.py"}, "files"),
    ("work_record", {"kind": "work_record", "description": "d", "colour": "red"}, "colour"),
]


def test_every_kind_has_a_valid_sample() -> None:
    assert set(VALID) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_valid_event_round_trips_through_the_store(store_repo: FlowRepo, kind: str) -> None:
    event = parse_event(VALID[kind])
    with open_store(store_repo) as store:
        assert store.add([event]).added == 1
        [back] = store.query(kind=kind)
    assert type(back) is type(event)
    assert back.model_dump(mode="json") == event.model_dump(mode="json")


@pytest.mark.parametrize(("kind", "data", "field"), INVALID, ids=[f"{k}-{f}" for k, _, f in INVALID])
def test_invalid_event_names_the_field(kind: str, data: dict[str, Any], field: str | None) -> None:
    with pytest.raises(SignalError) as info:
        parse_event(data, where="hook.json")
    assert info.value.field == field
    assert "hook.json" in str(info.value)


@pytest.mark.parametrize("data", [{"kind": "nope"}, {"task": "x"}, ["preference"], "preference"])
def test_unknown_kind_or_shape_is_refused(data: Any) -> None:
    with pytest.raises(SignalError):
        parse_event(data)


def test_computed_fields() -> None:
    rewrite = parse_event(VALID["rewrite"])
    assert rewrite.edit_distance == 1  # type: ignore[attr-defined]
    scope = parse_event(VALID["scope_change"])
    assert "-b" in scope.delta  # type: ignore[attr-defined]
    pref = parse_event(VALID["preference"])
    assert pref.options == ["A", "B", "C"]  # type: ignore[attr-defined]
    # The idempotency key hashes the content, not the random id: a retry dedupes.
    again = parse_event({**VALID["preference"], "created_at": pref.created_at.isoformat()})
    assert again.id != pref.id and again.idempotency_key == pref.idempotency_key

"""``signal_stats``: counts by kind and week, and progress toward the seed's thresholds."""

from __future__ import annotations

import datetime as dt

import pytest

from flowloop.pilr.model import PilrMeta, PilrStatus, PilrType
from flowloop.pilr.store import PilrStore
from flowloop.pipeline.signal_stats import signal_stats
from flowloop.repo import FlowRepo
from flowloop.signals.events import (
    ApprovalEvent,
    CorrectionEvent,
    OutcomeEvent,
    PreferenceEvent,
    RewriteEvent,
    ScopeChangeEvent,
)
from flowloop.signals.pairs import count_pairs, pair_count
from flowloop.signals.store import open_store

W10 = dt.datetime(2025, 3, 4, tzinfo=dt.timezone.utc)
W11 = W10 + dt.timedelta(days=7)


def test_pair_rule() -> None:
    assert pair_count(PreferenceEvent(chosen="a", rejected=["b", "c", "d"])) == 3
    assert pair_count(RewriteEvent(agent_output="x", final="y")) == 1
    assert pair_count(CorrectionEvent(agent="x", correction="y")) == 1
    assert pair_count(ApprovalEvent(output="x")) == 0
    assert pair_count(ScopeChangeEvent(plan="a", approved_plan="b")) == 0
    assert pair_count(OutcomeEvent(metric="ci_passed", value=1)) == 0
    assert count_pairs([PreferenceEvent(chosen="a", rejected=["b", "c"]), RewriteEvent(agent_output="x", final="y")]) == 3


def add_pilr(store: PilrStore, pilr_type: PilrType, title: str, status: PilrStatus = PilrStatus.ACTIVE) -> None:
    day = dt.date(2025, 3, 1)
    meta = PilrMeta(
        id=store.new_id(pilr_type, title), type=pilr_type, title=title, status=status, created=day, updated=day
    )
    store.create(meta, f"# {title}\n\nBody.\n")


def test_stats_numbers(store_repo: FlowRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOW_DATASET__SFT_THRESHOLD", "3")
    monkeypatch.setenv("FLOW_DATASET__DPO_THRESHOLD", "10")
    pilrs = PilrStore(store_repo)
    add_pilr(pilrs, PilrType.EVERGREEN, "Money is integer cents")
    add_pilr(pilrs, PilrType.EVERGREEN, "Old API contract", PilrStatus.SUPERSEDED)
    add_pilr(pilrs, PilrType.CUMULATIVE, "Rounding bug in totals")
    add_pilr(pilrs, PilrType.CUMULATIVE, "Flaky clock in tests")
    add_pilr(pilrs, PilrType.EPHEMERAL, "Plan for T-9")
    with open_store(store_repo) as store:
        store.add(
            [
                PreferenceEvent(chosen="a", rejected=["b", "c"], created_at=W10),  # 2 pairs
                PreferenceEvent(chosen="a", rejected=["d"], created_at=W11),  # 1
                RewriteEvent(agent_output="x", final="y", created_at=W11),  # 1
                CorrectionEvent(agent="x", correction="y", created_at=W10),  # 1
                ApprovalEvent(output="fine", created_at=W10),  # 0
                OutcomeEvent(metric="ci_passed", value=1, created_at=W11),  # 0
            ]
        )
    stats = signal_stats(store_repo)
    assert stats.store.total == 6
    assert stats.store.by_kind == {"approval": 1, "correction": 1, "outcome": 1, "preference": 2, "rewrite": 1}
    assert stats.store.by_week == {
        "2025-W10": {"approval": 1, "correction": 1, "preference": 1},
        "2025-W11": {"outcome": 1, "preference": 1, "rewrite": 1},
    }
    assert (stats.sft.have, stats.sft.threshold, stats.sft.ready) == (3, 3, True)
    assert (stats.dpo.have, stats.dpo.threshold, stats.dpo.ready) == (5, 10, False)
    assert stats.dpo.share == 0.5
    data = stats.to_dict()
    assert data["thresholds"]["dpo"] == {"have": 5, "threshold": 10, "ready": False}
    assert data["total"] == 6 and data["pilr_problems"] == 0


def test_empty_store_uses_seed_defaults(store_repo: FlowRepo) -> None:
    stats = signal_stats(store_repo)
    assert stats.store.total == 0 and stats.store.by_week == {}
    assert (stats.sft.threshold, stats.dpo.threshold) == (50, 200)
    assert stats.sft.have == 0 and stats.dpo.have == 0

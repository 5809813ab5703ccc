"""``signal_stats``: counts by kind and week, and progress toward the seed's thresholds."""

from __future__ import annotations

import datetime as dt

import pytest

from flowloop.pilr.model import PilrMeta, PilrStatus, PilrType
from flowloop.pilr.store import PilrStore
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
from flowloop.pipeline.signal_stats import signal_stats
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


def add_pilr(store: PilrStore, pilr_type: PilrType, title: str, body: str, status: PilrStatus = PilrStatus.ACTIVE) -> None:
    day = dt.date(2025, 3, 1)
    meta = PilrMeta(
        id=store.new_id(pilr_type, title), type=pilr_type, title=title, status=status, created=day, updated=day
    )
    store.create(meta, f"# {title}\n\n{body}\n")


RULE = "## Rule\n\nAmounts are stored as integer cents; never floats, never decimals in JSON.\n"
POSTMORTEM = (
    "## Symptoms\n\nInvoice totals were off by one cent on multi-line invoices.\n\n"
    "## What worked\n\nRound each line once, in integer cents, then sum the lines.\n"
)


def test_stats_numbers(store_repo: FlowRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOW_DATASET__SFT_THRESHOLD", "3")
    monkeypatch.setenv("FLOW_DATASET__DPO_THRESHOLD", "10")
    pilrs = PilrStore(store_repo)
    add_pilr(pilrs, PilrType.EVERGREEN, "Money is integer cents", RULE)
    add_pilr(pilrs, PilrType.EVERGREEN, "Old API contract", RULE.replace("cents", "pennies"), PilrStatus.SUPERSEDED)
    add_pilr(pilrs, PilrType.EVERGREEN, "A stub with no section", "Body.")  # yields no example: not counted
    add_pilr(pilrs, PilrType.CUMULATIVE, "Rounding bug in totals", POSTMORTEM)
    add_pilr(pilrs, PilrType.EPHEMERAL, "Plan for T-9", "## Plan\n\nAdd the refund endpoint and its tests.\n")
    with open_store(store_repo) as store:
        store.add(
            [
                PreferenceEvent(chosen="a", rejected=["b", "c"], created_at=W10),  # 2 pairs
                PreferenceEvent(prompt="other", chosen="e", rejected=["d"], created_at=W11),  # 1
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
    assert stats.weeks == ("2025-W10", "2025-W11")
    # The two documents that yield training examples: the stub and the superseded one do not.
    assert (stats.sft.have, stats.sft.threshold, stats.sft.ready) == (2, 3, False)
    assert "needs 1 more document:" in stats.sft.next_step and "flow pilr new" in stats.sft.next_step
    assert (stats.dpo.have, stats.dpo.threshold, stats.dpo.ready) == (5, 10, False)
    assert "flow signal prefer" in stats.dpo.next_step
    data = stats.to_dict(by_week=False)
    assert data["thresholds"]["sft"]["have"] == 2 and "by_week" not in data
    assert data["total"] == 6 and data["pilr_problems"] == 0

    # One count everywhere: the dataset build counts exactly what signal stats reported.
    from flowloop.pipeline.api import build_dataset, check_threshold, dataset_stats

    manifest = build_dataset(store_repo)
    assert check_threshold(manifest, "sft")[0] == stats.sft.have
    assert check_threshold(manifest, "dpo")[0] == stats.dpo.have
    ds = dataset_stats(store_repo).thresholds
    assert (ds["sft"]["count"], ds["dpo"]["count"]) == (stats.sft.have, stats.dpo.have)


def test_sources_count_toward_sft(store_repo: FlowRepo) -> None:
    """A repository with documentation sources and no PILRs is not "0 documents"."""
    docs = store_repo.root / "docs"
    docs.mkdir()
    for name in ("install", "usage", "api"):
        (docs / f"{name}.md").write_text(f"# {name.title()}\n\n## Details\n\nThe {name} page explains how "
                                         f"to {name} the tool in enough words to train on.\n", encoding="utf-8")
    config = store_repo.flow_dir / "config.toml"
    config.write_text(config.read_text() + '\n[[sources]]\nglob = "docs/*.md"\ntype = "evergreen"\n')
    repo = FlowRepo(store_repo.root)
    stats = signal_stats(repo)
    assert stats.sft.have == 3
    # The report, before any dataset is built, shows the same count (it said "no PILRs yet").
    from flowloop.report.page import gather, render, threshold_chart

    data = gather(repo)
    assert data.counts["sft_documents"] == 3 and {"sft": 50, "dpo": 200}.items() <= data.thresholds.items()
    assert "counted from the current inputs" in threshold_chart(data)
    assert "SFT: needs 47 more documents" in render(data, "now")


def test_empty_store_uses_seed_defaults(store_repo: FlowRepo) -> None:
    stats = signal_stats(store_repo)
    assert stats.store.total == 0 and stats.store.by_week == {}
    assert (stats.sft.threshold, stats.dpo.threshold) == (50, 200)
    assert stats.sft.have == 0 and stats.dpo.have == 0

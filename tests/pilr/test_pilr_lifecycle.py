"""Each lifecycle path: archive, extract, promote, supersede, delete, and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers_pilr import add, make_store

from flowloop.errors import DocumentError, DocumentNotFoundError, LifecycleError
from flowloop.pilr import lifecycle
from flowloop.pilr.lint import lint
from flowloop.pilr.model import PilrStatus, PilrType

PLAN = "## Spec\n\nRefunds.\n\n## Plan\n\nSteps.\n\n## Decisions\n\nRefunds always go through credit notes.\n"


def test_create_document_uses_template_and_unique_ids(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    first = lifecycle.create_document(store, PilrType.CUMULATIVE, "Webhook retried twice")
    second = lifecycle.create_document(store, PilrType.CUMULATIVE, "Webhook retried twice")
    assert first.id == "cum-webhook-retried-twice"
    assert second.id == "cum-webhook-retried-twice-2"
    assert "## What worked" in first.body
    with pytest.raises(DocumentError, match="task"):
        lifecycle.create_document(store, PilrType.EPHEMERAL, "Plan without task")


def test_archive_moves_decision_into_new_evergreen(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    add(store, "eph-refunds", "ephemeral", "Partial refunds", PLAN, task="LED-1")
    result = lifecycle.archive(store, "eph-refunds")
    assert result.created
    evergreen = store.get(result.target.id)
    assert evergreen.type == PilrType.EVERGREEN
    assert evergreen.meta.derived_from == ["eph-refunds"]
    assert "credit notes" in evergreen.body
    source = store.get("eph-refunds")
    assert source.status == PilrStatus.ARCHIVED  # never silently lost
    assert "Refunds." in source.body
    assert lint(store).ok


def test_archive_into_existing_evergreen_appends_and_links(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    add(store, "evg-refund-policy", "evergreen", "Refund policy", "## Context\n\nOld text.")
    add(store, "eph-refunds", "ephemeral", "Partial refunds", PLAN, task="LED-1")
    result = lifecycle.archive(store, "eph-refunds", target_id="evg-refund-policy")
    assert not result.created
    target = store.get("evg-refund-policy")
    assert "Old text." in target.body and "credit notes" in target.body
    assert target.meta.derived_from == ["eph-refunds"]


def test_archive_rerun_after_crash_does_not_duplicate(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    add(store, "eph-refunds", "ephemeral", "Partial refunds", PLAN, task="LED-1")
    # The evergreen document was written, then the process died before archiving the source.
    add(store, "evg-partial-refunds", "evergreen", "Partial refunds", "x", derived_from=["eph-refunds"])
    result = lifecycle.archive(store, "eph-refunds")
    assert result.target.id == "evg-partial-refunds"
    assert len([d for d in store.load() if d.type == PilrType.EVERGREEN]) == 1
    assert store.get("eph-refunds").status == PilrStatus.ARCHIVED


def test_archive_refuses_wrong_type_and_target(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    add(store, "cum-x", "cumulative", "Pattern")
    with pytest.raises(LifecycleError, match="ephemeral"):
        lifecycle.archive(store, "cum-x")
    add(store, "eph-a", "ephemeral", "A", PLAN, task="T-1")
    with pytest.raises(LifecycleError, match="evergreen"):
        lifecycle.archive(store, "eph-a", into=PilrType.CUMULATIVE)
    with pytest.raises(DocumentNotFoundError):
        lifecycle.archive(store, "eph-missing")


def test_extract_creates_cumulative_and_archives(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    body = "## Spec\n\nx\n\n## Lessons\n\nStripe retries webhooks; dedupe by event id.\n"
    add(store, "eph-hook", "ephemeral", "Webhook handler", body, task="LED-2")
    result = lifecycle.extract(store, "eph-hook", title="Dedupe webhooks by event id")
    assert result.target.type == PilrType.CUMULATIVE
    assert result.target.title == "Dedupe webhooks by event id"
    assert "dedupe by event id" in result.target.body
    assert result.target.meta.derived_from == ["eph-hook"]
    assert store.get("eph-hook").status == PilrStatus.ARCHIVED


def test_extract_keep_active_then_archive(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    add(store, "eph-hook", "ephemeral", "Webhook handler", PLAN, task="LED-2")
    lifecycle.extract(store, "eph-hook", keep_active=True)
    assert store.get("eph-hook").status == PilrStatus.ACTIVE
    lifecycle.archive(store, "eph-hook")
    assert store.get("eph-hook").status == PilrStatus.ARCHIVED


def test_promote_cluster_into_evergreen(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    for i in range(3):
        add(store, f"cum-dup-{i}", "cumulative", f"Duplicate delivery {i}", "## What worked\n\nDedupe by event id.")
    result = lifecycle.promote(store, ["cum-dup-0", "cum-dup-1", "cum-dup-2"], title="Idempotent consumers")
    evergreen = store.get(result.target.id)
    assert evergreen.type == PilrType.EVERGREEN
    assert evergreen.meta.derived_from == ["cum-dup-0", "cum-dup-1", "cum-dup-2"]
    # Type 3 only grows: the cumulative entries stay active.
    assert all(store.get(f"cum-dup-{i}").status == PilrStatus.ACTIVE for i in range(3))
    with pytest.raises(LifecycleError, match="cumulative"):
        lifecycle.promote(store, [evergreen.id])


def test_supersede_links_both_sides(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    add(store, "evg-old", "evergreen", "Offset pagination")
    add(store, "evg-new", "evergreen", "Cursor pagination")
    lifecycle.supersede(store, "evg-old", "evg-new")
    old, new = store.get("evg-old"), store.get("evg-new")
    assert old.status == PilrStatus.SUPERSEDED and old.meta.superseded_by == "evg-new"
    assert new.meta.supersedes == ["evg-old"]
    assert lint(store).ok
    with pytest.raises(LifecycleError, match="cycle|active"):
        lifecycle.supersede(store, "evg-new", "evg-old")
    with pytest.raises(LifecycleError, match="itself"):
        lifecycle.supersede(store, "evg-new", "evg-new")


def test_delete_evergreen_without_replacement_is_refused(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    doc = add(store, "evg-errors", "evergreen", "Error conventions")
    with pytest.raises(LifecycleError) as info:
        lifecycle.delete(store, "evg-errors")
    message = str(info.value)
    assert "no replacement" in message and "flow pilr supersede evg-errors" in message
    assert doc.path.exists()


def test_delete_superseded_evergreen_and_other_types(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    add(store, "evg-old", "evergreen", "Old")
    add(store, "evg-new", "evergreen", "New")
    lifecycle.supersede(store, "evg-old", "evg-new")
    lifecycle.delete(store, "evg-old")
    assert store.get("evg-new").meta.supersedes == []
    assert lint(store).ok
    add(store, "cum-a", "cumulative", "A")
    lifecycle.delete(store, "cum-a")
    assert [d.id for d in store.load()] == ["evg-new"]


def test_moves_refuse_a_broken_document(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    add(store, "eph-a", "ephemeral", "A", PLAN, task="T-1", supersedes=["eph-ghost"])
    with pytest.raises(DocumentError) as info:
        lifecycle.archive(store, "eph-a")
    assert "eph-a.md:" in str(info.value) and "eph-ghost" in str(info.value)
    assert store.get("eph-a").status == PilrStatus.ACTIVE

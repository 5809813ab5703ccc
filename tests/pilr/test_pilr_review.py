"""The upward-flow queue: finished tasks (git history or work records) and recurring patterns."""

from __future__ import annotations

from pathlib import Path

from helpers_pilr import add, make_store

from flowloop.pilr import lifecycle
from flowloop.pilr.review import review_queue

PLAN = "## Spec\n\nx\n\n## Decisions\n\ny\n"

WEBHOOK_BODIES = [
    "## Symptoms\n\nStripe webhook event invoice.paid processed twice; duplicate ledger entry and double receipt email.\n\n## What worked\n\nDeduplicate webhook events by Stripe event id in a processed_events table before handling.",
    "## Symptoms\n\nThe charge.refunded webhook event was processed twice after a worker retry; refund recorded twice in the ledger.\n\n## What worked\n\nDeduplicate webhook events by Stripe event id; make the handler idempotent.",
    "## Symptoms\n\nDuplicate webhook delivery from Stripe processed twice: customer.updated event applied twice, ledger entry duplicated.\n\n## What worked\n\nStore processed Stripe event id and skip duplicates; idempotent webhook handler.",
]


def test_review_lists_finished_unarchived_tasks_from_git(git_repo: Path) -> None:
    import subprocess

    store = make_store(git_repo)
    add(store, "eph-done", "ephemeral", "Done task", PLAN, task="LED-7")
    add(store, "eph-open", "ephemeral", "Open task", PLAN, task="LED-8")
    add(store, "eph-moved", "ephemeral", "Extracted task", PLAN, task="LED-9")
    lifecycle.extract(store, "eph-moved", keep_active=True)
    (git_repo / "a.txt").write_text("a")
    subprocess.run(["git", "add", "a.txt"], cwd=git_repo, check=True)
    for message in ("LED-7: ship refunds", "LED-9: webhook fix"):
        subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", message], cwd=git_repo, check=True)
    queue = review_queue(store)
    assert [item.document.id for item in queue.to_archive] == ["eph-done"]
    assert queue.to_archive[0].evidence.startswith("commit ")


def test_review_uses_work_records_from_signals(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    add(store, "eph-done", "ephemeral", "Done task", PLAN, task="LED-7")
    from flowloop.signals.events import WorkRecordEvent
    from flowloop.signals.store import open_store

    with open_store(store.repo) as signals:
        signals.add([WorkRecordEvent(task="LED-7", description="ship", files=["a.py"])])
    queue = review_queue(store)
    assert [item.document.id for item in queue.to_archive] == ["eph-done"]
    assert "work record" in queue.to_archive[0].evidence


def test_recurring_cumulative_entries_become_a_promotion_candidate(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    for i, body in enumerate(WEBHOOK_BODIES):
        add(store, f"cum-webhook-{i}", "cumulative", f"Webhook event processed twice ({i})", body)
    add(store, "cum-rounding", "cumulative", "Rounding drift in currency totals", "## Symptoms\n\nTotals off by one cent after conversion.")
    add(store, "cum-timeout", "cumulative", "Stripe timeout held row locks", "## Symptoms\n\nAn external call inside a transaction held locks.")
    queue = review_queue(store)
    assert len(queue.to_promote) == 1
    assert sorted(d.id for d in queue.to_promote[0].documents) == ["cum-webhook-0", "cum-webhook-1", "cum-webhook-2"]
    lifecycle.promote(store, ["cum-webhook-0", "cum-webhook-1", "cum-webhook-2"], title="Idempotent webhooks")
    assert review_queue(store).to_promote == []


def test_two_similar_entries_are_not_yet_a_pattern(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    for i, body in enumerate(WEBHOOK_BODIES[:2]):
        add(store, f"cum-webhook-{i}", "cumulative", f"Webhook event processed twice ({i})", body)
    assert review_queue(store).to_promote == []

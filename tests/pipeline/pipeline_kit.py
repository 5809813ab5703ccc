"""Builders shared by the pipeline tests (a plain module: `from conftest import` is ambiguous
when several test folders have a conftest)."""


from __future__ import annotations

import datetime as dt
from pathlib import Path

from flowloop.pilr.model import PilrMeta, PilrType
from flowloop.pilr.store import PilrStore
from flowloop.repo import FlowRepo, init_repo
from flowloop.signals.events import (
    CorrectionEvent,
    EventBase,
    OutcomeEvent,
    PreferenceEvent,
    RewriteEvent,
    WorkRecordEvent,
)
from flowloop.signals.store import open_store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ledgerline"
SECRET = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"


def utc(month: int, day: int) -> dt.datetime:
    return dt.datetime(2025, month, day, 12, 0, tzinfo=dt.timezone.utc)


def add_pilr(repo: FlowRepo, doc_id: str, kind: str, title: str, body: str, created: dt.date, **fields: object) -> None:
    meta = PilrMeta(id=doc_id, type=PilrType(kind), title=title, created=created,
                    updated=fields.pop("updated", created), **fields)
    PilrStore(repo).create(meta, body)


def add_events(repo: FlowRepo, events: list[EventBase]) -> None:
    with open_store(repo) as store:
        store.add(events)


WORK = [
    # task, description, files, finished
    ("T-1", "Add the invoice model with draft and finalize states", ["src/acme/billing/invoices.py", "src/acme/db/models.py"], (1, 10)),
    ("T-2", "Partial refunds through the payments API", ["src/acme/payments/refunds.py", "src/acme/api/payments.py"], (2, 3)),
    ("T-3", "Invoice totals rounding in multi-currency invoices", ["src/acme/billing/invoices.py", "src/acme/core/money.py"], (2, 20)),
    ("T-4", "Stripe webhook dedup by event id", ["src/acme/payments/webhook_handler.py"], (3, 12)),
    ("T-5", "Invoice PDF export for finalized invoices", ["src/acme/reporting/exports.py", "src/acme/billing/invoices.py"], (4, 2)),
    ("T-6", "Refund webhook updates the invoice balance", ["src/acme/payments/webhook_handler.py", "src/acme/payments/refunds.py"], (5, 6)),
    ("T-7", "Reverted: cache invoice totals in redis", ["src/acme/billing/invoices.py", "src/acme/core/cache.py"], (5, 20)),
    ("T-8", "Dunning reminders for overdue invoices", ["src/acme/billing/dunning.py", "src/acme/notifications/email.py"], (6, 15)),
    ("T-9", "Export refunds to the ledger report", ["src/acme/reporting/ledger.py", "src/acme/payments/refunds.py"], (7, 1)),
    ("T-10", "Finalized invoices refuse edits; credit notes instead", ["src/acme/billing/credit_notes.py", "src/acme/billing/invoices.py"], (8, 4)),
]


def make_small_repo(root: Path) -> FlowRepo:
    """A repository with all three PILR types, a doc source, work records and signals."""
    root.mkdir(parents=True, exist_ok=True)
    repo = init_repo(root, name="Acme").repo
    config = repo.config_path.read_text()
    config = config.replace('description = ""', 'description = "Acme is an invoicing API for small finance teams."')
    config += '\n[[sources]]\nglob = "docs/adr/*.md"\ntype = "evergreen"\n\n[[sources]]\nglob = "docs/runbooks/*.rst"\ntype = "evergreen"\n'
    repo.config_path.write_text(config)
    (root / "docs" / "adr").mkdir(parents=True)
    (root / "docs" / "adr" / "0002-outbox.md").write_text(
        "# ADR 2: Transactional outbox\n\n## Context\n\nEvents published after commit were lost when the worker died.\n\n"
        "## Decision\n\nWrite domain events to an outbox table in the same transaction; a beat task publishes them.\n"
    )
    (root / "docs" / "runbooks").mkdir(parents=True)
    (root / "docs" / "runbooks" / "stripe-outage.rst").write_text(
        "Stripe outage\n=============\n\nWhat to do when Stripe is down.\n\nPausing dunning\n---------------\n\n"
        "Set DUNNING_PAUSED=1 so no reminder emails go out while payments cannot be collected.\n"
    )
    repo = FlowRepo(root)
    d = dt.date
    add_pilr(repo, "evg-money", "evergreen", "Money as integer minor units",
             "## Context\n\nFloats lost cents when invoice totals were summed.\n\n"
             "## Decision\n\nAll amounts are integer minor units with an ISO currency code (the Money type).\n",
             d(2025, 1, 2))
    add_pilr(repo, "evg-errors", "evergreen", "Problem+json API errors",
             "## Decision\n\nEvery API error is an RFC 9457 problem+json body raised through ProblemError with a code.\n",
             d(2025, 4, 20))
    add_pilr(repo, "cum-webhook-dupes", "cumulative", "Duplicate Stripe webhooks",
             "## Symptoms\n\nPayments were recorded twice after Stripe retried a webhook delivery.\n\n"
             "## Root cause\n\nThe handler did not remember which Stripe event ids it had processed.\n\n"
             "## What worked\n\nStore processed Stripe event ids and skip repeats inside the same transaction.\n\n"
             "## What we tried that did not work\n\n- Locking the invoice row during the webhook handler only.\n"
             f"- Returning 500 so Stripe retries later (the key {SECRET} was pasted here).\n",
             d(2025, 3, 14), task="T-4")
    add_pilr(repo, "cum-refund-race", "cumulative", "Refund webhook raced the API refund",
             "## Symptoms\n\nRefund balances were applied twice when the webhook arrived first.\n\n"
             "## What worked\n\nApply refunds only from the webhook and make the API call idempotent.\n\n"
             "## What we tried that did not work\n\n- Sleeping one second in the webhook handler before applying.\n",
             d(2025, 7, 20))
    add_pilr(repo, "eph-t2-refunds", "ephemeral", "Partial refunds",
             "## Spec\n\nAllow refunding part of a paid invoice.\n\n## Plan\n\nAdd a refunds module and a POST endpoint.\n\n"
             "## Files\n\n- src/acme/payments/refunds.py\n", d(2025, 1, 28), task="T-2", updated=d(2025, 2, 3))
    add_pilr(repo, "eph-t8-dunning", "ephemeral", "Dunning reminders",
             "## Spec\n\nRemind customers about overdue invoices.\n\n## Plan\n\nA beat task selects overdue invoices and emails.\n",
             d(2025, 6, 1), task="T-8", updated=d(2025, 6, 15))
    events: list[EventBase] = []
    for task, description, files, (month, day) in WORK:
        events.append(WorkRecordEvent(task=task, description=description, files=files, commit=f"{task.lower()}abc123",
                                      author_time=utc(month, day), created_at=utc(month, day)))
    events += [
        PreferenceEvent(task="T-2", prompt="How should partial refunds be recorded?",
                        chosen="Call the Stripe refunds API with an amount and record a refund row.",
                        rejected=["Edit the finalized invoice total.", "Void the invoice and issue a new one."],
                        created_at=utc(1, 30)),
        PreferenceEvent(task="T-9", prompt="Where do refunds appear in the ledger report?",
                        chosen="As negative lines linked to the refund id.",
                        rejected=["Hidden; the report shows net totals only."], created_at=utc(6, 28)),
        RewriteEvent(task="T-6", prompt="Write the refund webhook handler plan.",
                     agent_output="Update balance in the API call.",
                     final="Update the balance only from the webhook, idempotently by event id.",
                     created_at=utc(5, 2)),
        CorrectionEvent(task="T-10", context="Changing a finalized invoice amount",
                        agent=f"Update the invoice row in place with token={SECRET}",
                        correction="Finalized invoices are immutable: issue a credit note instead.",
                        created_at=utc(8, 1)),
        OutcomeEvent(task="T-7", metric="reverted", value=1, created_at=utc(5, 25)),
        OutcomeEvent(task="T-3", metric="hotfix", value=1, created_at=utc(2, 24)),
        OutcomeEvent(task="T-2", metric="ci_passed", value=0, created_at=utc(2, 3)),
        OutcomeEvent(task="T-6", metric="time_to_green_s", value=600, created_at=utc(5, 6)),
    ]
    add_events(repo, events)
    return repo



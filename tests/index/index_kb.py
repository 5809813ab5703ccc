"""Small real knowledge bases for the index tests (PILRs on disk plus docs as sources)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from flowloop.pilr.model import PilrMeta, PilrStatus, PilrType
from flowloop.pilr.store import PilrStore
from flowloop.repo import FlowRepo, init_repo

DOCS: list[dict[str, Any]] = [
    {
        "id": "evg-payment-retries",
        "type": "evergreen",
        "title": "Payment retry policy",
        "created": "2025-02-01",
        "body": "# Payment retry policy\n\n## Schedule\nFailed card payments are retried after 1, 3 and 7 days, "
        "with jitter, by the dunning worker.\n\n## Limits\nAt most four attempts; after that the invoice is "
        "marked uncollectible and the customer is emailed.\n",
    },
    {
        "id": "evg-old-retries",
        "type": "evergreen",
        "title": "Daily payment retries",
        "created": "2024-06-01",
        "status": "superseded",
        "superseded_by": "evg-payment-retries",
        "body": "Failed card payments are retried every day until they succeed or the card expires.\n",
    },
    {
        "id": "cum-duplicate-webhooks",
        "type": "cumulative",
        "title": "Duplicate Stripe webhooks created double payments",
        "created": "2025-03-10",
        "body": "## Problem\nStripe delivered the same payment webhook twice and two payments were recorded.\n\n"
        "## Fix\nWebhook events are deduplicated by their Stripe event id in a unique table.\n",
    },
    {
        "id": "eph-currency-plan",
        "type": "ephemeral",
        "title": "Plan: multi-currency invoices",
        "created": "2025-04-02",
        "status": "archived",
        "body": "## Steps\n1. Add a currency column to invoices.\n2. Migrate existing rows to EUR with Alembic.\n",
    },
    {
        "id": "evg-tenancy",
        "type": "evergreen",
        "title": "Tenant isolation",
        "created": "2025-05-20",
        "body": "Every table has a tenant_id column and every query goes through a tenant-scoped session.\n\n"
        "## Background jobs\nCelery tasks receive the tenant id explicitly and open their own scoped session.\n",
    },
]
SOURCE_MD = (
    "# Money\n\nAmounts are integer minor units with an ISO 4217 currency code.\n\n"
    "## Rounding\nTax is rounded half-even per line item, never on the invoice total.\n"
)
SOURCE_RST = (
    "Worker runbook\n==============\n\nHow to operate the Celery workers.\n\n"
    "Restarting workers\n------------------\n\nDrain the queue with celery control shutdown, then start the workers again.\n"
)


def add_pilr(repo: FlowRepo, spec: dict[str, Any]) -> None:
    created = dt.date.fromisoformat(spec["created"])
    meta = PilrMeta(
        id=spec["id"],
        type=PilrType(spec["type"]),
        title=spec["title"],
        status=PilrStatus(spec.get("status", "active")),
        created=created,
        updated=created,
        superseded_by=spec.get("superseded_by"),
    )
    PilrStore(repo).create(meta, spec["body"])


def make_repo(root: Path, docs: list[dict[str, Any]] | None = None, sources: bool = True, extra_config: str = "") -> FlowRepo:
    root.mkdir(parents=True, exist_ok=True)
    repo = init_repo(root).repo
    for spec in DOCS if docs is None else docs:
        add_pilr(repo, spec)
    config = repo.config_path.read_text(encoding="utf-8")
    if sources:
        (root / "docs").mkdir(exist_ok=True)
        (root / "docs" / "money.md").write_text(SOURCE_MD, encoding="utf-8")
        (root / "docs" / "workers.rst").write_text(SOURCE_RST, encoding="utf-8")
        config += '\n[[sources]]\nglob = "docs/*.md"\ntype = "evergreen"\n\n[[sources]]\nglob = "docs/*.rst"\ntype = "evergreen"\n'
    if extra_config:
        config = config.replace("[index]\n", "[index]\n" + extra_config + "\n", 1)
    repo.config_path.write_text(config, encoding="utf-8")
    return FlowRepo(repo.root)

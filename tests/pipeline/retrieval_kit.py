"""A real git repository with documentation written over time, for the retrieval-pair tests."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

from flowloop.repo import FlowRepo, init_repo

CONFIG = '[[sources]]\nglob = "docs/*.md"\ntype = "evergreen"\n'


def day(n: int) -> dt.datetime:
    return dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.timezone.utc) + dt.timedelta(days=n)


def commit(root: Path, message: str, when: dt.datetime, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    stamp = when.isoformat()
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, "GIT_CONFIG_NOSYSTEM": "1",
           "HOME": str(root)}
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=root, check=True, env=env)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


RETRY = """# Retries

## Backoff schedule

Failed payments are retried with exponential backoff: 1 minute, 10 minutes, then one hour.

## Giving up

After the third failure the invoice is marked uncollectable and the customer is emailed.
"""
WEBHOOKS = """# Webhooks

## Signature checks

Every webhook carries an HMAC signature header that is verified against the shared secret.

## Deduplication

Events are deduplicated by their event id so a retried delivery is processed once.
"""


def make_history(root: Path) -> FlowRepo:
    """Four commits on days 1..4; day 4 adds the phrase LATERFACT that must never leak before it."""
    root.mkdir(parents=True)
    env = {**os.environ, "HOME": str(root), "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, env=env)
    subprocess.run(["git", "config", "user.email", "dev@example.com"], cwd=root, check=True, env=env)
    subprocess.run(["git", "config", "user.name", "Dev"], cwd=root, check=True, env=env)
    init_repo(root)
    (root / ".flow" / "config.toml").write_text(CONFIG, encoding="utf-8")
    commit(root, "Document the payment retry backoff schedule", day(1),
           {"docs/retries.md": RETRY, "src/pay/retry.py": '"""Retry failed payments."""\n\ndef schedule(n):\n    """Minutes to wait."""\n    return [1, 10, 60][n]\n'})
    commit(root, "Explain webhook signature verification", day(2), {"docs/webhooks.md": WEBHOOKS})
    commit(root, "Uncollectable invoices email the customer", day(3),
           {"docs/retries.md": RETRY.replace("is emailed.", "is emailed twice, a day apart.")})
    commit(root, "Webhook dedup keeps event ids for thirty days", day(4),
           {"docs/webhooks.md": WEBHOOKS.replace("processed once.", "processed once. LATERFACT ids are kept 30 days.")})
    return FlowRepo(root)


TOPICS = [
    ("retries", "Payment retries", "Failed card payments are retried with exponential backoff before giving up.",
     "Retry failed card payments with backoff"),
    ("webhooks", "Webhook signatures", "Each webhook delivery is signed with HMAC and verified with the shared secret.",
     "Verify webhook HMAC signatures"),
    ("invoices", "Invoice numbering", "Invoice numbers are sequential per tenant and never reused after deletion.",
     "Sequential invoice numbers per tenant"),
    ("refunds", "Partial refunds", "A refund may cover part of a charge; the remaining balance stays capturable.",
     "Allow partial refunds of a charge"),
    ("currency", "Currency rounding", "Amounts are stored in minor units and rounded half-even when converted.",
     "Round converted currency amounts half-even"),
    ("dunning", "Dunning emails", "Overdue invoices trigger reminder emails on days three, seven and fourteen.",
     "Send dunning reminders for overdue invoices"),
    ("exports", "Ledger exports", "The ledger export writes one CSV row per journal entry with its account codes.",
     "Export journal entries to ledger CSV"),
    ("auth", "API keys", "API keys are hashed at rest and scoped to one environment, test or live.",
     "Hash API keys at rest and scope them"),
    ("tax", "Sales tax", "Sales tax is computed per line item from the customer's shipping address.",
     "Compute sales tax per line item"),
    ("disputes", "Chargeback disputes", "A chargeback opens a dispute that freezes the disputed amount until resolved.",
     "Freeze the amount of a chargeback dispute"),
]


def make_topics_history(root: Path) -> FlowRepo:
    """Ten documentation pages, each written in one commit and extended in a second one, a day apart."""
    repo = make_history(root)
    n = 5
    for name, title, text, subject in TOPICS:
        commit(root, subject, day(n), {f"docs/{name}.md": f"# {title}\n\n## Overview\n\n{text}\n"})
        n += 1
    for name, title, text, subject in TOPICS:
        extra = f"# {title}\n\n## Overview\n\n{text}\n\n## Edge cases\n\n{text.split(' ', 3)[-1]} Edge cases are logged.\n"
        commit(root, f"Document edge cases: {subject.lower()}", day(n), {f"docs/{name}.md": extra})
        n += 1
    return repo

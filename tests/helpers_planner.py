"""Helpers of the planner tests: the example as a real git repository with its history, and
drafts from the table-driven fake (the real packaged model drafts in the slow tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers_validate import git
from flowloop.inference.fake import TableScorer
from flowloop.repo import FlowRepo
from flowloop.signals.api import import_events

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ledgerline"
TASK = "Add partial refunds to the payments API"
DRAFTS = [
    "Approach: store each refund as its own row.\n\n1. Add a partial refund endpoint to payments.\n"
    "2. Reject refunds above the refundable balance.\n\nFiles:\n- src/ledgerline/api/errors.py\n"
    "- src/ledgerline/invented.py",
    "1. Reuse the full refund path with an amount.\n2. Return problem+json errors (evg-api-contract-payments-and-refunds).",
    "1. Reuse the full refund path with an amount.\n2. Return problem+json errors (evg-api-contract-payments-and-refunds).",
    "## Steps\n\n- Add the amount to the refund request.\n\n## Risks\n\n- Two refunds racing past the balance.",
]


def example_repo(tmp_path: Path) -> FlowRepo:
    """The Ledgerline example in a real git repository, its recorded history imported."""
    root = tmp_path / "ledgerline"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("state"))
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "example")
    repo = FlowRepo(root)
    import_events(repo, root / ".flow" / "signals" / "events.jsonl")
    return repo


def fake(drafts: list[str] | None = None) -> TableScorer:
    """Drafts drawn from ``drafts`` (the third repeats the second: dedup must drop it); the
    first scores best per token."""
    return TableScorer(version="fake", samples={"Spec:": drafts or DRAFTS},
                       scores={"store each refund": -0.5, "Steps": -1.0}, default_score=-2.0)

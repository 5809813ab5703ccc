"""As-of features on a real git history: a commit made after a task's planning moment never
reaches that task's candidates or features."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flowloop.localize.features import FEATURES, FeatureBuilder
from flowloop.pilr.model import Pilr, PilrMeta, PilrType
from flowloop.pipeline.inputs import load_work_history
from flowloop.pipeline.records import WorkRecord
from flowloop.repo import FlowRepo, init_repo
from flowloop.signals.collect_git import collect_git
from helpers_localize import DAY0, commit


def candidates(root: Path, description: str, before: dt.datetime) -> dict[str, list[float]]:
    """Each candidate's feature row, from the work history now in the signals store."""
    found = FeatureBuilder(load_work_history(FlowRepo(root))).candidates(description, before)
    return dict(zip(found.paths, found.rows))


def test_a_later_commit_never_leaks_into_a_feature(git_repo: Path) -> None:
    flow = init_repo(git_repo).repo
    commit(git_repo, "Add the invoice parser", {"src/invoice/parser.py": "1", "src/invoice/model.py": "1"}, day=0)
    commit(git_repo, "Invoice parser: handle credit notes", {"src/invoice/parser.py": "2", "tests/test_parser.py": "1"}, day=1)
    commit(git_repo, "Add payments API", {"src/payments/api.py": "1"}, day=2)
    commit(git_repo, "Invoice totals in the parser", {"src/invoice/parser.py": "3", "src/invoice/model.py": "2"}, day=3)
    collect_git(flow)
    task = "Invoice parser: credit note totals"
    planned = DAY0 + dt.timedelta(days=5)
    before = candidates(git_repo, task, planned)
    assert "src/invoice/parser.py" in before
    assert all(len(row) == len(FEATURES) for row in before.values())

    # later work: a new file, more changes of a candidate, a near-copy of the task itself
    commit(git_repo, "Invoice parser: credit note totals", {"src/invoice/credit.py": "1", "src/invoice/parser.py": "4"}, day=9)
    commit(git_repo, "Invoice parser cleanup", {"src/invoice/parser.py": "5", "src/payments/api.py": "2"}, day=10)
    collect_git(flow)
    assert len(load_work_history(flow)) == 6
    after = candidates(git_repo, task, planned)
    assert after == before
    assert "src/invoice/credit.py" not in after
    # asked later, the new work is visible: the cutoff is what hid it
    assert "src/invoice/credit.py" in candidates(git_repo, task, DAY0 + dt.timedelta(days=12))


def _doc(ident: str, created: dt.date, sources: list[str], task: str | None = None) -> Pilr:
    meta = PilrMeta(id=ident, type=PilrType.EVERGREEN, title="Invoice parser credit notes", created=created,
                    updated=created, sources=sources, task=task)
    return Pilr(meta=meta, body="How the invoice parser handles credit notes and totals.", path=Path(f"{ident}.md"))


def test_a_document_counts_only_from_the_day_after_it_was_written() -> None:
    t0 = DAY0
    records = [WorkRecord("T1", "Add the invoice parser", ["src/invoice/parser.py"], t0, t0, "e1")]
    planned = t0 + dt.timedelta(days=5)  # planned at the end of day 5
    earlier = _doc("evg-early", (t0 + dt.timedelta(days=2)).date(), ["docs/invoices.md"])
    same_day = _doc("evg-same-day", (planned + dt.timedelta(days=1)).date(), ["src/invoice/late.py"])
    own = _doc("eph-own-plan", (t0 + dt.timedelta(days=1)).date(), ["src/invoice/own.py"], task="T9")
    builder = FeatureBuilder(records, documents=[earlier, same_day, own])
    found = builder.candidates("Invoice parser: credit note totals", planned, exclude_task="T9")
    rows = dict(zip(found.paths, found.rows))
    assert "docs/invoices.md" in rows and rows["docs/invoices.md"][FEATURES.index("doc_max")] == 1.0
    assert "src/invoice/late.py" not in rows  # written after the planning moment
    assert "src/invoice/own.py" not in rows  # the task's own plan document is not its evidence

"""Retrieval pairs mined from a real git history, as of a moment: nothing later leaks in."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from retrieval_kit import day, make_history  # noqa: E402

from flowloop.pipeline.retrieval_corpus import corpus_as_of  # noqa: E402
from flowloop.pipeline.retrieval_pairs import heldout_queries, mine_pairs  # noqa: E402


def test_a_commit_after_the_cut_never_leaks_into_pairs_or_negatives(tmp_path: Path) -> None:
    repo = make_history(tmp_path / "repo")
    cut = day(3) + (day(4) - day(3)) / 2
    mined = mine_pairs(repo, cut)
    text = json.dumps([p.row() for p in mined.pairs])
    assert mined.pairs and "LATERFACT" not in text
    assert "Webhook dedup keeps event ids" not in text  # the later commit's subject is no query
    commits = [p for p in mined.pairs if p.kind == "commit"]
    assert {p.query for p in commits} == {
        "Document the payment retry backoff schedule", "Explain webhook signature verification",
        "Uncollectable invoices email the customer"}
    # The day-3 commit changed one section: that section, as the commit left it, is its answer.
    third = [p for p in commits if p.query.startswith("Uncollectable")]
    assert [(p.doc, p.heading) for p in third] == [("docs/retries.md", "Giving up")]
    assert "twice, a day apart" in third[0].passage
    assert third[0].source.startswith("git:") and third[0].time == day(3)


def test_pairs_carry_provenance_hard_negatives_and_headings(tmp_path: Path) -> None:
    repo = make_history(tmp_path / "repo")
    mined = mine_pairs(repo, None)
    row = next(p.row() for p in mined.pairs if p.kind == "commit" and p.doc == "docs/webhooks.md")
    assert row["negatives"] and all(d != "docs/webhooks.md" for d in row["negative_docs"])
    assert row["source"].startswith("git:") and row["time"]
    headings = {p.query for p in mined.pairs if p.kind == "heading"}
    assert "Backoff schedule" in headings and "Deduplication" in headings
    assert mined.counts["commit"] == 6 and mined.counts["hard_negatives"] > 0


def test_the_corpus_as_of_a_cut_is_read_from_git_not_the_working_tree(tmp_path: Path) -> None:
    repo = make_history(tmp_path / "repo")
    (repo.root / "docs" / "webhooks.md").write_text("# Webhooks\n\n## Later\n\nUNCOMMITTED text.\n")
    early = corpus_as_of(repo, day(2) + (day(3) - day(2)) / 2)
    assert {s.doc for s in early.sections} == {"docs/retries.md", "docs/webhooks.md"}
    assert all("twice" not in s.body and "UNCOMMITTED" not in s.body for s in early.sections)
    assert "UNCOMMITTED" in " ".join(s.body for s in corpus_as_of(repo, None).sections)


def test_heldout_queries_are_the_commits_after_the_cut(tmp_path: Path) -> None:
    repo = make_history(tmp_path / "repo")
    rows = heldout_queries(repo, day(3) + (day(4) - day(3)) / 2)
    assert [(r["query"], r["relevant"]) for r in rows] == [
        ("Webhook dedup keeps event ids for thirty days", ["docs/webhooks.md"])]
    assert rows[0]["as_of"] < rows[0]["time"]


def test_secrets_in_a_commit_subject_are_scrubbed(tmp_path: Path) -> None:
    from retrieval_kit import commit

    repo = make_history(tmp_path / "repo")
    secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    commit(repo.root, f"Rotate key {secret} in the retry docs", day(5),
           {"docs/retries.md": "# Retries\n\n## Keys\n\nThe retry worker reads its key from the vault.\n"})
    rows = [p.row() for p in mine_pairs(repo, None, negatives=False).pairs]
    assert any("Rotate key" in r["query"] for r in rows)
    assert secret not in json.dumps(rows)


def test_pilr_links_and_the_usage_log_become_pairs(tmp_path: Path) -> None:
    import datetime as dt

    from flowloop.pilr.model import PilrMeta, PilrType
    from flowloop.pilr.store import PilrStore
    from flowloop.signals.events import OutcomeEvent, RetrievalEvent, WorkRecordEvent
    from flowloop.signals.store import open_store

    repo = make_history(tmp_path / "repo")
    created = dt.date(2025, 1, 10)
    store = PilrStore(repo)
    store.create(PilrMeta(id="eph-retry-plan", type=PilrType.EPHEMERAL, title="Plan the retry schedule change",
                          created=created, updated=created, task="T-1"), "## Plan\n\nChange the schedule.\n")
    store.create(PilrMeta(id="evg-retries", type=PilrType.EVERGREEN, title="How payment retries work",
                          created=created, updated=created, derived_from=["eph-retry-plan"],
                          sources=["src/pay/retry.py"]), "## Schedule\n\nRetries back off exponentially for hours.\n")
    when = dt.datetime(2025, 1, 11, tzinfo=dt.timezone.utc)
    with open_store(repo) as signals:
        signals.add([
            RetrievalEvent(query="how do retries back off", injected=["evg-retries"], task="T-1", created_at=when),
            WorkRecordEvent(description="Retry change", task="T-1", created_at=when),
            RetrievalEvent(query="where is the webhook secret", injected=["docs/retries.md"], task="T-2", created_at=when),
            OutcomeEvent(metric="reverted", value=1, task="T-2", created_at=when),
        ])
    pairs = mine_pairs(repo, None).pairs
    derived = [p for p in pairs if p.kind == "derived_from"]
    assert [(p.query, p.doc) for p in derived] == [("Plan the retry schedule change", "evg-retries")]
    code = [p for p in pairs if p.kind == "sources"]
    assert [p.doc for p in code] == ["file:src/pay/retry.py"] and "def schedule(n): Minutes to wait." in code[0].passage
    usage = {(p.query, p.doc, p.label) for p in pairs if p.kind == "usage"}
    assert usage == {("how do retries back off", "evg-retries", 1.0), ("where is the webhook secret", "docs/retries.md", 0.0)}
    # Before the events happened, the usage log says nothing.
    assert not [p for p in mine_pairs(repo, dt.datetime(2025, 1, 10, 23, tzinfo=dt.timezone.utc)).pairs if p.kind == "usage"]

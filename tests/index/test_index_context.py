"""Context packs: budget, lifecycle (superseded, archived), relevance floor, merging, as_of, types."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.index.api import Retriever, build_index, context_pack, search
from flowloop.index.tokens import counter_for
from flowloop.repo import FlowRepo
from index_kb import make_repo  # type: ignore[import-not-found]

runner = CliRunner()
RETRY_TASK = "change how failed card payments are retried"


@pytest.fixture
def indexed(kb_repo: FlowRepo) -> FlowRepo:
    build_index(kb_repo)
    return kb_repo


@pytest.mark.parametrize("budget", [80, 120, 200, 400, 2000])
def test_pack_stays_within_budget(indexed: FlowRepo, budget: int, minilm_dir: Path) -> None:
    pack = context_pack(indexed, "payments, webhooks, tenants and money rounding", budget=budget, log=False)
    assert pack.budget == budget
    assert pack.tokens <= budget
    assert pack.tokens == counter_for(minilm_dir).count(pack.text)
    for doc in pack.documents:  # every cited document is named by id and path in the text
        assert f"id: {doc.id}" in pack.text and doc.path in pack.text


def test_bigger_budget_never_holds_less(indexed: FlowRepo) -> None:
    small = context_pack(indexed, RETRY_TASK, budget=90, log=False)
    large = context_pack(indexed, RETRY_TASK, budget=2000, log=False)
    assert len(large.documents) >= len(small.documents) >= 1
    assert large.tokens > small.tokens


def test_superseded_points_to_its_replacement(indexed: FlowRepo) -> None:
    pack = context_pack(indexed, "retry failed card payments every day", log=False)
    ids = [d.id for d in pack.documents]
    assert "evg-old-retries" not in ids
    assert "evg-payment-retries" in ids
    current = next(d for d in pack.documents if d.id == "evg-payment-retries")
    assert current.replaces == ["evg-old-retries"]
    assert "replaces superseded: evg-old-retries" in pack.text
    assert "every day until they succeed" not in pack.text  # the stale text is not injected


def test_archived_and_superseded_only_when_asked(indexed: FlowRepo) -> None:
    task = "add a currency column to invoices and migrate rows"
    assert "eph-currency-plan" not in {d.id for d in context_pack(indexed, task, log=False).documents}
    assert "eph-currency-plan" not in {h.id for h in search(indexed, task, log=False)}
    pack = context_pack(indexed, task, log=False, include_archived=True)
    assert "eph-currency-plan" in {d.id for d in pack.documents}
    hits = search(indexed, "retried every day", k=10, include_archived=True, log=False)
    assert "evg-old-retries" in {h.id for h in hits}
    assert {h.status for h in hits if h.id == "evg-old-retries"} == {"superseded"}


def test_relevance_floor_gives_an_empty_pack(indexed: FlowRepo) -> None:
    pack = context_pack(indexed, "the migratory patterns of arctic terns over the pacific", log=False)
    assert pack.empty and pack.text == "" and pack.tokens == 0


def test_floor_is_configurable(kb_repo: FlowRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    build_index(kb_repo)
    monkeypatch.setenv("FLOW_INDEX__RELEVANCE_FLOOR", "0.99")
    assert context_pack(FlowRepo(kb_repo.root), RETRY_TASK, log=False).empty
    monkeypatch.setenv("FLOW_INDEX__RELEVANCE_FLOOR", "-1.0")
    assert len(context_pack(FlowRepo(kb_repo.root), RETRY_TASK, budget=4000, log=False).documents) >= 5


def test_near_duplicates_are_merged(tmp_path: Path) -> None:
    body = "## Idempotency\nEvery POST endpoint accepts an Idempotency-Key header and replays the stored response.\n"
    docs = [
        {"id": "evg-idempotency", "type": "evergreen", "title": "Idempotent POST", "created": "2025-01-01", "body": body},
        {"id": "eph-idempotency-notes", "type": "ephemeral", "title": "Idempotent POST", "created": "2025-01-02",
         "body": body},
    ]
    repo = make_repo(tmp_path / "dup", docs=docs, sources=False)
    build_index(repo)
    pack = context_pack(repo, "make POST endpoints idempotent with an Idempotency-Key", log=False)
    assert [d.id for d in pack.documents] == ["evg-idempotency"]  # evergreen outranks the ephemeral twin
    assert pack.documents[0].also == ["eph-idempotency-notes"]
    assert pack.text.count("replays the stored response") == 1


def test_type_weights_prefer_durable_knowledge(tmp_path: Path) -> None:
    body = "Invoices are finalized once and never edited; corrections are credit notes.\n"
    docs = [
        {"id": "eph-invoice-notes", "type": "ephemeral", "title": "Invoice immutability", "created": "2025-01-01",
         "body": body},
        {"id": "evg-invoice-rules", "type": "evergreen", "title": "Invoice immutability", "created": "2025-01-01",
         "body": body},
    ]
    repo = make_repo(tmp_path / "weights", docs=docs, sources=False)
    build_index(repo)
    hits = search(repo, "can a finalized invoice be edited", k=2, log=False)
    assert [h.id for h in hits] == ["evg-invoice-rules", "eph-invoice-notes"]
    assert hits[0].score > hits[1].score


def test_as_of_hides_documents_from_the_future(indexed: FlowRepo) -> None:
    task = "celery tasks and the tenant scoped session"
    assert "evg-tenancy" in {d.id for d in context_pack(indexed, task, log=False).documents}
    past = context_pack(indexed, task, as_of=dt.datetime(2025, 5, 19, tzinfo=dt.timezone.utc), log=False)
    assert "evg-tenancy" not in {d.id for d in past.documents}
    on_the_day = context_pack(indexed, task, as_of=dt.date(2025, 5, 20), log=False)
    assert "evg-tenancy" in {d.id for d in on_the_day.documents}


def test_as_of_keeps_a_document_that_was_current_then(indexed: FlowRepo) -> None:
    # evg-old-retries (2024-06) was superseded by evg-payment-retries (2025-02): before that, it
    # was the current knowledge and is injected as it was.
    task = "retry failed card payments every day"
    past = context_pack(indexed, task, as_of=dt.date(2024, 12, 31), log=False)
    assert "evg-old-retries" in {d.id for d in past.documents}
    now = context_pack(indexed, task, as_of=dt.date(2025, 3, 1), log=False)
    assert "evg-old-retries" not in {d.id for d in now.documents}
    assert "evg-payment-retries" in {d.id for d in now.documents}


def test_search_filters_by_type_and_finds_sources(indexed: FlowRepo) -> None:
    hits = search(indexed, "restart the celery workers", k=3, log=False)
    assert hits[0].id == "docs/workers.rst" and hits[0].heading == "Restarting workers"
    only = search(indexed, "payments", k=10, types=["cumulative"], log=False)
    assert only and {h.type for h in only} == {"cumulative"}


def test_retriever_answers_repeated_calls_and_sees_new_generations(indexed: FlowRepo) -> None:
    retriever = Retriever(indexed)
    first = retriever.search("rounding of tax", k=1, log=False)
    assert first[0].id == "docs/money.md"
    (indexed.root / "docs" / "rounding.md").write_text("# Tax rounding\n\nTax rounding uses banker's rounding.\n")
    build_index(indexed)
    ids = {h.id for h in retriever.search("banker's rounding of tax", k=3, log=False)}
    assert "docs/rounding.md" in ids
    retriever.close()


def test_cli_context_and_search_json(indexed: FlowRepo) -> None:
    result = runner.invoke(app, ["-C", str(indexed.root), "context", RETRY_TASK, "--budget", "300", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"documents", "tokens", "budget", "text"}
    assert data["budget"] == 300 and data["tokens"] <= 300
    assert {"id", "path", "type", "score"} <= set(data["documents"][0])
    result = runner.invoke(app, ["-C", str(indexed.root), "search", "stripe webhook", "--k", "2", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 2 and {"id", "type", "path", "title", "score", "snippet"} <= set(hits[0])
    assert hits[0]["id"] == "cum-duplicate-webhooks"
    plain = runner.invoke(app, ["-C", str(indexed.root), "context", RETRY_TASK])
    assert plain.exit_code == 0 and "id: evg-payment-retries" in plain.stdout


def test_cli_index_summary(kb_repo: FlowRepo) -> None:
    result = runner.invoke(app, ["-C", str(kb_repo.root), "index", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["documents"] == 7
    again = runner.invoke(app, ["-C", str(kb_repo.root), "index"])
    assert again.exit_code == 0 and "up to date" in again.stdout

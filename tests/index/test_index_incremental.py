"""Incremental indexing: only changed files are re-embedded; deleted files leave the index."""

from __future__ import annotations

from flowloop.index.api import Retriever, build_index, search
from flowloop.repo import FlowRepo

from index_kb import SOURCE_MD  # type: ignore[import-not-found]

ALL_IDS = {
    "evg-payment-retries", "evg-old-retries", "cum-duplicate-webhooks", "eph-currency-plan", "evg-tenancy",
    "docs/money.md", "docs/workers.rst",
}


def _pilr_path(repo: FlowRepo, doc_id: str, pilr_type: str = "evergreen"):
    return repo.pilr_dir(pilr_type) / f"{doc_id}.md"


def test_first_build_indexes_pilrs_and_sources(kb_repo: FlowRepo) -> None:
    stats = build_index(kb_repo)
    assert set(stats.added) == ALL_IDS
    assert set(stats.embedded_documents) == ALL_IDS
    assert stats.rebuilt and stats.generation == 1
    assert stats.documents == 7 and stats.chunks >= 10
    assert stats.by_type == {"evergreen": 5, "cumulative": 1, "ephemeral": 1}
    docs = {d["id"]: d for d in Retriever(kb_repo).list_documents()}
    assert docs["docs/workers.rst"]["title"] == "Worker runbook"
    assert docs["docs/money.md"]["type"] == "evergreen"
    assert docs["evg-old-retries"]["status"] == "superseded"


def test_unchanged_files_are_not_re_embedded(kb_repo: FlowRepo) -> None:
    first = build_index(kb_repo)
    again = build_index(kb_repo)
    assert again.up_to_date and again.chunks_embedded == 0 and again.embedded_documents == []
    assert again.generation == first.generation and again.unchanged == 7


def test_change_add_delete_touch_only_those_files(kb_repo: FlowRepo) -> None:
    build_index(kb_repo)
    # change one PILR's text
    path = _pilr_path(kb_repo, "evg-tenancy")
    path.write_text(path.read_text().replace("tenant-scoped session", "tenant-scoped session (see isolation.py)"))
    stats = build_index(kb_repo)
    assert stats.changed == ["evg-tenancy"] and not stats.added and not stats.removed
    assert stats.embedded_documents == ["evg-tenancy"]
    assert 1 <= stats.chunks_embedded <= 2 and stats.unchanged == 6

    # add a source file
    (kb_repo.root / "docs" / "errors.md").write_text("# API errors\n\nErrors are RFC 9457 problem+json documents.\n")
    stats = build_index(kb_repo)
    assert stats.added == ["docs/errors.md"] and stats.embedded_documents == ["docs/errors.md"]
    assert not stats.changed and not stats.removed and stats.unchanged == 7

    # delete a PILR: it leaves the index and the results
    _pilr_path(kb_repo, "cum-duplicate-webhooks", "cumulative").unlink()
    stats = build_index(kb_repo)
    assert stats.removed == ["cum-duplicate-webhooks"] and stats.chunks_embedded == 0
    assert stats.documents == 7
    hits = search(kb_repo, "duplicate stripe webhook payments", k=10, log=False)
    assert "cum-duplicate-webhooks" not in {h.id for h in hits}
    assert "docs/errors.md" in {h.id for h in search(kb_repo, "problem+json errors", k=3, log=False)}


def test_front_matter_only_change_reuses_vectors(kb_repo: FlowRepo) -> None:
    build_index(kb_repo)
    path = _pilr_path(kb_repo, "evg-tenancy")
    path.write_text(path.read_text().replace("status: active", "status: archived"))
    stats = build_index(kb_repo)
    assert stats.changed == ["evg-tenancy"]
    assert stats.chunks_embedded == 0 and stats.embedded_documents == []
    docs = {d["id"]: d for d in Retriever(kb_repo).list_documents()}
    assert docs["evg-tenancy"]["status"] == "archived"


def test_rebuild_and_setting_changes_start_over(kb_repo: FlowRepo) -> None:
    first = build_index(kb_repo)
    rebuilt = build_index(kb_repo, rebuild=True)
    assert rebuilt.rebuilt and rebuilt.chunks_embedded == first.chunks_embedded
    assert rebuilt.generation == first.generation + 1
    # A different chunk size re-chunks everything by itself; chunks whose text is unchanged
    # (short sections) keep their vectors, since the embedder is the same.
    config = kb_repo.config_path.read_text().replace("[index]\n", "[index]\nchunk_max_tokens = 20\n", 1)
    kb_repo.config_path.write_text(config)
    repo = FlowRepo(kb_repo.root)
    smaller = build_index(repo)
    assert smaller.rebuilt and smaller.chunks > first.chunks
    assert set(smaller.added) == ALL_IDS  # every document was planned again
    assert 0 < smaller.chunks_embedded < smaller.chunks
    assert set(smaller.embedded_documents) < ALL_IDS
    assert search(repo, "stripe webhooks", log=False)[0].id == "cum-duplicate-webhooks"


def test_old_generations_are_swept(kb_repo: FlowRepo) -> None:
    build_index(kb_repo)
    (kb_repo.root / "docs" / "money.md").write_text(SOURCE_MD + "\n## Display\nShow amounts with the currency.\n")
    build_index(kb_repo)
    folders = sorted(p.name for p in (kb_repo.state_dir / "index").iterdir() if p.is_dir())
    assert folders == ["gen-000002"]

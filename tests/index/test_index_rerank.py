"""The optional cross-encoder stage, with a real CrossEncoder built from the packaged MiniLM.

No trained reranker is installed here, so the test builds one from the MiniLM checkpoint (its
classification head is freshly initialized): the scores mean nothing, but the stage's code path
(loading offline from a path, scoring the fused top candidates, reordering) runs for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowloop.index.api import Retriever, build_index
from flowloop.repo import FlowRepo


@pytest.fixture(scope="session")
def cross_encoder_dir(tmp_path_factory: pytest.TempPathFactory, minilm_dir: Path) -> Path:
    from sentence_transformers import CrossEncoder

    target = tmp_path_factory.mktemp("cross-encoder")
    CrossEncoder(str(minilm_dir), num_labels=1, device="cpu", local_files_only=True).save(str(target))
    return target


def test_rerank_reorders_by_cross_encoder_scores(
    kb_repo: FlowRepo, cross_encoder_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sentence_transformers import CrossEncoder

    build_index(kb_repo)
    monkeypatch.setenv("FLOW_INDEX__RERANKER", str(cross_encoder_dir))
    monkeypatch.setenv("FLOW_INDEX__RERANK_TOP", "50")
    monkeypatch.setenv("FLOW_INDEX__RERANK_BLEND", "1.0")  # the cross-encoder's order alone
    retriever = Retriever(FlowRepo(kb_repo.root))
    query = "how are failed payments retried"
    hits = retriever.search(query, k=7, log=False)
    fused = retriever.search(query, k=7, log=False, mode="dense")  # no rerank outside hybrid/rerank
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # Each hit's score is the cross-encoder's score of (query, its best chunk with title and heading).
    model = CrossEncoder(str(cross_encoder_dir), device="cpu", local_files_only=True)
    first = hits[0]
    passage = f"{first.title}: {first.heading}\n" if first.heading else f"{first.title}\n"
    chunk = next(c for c in retriever.reader.chunks_of(first.id) if c.heading == first.heading)
    expected = float(model.predict([(query, passage + chunk.text)])[0])
    assert first.score == pytest.approx(expected, abs=1e-4)
    assert {h.id for h in fused} <= {h.id for h in retriever.search(query, k=20, log=False)}
    retriever.close()


def test_missing_reranker_is_a_clear_error(kb_repo: FlowRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowloop.errors import ModelNotFoundError

    build_index(kb_repo)
    monkeypatch.setenv("FLOW_INDEX__RERANKER", "/nonexistent/cross-encoder")
    with pytest.raises(ModelNotFoundError, match="reranker folder") as info:
        Retriever(FlowRepo(kb_repo.root)).search("retry", log=False)
    assert info.value.field == "index.reranker"


def test_rerank_blend_keeps_part_of_the_fused_order(kb_repo: FlowRepo) -> None:
    """blend 1 is the cross-encoder's order alone; 0 keeps the fused order; between, both count."""
    from flowloop.index.ranking import Candidate, rerank
    from flowloop.index.store import IndexReader

    build_index(kb_repo)
    reader = IndexReader(kb_repo)
    try:
        rows = list(range(1, min(reader.chunk_count, 6) + 1))
        doc = reader.doc_ids[int(reader.chunk_doc[0])]

        def fused() -> list[Candidate]:
            return [Candidate(rowid=r, doc_id=doc, fused=1.0 / r, dense=0.5) for r in rows]

        def backwards(query: str, passages: list[str]) -> list[float]:  # prefers the fused order's tail
            return [float(i) for i in range(len(passages))]

        alone = [c.rowid for c in rerank(reader, "q", fused(), len(rows), backwards, blend=1.0)]
        kept = [c.rowid for c in rerank(reader, "q", fused(), len(rows), backwards, blend=0.0)]
        half = rerank(reader, "q", fused(), len(rows), backwards, blend=0.5, rrf_k=20)
        assert alone == rows[::-1] and kept == rows
        assert all(c.rerank is not None for c in half) and sorted(c.rowid for c in half) == rows
    finally:
        reader.close()

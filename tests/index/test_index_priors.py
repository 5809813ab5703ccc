"""Priors in ranking: a stale document is marked in the pack and down-weighted; helpfulness is a
configurable multiplier, off by default."""

from __future__ import annotations

import json

from flowloop.index.api import Retriever, build_index
from flowloop.index.priors import factors
from flowloop.pilr.helpfulness import Helpfulness
from flowloop.pilr.staleness import CACHE_VERSION, Staleness
from flowloop.repo import FlowRepo

TASK = "change how failed card payments are retried"


def _mark_stale(repo: FlowRepo, doc_id: str, missing: list[str] | None = None) -> None:
    """The staleness cache as `flow pilr lint` leaves it after a check found ``doc_id`` stale."""
    result = Staleness(doc_id=doc_id, since="2025-01-02", commits=3, files={"src/retry.py": 3}, missing=missing or [])
    entry = {"key": "k", "watched": ["src/retry.py"], "result": result.__dict__}
    repo.state_path("pilr", "staleness.json").write_text(
        json.dumps({"version": CACHE_VERSION, "head": "0" * 40, "docs": {doc_id: entry}}), encoding="utf-8")


def test_a_stale_document_is_marked_in_the_pack_and_scores_lower(kb_repo: FlowRepo) -> None:
    build_index(kb_repo)
    retriever = Retriever(kb_repo)
    try:
        top = retriever.context_pack(TASK, log=False).documents[0]
        score_before = next(h.score for h in retriever.search(TASK, log=False) if h.id == top.id)
        _mark_stale(kb_repo, top.id)
        after = retriever.context_pack(TASK, log=False)
        marked = next(d for d in after.documents if d.id == top.id)
        assert marked.note.startswith("possibly stale: sources changed in 3 commit(s) since 2025-01-02")
        assert marked.note in after.text
        score_after = next(h.score for h in retriever.search(TASK, log=False) if h.id == top.id)
        assert score_after < score_before  # scaled by [pilr] stale_weight
        retriever.use_priors = False  # the switch the benchmark measures with
        assert retriever.context_pack(TASK, log=False).documents[0].note == ""
    finally:
        retriever.close()


def test_factors_follow_the_settings(kb_repo: FlowRepo) -> None:
    settings = kb_repo.settings.pilr
    helpful = {"evg-a": Helpfulness("evg-a", successes=0, failures=6, tasks=6, base=0.5)}
    stale = {"evg-b": Staleness("evg-b", "2025-01-01", commits=1, files={"x.py": 1}),
             "evg-c": Staleness("evg-c", "2025-01-01", missing=["gone_symbol"])}
    assert settings.helpfulness_weight == 0.0
    assert factors(settings, helpful, stale) == {"evg-b": settings.stale_weight, "evg-c": settings.stale_missing_weight}
    weighted = factors(settings.model_copy(update={"helpfulness_weight": 1.0}), helpful, {})
    assert 0 < weighted["evg-a"] < 1

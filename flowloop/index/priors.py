"""What the team's history says about a document, applied to ranking: helpfulness and staleness.

Two multipliers on a candidate's fused score, both read from caches the ``pilr`` layer writes
(so a query opens neither the signals store nor git):

- helpfulness (``pilr.helpfulness``): ``(posterior mean / 0.5) ** [pilr] helpfulness_weight``;
  the weight is 0 (off) by default, because on the example it did not improve retrieval
  (``benchmarks/helpfulness.py``);
- staleness (``pilr.staleness``): ``[pilr] stale_weight`` when the document's sources changed
  since its ``updated`` date, ``[pilr] stale_missing_weight`` when a symbol it names is gone;
  such a document also carries a note in the pack's header, so the agent weighs it.
"""

from __future__ import annotations

from flowloop.config import PilrSettings
from flowloop.index.ranking import Candidate
from flowloop.pilr.helpfulness import Helpfulness, cached
from flowloop.pilr.staleness import Staleness, cached_flags
from flowloop.repo import FlowRepo


def factors(
    settings: PilrSettings, helpful: dict[str, Helpfulness], stale: dict[str, Staleness]
) -> dict[str, float]:
    """Document id -> ranking multiplier (documents at 1.0 left out)."""
    out: dict[str, float] = {}
    if settings.helpfulness_weight:
        for doc_id, h in helpful.items():
            out[doc_id] = h.factor(settings.helpfulness_weight)
    for doc_id, s in stale.items():
        out[doc_id] = out.get(doc_id, 1.0) * (settings.stale_missing_weight if s.missing else settings.stale_weight)
    return {doc_id: f for doc_id, f in out.items() if f != 1.0}


def load(repo: FlowRepo) -> tuple[dict[str, float], dict[str, str]]:
    """The multipliers and the pack notes of ``repo`` from the last helpfulness and staleness runs."""
    stale = cached_flags(repo)
    helpful = cached(repo) if repo.settings.pilr.helpfulness_weight else {}
    return factors(repo.settings.pilr, helpful, stale), {doc_id: s.note() for doc_id, s in stale.items()}


def apply(candidates: list[Candidate], multipliers: dict[str, float]) -> list[Candidate]:
    """``candidates`` with fused scores scaled, best first again (ties by row, as ``rank``)."""
    if not multipliers:
        return candidates
    for c in candidates:
        c.fused *= multipliers.get(c.doc_id, 1.0)
    return sorted(candidates, key=lambda c: (-c.fused, c.rowid))

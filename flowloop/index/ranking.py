"""Hybrid ranking over one index generation: BM25 (FTS5) + dense cosine, fused by reciprocal rank.

Both retrievers see only eligible chunks (type filter, lifecycle status, ``as_of`` date), each
contributes its top ``pool`` chunks, and reciprocal-rank fusion (``w / (k + rank)``, weights from
``[index]``) merges them; the document type's weight then prefers durable knowledge. An
optional cross-encoder reorders the fused top ``rerank_top`` (blended with the fused order by
``rerank_blend``). Dense cosine is kept on every candidate because the context pack's relevance
floor is expressed in it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable

from flowloop.config import IndexSettings
from flowloop.index.store import IndexReader
from flowloop.text import QUERY

if TYPE_CHECKING:
    import numpy as np

MAX_QUERY_TERMS = 64


@dataclass
class Candidate:
    rowid: int
    doc_id: str
    fused: float
    dense: float
    lexical: float = 0.0
    dense_rank: int | None = None
    lexical_rank: int | None = None
    rerank: float | None = None

    @property
    def score(self) -> float:
        return self.rerank if self.rerank is not None else self.fused


def fts_query(text: str) -> str:
    """An FTS5 MATCH expression: the query's distinct words, quoted, joined by OR."""
    return " OR ".join(f'"{w}"' for w in QUERY.distinct(text)[:MAX_QUERY_TERMS])


def eligible_docs(
    reader: IndexReader,
    types: Iterable[str] | None,
    statuses: Iterable[str],
    as_of: dt.datetime | dt.date | None,
) -> "np.ndarray":
    """A boolean mask over the reader's documents."""
    import numpy as np

    wanted_types = set(types) if types else None
    wanted_status = set(statuses)
    from flowloop.index.as_of import created_after, cutoff_key

    cutoff = cutoff_key(as_of) if as_of is not None else None
    mask = np.zeros(len(reader.doc_ids), dtype=bool)
    for i, doc_id in enumerate(reader.doc_ids):
        doc = reader.documents[doc_id]
        if wanted_types is not None and doc.type not in wanted_types:
            continue
        if doc.status not in wanted_status:
            continue
        if cutoff is not None and created_after(doc.created, cutoff):
            continue
        mask[i] = True
    return mask


def rank(
    reader: IndexReader,
    query: str,
    query_vector: "np.ndarray",
    settings: IndexSettings,
    doc_mask: "np.ndarray",
    pool: int = 50,
    use_lexical: bool = True,
    use_dense: bool = True,
) -> list[Candidate]:
    """Fused candidates, best first (at most ``2 * pool`` chunks)."""
    import numpy as np

    from threadpoolctl import threadpool_limits

    chunk_mask = doc_mask[reader.chunk_doc] if reader.chunk_count else np.zeros(0, dtype=bool)
    # One matrix-vector product over every chunk (brute force: ~1 ms at 10k x 384). A single
    # BLAS thread: it is memory-bound, and OpenBLAS's threads only add waiting on busy cores.
    with threadpool_limits(limits=1, user_api="blas"):
        dense = reader.vectors @ query_vector.astype(np.float32) if reader.chunk_count else np.zeros(0, np.float32)
    found: dict[int, Candidate] = {}

    def candidate(row: int) -> Candidate:
        if row not in found:
            doc_id = reader.doc_ids[int(reader.chunk_doc[row])]
            found[row] = Candidate(rowid=row + 1, doc_id=doc_id, fused=0.0, dense=float(dense[row]))
        return found[row]

    if use_dense and chunk_mask.any():
        masked = np.where(chunk_mask, dense, -np.inf)
        n = min(pool, int(chunk_mask.sum()))
        top = np.argpartition(-masked, n - 1)[:n]
        for position, row in enumerate(top[np.argsort(-masked[top], kind="stable")], start=1):
            c = candidate(int(row))
            c.dense_rank = position
            c.fused += settings.dense_weight / (settings.rrf_k + position)
    if use_lexical:
        position = 0
        for rowid, score in reader.lexical(fts_query(query), limit=pool * 4):
            row = rowid - 1
            if not chunk_mask[row]:
                continue
            position += 1
            c = candidate(row)
            c.lexical, c.lexical_rank = score, position
            c.fused += settings.lexical_weight / (settings.rrf_k + position)
            if position >= pool:
                break
    for c in found.values():
        c.fused *= settings.type_weights.get(reader.documents[c.doc_id].type, 1.0)
    return sorted(found.values(), key=lambda c: (-c.fused, c.rowid))


def rerank(
    reader: IndexReader,
    query: str,
    candidates: list[Candidate],
    top: int,
    score: Callable[[str, list[str]], list[float]],
    blend: float = 1.0,
    rrf_k: int = 20,
) -> list[Candidate]:
    """Reorder the first ``top`` candidates by a cross-encoder's score; the rest follow.

    ``blend`` weighs the cross-encoder's rank against the fused rank, both reciprocal
    (``blend / (k + reranked) + (1 - blend) / (k + fused)``): 1 is the cross-encoder's order
    alone, lower values keep some of the hybrid's order (a weak reranker then cannot undo it)."""
    head, tail = candidates[:top], candidates[top:]
    rows = reader.chunks([c.rowid for c in head])
    passages = []
    for c in head:
        row = rows[c.rowid]
        title = reader.documents[c.doc_id].title
        passages.append(f"{title}: {row.heading}\n{row.text}" if row.heading else f"{title}\n{row.text}")
    for c, s in zip(head, score(query, passages)):
        c.rerank = s
    if blend >= 1.0:
        return sorted(head, key=lambda c: (-(c.rerank or 0.0), c.rowid)) + tail
    by_rerank = sorted(range(len(head)), key=lambda i: (-(head[i].rerank or 0.0), head[i].rowid))
    combined = [0.0] * len(head)
    for position, i in enumerate(by_rerank, start=1):
        combined[i] = blend / (rrf_k + position) + (1.0 - blend) / (rrf_k + i + 1)
    order = sorted(range(len(head)), key=lambda i: (-combined[i], head[i].rowid))
    return [head[i] for i in order] + tail


def best_per_document(candidates: list[Candidate]) -> list[Candidate]:
    """The first (best) candidate of each document, in order."""
    seen: set[str] = set()
    best = []
    for c in candidates:
        if c.doc_id not in seen:
            seen.add(c.doc_id)
            best.append(c)
    return best

"""Context packs: the few chunks an agent needs for a task, within a token budget.

Precision over volume (users' first complaint about memory layers is injected noise): chunks
below the relevance floor (dense cosine) are never injected and an empty pack is a valid answer.
A superseded document is replaced by the best chunk of its replacement (following the
``superseded_by`` chain); a chunk that nearly duplicates one already in the pack (cosine above
``dedup_threshold``) is merged into it, citing both documents; chunks are added best first
while the rendered markdown, counted with the embedder's own tokenizer, stays within budget.

One pass over the ranked candidates, with token costs read from the index (stored at build
time), so a pack costs one tokenization: the final count of its text, which is what is enforced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flowloop.config import IndexSettings
from flowloop.errors import QueryError
from flowloop.index.ranking import Candidate
from flowloop.index.render import PACK_HEADER, chunk_section, continued_section, doc_header
from flowloop.index.store import ChunkRow, IndexReader
from flowloop.index.tokens import TokenCounter
from flowloop.index.types import ContextPack, PackDocument

if TYPE_CHECKING:
    import numpy as np

MAX_SUPERSEDE_HOPS = 16
FULL_MARGIN = 8  # tokens: with less left than this, no chunk can fit any more


@dataclass
class _Entry:
    candidate: Candidate
    doc_id: str
    row: ChunkRow
    replaces: list[str] = field(default_factory=list)
    also: list[str] = field(default_factory=list)
    note: str = ""  # e.g. "possibly stale: ...", printed in the document's header


def _replacement(reader: IndexReader, doc_id: str) -> str | None:
    """The active document at the end of the ``superseded_by`` chain (None: the chain is broken)."""
    current, seen = doc_id, {doc_id}
    for _ in range(MAX_SUPERSEDE_HOPS):
        doc = reader.documents.get(current)
        if doc is None:
            return None
        if doc.status == "active":
            return current
        if doc.status != "superseded" or not doc.superseded_by or doc.superseded_by in seen:
            return None
        current = doc.superseded_by
        seen.add(current)
    return None


def _best_chunk(reader: IndexReader, doc_id: str, query_vector: "np.ndarray") -> tuple[int, float]:
    rows = [c.rowid for c in reader.chunks_of(doc_id)]
    scores = reader.vectors[[r - 1 for r in rows]] @ query_vector
    best = int(scores.argmax())
    return rows[best], float(scores[best])


def _header(reader: IndexReader, doc_id: str, group: list[_Entry]) -> str:
    doc = reader.documents[doc_id]
    replaces = sorted({r for e in group for r in e.replaces})
    also = sorted({a for e in group for a in e.also})
    return doc_header(doc.title, doc.id, doc.path, doc.type, replaces, also, group[0].note if group else "")


def _note(
    reader: IndexReader,
    counter: TokenCounter,
    groups: dict[str, list[_Entry]],
    header_cost: dict[str, int],
    entry: _Entry,
    kind: str,
    doc_id: str,
    used: int,
    budget: int,
) -> int:
    """Cite ``doc_id`` on an included entry (it replaces it, or says the same) if the longer
    document header still fits the budget; returns the tokens used."""
    notes = entry.replaces if kind == "replaces" else entry.also
    if doc_id in notes:
        return used
    notes.append(doc_id)
    cost = counter.count(_header(reader, entry.doc_id, groups[entry.doc_id]))
    if used + cost - header_cost[entry.doc_id] > budget:
        notes.remove(doc_id)  # the pack stays within budget; the duplicate is still left out
        return used
    used += cost - header_cost[entry.doc_id]
    header_cost[entry.doc_id] = cost
    return used


def render(reader: IndexReader, groups: dict[str, list[_Entry]]) -> str:
    if not groups:
        return ""
    out = [PACK_HEADER]
    for doc_id, group in groups.items():
        out.append(_header(reader, doc_id, group))
        previous: _Entry | None = None
        # Chunks of one section print under one heading (a long section is several chunks).
        for entry in sorted(group, key=lambda e: e.row.ord):
            if previous is not None and entry.row.heading == previous.row.heading:
                out.append(continued_section(entry.row.text, entry.row.ord == previous.row.ord + 1))
            else:
                out.append(chunk_section(entry.row.heading, entry.row.text))
            previous = entry
    return "".join(out)


def build_pack(
    reader: IndexReader,
    query: str,
    candidates: list[Candidate],
    query_vector: "np.ndarray",
    settings: IndexSettings,
    budget: int,
    counter: TokenCounter,
    allowed_docs: set[str],
    include_archived: bool = False,
    future_docs: frozenset[str] = frozenset(),
    notes: dict[str, str] | None = None,
) -> ContextPack:
    """The pack for ranked ``candidates``. ``future_docs`` were created after ``as_of``: a
    document superseded by one of them was still current then, so it is kept as it was.
    ``notes`` (document id -> a warning such as "possibly stale") are printed in its header."""
    notes = notes or {}
    import numpy as np

    relevant = [c for c in candidates if c.dense >= settings.relevance_floor]
    rows = reader.chunks([c.rowid for c in relevant])
    groups: dict[str, list[_Entry]] = {}
    chosen: list[_Entry] = []
    chosen_vectors: list[np.ndarray] = []
    header_cost: dict[str, int] = {}
    used = counter.count(PACK_HEADER)
    smallest: int | None = None
    for c in relevant:
        entry = _Entry(candidate=c, doc_id=c.doc_id, row=rows[c.rowid])
        doc = reader.documents[c.doc_id]
        if doc.status == "superseded" and not include_archived:
            target = _replacement(reader, c.doc_id)
            if target not in future_docs:
                if target is None or target not in allowed_docs:
                    continue  # nothing current (and shown) says this any more
                rowid, dense = _best_chunk(reader, target, query_vector)
                twin = next((e for e in chosen if e.candidate.rowid == rowid), None)
                if twin is not None:
                    used = _note(reader, counter, groups, header_cost, twin, "replaces", c.doc_id, used, budget)
                    continue
                stand_in = Candidate(rowid=rowid, doc_id=target, fused=c.fused, dense=dense, rerank=c.rerank)
                entry = _Entry(stand_in, target, reader.chunks([rowid])[rowid], replaces=[c.doc_id])
        entry.note = notes.get(entry.doc_id, "")
        vector = reader.vectors[entry.candidate.rowid - 1]
        if chosen_vectors:
            similarity = np.stack(chosen_vectors) @ vector
            best = int(similarity.argmax())
            if similarity[best] >= settings.dedup_threshold:
                twin = chosen[best]
                if entry.doc_id != twin.doc_id:
                    used = _note(reader, counter, groups, header_cost, twin, "also", entry.doc_id, used, budget)
                continue
        same_section = any(e.row.heading == entry.row.heading for e in groups.get(entry.doc_id, []))
        cost = entry.row.tokens + (0 if same_section else entry.row.head_tokens)
        if entry.doc_id not in groups:
            head = (counter.count(_header(reader, entry.doc_id, [entry])) if entry.replaces or entry.note
                    else reader.documents[entry.doc_id].head_tokens)
            cost += head
        smallest = cost if smallest is None else min(smallest, cost)
        if used + cost > budget:
            continue
        if entry.doc_id not in groups:
            header_cost[entry.doc_id] = head
        groups.setdefault(entry.doc_id, []).append(entry)
        chosen.append(entry)
        chosen_vectors.append(vector)
        used += cost
        if budget - used < FULL_MARGIN:
            break
    if smallest is not None and not groups:
        need = smallest + counter.count(PACK_HEADER)
        raise QueryError(
            f"budget of {budget} tokens is smaller than one relevant chunk ({need} tokens)",
            field="budget",
            hint=f"raise --budget to at least {need}",
        )
    text = render(reader, groups)
    tokens = counter.count(text)
    # Counts of the parts add up for whitespace-split tokenizers, and "replaces"/"same content
    # in" notes add a few tokens: the final count is the one enforced, dropping the last chunk.
    while tokens > budget and chosen:
        last = chosen.pop()
        groups[last.doc_id].remove(last)
        if not groups[last.doc_id]:
            del groups[last.doc_id]
        text = render(reader, groups)
        tokens = counter.count(text)
    documents = [
        PackDocument(
            id=doc_id,
            path=reader.documents[doc_id].path,
            type=reader.documents[doc_id].type,
            score=round(max(e.candidate.score for e in group), 6),
            title=reader.documents[doc_id].title,
            headings=list(dict.fromkeys(e.row.heading for e in sorted(group, key=lambda e: e.row.ord))),
            replaces=sorted({r for e in group for r in e.replaces}),
            also=sorted({a for e in group for a in e.also}),
            note=group[0].note,
        )
        for doc_id, group in groups.items()
    ]
    return ContextPack(documents=documents, text=text, tokens=tokens, budget=budget, query=query)

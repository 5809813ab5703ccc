"""``build_index``: bring the index up to date with the files, re-embedding only what changed.

Documents are compared by the SHA-256 of their file; an unchanged document keeps its chunks and
vectors, a changed one is re-chunked and only chunks whose embedded text is new are embedded
(a front-matter-only edit, such as archiving, costs no embedding at all). Deleted files leave.
Every input is read and checked before anything is written, and the new generation replaces
the old one atomically (see ``store``), so a bad file or an interrupted run leaves the previous
index whole and usable. A change of embedder or chunk size rebuilds everything.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from flowloop.errors import IndexError_
from flowloop.index.chunking import Chunk, chunk_text, embed_text
from flowloop.index.embedder import bulk_embedder, model_window, resolve_model
from flowloop.index.sources import SourceDoc, collect
from flowloop.index.store import (
    SCHEMA_VERSION,
    DocRow,
    GenerationWriter,
    IndexLock,
    IndexReader,
    read_pointer,
    sweep,
    vector_cache,
)
from flowloop.index.as_of import created_key
from flowloop.index.render import doc_header, heading_line
from flowloop.index.tokens import TokenCounter, counter_for
from flowloop.index.types import IndexStats
from flowloop.repo import FlowRepo
from flowloop.types import Progress

if TYPE_CHECKING:
    import numpy as np

CHUNKER_VERSION = "2"  # 2: Sphinx navigation dropped, code blocks kept whole
TITLE_ROOM = 32  # tokens kept free in the embedder's window for "title: heading" and [CLS]/[SEP]
EMBED_BATCH = 256  # texts per encode call (one progress tick); batches inside are length-sorted


def _doc_row(doc: SourceDoc, n_chunks: int, head_tokens: int) -> DocRow:
    return DocRow(
        id=doc.id, path=doc.path, type=doc.type, status=doc.status, title=doc.title,
        created=created_key(doc.created), superseded_by=doc.superseded_by,
        supersedes=doc.supersedes, tags=doc.tags, origin=doc.origin, content_hash=doc.content_hash,
        n_chunks=n_chunks, head_tokens=head_tokens,
    )


def _embed_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _open_previous(repo: FlowRepo, meta: dict[str, str]) -> IndexReader | None:
    """The current generation if it was built the same way; None means start over."""
    if read_pointer(repo) is None:
        return None
    try:
        reader = IndexReader(repo)
    except IndexError_:
        return None  # unreadable: rebuilding from the files is the fix
    if any(reader.meta.get(key) != value for key, value in meta.items()):
        reader.close()
        return None
    return reader


def build_index(repo: FlowRepo, rebuild: bool = False, progress: Progress | None = None, *,
                embedder: str | None = None) -> IndexStats:
    """Index every PILR and configured source; returns what changed. See the module docstring.

    ``embedder`` (default: the promoted one, else ``[index] embedder``; see ``active``) is the
    model the vectors come from; a generation never mixes two."""
    from flowloop.index.active import effective_embedder, parked_cache

    started = time.perf_counter()
    repo.require_initialized()
    settings = repo.settings.index
    if settings.chunk_max_tokens < 16:
        raise IndexError_("chunk_max_tokens must be at least 16", path=repo.config_path, field="index.chunk_max_tokens")
    embedder = embedder or effective_embedder(repo)
    model_dir = resolve_model(embedder, repo.root)
    counter = counter_for(model_dir)
    # A chunk never outgrows what the embedder reads (its window, less room for the title and
    # heading that precede the text): otherwise its tail would be searchable by BM25 only.
    max_tokens = max(16, min(settings.chunk_max_tokens, model_window(model_dir) - TITLE_ROOM))
    docs = collect(repo)  # reads and checks every input before anything is written
    meta = {"embedder": embedder, "embedder_dir": str(model_dir), "chunk_max_tokens": str(max_tokens), "chunker": CHUNKER_VERSION,
            "schema": str(SCHEMA_VERSION)}
    with IndexLock(repo):
        pointer = read_pointer(repo)
        sweep(repo, keep=str(pointer["dir"]) if pointer else None)  # leftovers of interrupted builds
        previous = None if rebuild else _open_previous(repo, meta)
        # Vectors are reusable whenever the embedder is the same, even across a schema or
        # chunking change; `--rebuild` asks to start over and reuses nothing.
        cache = None if rebuild else (vector_cache(repo, embedder) or parked_cache(repo, embedder))
        try:
            plans, stats = _plan(
                docs, previous, cache, lambda doc: chunk_text(doc.title, doc.body, doc.fmt, counter, max_tokens),
                counter,
            )
            if previous is not None and stats.up_to_date:
                stats.chunks, stats.generation = previous.chunk_count, previous.generation
            else:
                matrix = cache[1] if cache is not None else (previous.vectors if previous is not None else None)
                stats.chunks, stats.generation = _write(repo, counter, meta, plans, matrix, pointer, model_dir, progress)
        finally:
            if previous is not None:
                previous.close()
    stats.seconds = time.perf_counter() - started
    return stats


@dataclass
class _Plan:
    """One document of the new generation: its chunks ``(ord, heading, text, tokens, embed_hash,
    head_tokens)`` and where each one's vector sits in the previous generation (None: new)."""

    doc: SourceDoc
    chunks: list[tuple[int, str, str, int, str, int]]
    old_rows: list[int | None]


def _plan(
    docs: list[SourceDoc],
    previous: IndexReader | None,
    cache: tuple[dict[str, int], "np.ndarray"] | None,
    chunker: Callable[[SourceDoc], list[Chunk]],
    counter: TokenCounter,
) -> tuple[list[_Plan], IndexStats]:
    """Decide, per document, what is kept and what must be chunked and embedded. ``previous``
    (same build settings) decides what is unchanged; ``cache`` says which vectors exist."""
    stats = IndexStats(rebuilt=previous is None, documents=len(docs))
    old_docs = previous.documents if previous is not None else {}
    stats.removed = sorted(set(old_docs) - {doc.id for doc in docs})
    # Vectors we already have, by the hash of the text that was embedded: an edit that leaves a
    # chunk's text alone (front matter, another section) costs no embedding for it.
    cached = cache[0] if cache is not None else {}
    plans: list[_Plan] = []
    fresh_keys: set[str] = set()
    for doc in docs:
        stats.by_type[doc.type] = stats.by_type.get(doc.type, 0) + 1
        old = old_docs.get(doc.id)
        # A source doc's date comes from git, not its bytes: a first commit re-dates it.
        if previous is not None and old is not None and old.content_hash == doc.content_hash \
                and old.created == created_key(doc.created):
            kept = previous.chunks_of(doc.id)
            plans.append(_Plan(doc, [(c.ord, c.heading, c.text, c.tokens, c.embed_hash, c.head_tokens) for c in kept],
                               [c.rowid - 1 for c in kept]))
            stats.unchanged += 1
            continue
        (stats.changed if old is not None else stats.added).append(doc.id)
        pieces = chunker(doc)
        head_tokens = counter.count_many([heading_line(c.heading) for c in pieces])
        chunks = [
            (c.ord, c.heading, c.text, c.tokens, _embed_hash(embed_text(doc.title, c)), head)
            for c, head in zip(pieces, head_tokens)
        ]
        rows = [cached.get(chunk[4]) for chunk in chunks]
        if any(row is None and chunk[4] not in fresh_keys for row, chunk in zip(rows, chunks)):
            stats.embedded_documents.append(doc.id)
        fresh_keys.update(chunk[4] for row, chunk in zip(rows, chunks) if row is None)
        plans.append(_Plan(doc, chunks, rows))
    stats.chunks_embedded = len(fresh_keys)
    return plans, stats


def _write(
    repo: FlowRepo,
    counter: TokenCounter,
    meta: dict[str, str],
    plans: list[_Plan],
    cached_vectors: "np.ndarray | None",
    pointer: dict[str, object] | None,
    model_dir: Path,
    progress: Progress | None,
) -> tuple[int, int]:
    """Embed what is new and write the new generation; returns (chunks, generation)."""
    import numpy as np

    texts: dict[str, str] = {}
    for plan in plans:
        for (ord_, heading, text, tokens, key, _), row in zip(plan.chunks, plan.old_rows):
            if row is None and key not in texts:
                texts[key] = embed_text(plan.doc.title, Chunk(ord_, heading, text, tokens))
    # Token counts of each document's header in a pack (id, path, type and title can change
    # without the text changing, so they are counted for every document, in one batch).
    headers = counter.count_many([doc_header(p.doc.title, p.doc.id, p.doc.path, p.doc.type) for p in plans])
    writer = GenerationWriter(repo, meta)
    try:
        fresh = _embed_all(model_dir, list(texts.values()), progress, repo.settings.index.bulk_precision,
                           repo.settings.index.bulk_backend)
        fresh_row = {key: i for i, key in enumerate(texts)}
        vectors: list[np.ndarray] = []
        for plan, header_tokens in zip(plans, headers):
            for chunk, row in zip(plan.chunks, plan.old_rows):
                vectors.append(fresh[fresh_row[chunk[4]]] if row is None else cached_vectors[row])  # type: ignore[index]
            writer.add_document(_doc_row(plan.doc, len(plan.chunks), header_tokens), plan.chunks)
        dim = fresh.shape[1] if len(texts) else (cached_vectors.shape[1] if cached_vectors is not None else 0)
        matrix = np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, dim), dtype=np.float32)
        generation = writer.commit(matrix, int(str(pointer["generation"])) if pointer else 0)
    except BaseException:
        writer.abort()  # the previous generation stays current and whole
        raise
    return int(matrix.shape[0]), generation


def _embed_all(model_dir: Path, texts: list[str], progress: Progress | None, precision: str,
               backend: str = "auto") -> "np.ndarray":
    import numpy as np

    if progress is not None:
        progress(0, len(texts))
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    embedder = bulk_embedder(model_dir, len(texts), precision, backend)
    # Similar lengths together across the whole run, not only within one call: less padding.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: np.ndarray | None = None
    for start in range(0, len(order), EMBED_BATCH):
        batch = order[start : start + EMBED_BATCH]
        vectors = embedder.encode([texts[i] for i in batch])
        if out is None:
            out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
        out[batch] = vectors
        if progress is not None:
            progress(min(start + EMBED_BATCH, len(texts)), len(texts))
    assert out is not None
    return out

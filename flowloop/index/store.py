"""The index on disk: generations of (SQLite + FTS5, float32 vectors), swapped atomically.

Layout under ``.flow/state/index/``::

    CURRENT              {"generation": 7, "dir": "gen-000007"}   (replaced atomically)
    gen-000007/index.db  documents, chunks, meta, chunks_fts (FTS5, porter stemming: the BM25 side)
    gen-000007/vectors.npy  one unit-length float32 row per chunk (row i = chunk rowid i + 1)

A build writes a complete new generation into a temporary folder, renames it into place and
only then replaces ``CURRENT``; an interrupted build leaves the previous generation in use and
its leftovers are swept by the next build. Readers open the generation ``CURRENT`` names, so a
warm server keeps answering from the old one until it sees the pointer change.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from flowloop.atomic import atomic_write_text
from flowloop.errors import IndexError_, LockError
from flowloop.repo import FlowRepo

if TYPE_CHECKING:
    import numpy as np

SCHEMA_VERSION = 3
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL,
    title TEXT NOT NULL, created TEXT, superseded_by TEXT, supersedes TEXT NOT NULL,
    tags TEXT NOT NULL, origin TEXT NOT NULL, content_hash TEXT NOT NULL, n_chunks INTEGER NOT NULL,
    head_tokens INTEGER NOT NULL
);
CREATE TABLE chunks (
    rowid INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(id), ord INTEGER NOT NULL,
    heading TEXT NOT NULL, text TEXT NOT NULL, tokens INTEGER NOT NULL, embed_hash TEXT NOT NULL,
    head_tokens INTEGER NOT NULL
);
CREATE INDEX chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE chunks_fts USING fts5(title, heading, text, tokenize='porter unicode61');
"""
DOC_COLUMNS = (
    "id", "path", "type", "status", "title", "created", "superseded_by", "supersedes", "tags", "origin",
    "content_hash", "n_chunks", "head_tokens",
)
CHUNK_COLUMNS = "rowid, doc_id, ord, heading, text, tokens, embed_hash, head_tokens"


@dataclass(frozen=True)
class DocRow:
    id: str
    path: str
    type: str
    status: str
    title: str
    created: str | None
    superseded_by: str | None
    supersedes: list[str]
    tags: list[str]
    origin: str
    content_hash: str
    n_chunks: int
    head_tokens: int  # tokens of the document's header line in a pack (render.doc_header)

    @classmethod
    def from_sql(cls, row: tuple[Any, ...]) -> "DocRow":
        values = dict(zip(DOC_COLUMNS, row))
        values["supersedes"] = json.loads(values["supersedes"])
        values["tags"] = json.loads(values["tags"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in DOC_COLUMNS}


@dataclass(frozen=True)
class ChunkRow:
    rowid: int
    doc_id: str
    ord: int
    heading: str
    text: str
    tokens: int
    embed_hash: str
    head_tokens: int  # tokens of its heading line in a pack (render.heading_line)


def index_dir(repo: FlowRepo) -> Path:
    return repo.state_dir / "index"


def read_pointer(repo: FlowRepo) -> dict[str, Any] | None:
    pointer = index_dir(repo) / "CURRENT"
    try:
        data = json.loads(pointer.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise IndexError_(f"unreadable index pointer: {exc}", path=pointer, hint="run `flow index --rebuild`") from exc
    if not isinstance(data, dict) or "dir" not in data or "generation" not in data:
        raise IndexError_("malformed index pointer", path=pointer, hint="run `flow index --rebuild`")
    return data


class IndexLock:
    """One build at a time per repository (an advisory ``flock`` on ``index/.lock``)."""

    def __init__(self, repo: FlowRepo) -> None:
        self.path = index_dir(repo) / ".lock"
        self._fh: Any = None

    def __enter__(self) -> "IndexLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a")
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._fh.close()
            raise LockError("another `flow index` is running on this repository", path=self.path,
                            hint="wait for it to finish") from exc
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()  # closing releases the lock


class GenerationWriter:
    """Writes one complete generation into a temporary folder; ``commit`` swaps it in."""

    def __init__(self, repo: FlowRepo, meta: dict[str, str]) -> None:
        import tempfile

        self.repo = repo
        root = index_dir(repo)
        root.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="gen-tmp-", dir=root))
        self.db = sqlite3.connect(self.tmp / "index.db")
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        self.db.executemany("INSERT INTO meta VALUES (?, ?)", sorted({**meta, "schema": str(SCHEMA_VERSION)}.items()))
        # The table's own rank is bm25 with column weights favouring titles and headings over
        # body text; `ORDER BY rank` then lets FTS5 use its optimized top-N path.
        self.db.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('rank', 'bm25(2.0, 1.5, 1.0)')")
        self.rows = 0

    def add_document(self, doc: DocRow, chunks: list[tuple[int, str, str, int, str, int]]) -> list[int]:
        """Insert a document and its chunks ``(ord, heading, text, tokens, embed_hash,
        head_tokens)``; the chunks' rowids, which are also their vector rows + 1, come back."""
        values = doc.to_dict()
        values["supersedes"] = json.dumps(values["supersedes"])
        values["tags"] = json.dumps(values["tags"])
        self.db.execute(f"INSERT INTO documents VALUES ({','.join('?' * len(DOC_COLUMNS))})",
                        [values[c] for c in DOC_COLUMNS])
        rowids = []
        for ord_, heading, text, tokens, embed_hash, head_tokens in chunks:
            self.rows += 1
            rowids.append(self.rows)
            self.db.execute("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (self.rows, doc.id, ord_, heading, text, tokens, embed_hash, head_tokens))
            self.db.execute("INSERT INTO chunks_fts(rowid, title, heading, text) VALUES (?, ?, ?, ?)",
                            (self.rows, doc.title, heading, text))
        return rowids

    def commit(self, vectors: "np.ndarray", previous: int) -> int:
        """Finish the files, move the folder into place, point ``CURRENT`` at it."""
        import os

        import numpy as np

        if vectors.shape[0] != self.rows:
            raise IndexError_(f"internal: {vectors.shape[0]} vectors for {self.rows} chunks")
        self.db.commit()
        self.db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('optimize')")
        self.db.commit()
        self.db.close()
        with (self.tmp / "vectors.npy").open("wb") as fh:
            np.save(fh, np.ascontiguousarray(vectors, dtype=np.float32))
            fh.flush()
            os.fsync(fh.fileno())
        generation = previous + 1
        name = f"gen-{generation:06d}"
        final = index_dir(self.repo) / name
        if final.exists():  # left by a build that died between rename and pointer write
            shutil.rmtree(final)
        os.replace(self.tmp, final)
        atomic_write_text(index_dir(self.repo) / "CURRENT", json.dumps({"generation": generation, "dir": name}))
        sweep(self.repo, keep=name)
        return generation

    def abort(self) -> None:
        try:
            self.db.close()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


def sweep(repo: FlowRepo, keep: str | None) -> None:
    """Remove generations other than ``keep`` and leftovers of interrupted builds.

    Open readers are unaffected on POSIX: their files stay readable until closed."""
    root = index_dir(repo)
    if not root.is_dir():
        return
    for child in root.iterdir():
        if child.is_dir() and child.name.startswith("gen-") and child.name != keep:
            shutil.rmtree(child, ignore_errors=True)


def vector_cache(repo: FlowRepo, embedder: str) -> tuple[dict[str, int], "np.ndarray"] | None:
    """``{embed_hash: row}`` and the vector matrix of the current generation, if it was embedded
    by ``embedder``. Read with the fewest assumptions, so vectors survive a schema change."""
    import numpy as np

    pointer = read_pointer(repo)
    if pointer is None:
        return None
    folder = index_dir(repo) / str(pointer["dir"])
    try:
        db = sqlite3.connect((folder / "index.db").absolute().as_uri() + "?mode=ro", uri=True)
        try:
            meta = dict(db.execute("SELECT key, value FROM meta"))
            if meta.get("embedder") != embedder:
                return None
            rows = {h: rowid - 1 for rowid, h in db.execute("SELECT rowid, embed_hash FROM chunks ORDER BY rowid DESC")}
        finally:
            db.close()
        vectors = np.load(folder / "vectors.npy")
    except (sqlite3.Error, OSError, ValueError):
        return None  # nothing reusable: everything is embedded again
    if rows and max(rows.values()) >= vectors.shape[0]:
        return None
    return rows, vectors


class IndexReader:
    """Read access to the current generation: metadata, chunks, FTS5 and the vector matrix."""

    def __init__(self, repo: FlowRepo) -> None:
        import numpy as np

        pointer = read_pointer(repo)
        if pointer is None:
            raise IndexError_("no index yet", path=index_dir(repo), hint="run `flow index` first")
        self.generation = int(pointer["generation"])
        folder = index_dir(repo) / str(pointer["dir"])
        try:
            self.db = sqlite3.connect((folder / "index.db").absolute().as_uri() + "?mode=ro", uri=True, check_same_thread=False)
            self.meta = dict(self.db.execute("SELECT key, value FROM meta"))
            if self.meta.get("schema") != str(SCHEMA_VERSION):
                self.db.close()
                raise IndexError_(
                    f"the index was written in format {self.meta.get('schema')}, this flowloop reads format "
                    f"{SCHEMA_VERSION}", path=folder, hint="run `flow index`: it updates the index and reuses the stored vectors",
                )
            self.vectors = np.load(folder / "vectors.npy")
            docs = [DocRow.from_sql(r) for r in self.db.execute(f"SELECT {','.join(DOC_COLUMNS)} FROM documents")]
            chunk_docs = self.db.execute("SELECT doc_id FROM chunks ORDER BY rowid").fetchall()
        except (sqlite3.Error, OSError, ValueError) as exc:
            raise IndexError_(f"index generation is unreadable: {exc}", path=folder,
                              hint="run `flow index` to rebuild it from the files") from exc
        self.documents = {d.id: d for d in docs}
        doc_order = {doc_id: i for i, doc_id in enumerate(self.documents)}
        self.doc_ids = list(self.documents)
        # chunk row -> document position, for numpy filters over all chunks at once
        self.chunk_doc = np.fromiter((doc_order[d] for (d,) in chunk_docs), dtype=np.int32, count=len(chunk_docs))
        if self.vectors.shape[0] != len(self.chunk_doc):
            raise IndexError_("index vectors and chunks disagree", path=folder, hint="run `flow index --rebuild`")

    @property
    def chunk_count(self) -> int:
        return int(self.chunk_doc.shape[0])

    def chunks(self, rowids: list[int]) -> dict[int, ChunkRow]:
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        rows = self.db.execute(
            f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE rowid IN ({marks})",
            rowids,
        )
        return {r[0]: ChunkRow(*r) for r in rows}

    def chunks_of(self, doc_id: str) -> list[ChunkRow]:
        rows = self.db.execute(
            f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE doc_id = ? ORDER BY ord",
            (doc_id,),
        )
        return [ChunkRow(*r) for r in rows]

    def all_chunks(self) -> Iterator[ChunkRow]:
        rows = self.db.execute(f"SELECT {CHUNK_COLUMNS} FROM chunks ORDER BY rowid")
        return (ChunkRow(*r) for r in rows)

    def lexical(self, match: str, limit: int) -> list[tuple[int, float]]:
        """(rowid, BM25 score: higher is better) for an FTS5 MATCH expression."""
        if not match:
            return []
        # rank is bm25 (lower is better) with the weights configured at build time.
        rows = self.db.execute(
            "SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?", (match, limit)
        )
        return [(int(rowid), -float(score)) for rowid, score in rows]

    def close(self) -> None:
        self.db.close()

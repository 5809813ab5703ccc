"""The code-aware file index: the repository's tracked source files as a second corpus of cards.

Each tracked source file (``git ls-files``, by extension) becomes a :mod:`file card
<flowloop.index.file_cards>`; cards are embedded with the serving embedder and searched by BM25
(bm25s, in memory: cards are short) and dense cosine, fused by reciprocal rank like the
documents. Incremental: git's blob id of each file says whether it changed, so only changed
files are re-read and re-embedded, and large repositories stay cheap. The index lives in
``.flow/state/files/`` as one folder per generation behind a ``CURRENT`` pointer, replaced
atomically like the document index. It is a corpus of its own: context packs never include it
unless asked (``flow search --corpus files``); the planner localizes files from it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowloop.atomic import atomic_write_text
from flowloop.errors import IndexError_
from flowloop.git import BlobReader, run_git
from flowloop.index.file_cards import file_card
from flowloop.repo import FlowRepo

if TYPE_CHECKING:
    import numpy as np

SOURCE_SUFFIXES = (".py", ".pyi", ".js", ".jsx", ".ts", ".tsx", ".go", ".rs", ".java", ".kt", ".rb", ".php", ".c",
                   ".h", ".cc", ".cpp", ".hpp", ".cs", ".swift", ".scala", ".sh", ".sql")
MAX_FILE_BYTES = 1_000_000


@dataclass
class FileIndexStats:
    files: int = 0
    embedded: int = 0
    removed: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FileHit:
    path: str
    score: float
    card: str


def files_dir(repo: FlowRepo) -> Path:
    return repo.state_dir / "files"


def tracked_sources(repo: FlowRepo, commit: str | None = None) -> dict[str, str]:
    """``{path: blob id}`` of the tracked source files (git's own content hash): of the index,
    or of the tree at ``commit`` (what a past task could see)."""
    if commit is None:
        out = run_git(repo.root, "-c", "core.quotePath=false", "ls-files", "-s", "-z")
    else:
        out = run_git(repo.root, "-c", "core.quotePath=false", "ls-tree", "-r", "-z", commit)
    found = {}
    for entry in out.split("\0"):
        if "\t" not in entry:
            continue
        info, path = entry.split("\t", 1)
        parts = info.split()
        blob = parts[1] if commit is None else (parts[2] if len(parts) >= 3 and parts[1] == "blob" else "")
        if len(parts) >= 2 and blob and path.endswith(SOURCE_SUFFIXES) and not path.startswith(".flow/"):
            found[path] = blob
    return found


def read_cards(blobs: BlobReader, sources: dict[str, str], stats: FileIndexStats) -> dict[str, str]:
    """``{path: card}`` of ``sources`` read through ``blobs``; a file that does not parse still
    gets a card, and its warning goes into ``stats``."""
    cards = {}
    for path, blob in sorted(sources.items()):
        raw = blobs.read_object(blob)
        text = raw.decode("utf-8", "replace") if raw is not None and len(raw) <= MAX_FILE_BYTES else ""
        card = file_card(path, text)
        stats.warnings += card.warnings
        cards[path] = card.text
    return cards


class FileCorpus:
    """File cards and their vectors, searched by BM25 and dense cosine fused by rank; the BM25
    model is built once per corpus (not once per query)."""

    def __init__(self, paths: list[str], cards: list[str], vectors: "np.ndarray", embedder: Path) -> None:
        self.paths, self.cards, self.vectors, self.embedder = paths, cards, vectors, embedder
        self._bm25: Any = None

    def _lexical(self, query: str, k: int) -> list[tuple[int, float]]:
        import bm25s

        if self._bm25 is None:
            self._bm25 = bm25s.BM25()
            self._bm25.index(bm25s.tokenize(self.cards, stopwords="en", show_progress=False), show_progress=False)
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:  # only stopwords: nothing to match
            return []
        ids, scores = self._bm25.retrieve(tokens, k=min(k, len(self.paths)), show_progress=False)
        return [(int(row), float(score)) for row, score in zip(ids[0], scores[0]) if score > 0]

    def search(self, query: str, settings: Any, k: int = 10, query_vector: "np.ndarray | None" = None,
               use_lexical: bool = True, use_dense: bool = True) -> list[FileHit]:
        """The ``k`` best files; ``settings`` carries the fusion weights (``[index]``)."""
        import numpy as np

        from flowloop.index.embedder import query_embedder

        if not self.paths:
            return []
        fused = np.zeros(len(self.paths))
        if use_dense:
            vector = query_vector if query_vector is not None else query_embedder(self.embedder).encode([query])[0]
            dense = self.vectors @ vector
            for position, row in enumerate(np.argsort(-dense)[:50], start=1):
                fused[row] += settings.dense_weight / (settings.rrf_k + position)
        if use_lexical:
            for position, (row, _) in enumerate(self._lexical(query, 50), start=1):
                fused[row] += settings.lexical_weight / (settings.rrf_k + position)
        order = np.argsort(-fused, kind="stable")[:k]
        return [FileHit(self.paths[i], round(float(fused[i]), 6), self.cards[i]) for i in order if fused[i] > 0]


def corpus_at(repo: FlowRepo, commit: str, model_dir: Path) -> tuple[FileCorpus, FileIndexStats]:
    """The file cards of the tree at ``commit``, embedded in memory by ``model_dir`` (nothing is
    written: the evaluation searches the code as it stood before the held-out tasks)."""
    from flowloop.index.embedder import bulk_embedder

    stats = FileIndexStats()
    with BlobReader(repo.root) as blobs:
        cards = read_cards(blobs, tracked_sources(repo, commit), stats)
    paths = sorted(cards)
    stats.files = stats.embedded = len(paths)
    texts = [cards[p] for p in paths]
    vectors = bulk_embedder(model_dir, len(texts)).encode(texts) if texts else _empty()
    return FileCorpus(paths, texts, vectors, model_dir), stats


def _empty() -> "np.ndarray":
    import numpy as np

    return np.zeros((0, 0), np.float32)


def _current(repo: FlowRepo) -> Path | None:
    try:
        name = json.loads((files_dir(repo) / "CURRENT").read_text(encoding="utf-8"))["dir"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as exc:
        raise IndexError_(f"unreadable file-index pointer: {exc}", path=files_dir(repo) / "CURRENT",
                          hint="remove .flow/state/files and run `flow index --files`") from exc
    return files_dir(repo) / name


def _load(folder: Path) -> tuple[dict[str, Any], "np.ndarray"]:
    import numpy as np

    try:
        meta = json.loads((folder / "cards.json").read_text(encoding="utf-8"))
        return meta, np.load(folder / "vectors.npy")
    except (OSError, ValueError) as exc:
        raise IndexError_(f"file index is unreadable: {exc}", path=folder,
                          hint="remove .flow/state/files and run `flow index --files`") from exc


def build_file_index(repo: FlowRepo, embedder_dir: Path | None = None) -> FileIndexStats:
    """Bring the file index up to date with the tracked sources (only changed files are read)."""
    import numpy as np

    from flowloop.index.active import effective_embedder
    from flowloop.index.embedder import bulk_embedder, resolve_model

    model_dir = embedder_dir or resolve_model(effective_embedder(repo), repo.root)
    sources = tracked_sources(repo)
    previous = _current(repo)
    old_meta: dict[str, Any] = {"embedder": None, "files": {}}
    old_vectors = None
    if previous is not None:
        old_meta, old_vectors = _load(previous)
    same_model = old_meta.get("embedder") == str(model_dir)
    old_files = old_meta.get("files", {}) if same_model else {}
    stats = FileIndexStats(files=len(sources), removed=len(set(old_meta.get("files", {})) - set(sources)))
    entries: dict[str, dict[str, Any]] = {}
    fresh: list[str] = []
    changed = {}
    for path, blob in sources.items():
        kept = old_files.get(path)
        if kept is not None and kept["blob"] == blob:
            entries[path] = kept
        else:
            changed[path] = blob
    with BlobReader(repo.root) as blobs:
        for path, card in read_cards(blobs, changed, stats).items():
            entries[path] = {"blob": changed[path], "card": card, "row": None}
            fresh.append(path)
    vectors = bulk_embedder(model_dir, len(fresh)).encode([entries[p]["card"] for p in fresh]) if fresh else None
    stats.embedded = len(fresh)
    rows = []
    for i, path in enumerate(sorted(entries)):
        entry = entries[path]
        if entry["row"] is None:
            rows.append(vectors[fresh.index(path)])  # type: ignore[index]
        else:
            rows.append(old_vectors[entry["row"]])  # type: ignore[index]
        entry["row"] = i
    dim = rows[0].shape[0] if rows else 0
    matrix = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, dim), np.float32)
    root = files_dir(repo)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="gen-tmp-", dir=root))
    try:
        np.save(tmp / "vectors.npy", matrix)
        atomic_write_text(tmp / "cards.json", json.dumps({"embedder": str(model_dir), "files": entries}))
        number = int(previous.name.split("-")[-1]) + 1 if previous is not None else 1
        final = root / f"gen-{number:06d}"
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        atomic_write_text(root / "CURRENT", json.dumps({"dir": final.name}))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for child in root.iterdir():
        if child.is_dir() and child.name.startswith("gen-") and child.name != final.name:
            shutil.rmtree(child, ignore_errors=True)
    return stats


def open_corpus(repo: FlowRepo) -> FileCorpus:
    """The served file index (``flow index --files``) as a searchable corpus."""
    folder = _current(repo)
    if folder is None:
        raise IndexError_("no file index yet", path=files_dir(repo), hint="run `flow index --files` first")
    meta, vectors = _load(folder)
    paths = sorted(meta["files"])
    return FileCorpus(paths, [meta["files"][p]["card"] for p in paths], vectors, Path(meta["embedder"]))


def search_files(repo: FlowRepo, query: str, k: int = 10, rrf_k: int | None = None) -> list[FileHit]:
    """The ``k`` best files for ``query``: BM25 over the cards and dense cosine, fused by rank."""
    settings = repo.settings.index
    if rrf_k is not None:
        settings = settings.model_copy(update={"rrf_k": rrf_k})
    return open_corpus(repo).search(query, settings, k)

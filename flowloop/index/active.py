"""Which embedder the index serves with, and swapping it atomically (issue 16).

``[index] embedder`` names the configured model; a promoted fine-tuned embedder overrides it
through ``.flow/state/index/embedder.json`` (written by the promotion, removed by a rollback to
the stock model). Every generation records the embedder that wrote its vectors, and a
:class:`~flowloop.index.api.Retriever` embeds queries with that one, so queries and vectors can
never come from two models, whatever happens between a swap and the next query.

:func:`switch_embedder` re-embeds everything into a complete new generation before the pointer
moves (the old index serves until then); the vectors of the generation it replaces are parked
under ``index/parked/`` so that switching back (a rollback) reuses them and embeds only chunks
that changed meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowloop.atomic import atomic_write_text
from flowloop.errors import IndexError_
from flowloop.repo import FlowRepo

if TYPE_CHECKING:
    import numpy as np

    from flowloop.index.types import IndexStats

ACTIVE = "embedder.json"
ACTIVE_RERANKER = "reranker.json"
ACTIVE_FUSION = "fusion.json"
# The [index] settings a fitted fusion may replace (``flowloop.evaluate.fusion`` fits them).
FUSION_KEYS = ("lexical_weight", "dense_weight", "rrf_k", "rerank_blend", "relevance_floor")
PARKED = "parked"
KEEP_PARKED = 3


def _index_dir(repo: FlowRepo) -> Path:
    return repo.state_dir / "index"


def _read_pointer(path: Path, what: str, hint: str) -> Any:
    """A pointer file's JSON (None when there is none); an unreadable one is an error naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise IndexError_(f"unreadable {what} pointer: {exc}", path=path, hint=hint) from exc


def active_override(repo: FlowRepo) -> dict[str, Any] | None:
    data = _read_pointer(_index_dir(repo) / ACTIVE, "embedder", "remove it to serve with [index] embedder again")
    return data if isinstance(data, dict) and data.get("embedder") else None


def effective_embedder(repo: FlowRepo) -> str:
    """The embedder the index is built with: the promoted one, else ``[index] embedder``."""
    override = active_override(repo)
    return str(override["embedder"]) if override else repo.settings.index.embedder


def effective_reranker(repo: FlowRepo) -> str:
    """The reranker queries are re-scored with: the promoted one, else ``[index] reranker`` ("" = off)."""
    data = _read_pointer(_index_dir(repo) / ACTIVE_RERANKER, "reranker", "remove it to use [index] reranker again")
    return str(data.get("reranker") or "") if isinstance(data, dict) else repo.settings.index.reranker


def set_reranker(repo: FlowRepo, reranker: str | None, version: str | None = None) -> None:
    """Serve with ``reranker`` (None: back to ``[index] reranker``); one atomic file write."""
    path = _index_dir(repo) / ACTIVE_RERANKER
    if reranker is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"reranker": reranker, "version": version}) + "\n")


def fusion_path(repo: FlowRepo) -> Path:
    return _index_dir(repo) / ACTIVE_FUSION


def active_fusion(repo: FlowRepo) -> dict[str, Any] | None:
    """The promoted fusion (its settings, version and the models it was fitted with), or None."""
    path = fusion_path(repo)
    data = _read_pointer(path, "fusion", "remove it to rank with the [index] weights again")
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("settings"), dict):
        raise IndexError_("unreadable fusion pointer: no settings", path=path,
                          hint="remove it to rank with the [index] weights again")
    return data


def set_fusion(repo: FlowRepo, fusion: dict[str, Any] | None) -> None:
    """Rank with ``fusion`` (``{"settings", "version", "for_embedder", "for_reranker"}``; None: back to
    ``[index]``); one atomic file write."""
    path = fusion_path(repo)
    if fusion is None:
        path.unlink(missing_ok=True)
        return
    unknown = set(fusion["settings"]) - set(FUSION_KEYS)
    if unknown:
        raise IndexError_(f"not a fusion setting: {', '.join(sorted(unknown))}", path=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(fusion) + "\n")


def effective_index_settings(repo: FlowRepo) -> Any:
    """``[index]`` with the promoted fusion applied: only while the embedder and reranker it was
    fitted with still serve (weights fitted for one model are not evidence for another)."""
    fusion = active_fusion(repo)
    settings = repo.settings.index
    if fusion is None:
        return settings
    if fusion.get("for_embedder") != effective_embedder(repo) or (fusion.get("for_reranker") or "") != effective_reranker(repo):
        return settings
    return settings.model_copy(update={k: v for k, v in fusion["settings"].items() if k in FUSION_KEYS})


def _key(embedder: str) -> str:
    return hashlib.sha256(embedder.encode("utf-8")).hexdigest()[:16]


def park_current(repo: FlowRepo) -> None:
    """Keep the current generation's vectors (and which text each embeds) for a later switch back."""
    import numpy as np

    from flowloop.index.store import index_dir, read_pointer

    pointer = read_pointer(repo)
    if pointer is None:
        return
    folder = index_dir(repo) / str(pointer["dir"])
    try:
        db = sqlite3.connect((folder / "index.db").absolute().as_uri() + "?mode=ro", uri=True)
        try:
            embedder = dict(db.execute("SELECT key, value FROM meta")).get("embedder", "")
            hashes = [h for (h,) in db.execute("SELECT embed_hash FROM chunks ORDER BY rowid")]
        finally:
            db.close()
        vectors = np.load(folder / "vectors.npy")
    except (sqlite3.Error, OSError, ValueError):
        return  # nothing readable to keep; a switch back embeds again
    target = index_dir(repo) / PARKED / _key(embedder)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    np.save(tmp / "vectors.npy", vectors)
    atomic_write_text(tmp / "meta.json", json.dumps({"embedder": embedder, "hashes": hashes}))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    parked = sorted((p for p in target.parent.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in parked[:-KEEP_PARKED]:
        shutil.rmtree(old, ignore_errors=True)


def parked_cache(repo: FlowRepo, embedder: str) -> tuple[dict[str, int], "np.ndarray"] | None:
    """``{embed_hash: row}`` and vectors parked for ``embedder``, if any."""
    import numpy as np

    folder = _index_dir(repo) / PARKED / _key(embedder)
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        vectors = np.load(folder / "vectors.npy")
    except (OSError, ValueError):
        return None
    if meta.get("embedder") != embedder or len(meta.get("hashes", [])) != vectors.shape[0]:
        return None
    return {h: row for row, h in enumerate(meta["hashes"])}, vectors


def switch_embedder(repo: FlowRepo, embedder: str | None, version: str | None = None,
                    progress: Any = None) -> "IndexStats":
    """Serve with ``embedder`` (a model folder; None: back to ``[index] embedder``).

    The new generation is embedded whole and swapped in before the pointer file changes; a
    failure on the way leaves the old generation and the old pointer serving."""
    from flowloop.index.build import build_index

    target = embedder or repo.settings.index.embedder
    park_current(repo)
    stats = build_index(repo, progress=progress, embedder=target)
    path = _index_dir(repo) / ACTIVE
    if embedder is None:
        path.unlink(missing_ok=True)
    else:
        atomic_write_text(path, json.dumps({"embedder": embedder, "version": version}) + "\n")
    return stats

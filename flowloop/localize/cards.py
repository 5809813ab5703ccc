"""The file index of Step 2 as localizer evidence: each file's card as it stood before a task.

A file's card (:func:`flowloop.index.file_cards.file_card`: its docstring and top-level
definitions) is made from the file's content at its latest change that finished before the
task's planning moment: the blob of that path at the commit of the last earlier work record that
touched it. A later version never reaches an earlier task, because the version is looked up
through the same as-of cutoff as every other file feature (:class:`FileHistory`), and a cached
card is keyed by ``(path, commit)``, not by path. Blobs are read through one ``git cat-file
--batch`` process per batch (:class:`~flowloop.git.BlobReader`), the needed versions plus the
next ``READ_AHEAD`` records' (which a task walked oldest first will need next), so a history of
thousands of commits costs a few processes, and every version is parsed once.

The task description is scored against the cards of every file that exists as of the task by an
as-of Okapi BM25 (document frequencies over those cards only) with the tokens of the similar-task
search. Where the records carry no commit (signals-only records), there is no git repository,
or a file was deleted or is no source file, there is no card: its score is 0.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from flowloop.git import BlobReader, is_toplevel
from flowloop.index.file_cards import file_card
from flowloop.index.file_index import MAX_FILE_BYTES, SOURCE_SUFFIXES
from flowloop.localize.history import FileHistory
from flowloop.pipeline.similar import idf, term_weight, tokens

READ_AHEAD = 200  # records whose versions one batch also reads (the next tasks of a walk need them)

Version = tuple[str, str]  # (path, commit)


def card_root(root: Path | None) -> Path | None:
    """``root`` when it is the top of its own git work tree (a ``.flow`` project in a subfolder
    of a bigger checkout does not own that checkout's history), else None: no cards."""
    return root if root is not None and is_toplevel(root) else None


class CardHistory:
    """Cards of every file version the work records name, read lazily, searchable as of any cutoff."""

    def __init__(self, files: FileHistory, root: Path | None) -> None:
        self.files = files
        self.root = root
        self._terms: dict[Version, tuple[Counter[str], int] | None] = {}
        self.blob_reads = 0

    def version(self, path: str, n: int) -> Version | None:
        """``(path, commit)`` of the last of the first ``n`` records that touched ``path``."""
        seen = self.files.seen(path, n)
        commit = self.files.records[seen[-1]].commit if seen else None
        return (path, commit) if commit else None

    def _versions_of(self, start: int, end: int) -> list[Version]:
        return [(p, r.commit) for r in self.files.records[start:end] if r.commit
                for p in r.files if p.endswith(SOURCE_SUFFIXES)]

    def _read(self, wanted: list[Version]) -> None:
        missing = [v for v in dict.fromkeys(wanted) if v not in self._terms]
        if not missing or self.root is None:
            self._terms.update((v, None) for v in missing)
            return
        with BlobReader(self.root) as blobs:
            for path, commit in missing:
                raw = blobs.read(commit, path)
                self.blob_reads += 1
                if raw is None or len(raw) > MAX_FILE_BYTES or b"\0" in raw[:8000]:
                    self._terms[(path, commit)] = None  # deleted there, too large, or binary
                    continue
                counts = Counter(tokens(file_card(path, raw.decode("utf-8", "replace")).text))
                self._terms[(path, commit)] = (counts, sum(counts.values()))

    def cards_as_of(self, n: int) -> dict[str, tuple[Counter[str], int]]:
        """``{path: (card terms, length)}`` of every file with a card as of the first ``n`` records."""
        versions = {}
        for path in self.files.known_files(n):
            if path.endswith(SOURCE_SUFFIXES) and (found := self.version(path, n)) is not None:
                versions[path] = found
        wanted = [v for v in versions.values() if v not in self._terms]
        if wanted:
            # the next records' versions too: a walk oldest first asks for them next (caching
            # a later version is harmless: a lookup always goes through the as-of version)
            self._read(wanted + self._versions_of(n, min(len(self.files.records), n + READ_AHEAD)))
        return {path: card for path, found in versions.items() if (card := self._terms.get(found))}

    def scores(self, description: str, n: int) -> dict[str, float]:
        """BM25 of ``description`` against each card as of the first ``n`` records (files with a
        positive score only); the corpus statistics are those of the same cards."""
        query = set(tokens(description))
        if self.root is None or not query or n == 0:
            return {}
        cards = self.cards_as_of(n)
        if not cards:
            return {}
        avgdl = max(sum(length for _, length in cards.values()) / len(cards), 1e-9)
        df = {t: sum(1 for counts, _ in cards.values() if t in counts) for t in query}
        weights = {t: idf(len(cards), d) for t, d in df.items() if d}
        out: dict[str, float] = {}
        for path, (counts, length) in cards.items():
            score = 0.0
            for term, weight in weights.items():
                tf = counts.get(term, 0)
                if tf:
                    score += weight * term_weight(tf, length, avgdl)
            if score > 0:
                out[path] = score
        return out

"""Candidate files for one task and their features, computed only from what came before it.

Candidates come from every source the history offers as of the task's planning moment: the
files of the most similar earlier tasks (the lexical, as-of BM25 of
:class:`~flowloop.pipeline.similar.TaskHistory`), the files that changed together with the best
of those (co-change over earlier work records, which are the repository's commits), the
``sources`` of the documents (PILRs) most similar to the task among those written before it
(the same as-of BM25 over title and body; a document counts from the day after its creation
date, as the dataset build treats it), files whose path words the task description names, and
the files whose cards (the file index's outline of a file, made from its content at its last
change before the task: ``cards``) best match the task. Each candidate gets one row of :data:`FEATURES`;
all of them read the history through a cutoff (``before``), so a later commit can never
reach a feature (``tests/localize/test_features.py`` plants one and checks).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flowloop.localize.cards import CardHistory
from flowloop.localize.history import COCHANGE_WINDOW, FileHistory
from flowloop.pilr.model import Pilr
from flowloop.pipeline.records import WorkRecord, date_time
from flowloop.pipeline.similar import SimilarTask, TaskHistory, similar_files, tokens

K_SIMILAR = 10  # earlier tasks a candidate can come from (retrieval-only looks at the top few)
COCHANGE_SEEDS = 3  # best retrieved files whose co-change partners become candidates
COCHANGE_PER_SEED = 8
PATH_CANDIDATES = 8
K_DOCUMENTS = 3
DOC_TEXT_CHARS = 1500
CARD_CANDIDATES = 5  # best files by card similarity that become candidates

FEATURES: tuple[str, ...] = (
    "sim_sum",  # summed similarity (relative to the nearest task) of the similar tasks touching it
    "sim_max",
    "sim_rank",  # 1 / (1 + rank of the best similar task touching it)
    "n_similar",  # share of the similar tasks touching it
    "retrieval_rank",  # 1 / (1 + its rank in retrieval-only's list); 0 when not in it
    "in_nearest",
    "path_overlap",  # share of the path's words named in the task
    "path_shared",  # task words in the path (capped at 3, over 3)
    "log_frequency",  # log(1 + earlier changes of the file)
    "recency",  # 1 / (1 + records since its last change / 10)
    "never_changed",
    "cochange",  # strongest P(file changes | seed file changes) over the seeds
    "cochange_count",
    "is_test",
    "is_doc",
    "is_code",
    "nearest_size",  # log(1 + files of the nearest task): how large the change probably is
    "top_score",  # log(1 + BM25 score of the nearest task): how good the precedents are
    "doc_sum",  # summed similarity (relative to the best) of the earlier documents citing it as a source
    "doc_max",
    "card_score",  # BM25 of the task against the file's as-of card, relative to the best card's
    "card_rank",  # 1 / (1 + its rank among all files by card score); 0 without a card match
)

_DOC = (".md", ".rst", ".txt", ".adoc")
_CODE = (".py", ".js", ".ts", ".go", ".rs", ".java", ".c", ".h", ".cpp", ".rb", ".sh")


@dataclass
class Candidates:
    """One task's candidate files, their feature rows (aligned), and the retrieval list."""

    paths: list[str]
    rows: list[list[float]]
    retrieval: list[str] = field(default_factory=list)
    similar: list[SimilarTask] = field(default_factory=list)


def document_records(pilrs: Sequence[Pilr]) -> list[WorkRecord]:
    """PILRs that name ``sources``, as records an as-of BM25 can search: text = title and the
    start of the body, files = the sources, time = midnight of the creation date (so a document
    written the day a task was planned is not seen by it)."""
    out = []
    for doc in pilrs:
        if doc.meta.sources:
            created = date_time(doc.meta.created)
            out.append(WorkRecord(task=doc.meta.task or f"pilr:{doc.id}",
                                  description=f"{doc.meta.title}\n{doc.body[:DOC_TEXT_CHARS]}",
                                  files=list(doc.meta.sources), time=created, as_of=created, event_id=doc.id))
    return out


class FeatureBuilder:
    """Holds the task, file and document histories across many tasks (a training run, an evaluation)."""

    def __init__(self, records: Sequence[WorkRecord], k: int = K_SIMILAR, documents: Sequence[Pilr] = (),
                 root: Path | None = None) -> None:
        """``root``: the git work tree the records' commits are in (None: no file cards)."""
        self.tasks = TaskHistory(records)
        self.files = FileHistory(records)
        self.cards = CardHistory(self.files, root)
        self.docs = TaskHistory(document_records(documents))
        self.k = k
        self._path_words: dict[str, frozenset[str]] = {}

    def path_words(self, path: str) -> frozenset[str]:
        if path not in self._path_words:
            self._path_words[path] = frozenset(tokens(path.replace("/", " ").replace(".", " ")))
        return self._path_words[path]

    def candidates(self, description: str, before: dt.datetime, exclude_task: str | None = None) -> Candidates:
        """Candidates and features for a task planned at ``before`` (see the module docstring)."""
        similar = self.tasks.similar(description, before=before, k=self.k, exclude_task=exclude_task)
        n = self.files.cutoff(before)
        words = frozenset(tokens(description))
        sim: dict[str, list[tuple[int, float]]] = {}
        top = max((s.score for s in similar), default=0.0) or 1.0
        for rank, task in enumerate(similar):
            for path in dict.fromkeys(task.files):
                sim.setdefault(path, []).append((rank, task.score / top))
        retrieval = similar_files(similar)
        order = {p: i for i, p in enumerate(retrieval)}
        cochange: dict[str, tuple[float, int]] = {}
        for seed in retrieval[:COCHANGE_SEEDS]:
            # co-change is counted over the seed's last COCHANGE_WINDOW changes: divide by those
            window = max(1, min(self.files.frequency(seed, n), COCHANGE_WINDOW))
            for path, count in self.files.cochanged(seed, n).most_common(COCHANGE_PER_SEED * 2):
                strength = count / window
                if strength > cochange.get(path, (0.0, 0))[0]:
                    cochange[path] = (strength, count)
        by_path: list[tuple[int, int, str]] = []
        if words:
            for path in self.files.known_files(n):
                shared = len(words & self.path_words(path))
                if shared:
                    by_path.append((shared, self.files.frequency(path, n), path))
        by_path.sort(key=lambda t: (-t[0], -t[1], t[2]))
        ranked_cochange = sorted(cochange, key=lambda p: (-cochange[p][0], p))
        doc_hits: dict[str, list[float]] = {}
        cited = self.docs.similar(description, before=before, k=K_DOCUMENTS, exclude_task=exclude_task)
        best_doc = max((d.score for d in cited), default=0.0) or 1.0
        for doc in cited:
            for path in dict.fromkeys(doc.files):
                doc_hits.setdefault(path, []).append(doc.score / best_doc)
        card_scores = self.cards.scores(description, n)
        by_card = sorted(card_scores, key=lambda p: (-card_scores[p], p))
        card_order = {p: i for i, p in enumerate(by_card)}
        best_card = card_scores[by_card[0]] if by_card else 1.0
        paths = list(dict.fromkeys([*retrieval, *ranked_cochange[: COCHANGE_PER_SEED * COCHANGE_SEEDS],
                                    *doc_hits, *(p for _, _, p in by_path[:PATH_CANDIDATES]),
                                    *by_card[:CARD_CANDIDATES]]))
        nearest = set(similar[0].files) if similar else set()
        nearest_size = math.log1p(len(nearest))
        top_score = math.log1p(max((s.score for s in similar), default=0.0))
        rows = []
        for path in paths:
            hits = sim.get(path, [])
            path_words = self.path_words(path)
            shared = len(words & path_words)
            age = self.files.age(path, n)
            strength, count = cochange.get(path, (0.0, 0))
            lower = path.lower()
            rows.append([
                sum(s for _, s in hits),
                max((s for _, s in hits), default=0.0),
                1.0 / (1 + min(r for r, _ in hits)) if hits else 0.0,
                len(hits) / max(1, len(similar)),
                1.0 / (1 + order[path]) if path in order else 0.0,
                1.0 if path in nearest else 0.0,
                shared / len(path_words) if path_words else 0.0,
                min(shared, 3) / 3,
                math.log1p(self.files.frequency(path, n)),
                0.0 if age is None else 1.0 / (1 + age / 10),
                1.0 if age is None else 0.0,
                strength,
                math.log1p(count),
                1.0 if "test" in lower else 0.0,
                1.0 if lower.endswith(_DOC) or lower.startswith("docs/") else 0.0,
                1.0 if lower.endswith(_CODE) else 0.0,
                nearest_size,
                top_score,
                sum(doc_hits.get(path, [])),
                max(doc_hits.get(path, [0.0])),
                card_scores.get(path, 0.0) / best_card,
                1.0 / (1 + card_order[path]) if path in card_order else 0.0,
            ])
        return Candidates(paths, rows, retrieval, similar)


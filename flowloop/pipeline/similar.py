"""Lexical similarity between a task description and the work records that came BEFORE it.

The "similar past tasks" of a planning prompt, and the retrieval-only baseline, may only look at
tasks that had finished when the new one was planned. Corpus statistics must be "as of" too:
a term's rarity is counted over earlier records only, so no later task leaks in through idf.
A static BM25 index cannot be cut at an arbitrary time, so this is a small Okapi BM25 over an
inverted index whose postings are ordered by finish time: the statistics of any prefix of
history come from a bisect, and a query costs O(query terms x postings).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from flowloop.pipeline.records import WorkRecord
from flowloop.text import TASK

K1 = 1.2
B = 0.75


def idf(documents: int, df: int) -> float:
    """Okapi BM25's inverse document frequency (the non-negative form)."""
    return math.log(1 + (documents - df + 0.5) / (df + 0.5))


def term_weight(tf: int, length: float, avgdl: float) -> float:
    """Okapi BM25's saturated term frequency of one term in one document."""
    return tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / avgdl))


def tokens(text: str) -> list[str]:
    """Lowercase word tokens without stop words; ``snake_case`` and paths split apart."""
    return TASK.tokens(text)


@dataclass(frozen=True)
class SimilarTask:
    """An earlier work record and how similar its description is to the query."""

    task: str
    description: str
    files: tuple[str, ...]
    time: dt.datetime
    score: float


class TaskHistory:
    """Finished work records, searchable as of any moment."""

    def __init__(self, records: Sequence[WorkRecord]) -> None:
        self.records = sorted(records, key=lambda r: (r.time, r.task))
        self.times = [r.time for r in self.records]
        self.term_counts = [Counter(tokens(r.description)) for r in self.records]
        lengths = [sum(c.values()) for c in self.term_counts]
        self.length_prefix = [0]
        for length in lengths:
            self.length_prefix.append(self.length_prefix[-1] + length)
        self.postings: dict[str, list[int]] = {}
        for index, counts in enumerate(self.term_counts):
            for term in counts:
                self.postings.setdefault(term, []).append(index)

    def similar(
        self, description: str, before: dt.datetime, k: int = 3, exclude_task: str | None = None
    ) -> list[SimilarTask]:
        """The ``k`` records most similar to ``description`` that finished strictly before ``before``."""
        n = bisect.bisect_left(self.times, before)
        if n == 0 or k <= 0:
            return []
        avgdl = max(self.length_prefix[n] / n, 1e-9)
        scores: dict[int, float] = {}
        for term in set(tokens(description)):
            posting = self.postings.get(term)
            if not posting:
                continue
            df = bisect.bisect_left(posting, n)
            if df == 0:
                continue
            weight = idf(n, df)
            for index in posting[:df]:
                tf = self.term_counts[index][term]
                length = self.length_prefix[index + 1] - self.length_prefix[index]
                scores[index] = scores.get(index, 0.0) + weight * term_weight(tf, length, avgdl)
        ranked = sorted(
            (i for i, s in scores.items() if s > 0 and self.records[i].task != exclude_task),
            key=lambda i: (-scores[i], -self.times[i].timestamp(), self.records[i].task),
        )
        return [
            SimilarTask(
                task=self.records[i].task,
                description=self.records[i].description,
                files=tuple(self.records[i].files),
                time=self.records[i].time,
                score=round(scores[i], 6),
            )
            for i in ranked[:k]
        ]


def similar_files(similar: Sequence[SimilarTask], limit: int | None = None) -> list[str]:
    """Files of the similar tasks, ranked by the summed similarity of the tasks that touched them."""
    weight: dict[str, float] = {}
    order: dict[str, int] = {}
    for task in similar:
        for path in task.files:
            weight[path] = weight.get(path, 0.0) + task.score
            order.setdefault(path, len(order))
    ranked = sorted(weight, key=lambda p: (-weight[p], order[p]))
    return ranked[:limit] if limit is not None else ranked

"""Exact and near-duplicate removal, so no example is counted (or weighted) twice.

Two examples are compared by what they teach: the core of the prompt (``Example.key``, not the
retrieved context) and the answer. Exact duplicates are found by a hash of the normalized text;
near duplicates by rapidfuzz's normalized Indel similarity (``fuzz.ratio``) at or above
``[dataset] near_dup_threshold`` on EVERY field (prompt core, completion; or prompt core,
chosen, rejected), within the same pass and kind. rapidfuzz's ``cdist`` computes
the similarity matrix in C, a block of rows at a time, so memory stays bounded.

The first example in the canonical order (documents without a time, then oldest first, then
by id) is kept, so a later, held-out example never survives in place of an earlier one and
the result does not depend on input order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flowloop.pipeline.records import Example, stable_hash

BLOCK = 512


@dataclass(frozen=True)
class DedupResult:
    kept: list[Example]
    exact: int
    near: int


def canonical_order(examples: list[Example]) -> list[Example]:
    return sorted(examples, key=lambda e: (e.time is not None, e.time.timestamp() if e.time else 0.0, e.id))


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def _text(example: Example) -> str:
    return _normal(f"{example.key}\n{example.answer_text()}")


def _fields(example: Example) -> list[str]:
    """What must ALL be near-identical for two examples to be near duplicates.

    Compared field by field, not concatenated: two pairs from one preference event share a
    long prompt and the chosen answer but differ in the rejected option, and a violation and
    its compliant twin share a long context but answer oppositely. Neither is a duplicate.
    """
    return [_normal(example.key), *(_normal(text) for _, text in example.answers())]


def _near_duplicates(columns: list[list[str]], cutoff: float) -> set[int]:
    """Rows whose every column is similar (>= cutoff, 0-100) to a kept earlier row's."""
    import numpy as np
    from rapidfuzz import fuzz, process

    n = len(columns[0])
    neighbours: dict[int, list[int]] = {}
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        similar = None
        for column in columns:
            scores = process.cdist(column[start:stop], column, scorer=fuzz.ratio, score_cutoff=cutoff, workers=1)
            similar = scores if similar is None else np.minimum(similar, scores)
        assert similar is not None
        for offset in range(stop - start):
            i = start + offset
            later = (similar[offset, i + 1 :] >= cutoff).nonzero()[0] + i + 1
            if len(later):
                neighbours[i] = [int(j) for j in later]
    dropped: set[int] = set()
    for i in range(n):
        if i not in dropped:
            dropped.update(neighbours.get(i, []))
    return dropped


def deduplicate(examples: list[Example], threshold: float) -> DedupResult:
    """Examples without exact or near duplicates, in canonical order."""
    ordered = canonical_order(examples)
    seen: set[str] = set()
    unique: list[Example] = []
    for example in ordered:
        digest = stable_hash(example.pass_, _text(example))
        if digest not in seen:
            seen.add(digest)
            unique.append(example)
    exact = len(ordered) - len(unique)
    if threshold >= 1.0 or threshold <= 0:
        return DedupResult(unique, exact, 0)
    groups: dict[tuple[str, str], list[int]] = {}
    for index, example in enumerate(unique):
        groups.setdefault((example.pass_, example.kind), []).append(index)
    dropped: set[int] = set()
    for members in groups.values():
        if len(members) < 2:
            continue
        rows = [_fields(unique[i]) for i in members]
        columns = [list(column) for column in zip(*rows, strict=True)]
        dropped.update(members[i] for i in _near_duplicates(columns, threshold * 100))
    kept = [e for i, e in enumerate(unique) if i not in dropped]
    return DedupResult(kept, exact, len(dropped))

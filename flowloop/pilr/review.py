"""``flow pilr review``: the upward-flow queue, and the knowledge that needs a human's look.

Two kinds of upward items: ephemeral documents of finished tasks whose knowledge has not moved up yet
(still active, nothing derived from them), and recurring patterns among cumulative entries
(three or more lexically similar entries not yet promoted). A task counts as finished when a
``work_record`` event names it in the signals store, or when a commit message in the git history
mentions its id. Each upward item carries the size change its move would make (``collapse``).

Three kinds of attention items: proposed documents waiting in quarantine with their screen
findings (``quarantine``), documents injected into repeatedly failing work ("review: possibly
misleading", ``helpfulness``), and documents possibly stale against the code (``staleness``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from flowloop.errors import GitError
from flowloop.git import is_toplevel, run_git
from flowloop.pilr import collapse
from flowloop.pilr.helpfulness import Helpfulness
from flowloop.pilr.model import Pilr, PilrStatus, PilrType
from flowloop.pilr.screen import Finding
from flowloop.pilr.staleness import Staleness
from flowloop.pilr.store import PilrStore
from flowloop.text import REVIEW



@dataclass
class FinishedTask:
    document: Pilr
    evidence: str
    size_change: collapse.SizeChange | None = None  # what archiving it keeps of it


@dataclass
class PatternCluster:
    documents: list[Pilr]
    similarity: float
    terms: list[str] = field(default_factory=list)
    size_change: collapse.SizeChange | None = None  # what promoting them carries upward


@dataclass
class ReviewQueue:
    to_archive: list[FinishedTask] = field(default_factory=list)
    to_promote: list[PatternCluster] = field(default_factory=list)
    proposed: list[tuple[Pilr, list[Finding]]] = field(default_factory=list)
    misleading: list[tuple[Pilr, Helpfulness]] = field(default_factory=list)
    stale: list[tuple[Pilr, Staleness]] = field(default_factory=list)

    def __len__(self) -> int:
        return (len(self.to_archive) + len(self.to_promote) + len(self.proposed) + len(self.misleading)
                + len(self.stale))


def _git_task_mentions(root: Path, task_ids: set[str]) -> dict[str, str]:
    """Task ids mentioned in commit messages -> the short sha that mentions it.

    Only the repository's own history counts (``root`` is the top of its work tree); no git, no
    commits yet or a slow history mean no evidence from git, never an error."""
    if not task_ids or not is_toplevel(root):
        return {}
    try:
        out = run_git(root, "log", "--format=%h%x00%B%x01", timeout=60)
    except GitError:
        return {}
    pattern = re.compile("|".join(re.escape(t) for t in sorted(task_ids, key=len, reverse=True)))
    found: dict[str, str] = {}
    for record in out.split("\x01"):
        sha, _, message = record.strip().partition("\x00")
        for match in pattern.finditer(message):
            found.setdefault(match.group(0), sha)
    return found


def _signal_task_records(store: PilrStore, task_ids: set[str]) -> dict[str, str]:
    """Task ids with a ``work_record`` in the signals store (only when a store exists)."""
    repo = store.repo
    if not task_ids or not (repo.settings.database_url or (repo.state_dir / "signals.db").exists()):
        return {}
    from flowloop.signals.store import open_store  # SQLAlchemy loads only when there is a store

    with open_store(repo) as signals:
        records = signals.query(kind="work_record")
    return {e.task: f"work record {e.id}" for e in records if e.task in task_ids}


def finished_unarchived(store: PilrStore, documents: list[Pilr]) -> list[FinishedTask]:
    derived = {origin for doc in documents for origin in doc.meta.derived_from}
    candidates = [
        d
        for d in documents
        if d.type == PilrType.EPHEMERAL and d.status == PilrStatus.ACTIVE and d.meta.task and d.id not in derived
    ]
    tasks = {d.meta.task for d in candidates if d.meta.task}
    evidence = _git_task_mentions(store.repo.root, tasks)
    for task, why in _signal_task_records(store, tasks).items():
        evidence.setdefault(task, why)
    for task, sha in list(evidence.items()):
        if not sha.startswith("work record"):
            evidence[task] = f"commit {sha}"
    return [
        FinishedTask(d, evidence[d.meta.task], collapse.upward_change([d], collapse.ARCHIVE_SECTIONS))
        for d in candidates
        if d.meta.task in evidence
    ]


def _vectors(docs: list[Pilr]) -> list[dict[str, float]]:
    """TF-IDF vectors over title and body words (lexical similarity, as the review asks)."""
    bags = [Counter(REVIEW.tokens(f"{d.title} {d.title} {d.body}")) for d in docs]
    df = Counter(w for bag in bags for w in bag)
    n = len(docs)
    vectors = []
    for bag in bags:
        vec = {w: (1 + math.log(c)) * math.log((1 + n) / (1 + df[w])) for w, c in bag.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors.append({w: v / norm for w, v in vec.items()})
    return vectors


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())


def recurring_patterns(documents: list[Pilr], threshold: float, min_cluster: int) -> list[PatternCluster]:
    """Clusters (connected components of 'similar' pairs) of unpromoted cumulative entries."""
    promoted = {o for d in documents if d.type == PilrType.EVERGREEN for o in d.meta.derived_from}
    docs = [
        d
        for d in documents
        if d.type == PilrType.CUMULATIVE and d.status == PilrStatus.ACTIVE and d.id not in promoted
    ]
    vectors = _vectors(docs)
    parent = list(range(len(docs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pair_sims: dict[tuple[int, int], float] = {}
    for i in range(len(docs)):
        for j in range(i + 1, len(docs)):
            sim = _cosine(vectors[i], vectors[j])
            if sim >= threshold:
                pair_sims[(i, j)] = sim
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(docs)):
        groups.setdefault(find(i), []).append(i)
    clusters = []
    for members in groups.values():
        if len(members) < min_cluster:
            continue
        sims = [s for (i, j), s in pair_sims.items() if i in members and j in members]
        shared = Counter(w for i in members for w in vectors[i])
        terms = [w for w, c in shared.most_common() if c == len(members)][:6]
        members_docs = [docs[i] for i in members]
        clusters.append(
            PatternCluster(documents=members_docs, similarity=sum(sims) / len(sims), terms=terms,
                           size_change=collapse.upward_change(members_docs, collapse.PROMOTE_SECTIONS))
        )
    clusters.sort(key=lambda c: (-len(c.documents), -c.similarity))
    return clusters


def possibly_misleading(store: PilrStore, documents: list[Pilr]) -> list[tuple[Pilr, Helpfulness]]:
    """Active documents injected into repeatedly failing work (lowest helpfulness first)."""
    from flowloop.pilr.helpfulness import compute

    settings = store.repo.settings.pilr
    helpful = compute(store.repo)
    found = [(d, helpful[d.id]) for d in documents if d.status is PilrStatus.ACTIVE and d.id in helpful
             and helpful[d.id].misleading(settings.misleading_below, settings.misleading_min_failures)]
    return sorted(found, key=lambda item: (item[1].mean, item[0].id))


def review_queue(store: PilrStore, staleness: bool = True) -> ReviewQueue:
    """Everything waiting for a human: upward moves, quarantine, misleading and stale documents.
    Refuses a broken store (the first error is raised)."""
    from flowloop.pilr.quarantine import pending
    from flowloop.pilr.staleness import check

    documents = store.load()
    settings = store.repo.settings.pilr
    by_id = {d.id: d for d in documents}
    stale = check(store.repo, documents).stale() if staleness else {}
    return ReviewQueue(
        to_archive=finished_unarchived(store, documents),
        to_promote=recurring_patterns(documents, settings.review_similarity, settings.review_min_cluster),
        proposed=pending(documents),
        misleading=possibly_misleading(store, documents),
        stale=[(by_id[doc_id], result) for doc_id, result in sorted(stale.items())],
    )

"""Training pairs for the embedder and the reranker, mined from the work as of a moment.

Four sources (issue 16), every one bounded by the cut ``as_of`` so nothing later leaks in:

- ``commit``: a commit's subject -> each documentation or PILR section it added or changed, as
  that commit left it (the commit changed them because they were about it);
- ``derived_from`` / ``sources``: an ephemeral task note's title -> sections of the evergreen
  and cumulative documents derived from it; a document's title -> the file card of each code
  path in its ``sources``;
- ``usage``: a retrieval query -> the documents injected (or used) for a task whose outcome
  held; the documents injected for a task that was reverted or corrected become 0-labelled
  pairs (the reranker's negatives);
- ``heading``: cold start, a section's heading -> its section.

Hard negatives (``retrieval_negatives``) are added to every positive pair. Each pair carries
its provenance (``source``: the commit, PILR or event it came from) and is scrubbed like every
dataset row. :func:`heldout_queries` writes the evaluation side: commits after the cut, their
subject as the query, the documents they changed as the answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flowloop.index.file_cards import file_card
from flowloop.pilr.model import PilrType
from flowloop.pipeline.records import iso, stable_hash
from flowloop.pipeline.retrieval_corpus import Corpus, Section, changed_sections, corpus_as_of, doc_commits, read_file_at
from flowloop.repo import FlowRepo
from flowloop.scrub import scrub
from flowloop.types import Progress

KINDS = ("commit", "derived_from", "sources", "usage", "heading")
# Commit subjects that say nothing about their content.
_NOT_A_QUERY = re.compile(r"^(merge\b|release\b|bump\b|version\b|prepare\b.*release|revert\b|changelog\b|update changes)",
                          re.IGNORECASE)


@dataclass
class RetrievalPair:
    """One (query, passage) example; ``label`` 1 is relevant, 0 a known-bad injection."""

    query: str
    passage: str
    doc: str
    kind: str
    source: str
    time: dt.datetime | None
    label: float = 1.0
    heading: str = ""
    negatives: list[str] = field(default_factory=list)
    negative_docs: list[str] = field(default_factory=list)
    relevant: frozenset[str] = frozenset()  # docs that must not be negatives (all the commit changed)

    @property
    def id(self) -> str:
        return "rp-" + stable_hash(self.kind, self.source, self.query, self.doc, self.heading, self.label)

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id, "query": scrub(self.query), "passage": scrub(self.passage), "doc": self.doc,
            "heading": self.heading, "label": self.label, "negatives": [scrub(n) for n in self.negatives],
            "negative_docs": self.negative_docs, "kind": self.kind, "source": self.source, "time": iso(self.time),
        }


@dataclass
class MinedPairs:
    pairs: list[RetrievalPair]
    counts: dict[str, int]
    commit: str | None
    as_of: dt.datetime | None
    warnings: list[str] = field(default_factory=list)


def is_query(text: str, min_chars: int) -> bool:
    text = text.strip()
    return len(text) >= min_chars and not _NOT_A_QUERY.match(text)


def commit_pairs(repo: FlowRepo, as_of: dt.datetime | None, progress: Progress | None = None) -> list[RetrievalPair]:
    """Commit subject -> the sections it changed, for commits at or before ``as_of``."""
    s = repo.settings.retrieval
    commits = [c for c in doc_commits(repo, as_of, s.history_commits) if is_query(c.subject, s.min_query_chars)]
    pairs = []
    for done, (commit, changes) in enumerate(changed_sections(repo, commits, s.sections_per_doc), start=1):
        relevant = frozenset(change.doc for change in changes)
        for change in changes:
            for section in change.sections:
                pairs.append(RetrievalPair(
                    commit.subject, section.text(s.passage_chars), section.doc, "commit",
                    f"git:{commit.sha[:12]}:{change.path}", commit.time, heading=section.heading, relevant=relevant,
                ))
        if progress is not None:
            progress(done, len(commits))
    return pairs


def link_pairs(repo: FlowRepo, corpus: Corpus) -> tuple[list[RetrievalPair], list[str]]:
    """``derived_from`` (task note -> durable document) and ``sources`` (document -> code file)."""
    s = repo.settings.retrieval
    by_id = {p.id: p for p in corpus.pilrs}
    sections: dict[str, list[Section]] = defaultdict(list)
    for section in corpus.sections:
        sections[section.doc].append(section)
    pairs: list[RetrievalPair] = []
    warnings: list[str] = []
    for doc in corpus.pilrs:
        if doc.type is PilrType.EPHEMERAL:
            continue
        when = dt.datetime.combine(doc.meta.created, dt.time.min, tzinfo=dt.timezone.utc)
        for parent_id in doc.meta.derived_from:
            note = by_id.get(parent_id)
            if note is None or note.type is not PilrType.EPHEMERAL or not is_query(note.title, s.min_query_chars):
                continue
            for section in sections.get(doc.id, [])[: s.sections_per_doc]:
                pairs.append(RetrievalPair(note.title, section.text(s.passage_chars), doc.id, "derived_from",
                                           f"pilr:{doc.id}#derived_from:{note.id}", when, heading=section.heading,
                                           relevant=frozenset({doc.id})))
        for code_path in doc.meta.sources:
            path = code_path.split("#", 1)[0].split(":", 1)[0].strip()
            text = read_file_at(repo, corpus.commit, path)
            if text is None:
                continue
            card = file_card(path, text)
            warnings += card.warnings
            pairs.append(RetrievalPair(doc.title, card.text, f"file:{path}", "sources", f"pilr:{doc.id}#sources:{path}",
                                       when, relevant=frozenset({f"file:{path}"})))
    return pairs, warnings


def heading_pairs(repo: FlowRepo, corpus: Corpus) -> list[RetrievalPair]:
    """Cold start: a section's (last) heading -> that section."""
    s = repo.settings.retrieval
    pairs = []
    for section in corpus.sections:
        heading = section.heading.rsplit(" > ", 1)[-1].strip()
        if not heading or len(section.body) < 40:
            continue
        query = f"{section.title}: {heading}" if len(heading) < s.min_query_chars else heading
        pairs.append(RetrievalPair(query, section.text(s.passage_chars), section.doc, "heading",
                                   f"doc:{section.path}#{section.heading}", None, heading=section.heading,
                                   relevant=frozenset({section.doc})))
    return pairs


def usage_pairs(repo: FlowRepo, corpus: Corpus, as_of: dt.datetime | None) -> list[RetrievalPair]:
    """Retrieval events up to ``as_of`` judged by their task's outcome (see the module docstring)."""
    from flowloop.pipeline.inputs import load_events
    from flowloop.signals.events import CorrectionEvent, OutcomeEvent, RetrievalEvent, WorkRecordEvent
    from flowloop.signals.store import store_exists

    if not store_exists(repo):
        return []
    events = [e for e in load_events(repo) if as_of is None or e.created_at <= as_of]
    bad = {e.task for e in events if e.task and (
        isinstance(e, CorrectionEvent)
        or (isinstance(e, OutcomeEvent) and e.metric in ("reverted", "hotfix") and e.value > 0))}
    finished = {e.task for e in events if isinstance(e, WorkRecordEvent) and e.task}
    best: dict[str, Section] = {}
    for section in corpus.sections:
        best.setdefault(section.doc, section)  # a document's first section stands for it
    s = repo.settings.retrieval
    pairs = []
    for event in events:
        if not isinstance(event, RetrievalEvent) or not event.task:
            continue
        if event.task in bad:
            label, docs = 0.0, event.injected
        elif event.task in finished:
            label, docs = 1.0, event.used or event.injected
        else:
            continue  # no outcome yet: neither good nor bad
        for doc in docs:
            if doc in best:
                pairs.append(RetrievalPair(event.query, best[doc].text(s.passage_chars), doc, "usage",
                                           f"event:{event.id}", event.created_at, label=label,
                                           heading=best[doc].heading, relevant=frozenset(docs) if label else frozenset()))
    return pairs


def mine_pairs(repo: FlowRepo, as_of: dt.datetime | None, *, negatives: bool = True,
               progress: Progress | None = None) -> MinedPairs:
    """Every pair of the four sources as of ``as_of`` (None: now), with hard negatives, newest
    ``retrieval.max_pairs`` kept. Deterministic for the same repository and cut."""
    s = repo.settings.retrieval
    corpus = corpus_as_of(repo, as_of)
    links, warnings = link_pairs(repo, corpus)
    pairs = commit_pairs(repo, as_of, progress) + links + usage_pairs(repo, corpus, as_of)
    if s.heading_pairs:
        pairs += heading_pairs(repo, corpus)
    unique: dict[str, RetrievalPair] = {}
    for pair in pairs:
        unique.setdefault(pair.id, pair)
    oldest = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    kept = sorted(unique.values(), key=lambda p: (p.time or oldest, p.id), reverse=True)[: s.max_pairs]
    kept.sort(key=lambda p: (p.time or oldest, p.id))
    if negatives and s.negatives > 0:
        add_negatives(repo, corpus, kept)
    counts = {kind: sum(1 for p in kept if p.kind == kind) for kind in KINDS}
    counts["negative_labels"] = sum(1 for p in kept if p.label == 0)
    counts["hard_negatives"] = sum(len(p.negatives) for p in kept)
    return MinedPairs(kept, counts, corpus.commit, as_of, warnings)


def add_negatives(repo: FlowRepo, corpus: Corpus, pairs: list[RetrievalPair]) -> None:
    """Fill each positive pair's ``negatives`` from BM25 and the configured (stock) embedder."""
    from flowloop.index.embedder import resolve_model
    from flowloop.pipeline.retrieval_negatives import NegativeMiner

    s = repo.settings.retrieval
    positives = [p for p in pairs if p.label > 0]
    if not positives:
        return
    miner = NegativeMiner(corpus.sections, resolve_model(repo.settings.index.embedder, repo.root), s.passage_chars)
    found = miner.mine([p.query for p in positives], [set(p.relevant) | {p.doc} for p in positives], s.negatives)
    for pair, negatives in zip(positives, found):
        pair.negatives = [n.text(s.passage_chars) for n in negatives]
        pair.negative_docs = [n.doc for n in negatives]


def heldout_queries(repo: FlowRepo, after: dt.datetime, until: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Evaluation rows: commits in ``(after, until]`` that changed documentation; the subject is
    the query, the documents it changed are relevant, the code it touched is kept for the file
    index. ``as_of`` is the moment before the commit (what a retriever could know)."""
    s = repo.settings.retrieval
    commits = [c for c in doc_commits(repo, until, s.history_commits, since=after) if is_query(c.subject, s.min_query_chars)]
    rows = []
    for commit, changes in changed_sections(repo, commits, s.sections_per_doc):
        relevant = sorted({change.doc for change in changes})
        if not relevant:
            continue
        rows.append({
            "id": f"ret-{commit.sha[:12]}", "query": scrub(commit.subject), "relevant": relevant,
            "files": sorted(commit.code), "time": iso(commit.time),
            "as_of": iso(commit.time - dt.timedelta(seconds=1)), "source": f"git:{commit.sha[:12]}",
        })
    return rows[: s.heldout_max]

"""The team's evergreen conventions, ranked and condensed for an agent's always-loaded file.

Claude Code loads ``CLAUDE.md`` whole into every session (Codex ``AGENTS.md``, Cursor its
``alwaysApply`` rules), and past a few hundred lines rules get ignored; so this picks the few
evergreen documents that matter most and states their content as short facts, each citing its
PILR id. Retrieval still serves everything else per task.

Ranking, from what the team's own work recorded:

- **used**: in the retrieval usage log, a document an agent used counts 2, one injected counts 1;
- **rating**: the mean outcome weight (``pipeline.weights``: hotfixes, failed CI, reverts) of the
  tasks it was injected into; 1.0 when none of them has an outcome.

Documents are ordered by ``used x rating``, then rating, then the most recently updated, then id
(deterministic: the same inputs render the same bytes). Only active evergreen documents enter.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from flowloop.pilr.model import Pilr, PilrStatus, PilrType
from flowloop.pilr.sections import split_sections
from flowloop.repo import FlowRepo

SKIP_HEADINGS = ("provenance", "references", "links", "see also", "changelog", "history", "open questions")
MAX_FACT_CHARS = 320
USED_WEIGHT, INJECTED_WEIGHT = 2, 1


@dataclass
class Usage:
    """One document's record in the retrieval log."""

    used: int = 0
    injected: int = 0
    task_weights: list[float] = field(default_factory=list)

    @property
    def score(self) -> int:
        return USED_WEIGHT * self.used + INJECTED_WEIGHT * self.injected

    @property
    def rating(self) -> float:
        return sum(self.task_weights) / len(self.task_weights) if self.task_weights else 1.0


@dataclass(frozen=True)
class Convention:
    """An evergreen document as facts: its id, title, path and condensed lines."""

    id: str
    title: str
    path: str
    facts: tuple[str, ...]
    used: int
    rating: float


def usage_log(repo: FlowRepo) -> tuple[dict[str, Usage], bool]:
    """Per-document usage and rating from the signals store; the flag says whether the store
    holds any retrieval event at all (CI runs without one)."""
    from flowloop.pipeline.weights import task_weights
    from flowloop.signals.events import OutcomeEvent, RetrievalEvent
    from flowloop.signals.store import open_store

    usage: dict[str, Usage] = defaultdict(Usage)
    outcomes: dict[str, list[OutcomeEvent]] = defaultdict(list)
    found = False
    with open_store(repo) as store:
        for event in store.query(kind=("retrieval", "outcome")):
            if isinstance(event, OutcomeEvent) and event.task:
                outcomes[event.task].append(event)
        weights = task_weights(dict(outcomes), repo.settings)
        for event in store.query(kind="retrieval"):
            if not isinstance(event, RetrievalEvent):
                continue
            found = True
            for doc_id in set(event.injected):
                usage[doc_id].injected += 1
                if event.task:
                    usage[doc_id].task_weights.append(weights.get(event.task, 1.0))
            for doc_id in set(event.used):
                usage[doc_id].used += 1
    return dict(usage), found


def facts_of(body: str, limit: int) -> list[str]:
    """Up to ``limit`` one-line statements from a document body: its bullet items and the
    first sentences of its paragraphs, in order; tables, code and reference sections skipped."""
    facts: list[str] = []
    for heading, text in split_sections(body):
        if heading.lower().startswith(SKIP_HEADINGS):
            continue
        for block in _prose_blocks(text):
            facts.extend(_statements(block))
            if len(facts) >= limit:
                return facts[:limit]
    return facts[:limit]


def _prose_blocks(text: str) -> Iterable[str]:
    fence = False
    block: list[str] = []
    for line in text.splitlines() + [""]:
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        if fence or line.lstrip().startswith("|"):
            continue
        if line.strip():
            block.append(line)
        elif block:
            yield "\n".join(block)
            block = []


_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")


def _statements(block: str) -> list[str]:
    items: list[list[str]] = []
    prose: list[str] = []
    for line in block.splitlines():
        bullet = _BULLET.match(line)
        if bullet:
            items.append([bullet.group(1).strip()])
        elif items and line[:1].isspace():
            items[-1].append(line.strip())
        elif items:
            items[-1].append(line.strip())
        else:
            prose.append(line.strip())
    out = []
    if prose:
        out.append(_clip(" ".join(prose)))
    out.extend(_clip(" ".join(item)) for item in items)
    return [s for s in out if len(s) >= 12 and not s.endswith(":")]


def _clip(text: str) -> str:
    if len(text) <= MAX_FACT_CHARS:
        return text
    cut = text[:MAX_FACT_CHARS]
    end = cut.rfind(". ")
    return cut[: end + 1] if end > MAX_FACT_CHARS // 2 else cut.rstrip() + "..."


def ranked_conventions(
    repo: FlowRepo, documents: list[Pilr], usage: dict[str, Usage], per_document: int
) -> list[Convention]:
    """Active evergreen documents with facts, best first (see the module docstring)."""
    chosen = []
    for doc in documents:
        if doc.type is not PilrType.EVERGREEN or doc.status is not PilrStatus.ACTIVE:
            continue
        facts = facts_of(doc.body, per_document)
        if not facts:
            continue
        record = usage.get(doc.id, Usage())
        path = doc.path.relative_to(repo.root).as_posix() if doc.path.is_relative_to(repo.root) else str(doc.path)
        chosen.append((
            (-record.score * record.rating, -record.rating, -doc.meta.updated.toordinal(), doc.id),
            Convention(doc.id, doc.title, path, tuple(facts), record.score, round(record.rating, 3)),
        ))
    return [c for _, c in sorted(chosen, key=lambda pair: pair[0])]

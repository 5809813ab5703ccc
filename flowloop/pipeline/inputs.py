"""Everything a dataset build reads: PILRs, documentation sources, and the signals store.

It also works out, once, the facts every later stage needs about tasks: when each task
finished (its time, which orders the held-out split), when it would have been planned (the
``as_of`` moment used to retrieve context without leaking the future), which work records
belong to it, and its outcomes.

A task's planning moment is the end of the day before its earliest trace (its plan document,
its first preference/correction event, or the commit that finished it). Documents carry only
a creation *date*, so a document written the day a task started is treated as written after.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from flowloop.pilr.model import Pilr, PilrType
from flowloop.pilr.quarantine import trusted
from flowloop.pilr.store import PilrStore
from flowloop.pipeline.records import WorkRecord, date_time
from flowloop.repo import FlowRepo
from flowloop.signals.events import EventBase, OutcomeEvent, WorkRecordEvent

# Events that happen after the work and so say nothing about when it started.
_AFTER_THE_FACT = ("outcome", "retrieval", "work_record")


@dataclass
class Inputs:
    """The raw material of one build, plus per-task facts."""

    pilrs: list[Pilr]
    sections: list[DocSection]
    events: list[EventBase]
    work: list[WorkRecord]
    task_time: dict[str, dt.datetime]
    task_as_of: dict[str, dt.datetime]
    outcomes: dict[str, list[OutcomeEvent]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not self.pilrs and not self.sections and not self.events


def load_events(repo: FlowRepo) -> list[EventBase]:
    """Every stored event, oldest first (contract 1)."""
    from flowloop.signals.store import open_store

    with open_store(repo) as store:
        return store.query()


@dataclass(frozen=True)
class DocSection:
    """One section of a documentation file; ``path`` is relative to the repository root."""

    path: str
    title: str
    heading: str
    text: str
    doc_type: str

    @property
    def source(self) -> str:
        return f"doc:{self.path}#{self.heading}" if self.heading else f"doc:{self.path}"


def doc_sections(repo: FlowRepo) -> list[DocSection]:
    """Sections of every file matched by ``[[sources]]``, in path order.

    Files are read and split exactly as the index reads them (``flowloop.index``'s source
    reader and ``document_sections``: Sphinx labels and navigation dropped), so a section here
    is a chunk heading there. A glob that matches nothing is not an error here (the index
    reports it).
    """
    from flowloop.index.chunking import document_sections
    from flowloop.index.sources import read_source_file

    settings = repo.settings
    found: dict[str, tuple[Path, str]] = {}
    flow_dir = repo.flow_dir.resolve()
    for source in settings.sources:
        for path in sorted(repo.root.glob(source.glob)):
            if path.is_file() and flow_dir not in path.resolve().parents:
                found.setdefault(path.relative_to(repo.root).as_posix(), (path, source.type))
    sections: list[DocSection] = []
    for rel, (path, doc_type) in sorted(found.items()):
        doc = read_source_file(repo, path, doc_type, settings.pilr.max_file_bytes)
        for heading, body in document_sections(doc.title, doc.body, doc.fmt):
            sections.append(DocSection(rel, doc.title, heading, body.strip(), doc_type))
    return sections


def task_key(event: EventBase) -> str | None:
    """The task an event belongs to; a work record without one is its own task (its commit)."""
    if event.task:
        return event.task
    if isinstance(event, WorkRecordEvent):
        return f"commit:{event.commit[:12]}" if event.commit else f"event:{event.id}"
    return None


def _work_time(event: WorkRecordEvent) -> dt.datetime:
    value = event.author_time or event.created_at
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _day_before(moment: dt.datetime) -> dt.datetime:
    """The last instant of the day before ``moment`` (UTC)."""
    return date_time(moment.astimezone(dt.timezone.utc).date()) - dt.timedelta(microseconds=1)


def _commit_owner(work: Iterable[WorkRecordEvent]) -> dict[str, str]:
    owners: dict[str, str] = {}
    for event in work:
        if event.commit:
            owners[event.commit] = task_key(event) or ""
    return owners


def _outcome_task(event: OutcomeEvent, owners: dict[str, str]) -> str | None:
    if event.task:
        return event.task
    commit = event.commit or event.repo_commit
    if not commit:
        return None
    for full, owner in owners.items():
        if full.startswith(commit) or commit.startswith(full):
            return owner
    return None


def assemble(pilrs: list[Pilr], sections: list[DocSection], events: list[EventBase]) -> Inputs:
    """Per-task facts from the loaded material (pure: tests call it directly)."""
    work_events = [e for e in events if isinstance(e, WorkRecordEvent)]
    owners = _commit_owner(work_events)
    outcomes: dict[str, list[OutcomeEvent]] = defaultdict(list)
    for event in events:
        if isinstance(event, OutcomeEvent):
            owner = _outcome_task(event, owners)
            if owner:
                outcomes[owner].append(event)

    finish: dict[str, dt.datetime] = {}
    start: dict[str, dt.datetime] = {}

    grouped: dict[str, list[WorkRecordEvent]] = defaultdict(list)
    for event in work_events:
        key = task_key(event)
        assert key is not None  # work records always have a key
        grouped[key].append(event)
    # Work records fix a task's finish time; other traces only bound its start.
    for key, group in grouped.items():
        times = [_work_time(event) for event in group]
        start[key], finish[key] = min(times), max(times)
    for event in events:
        if event.kind in _AFTER_THE_FACT or not event.task:
            continue
        moment = event.created_at
        start[event.task] = min(start.get(event.task, moment), moment)
        if event.task not in grouped:
            finish[event.task] = max(finish.get(event.task, moment), moment)
    for doc in pilrs:
        if doc.type is PilrType.EPHEMERAL and doc.meta.task:
            moment = date_time(doc.meta.created)
            start[doc.meta.task] = min(start.get(doc.meta.task, moment), moment)
            if doc.meta.task not in finish:
                finish[doc.meta.task] = date_time(doc.meta.updated)

    as_of = {task: _day_before(moment) for task, moment in start.items()}
    work: list[WorkRecord] = []
    for key, group in grouped.items():
        group.sort(key=lambda e: (_work_time(e), e.id))
        files = sorted({f.strip() for e in group for f in e.files if f.strip()})
        reverted = any(o.metric == "reverted" and o.value > 0 for o in outcomes.get(key, []))
        first = group[0]
        work.append(
            WorkRecord(
                task=key,
                description=first.description.strip(),
                files=files,
                time=finish[key],
                as_of=as_of[key],
                event_id=first.id,
                commit=group[-1].commit,
                reverted=reverted,
            )
        )
    work.sort(key=lambda w: (w.time, w.task))
    return Inputs(
        pilrs=pilrs,
        sections=sections,
        events=events,
        work=work,
        task_time=finish,
        task_as_of=as_of,
        outcomes=dict(outcomes),
    )


def load_inputs(repo: FlowRepo) -> Inputs:
    """PILRs (strict: a broken document stops the build; proposed ones, still in quarantine, are
    never trained on), doc sections and all events."""
    return assemble(trusted(PilrStore(repo).load()), doc_sections(repo), load_events(repo))


def load_work_history(repo: FlowRepo) -> list[WorkRecord]:
    """Every finished task's work record, oldest first (eval's retrieval-only baseline)."""
    return assemble(trusted(PilrStore(repo).load()), [], load_events(repo)).work

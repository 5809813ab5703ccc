"""Quarantine: knowledge not written by a human's hand waits, screened, until a human accepts it.

Curated knowledge lifts agents and automatically mined knowledge barely does (with harms in
both), and injected text is an attack surface; so every write that does not come from a person
editing the files (an agent drafting a document, a transcript mined for lessons, the HTTP
ingest, an MCP write tool) goes through :func:`propose`:

1. the rendered file is screened (``pilr.screen``); a ``refuse`` finding stops the write with
   every finding and its line;
2. otherwise the document is written with ``status: proposed`` and ``origin`` naming its source.

A proposed document is never indexed (so never injected into a context pack nor served over
MCP) and never read by the dataset pipeline (:func:`trusted` is the filter), until
``flow pilr accept ID`` (screened again: the file may have been edited since) makes it active,
or ``flow pilr reject ID`` deletes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from pydantic import ValidationError

from flowloop.errors import DocumentError, QuarantineError
from flowloop.pilr.model import Pilr, PilrMeta, PilrStatus, PilrType
from flowloop.pilr.parse import render
from flowloop.pilr.screen import Finding, screen
from flowloop.pilr.store import PilrStore

ORIGINS = ("agent", "transcript", "http", "mcp", "curate")


@dataclass
class Proposal:
    """A document written into quarantine and what the screen flagged (nothing refused)."""

    document: Pilr
    findings: list[Finding]


def trusted(documents: Iterable[Pilr]) -> list[Pilr]:
    """The documents a human wrote or accepted: everything but ``proposed``."""
    return [doc for doc in documents if doc.status is not PilrStatus.PROPOSED]


def _refusal(findings: list[Finding], what: str, path: object = None) -> QuarantineError:
    worst = [f for f in findings if f.severity == "refuse"]
    first = worst[0]
    return QuarantineError(
        f"{what} refused by the screen: {'; '.join(f.render() for f in worst[:5])}",
        findings=findings,
        path=path,  # type: ignore[arg-type]
        line=first.line,
        hint="remove the flagged text (it is addressed to a model, leaks data, hides characters or holds a secret)",
    )


def propose(
    store: PilrStore,
    pilr_type: PilrType,
    title: str,
    body: str,
    origin: str,
    *,
    tags: list[str] | None = None,
    task: str | None = None,
    sources: list[str] | None = None,
    today: dt.date | None = None,
) -> Proposal:
    """Screen an untrusted document and write it as ``status: proposed`` (see the module doc)."""
    if origin not in ORIGINS:
        raise QuarantineError(f"unknown origin {origin!r}", field="origin", hint=f"use one of: {', '.join(ORIGINS)}")
    title = (title or "").strip()
    if not title:
        raise DocumentError("a title is required", field="title")
    if not (body or "").strip():
        raise DocumentError("the body is empty", field="body", hint="a proposed document needs content")
    day = today or dt.date.today()
    try:
        meta = PilrMeta(
            id=store.new_id(pilr_type, title), type=pilr_type, title=title, status=PilrStatus.PROPOSED,
            tags=[t.strip() for t in (tags or []) if t.strip()], created=day, updated=day, task=task,
            sources=sources or [], origin=origin,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DocumentError(err["msg"].removeprefix("Value error, "), field=".".join(str(p) for p in err["loc"]) or None,
                            hint="titles, tags and task ids are single lines") from exc
    text = render(meta, body)
    result = screen(text)  # the file as it will be written: lines are the file's lines
    if not result.ok:
        raise _refusal(result.findings, f"proposed document {title!r} (from {origin})")
    return Proposal(document=store.create(meta, body), findings=result.findings)


def _proposed(store: PilrStore, doc_id: str) -> Pilr:
    doc = store.get(doc_id)
    if doc.status is not PilrStatus.PROPOSED:
        raise QuarantineError(f"{doc_id!r} is {doc.status.value}, not proposed", path=doc.path, field="status",
                              hint="only proposed documents are accepted or rejected; see `flow pilr review`")
    return doc


def findings_of(doc: Pilr) -> list[Finding]:
    """The screen's findings on a document's file as it is now."""
    return screen(doc.path.read_text(encoding="utf-8")).findings


def accept(store: PilrStore, doc_id: str, today: dt.date | None = None) -> Pilr:
    """A human's yes: the proposed document becomes active (after screening it again)."""
    doc = _proposed(store, doc_id)
    findings = findings_of(doc)
    if any(f.severity == "refuse" for f in findings):
        raise _refusal(findings, f"accepting {doc_id!r}", path=doc.path)
    meta = doc.meta.model_copy(update={"status": PilrStatus.ACTIVE, "updated": today or dt.date.today()})
    return store.write(Pilr(meta=meta, body=doc.body, path=doc.path))


def reject(store: PilrStore, doc_id: str) -> Pilr:
    """A human's no: the proposed document is deleted (it was never part of the knowledge)."""
    doc = _proposed(store, doc_id)
    doc.path.unlink()
    return doc


def pending(documents: Iterable[Pilr]) -> list[tuple[Pilr, list[Finding]]]:
    """Proposed documents, oldest first, each with its current findings (for the review)."""
    waiting = sorted((d for d in documents if d.status is PilrStatus.PROPOSED), key=lambda d: (d.meta.created, d.id))
    return [(doc, findings_of(doc)) for doc in waiting]

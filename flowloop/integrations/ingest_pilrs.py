"""A proposed PILR document from a JSON object: the one meaning shared by the HTTP ingest
(``POST /v1/pilrs``) and the MCP ``propose_document`` tool.

Both are untrusted doors, so the document goes through ``flowloop.pilr.quarantine.propose``:
screened on arrival (the worst refused, with the line), written as ``status: proposed``, never
indexed nor trained on until ``flow pilr accept``.
"""

from __future__ import annotations

from typing import Any

from flowloop.errors import DocumentError
from flowloop.pilr.model import PilrType
from flowloop.pilr.quarantine import propose
from flowloop.pilr.store import PilrStore
from flowloop.repo import FlowRepo

FIELDS = ("type", "title", "body", "tags", "task", "sources")


def _strings(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DocumentError(f"'{name}' must be a list of strings", field=name)
    return value


def propose_from_json(repo: FlowRepo, data: Any, origin: str) -> dict[str, Any]:
    """Write ``data`` (``{"type", "title", "body", "tags"?, "task"?, "sources"?}``) into quarantine;
    returns the new id, its path and the screen's flags."""
    if not isinstance(data, dict):
        raise DocumentError("send a JSON object with type, title and body", field="body")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise DocumentError(f"unknown field {unknown[0]!r}", field=unknown[0], hint=f"use: {', '.join(FIELDS)}")
    try:
        pilr_type = PilrType(data.get("type"))
    except ValueError as exc:
        raise DocumentError(f"unknown type {data.get('type')!r}", field="type",
                            hint=f"use one of: {', '.join(t.value for t in PilrType)}") from exc
    for name in ("title", "body"):
        if not isinstance(data.get(name), str):
            raise DocumentError(f"'{name}' must be a string", field=name)
    task = data.get("task")
    if task is not None and not isinstance(task, str):
        raise DocumentError("'task' must be a string", field="task")
    proposal = propose(PilrStore(repo), pilr_type, data["title"], data["body"], origin,
                       tags=_strings(data, "tags"), task=task, sources=_strings(data, "sources"))
    doc = proposal.document
    return {"id": doc.id, "status": doc.status.value, "path": str(doc.path.relative_to(repo.root)),
            "flags": [f.to_dict() for f in proposal.findings]}

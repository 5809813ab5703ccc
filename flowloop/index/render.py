"""The markdown of a context pack, in one place: the pack assembler renders with it, and the
index builder stores the token counts of its fixed parts (document headers, heading lines) so
that assembling a pack tokenizes almost nothing."""

from __future__ import annotations

PACK_HEADER = "# Project knowledge for this task (flowloop; cite ids)\n"


def doc_header(title: str, doc_id: str, path: str, doc_type: str, replaces: list[str] = [], also: list[str] = [],  # noqa: B006 - never mutated
               note: str = "") -> str:
    """``## title`` and a line citing id, path and type (and what it replaces or duplicates, and
    a warning such as "possibly stale: ..." the reader should weigh)."""
    parts = [f"id: {doc_id}", f"path: {path}", f"type: {doc_type}"]
    if note:
        parts.append(note)
    if replaces:
        parts.append("replaces superseded: " + ", ".join(replaces))
    if also:
        parts.append("same content in: " + ", ".join(also))
    return f"\n## {title}\n" + " | ".join(parts) + "\n"


def heading_line(heading: str) -> str:
    return f"\n### {heading}\n" if heading else "\n"


def chunk_section(heading: str, text: str) -> str:
    return heading_line(heading) + text.strip() + "\n"


def continued_section(text: str, adjacent: bool) -> str:
    """A further chunk of the section just rendered: no second heading; a gap marker when the
    chunk between them was left out."""
    return ("\n" if adjacent else "\n[...]\n\n") + text.strip() + "\n"

"""Markdown sections of a PILR body, by heading.

Lifecycle moves carry a task's "Decisions" section up into evergreen knowledge and its
"What worked" into cumulative knowledge; reading sections by heading is what makes that work.
"""

from __future__ import annotations

import re

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def split_sections(body: str) -> list[tuple[str, str]]:
    """(heading, text) pairs in order; text before the first heading has heading ''."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    in_fence = False
    for line in body.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            sections.append((match.group(2).strip(), []))
        else:
            sections[-1][1].append(line)
    return [(h, "\n".join(lines).strip()) for h, lines in sections if h or "\n".join(lines).strip()]


def find_section(body: str, *names: str) -> str:
    """Text of the first section whose heading starts with one of ``names`` (case-insensitive)."""
    wanted = tuple(n.lower() for n in names)
    for heading, text in split_sections(body):
        if heading.lower().startswith(wanted) and text:
            return text
    return ""

"""Splitting documents into retrievable chunks: one per heading section, long sections split.

Markdown is cut at ATX headings (``#`` .. ``######``, not inside fenced code); reStructuredText
at section titles (a text line underlined, optionally overlined, with one punctuation
character; levels follow the order styles first appear, as docutils does). Each chunk keeps its
heading path (``Parent > Child``) so the document's title, path and heading travel with it; a
section longer than ``max_tokens`` is split at paragraph, then line, then token boundaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_RST_ADORNMENT = re.compile(r"""^([=\-`:'"~^_*+#<>.!$%&(),/;?@\[\\\]{|}])\1{2,}\s*$""")


class Counter(Protocol):
    def count(self, text: str) -> int: ...

    def spans(self, text: str) -> list[tuple[int, int]]: ...


@dataclass(frozen=True)
class Chunk:
    ord: int
    heading: str
    text: str
    tokens: int


def markdown_sections(text: str) -> list[tuple[list[str], str]]:
    """``(heading path, body)`` for every section; text before the first heading has path []."""
    sections: list[tuple[list[str], str]] = []
    stack: list[tuple[int, str]] = []
    body: list[str] = []
    fence: str | None = None

    def close() -> None:
        sections.append(([h for _, h in stack], "\n".join(body).strip()))

    for line in text.splitlines():
        marker = _FENCE.match(line)
        if marker:
            token = marker.group(1)[0] * 3
            fence = None if fence == token else (fence or token)
        heading = _MD_HEADING.match(line) if fence is None and not marker else None
        if heading:
            close()
            body = []
            level = len(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading.group(2).strip()))
        else:
            body.append(line)
    close()
    return sections


def rst_sections(text: str) -> list[tuple[list[str], str]]:
    """reStructuredText sections: a title line with an underline (and maybe an overline)."""
    lines = text.splitlines()
    styles: list[tuple[str, bool]] = []
    sections: list[tuple[list[str], str]] = []
    stack: list[tuple[int, str]] = []
    body: list[str] = []
    i = 0
    while i < len(lines):
        title, style, consumed = _rst_title_at(lines, i)
        if title is None or style is None:
            body.append(lines[i])
            i += 1
            continue
        sections.append(([h for _, h in stack], "\n".join(body).strip()))
        body = []
        if style not in styles:
            styles.append(style)
        level = styles.index(style)
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        i += consumed
    sections.append(([h for _, h in stack], "\n".join(body).strip()))
    return sections


def _rst_title_at(lines: list[str], i: int) -> tuple[str | None, tuple[str, bool] | None, int]:
    """Whether a section title starts at line ``i``: (title, (char, overlined), lines used)."""
    line = lines[i]
    over = _RST_ADORNMENT.match(line)
    if over and i + 2 < len(lines):
        title, under = lines[i + 1], _RST_ADORNMENT.match(lines[i + 2])
        if title.strip() and under and under.group(1) == over.group(1) and len(lines[i + 2].rstrip()) >= len(title.strip()):
            return title.strip(), (over.group(1), True), 3
    if i + 1 < len(lines) and line.strip() and not line[0].isspace() and not over:
        under = _RST_ADORNMENT.match(lines[i + 1])
        prev_blank = i == 0 or not lines[i - 1].strip()
        if under and prev_blank and len(lines[i + 1].rstrip()) >= len(line.rstrip()):
            return line.strip(), (under.group(1), False), 2
    return None, None, 0


def _split_long(text: str, max_tokens: int, counter: Counter) -> list[str]:
    """Pieces of ``text`` of at most ``max_tokens`` each: whole paragraphs, then lines, then cuts."""
    if counter.count(text) <= max_tokens:
        return [text]
    units: list[str] = []
    for para in re.split(r"\n[ \t]*\n", text):
        if counter.count(para) <= max_tokens:
            units.append(para)
            continue
        for line in para.splitlines():
            if counter.count(line) <= max_tokens:
                units.append(line)
                continue
            spans = counter.spans(line)
            for start in range(0, len(spans), max_tokens):
                window = spans[start : start + max_tokens]
                units.append(line[window[0][0] : window[-1][1]])
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for unit in units:
        size = counter.count(unit)
        if current and used + size > max_tokens:
            pieces.append("\n\n".join(current))
            current, used = [], 0
        current.append(unit)
        used += size
    if current:
        pieces.append("\n\n".join(current))
    return [p.strip() for p in pieces if p.strip()]


def chunk_text(title: str, text: str, fmt: str, counter: Counter, max_tokens: int) -> list[Chunk]:
    """Chunks of one document body. ``fmt`` is ``md``, ``rst`` or ``txt`` (one section)."""
    if fmt == "rst":
        sections = rst_sections(text)
    elif fmt == "md":
        sections = markdown_sections(text)
    else:
        sections = [([], text.strip())]
    chunks: list[Chunk] = []
    for path, body in sections:
        if not body:
            continue
        # The document title as the top heading adds nothing: every chunk carries the title.
        if path and path[0].strip().lower() == title.strip().lower():
            path = path[1:]
        heading = " > ".join(path)
        for piece in _split_long(body, max_tokens, counter):
            chunks.append(Chunk(ord=len(chunks), heading=heading, text=piece, tokens=counter.count(piece)))
    if not chunks:
        chunks.append(Chunk(ord=0, heading="", text=title, tokens=counter.count(title)))
    return chunks


def embed_text(title: str, chunk: Chunk) -> str:
    """What the embedder reads for a chunk: the document title and heading give it context."""
    head = f"{title}: {chunk.heading}" if chunk.heading else title
    return f"{head}\n{chunk.text}"

"""Splitting documents into retrievable chunks: one per heading section, long sections split.

Markdown is cut at ATX headings (``#`` .. ``######``, not inside fenced code); reStructuredText
at section titles (a text line underlined, optionally overlined, with one punctuation
character; levels follow the order styles first appear, as docutils does). Each chunk keeps its
heading path (``Parent > Child``) so the document's title, path and heading travel with it; a
section longer than ``max_tokens`` is split at block (paragraph; a fenced or indented code block
kept whole), then line, then token boundaries; a code block that must be split is closed and
reopened in each piece, so no piece, and no heading added above one, sits inside a fence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from flowloop.index.markup import clean_markdown, clean_rst, has_content

_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_MYST_COLON_FENCE = re.compile(r"^[ \t]{0,3}(:{3,})\{")
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


def _blocks(text: str, fmt: str) -> list[str]:
    """Paragraph-level blocks of ``text``. A fenced code block (Markdown) or an indented block
    after its introducing line (reST: directive bodies, ``::`` literal blocks) stays whole, blank
    lines inside included, so that no split point, and no heading a pack adds, falls inside it."""
    blocks: list[list[str]] = []
    current: list[str] = []
    fence: str | None = None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if fence is not None:
            current.append(line)
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                fence = None  # the closing fence (a colon fence ":::" included)
            continue
        marker = _FENCE.match(line) or _MYST_COLON_FENCE.match(line)
        if marker:
            fence = marker.group(1)
        if stripped:
            current.append(line)
            continue
        nxt = next((later for later in lines[i + 1 :] if later.strip()), "")
        if fmt == "rst" and current and nxt[:1].isspace():
            current.append(line)  # the indented body continues the block
            continue
        if current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return ["\n".join(b).strip("\n") for b in blocks]


def _split_block(block: str, max_tokens: int, counter: Counter) -> list[str]:
    """An oversized block in pieces by lines (a single oversized line by tokens). A fenced block
    is closed at the end of each piece and reopened at the start of the next, so every piece is
    valid on its own; a reST directive or literal block repeats its introducing line."""
    lines = block.splitlines()
    opener = _FENCE.match(lines[0]) or _MYST_COLON_FENCE.match(lines[0])
    head: list[str] = []
    tail: list[str] = []
    if opener:
        head = [lines[0]]
        closing = lines[-1].strip()
        closes = len(lines) > 1 and closing.startswith(opener.group(1)) and not closing.strip(opener.group(1)[0])
        tail = [lines[-1]] if closes else [opener.group(1)]
        lines = lines[1:-1] if closes else lines[1:]
    elif lines[0].rstrip().endswith("::"):
        head = [lines[0]]
        lines = lines[1:]
    frame = counter.count("\n".join(head + tail))
    room = max(max_tokens - frame, 1)
    pieces: list[list[str]] = []
    current: list[str] = []
    used = 0
    for line in lines:
        parts = [line]
        size = counter.count(line)
        if size > room:
            spans = counter.spans(line)
            parts = [line[w[0][0] : w[-1][1]] for w in (spans[k : k + room] for k in range(0, len(spans), room)) if w]
        for part in parts:
            size = counter.count(part)
            if current and used + size > room:
                pieces.append(current)
                current, used = [], 0
            current.append(part)
            used += size
    if current:
        pieces.append(current)
    return ["\n".join(head + piece + tail) for piece in pieces]


def _split_long(text: str, max_tokens: int, counter: Counter, fmt: str = "md") -> list[str]:
    """Pieces of ``text`` of at most ``max_tokens`` each: whole blocks, then lines, then cuts."""
    if counter.count(text) <= max_tokens:
        return [text]
    units: list[str] = []
    for block in _blocks(text, fmt):
        if counter.count(block) <= max_tokens:
            units.append(block)
        else:
            units.extend(_split_block(block, max_tokens, counter))
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
    return [p.strip("\n") for p in pieces if p.strip()]


def document_sections(title: str, text: str, fmt: str) -> list[tuple[str, str]]:
    """``(heading, body)`` of every section worth retrieving or training on: Sphinx navigation
    removed, sections with nothing left dropped, the title heading left out of the path (every
    chunk carries the title). The index and the dataset's documentation sections both use it."""
    if fmt == "rst":
        sections = [(path, clean_rst(body)) for path, body in rst_sections(text)]
    elif fmt == "md":
        sections = [(path, clean_markdown(body)) for path, body in markdown_sections(text)]
    else:
        sections = [([], text.strip())]
    out = []
    for path, body in sections:
        if not body or not has_content(body, fmt):
            continue
        if path and path[0].strip().lower() == title.strip().lower():
            path = path[1:]
        out.append((" > ".join(path), body))
    return out


def chunk_text(title: str, text: str, fmt: str, counter: Counter, max_tokens: int) -> list[Chunk]:
    """Chunks of one document body. ``fmt`` is ``md``, ``rst`` or ``txt`` (one section).

    Sphinx navigation (labels, toctrees, ``currentmodule``...) is removed first
    (``markup.py``); a section with nothing left but directive headers is not a chunk.
    """
    chunks: list[Chunk] = []
    for heading, body in document_sections(title, text, fmt):
        for piece in _split_long(body, max_tokens, counter, fmt):
            chunks.append(Chunk(ord=len(chunks), heading=heading, text=piece, tokens=counter.count(piece)))
    if not chunks:
        chunks.append(Chunk(ord=0, heading="", text=title, tokens=counter.count(title)))
    return chunks


def embed_text(title: str, chunk: Chunk) -> str:
    """What the embedder reads for a chunk: the document title and heading give it context."""
    head = f"{title}: {chunk.heading}" if chunk.heading else title
    return f"{head}\n{chunk.text}"

"""Sphinx markup that is navigation, not knowledge: dropped from a section before chunking.

Documentation written for Sphinx (MyST Markdown or reStructuredText) carries lines that only
steer the build: reference labels (MyST ``(label)=``, reST ``.. _label:``) that name the heading
after them, ``toctree``/``contents`` blocks, ``currentmodule`` and ``index`` directives, reST
comments. Indexed as they are, they become chunks that say nothing (``(options)=``) and take
pack space. A label belongs to the heading that follows it, so removing it from the preceding
section loses nothing: the heading's own chunk is what a ``{ref}`label``` points at.

A section left with only directive headers and their options (``.. autofunction:: command``:
the text is pulled from code at build time) has nothing to retrieve either:
``has_content`` says so and the chunker drops it.
"""

from __future__ import annotations

import re

# Directives whose whole block is navigation or build control.
NAVIGATION = frozenset({
    "toctree", "contents", "currentmodule", "module", "index", "meta", "highlight", "tabularcolumns",
    "include", "rst-class", "sectionauthor", "codeauthor", "default-role", "default-domain",
})

_MYST_LABEL = re.compile(r"^\s{0,3}\(([^()\s]+)\)=\s*$")
_MYST_COMMENT = re.compile(r"^\s{0,3}%")
_MYST_FENCE = re.compile(r"^(\s{0,3})(`{3,}|~{3,}|:{3,})\s*\{([\w:.-]+)\}")
_ANY_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_RST_EXPLICIT = re.compile(r"^(\s*)\.\.(?:\s+(.*))?$")
_RST_DIRECTIVE = re.compile(r"^([\w:.-]+)::(?:\s|$)")
_RST_OPTION = re.compile(r"^\s*:[\w -]+:")


def clean_markdown(body: str) -> str:
    """``body`` without MyST labels, comments and navigation directive fences."""
    out: list[str] = []
    lines = body.splitlines()
    i = 0
    fence: str | None = None
    while i < len(lines):
        line = lines[i]
        if fence is not None:  # inside ordinary fenced code: keep everything verbatim
            out.append(line)
            if line.strip().startswith(fence) and not line.strip()[len(fence):].strip():
                fence = None
            i += 1
            continue
        myst = _MYST_FENCE.match(line)
        if myst and myst.group(3).lower() in NAVIGATION:
            marker = myst.group(2)
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(marker):
                i += 1
            i += 1  # the closing fence
            continue
        plain = _ANY_FENCE.match(line)
        if plain:
            fence = plain.group(1)
        elif _MYST_LABEL.match(line) or _MYST_COMMENT.match(line):
            i += 1
            continue
        out.append(line)
        i += 1
    return _squeeze("\n".join(out))


def clean_rst(body: str) -> str:
    """``body`` without reST labels and link targets, comments, substitutions and navigation."""
    out: list[str] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        match = _RST_EXPLICIT.match(lines[i])
        if match is None:
            out.append(lines[i])
            i += 1
            continue
        indent, rest = len(match.group(1)), (match.group(2) or "")
        directive = _RST_DIRECTIVE.match(rest)
        keep = directive is not None and directive.group(1).lower() not in NAVIGATION
        block_end = _block_end(lines, i, indent)
        if keep:
            out.extend(lines[i:block_end])
        i = block_end
    return _squeeze("\n".join(out))


def _block_end(lines: list[str], start: int, indent: int) -> int:
    """The line after an explicit markup block: its indented body (and blank lines within)."""
    i = start + 1
    while i < len(lines):
        line = lines[i]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        i += 1
    while i > start + 1 and not lines[i - 1].strip():
        i -= 1  # trailing blank lines belong to what follows
    return i


def has_content(body: str, fmt: str) -> bool:
    """Whether ``body`` says anything beyond directive headers and their options."""
    inside_eval_rst = False
    for line in body.splitlines():
        text = line.strip()
        if not text:
            continue
        if fmt == "md":
            if _MYST_FENCE.match(line):
                inside_eval_rst = _MYST_FENCE.match(line).group(3).lower() == "eval-rst"  # type: ignore[union-attr]
                continue
            if _ANY_FENCE.match(line) and not text.strip("`~"):
                inside_eval_rst = False
                continue
            if not inside_eval_rst:
                return True
        match = _RST_EXPLICIT.match(line)
        if match and _RST_DIRECTIVE.match(match.group(2) or ""):
            continue
        if _RST_OPTION.match(line):
            continue
        return True
    return False


def _squeeze(text: str) -> str:
    """Runs of blank lines left by removed blocks become one."""
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text).strip()

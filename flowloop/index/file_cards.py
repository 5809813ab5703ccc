"""File cards: a short, searchable outline of one source file (issue 16, deliverable 3).

A card is the file's path, its module docstring and its top-level definitions with the first
line of their docstrings. Python is read through ``ast``; other languages by a simple outline
(leading comment lines, then lines that look like a definition). Cards stay short (``MAX_LINES``)
so a large repository stays cheap to embed, and a file that does not parse still gets a card
from its path and whatever the outline finds, with a warning for the caller, never an error.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

MAX_LINES = 40
MAX_DOC_CHARS = 200
# Definition-looking lines of common languages (the first line only, trimmed).
_DEFINITION = re.compile(
    r"^\s*(?:export\s+)?(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:abstract\s+)?"
    r"(?:def|class|function|func|fn|interface|struct|enum|trait|impl|module|type|const|let|var)\s+[A-Za-z_$][\w$]*"
)
_COMMENT = re.compile(r"^\s*(?:#|//|/\*+|\*|--|;)\s?(.*?)\s*(?:\*/)?$")


@dataclass(frozen=True)
class FileCard:
    path: str
    text: str
    warnings: list[str] = field(default_factory=list)


def _first_line(doc: str | None) -> str:
    if not doc:
        return ""
    line = doc.strip().split("\n\n", 1)[0].replace("\n", " ").strip()
    return line if len(line) <= MAX_DOC_CHARS else line[: MAX_DOC_CHARS - 1].rstrip() + "…"


def _python_outline(text: str) -> list[str]:
    tree = ast.parse(text)
    lines = []
    if doc := _first_line(ast.get_docstring(tree)):
        lines.append(doc)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = ", ".join(a.arg for a in node.args.args)
            entry = f"def {node.name}({args})"
        elif isinstance(node, ast.ClassDef):
            entry = f"class {node.name}"
            methods = [n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                       and not n.name.startswith("_")]
            if methods:
                entry += f" [{', '.join(methods[:8])}]"
        else:
            continue
        doc = _first_line(ast.get_docstring(node))
        lines.append(f"{entry}: {doc}" if doc else entry)
    return lines


def _generic_outline(text: str) -> list[str]:
    lines: list[str] = []
    header: list[str] = []
    body = text.splitlines()
    for line in body:  # the leading comment block says what the file is for
        match = _COMMENT.match(line)
        if not match:
            if line.strip():
                break
            continue
        if match.group(1) and not match.group(1).startswith(("!", "-*-")):
            header.append(match.group(1))
        if len(header) >= 3:
            break
    if header:
        lines.append(_first_line(" ".join(header)))
    lines += [line.strip().rstrip("{:").strip() for line in body if _DEFINITION.match(line)]
    return lines


def file_card(path: str, text: str) -> FileCard:
    """The card of ``path`` with contents ``text`` (see the module docstring)."""
    warnings: list[str] = []
    outline: list[str] = []
    if path.endswith((".py", ".pyi")):
        try:
            outline = _python_outline(text)
        except (SyntaxError, ValueError) as exc:
            warnings.append(f"{path}: does not parse as Python ({exc.__class__.__name__}); card from its outline")
            outline = _generic_outline(text)
    else:
        outline = _generic_outline(text)
    lines = [path, *(line for line in outline if line)][:MAX_LINES]
    return FileCard(path=path, text="\n".join(lines), warnings=warnings)

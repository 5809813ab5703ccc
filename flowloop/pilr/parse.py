"""Parse and render PILR files, with errors that name the file and line.

python-frontmatter hides where a YAML problem sits, so the front matter is split and read here
with PyYAML directly: every error carries ``path:line`` and the field, which ``flow pilr lint``
and every other command report verbatim.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from flowloop.errors import DocumentError
from flowloop.pilr.model import FIELD_ORDER, OMIT_WHEN_EMPTY, Pilr, PilrMeta, PilrType

FENCE = "---"
_VALID_TYPES = ", ".join(t.value for t in PilrType)


def _key_line(front_lines: list[str], key: str) -> int | None:
    """1-based line (within the file) where ``key:`` appears in the front matter."""
    pattern = re.compile(rf"^{re.escape(key)}\s*:")
    for offset, line in enumerate(front_lines):
        if pattern.match(line):
            return offset + 2  # +1 for the opening fence, +1 for 1-based lines
    return None


def field_line(path: Path, field: str) -> int:
    """Line of ``field:`` in a file's front matter (2 when it cannot be found)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 2
    lines = text.splitlines()
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == FENCE), len(lines))
    return _key_line(lines[1:end], field) or 2


def decode(path: Path, raw: bytes, max_bytes: int) -> str:
    """Bytes of a document as text, refusing oversized and non-UTF-8 files."""
    if len(raw) > max_bytes:
        raise DocumentError(
            f"file is {len(raw)} bytes, over the {max_bytes}-byte limit",
            path=path,
            line=1,
            hint="split it into smaller documents or raise [pilr] max_file_bytes",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DocumentError(
            f"not valid UTF-8 (byte {exc.start})", path=path, line=line, hint="save the file as UTF-8"
        ) from exc


def split_front_matter(path: Path, text: str) -> tuple[list[str], str]:
    """The front matter lines and the body; errors name the line."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != FENCE:
        raise DocumentError(
            "no front matter: the file must start with a '---' line",
            path=path,
            line=1,
            hint="add YAML front matter with at least id, type, title, created, updated",
        )
    for index in range(1, len(lines)):
        if lines[index].strip() == FENCE:
            body = "\n".join(lines[index + 1 :])
            return lines[1:index], body.lstrip("\n")
    raise DocumentError(
        "front matter is never closed", path=path, line=1, hint="add a closing '---' line"
    )


def parse_text(path: Path, text: str) -> Pilr:
    """Parse one document's text. Raises :class:`DocumentError` naming file, line and field."""
    front_lines, body = split_front_matter(path, text)
    try:
        data = yaml.safe_load("\n".join(front_lines)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 2
        problem = getattr(exc, "problem", None) or str(exc)
        raise DocumentError(
            f"malformed YAML front matter: {problem}", path=path, line=line, hint="fix the YAML syntax"
        ) from exc
    if not isinstance(data, dict):
        raise DocumentError(
            "front matter must be a mapping of key: value", path=path, line=2, hint="use 'key: value' lines"
        )
    if "type" not in data:
        raise DocumentError(
            "missing", path=path, line=2, field="type", hint=f"add 'type: <{_VALID_TYPES}>'"
        )
    try:
        meta = PilrMeta.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else None
        line = (_key_line(front_lines, field) if field else None) or 2
        if field == "type":
            message, hint = f"unknown type {data.get('type')!r}", f"use one of: {_VALID_TYPES}"
        elif err["type"] == "missing":
            message, hint = "missing", f"add '{field}:' to the front matter"
        elif err["type"] == "extra_forbidden":
            message, hint = "unknown field", f"remove it or use one of: {', '.join(FIELD_ORDER)}"
        else:
            message, hint = err["msg"], "see the PILR format in the README"
        raise DocumentError(message, path=path, line=line, field=field, hint=hint) from exc
    return Pilr(meta=meta, body=body, path=path)


def parse_file(path: Path, max_bytes: int = 512_000) -> Pilr:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read: {exc.strerror}", path=path, hint="check permissions") from exc
    return parse_text(path, decode(path, raw, max_bytes))


def _plain(value: Any) -> Any:
    if isinstance(value, PilrType) or hasattr(value, "value"):
        return value.value
    if isinstance(value, dt.date):
        return value
    return value


class _NoAliasDumper(yaml.SafeDumper):
    """``created`` and ``updated`` are often the same date object: plain YAML would write an
    anchor and an alias (``created: &id001 2025-01-01``, ``updated: *id001``), so that editing
    one date by hand changes both."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render(meta: PilrMeta, body: str) -> str:
    """Front matter in a stable key order, then the body; ``parse_text`` reads it back equal.

    The result is parsed back before it is returned, so a value that would break the file (the
    model refuses the known ones) is an error here, never a document that no longer parses.
    """
    dumped = meta.model_dump()
    ordered = {key: _plain(dumped[key]) for key in FIELD_ORDER if key not in OMIT_WHEN_EMPTY or dumped[key]}
    front = yaml.dump(ordered, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True,
                      default_flow_style=None, width=1000)
    body = body.rstrip("\n")
    text = f"{FENCE}\n{front}{FENCE}\n\n{body}\n" if body else f"{FENCE}\n{front}{FENCE}\n"
    try:
        again = parse_text(Path(f"{meta.id}.md"), text).meta
    except DocumentError as exc:
        raise DocumentError(f"would not read back: {exc.message}", field=exc.field, hint="change that value") from exc
    if again != meta:
        raise DocumentError("would not read back unchanged", field="front matter",
                            hint="remove unusual characters from the title and tags")
    return text

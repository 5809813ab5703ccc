"""What ``flow validate`` scores: units of work, read from a plan or from a git diff.

A plan is one unit. A diff is one unit per file hunk, read from ``git diff`` through
:mod:`flowloop.git` (the working tree against ``HEAD`` by default, or a revision range such as
``main..HEAD``): the hunk's header and lines, located at its first line on the new side.
Parts that cannot be scored are named, not dropped silently: binary files, files with more
changed lines than ``max_file_lines`` (generated or vendored code tells nothing about a
convention), and hunks beyond ``max_units``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from flowloop.errors import GitError, ValidateError
from flowloop.git import run_git

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class Unit:
    """One scored piece: ``kind`` ``plan`` or ``hunk``, where it is, and its text."""

    id: str
    kind: str
    path: str
    line: int
    text: str
    end_line: int = 0

    @property
    def query(self) -> str:
        """What retrieval is asked for this unit's conventions: its path and changed lines."""
        changed = [ln[1:] for ln in self.text.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
        body = "\n".join(changed) if self.kind == "hunk" else self.text
        return f"{self.path}\n{body}"[:1500]


@dataclass
class Units:
    """The units of one input, what was skipped (and why), and what the input was."""

    source: str
    units: list[Unit] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def plan_units(text: str, name: str) -> Units:
    """A plan as one unit (``name``: the file, or ``<stdin>``)."""
    return Units(source=f"plan {name}", units=[Unit("plan", "plan", name, 1, text.strip())] if text.strip() else [])


def read_plan(path: Path | None, stdin_text: str | None) -> tuple[str, str]:
    """The plan's text and name, from ``path`` or from standard input; errors name the file."""
    if path is None:
        return stdin_text or "", "<stdin>"
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ValidateError("plan file not found", path=path, field="--plan", hint="pass an existing file, or - for stdin") from exc
    except IsADirectoryError as exc:
        raise ValidateError("the plan is a folder, not a file", path=path, field="--plan") from exc
    if b"\0" in data[:8192]:
        raise ValidateError("the plan file is not text (it holds binary data)", path=path, field="--plan",
                            hint="pass a Markdown or text plan")
    try:
        return data.decode("utf-8"), str(path)
    except UnicodeDecodeError as exc:
        raise ValidateError(f"the plan file is not UTF-8 text (byte {exc.start})", path=path, field="--plan") from exc


def check_range(root: Path, rev_range: str) -> None:
    """Every revision of ``A..B`` / ``A...B`` / ``A`` must exist (a clear error otherwise)."""
    parts = [p for p in re.split(r"\.\.\.?", rev_range) if p] or [rev_range]
    for rev in parts:
        try:
            run_git(root, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}")
        except GitError as exc:
            if "not a git repository" in exc.message:
                raise ValidateError("not a git repository", path=root, field="--diff",
                                    hint="run inside a git work tree, or validate a plan with --plan") from exc
            raise ValidateError(f"revision {rev!r} of range {rev_range!r} does not exist", path=root, field="--diff",
                                hint="use an existing range such as HEAD~1..HEAD or main...HEAD") from exc


def diff_text(root: Path, rev_range: str | None) -> tuple[str, str]:
    """The unified diff to validate and its description (working tree vs HEAD by default)."""
    target = rev_range or "HEAD"
    check_range(root, target)
    text = run_git(root, "-c", "core.quotePath=false", "diff", "--no-color", "--no-ext-diff", "--unified=3", target)
    return text, (f"diff {rev_range}" if rev_range else "diff of the working tree against HEAD")


def diff_units(text: str, source: str, max_file_lines: int = 2000, max_units: int = 200) -> Units:
    """The hunks of a unified diff as units (see the module docstring for what is skipped)."""
    out = Units(source=source)
    for block in re.split(r"^(?=diff --git )", text, flags=re.M):
        if not block.startswith("diff --git "):
            continue
        path = _path_of(block)
        if re.search(r"^Binary files .* differ$", block, flags=re.M) or "GIT binary patch" in block:
            out.skipped.append({"path": path, "reason": "binary file"})
            continue
        changed = sum(1 for ln in block.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---")))
        if changed > max_file_lines:
            out.skipped.append({"path": path, "reason": f"{changed} changed lines (over {max_file_lines})"})
            continue
        for start, hunk in _hunks(block):
            if len(out.units) >= max_units:
                out.skipped.append({"path": path, "reason": f"hunk at line {start}: over {max_units} units"})
                continue
            length = sum(1 for ln in hunk.splitlines()[1:] if not ln.startswith("-"))
            out.units.append(Unit(f"{path}:{start}", "hunk", path, start, hunk, start + max(0, length - 1)))
    return out


def _path_of(block: str) -> str:
    """The file's new path (its old one when it was deleted)."""
    old = new = None
    for line in block.splitlines():
        if line.startswith("+++ ") and new is None:
            new = line[4:].strip()
        elif line.startswith("--- ") and old is None:
            old = line[4:].strip()
        elif line.startswith("@@"):
            break
    if new and new != "/dev/null":
        return new.removeprefix("b/")
    if old and old != "/dev/null":
        return old.removeprefix("a/")
    match = re.match(r"diff --git a/(.*?) b/(.*)$", block.splitlines()[0])
    return match.group(2) if match else block.splitlines()[0][11:]


def _hunks(block: str) -> list[tuple[int, str]]:
    found: list[tuple[int, list[str]]] = []
    for line in block.splitlines():
        match = _HUNK.match(line)
        if match:
            found.append((max(1, int(match.group(1))), [line]))
        elif found and not line.startswith("\\"):
            found[-1][1].append(line)
    return [(start, "\n".join(lines)) for start, lines in found]

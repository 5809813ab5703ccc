"""``flow render``: the team's conventions in each agent's own always-loaded file.

Targets: ``claude-md`` (``CLAUDE.md``), ``agents-md`` (``AGENTS.md``, read by Codex and others),
``cursor`` (``.cursor/rules/flowloop.mdc``, a Cursor project rule: MDC front matter with
``description``, ``globs`` and ``alwaysApply: true``, then markdown). flowloop owns one managed
block in the file, between ``<!-- flowloop:begin ... -->`` and ``<!-- flowloop:end -->``; text
outside it is never touched (a file without the block gets it appended; a new Cursor rule gets
the front matter). Rendering is deterministic, so a second run changes nothing, and
``check`` says whether the committed block is stale, for CI.

CI has no signals store (``.flow/state/`` is not committed), so without a retrieval log the
ranking cannot be recomputed there; ``check`` then verifies the documents the block already
cites: it is stale when one of them changed, was archived or superseded, or the cap changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flowloop.atomic import atomic_write_text
from flowloop.errors import AgentFileError
from flowloop.integrations.conventions import Convention, ranked_conventions, usage_log
from flowloop.repo import FlowRepo

TARGETS = {
    "claude-md": Path("CLAUDE.md"),
    "agents-md": Path("AGENTS.md"),
    "cursor": Path(".cursor/rules/flowloop.mdc"),
}
BEGIN = "<!-- flowloop:begin: managed by `flow render {target}`; edit the PILRs in .flow/pilrs/, not this block -->"
END = "<!-- flowloop:end -->"
_BEGIN_RE = re.compile(r"^<!-- flowloop:begin\b.*-->\s*$")
_END_RE = re.compile(r"^<!-- flowloop:end\b.*-->\s*$")
_CITED = re.compile(r"^### .* \[([a-z0-9][a-z0-9-]*)\]\s*$")
CURSOR_FRONT_MATTER = (
    "---\n"
    "description: Project conventions from the team's evergreen PILRs (flowloop), cited by id\n"
    "globs:\n"
    "alwaysApply: true\n"
    "---\n"
)


@dataclass(frozen=True)
class RenderResult:
    target: str
    path: Path
    changed: bool
    stale: bool
    documents: list[str]
    lines: int
    left_out: int
    reason: str = ""


def target_path(repo: FlowRepo, target: str) -> Path:
    if target not in TARGETS:
        raise AgentFileError(f"unknown render target {target!r}", field="TARGET",
                             hint=f"use one of {', '.join(TARGETS)}")
    return repo.root / TARGETS[target]


def block_text(target: str, conventions: list[Convention], max_lines: int) -> tuple[str, list[str], int]:
    """The managed block (markers included, ``\\n`` line ends) within ``max_lines``; returns the
    text, the ids it cites and how many documents the cap left out."""
    head = [
        BEGIN.format(target=target),
        "## Project conventions (from flowloop PILRs)",
        "",
        "The team's evergreen conventions for this repository, most used first. Each cites its "
        "PILR id; `flow pilr show ID` prints the whole document.",
    ]
    reserve = 3  # a blank line, the "left out" line, the end marker
    lines = list(head)
    cited: list[str] = []
    for index, convention in enumerate(conventions):
        section = ["", f"### {convention.title} [{convention.id}]", *(f"- {fact}" for fact in convention.facts)]
        room = max_lines - reserve - len(lines)
        if len(section) > room:
            if room < 4:  # a heading and at least two facts, or nothing
                break
            section = section[:room]
        lines.extend(section)
        cited.append(convention.id)
        if len(section) < 2 + len(convention.facts):
            break
    left_out = len(conventions) - len(cited)
    if not conventions:
        lines += ["", "No active evergreen PILR has content yet (`flow pilr new --type evergreen`)."]
    elif left_out:
        lines += ["", f"{left_out} more evergreen {'document is' if left_out == 1 else 'documents are'} "
                      f"not shown here (render.max_lines = {max_lines}); `flow context TASK` retrieves them."]
    lines.append(END)
    return "\n".join(lines) + "\n", cited, left_out


def splice(existing: str | None, block: str, path: Path, new_file_prefix: str = "") -> str:
    """``existing`` with its managed block replaced by ``block`` (appended when absent; a new
    file is ``new_file_prefix + block``). Line endings follow the file's own."""
    if existing is None:
        return new_file_prefix + block
    newline = "\r\n" if "\r\n" in existing else "\n"
    block = block.replace("\n", newline)
    lines = existing.splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if _BEGIN_RE.match(line.rstrip("\r\n"))]
    ends = [i for i, line in enumerate(lines) if _END_RE.match(line.rstrip("\r\n"))]
    if not begins and not ends:
        glue = "" if not existing or existing.endswith(("\n\n", "\r\n\r\n")) else (
            newline if existing.endswith("\n") else newline * 2)
        return existing + glue + block
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        line = _damaged_line(begins, ends)
        raise AgentFileError(
            f"the flowloop block is damaged ({len(begins)} begin and {len(ends)} end markers)",
            path=path, line=line,
            hint="leave exactly one '<!-- flowloop:begin ... -->' line and one '<!-- flowloop:end -->' "
                 "after it (or delete both and run `flow render` again)",
        )
    return "".join(lines[: begins[0]]) + block + "".join(lines[ends[0] + 1 :])


def _damaged_line(begins: list[int], ends: list[int]) -> int:
    """1-based line of the first marker that breaks the one-begin-then-one-end shape."""
    if len(begins) > 1:
        return begins[1] + 1
    if len(ends) > 1:
        return ends[1] + 1
    return (ends[0] if ends else begins[0]) + 1


def current_block(text: str) -> str | None:
    """The managed block of ``text`` (markers included, ``\\n`` line ends), if there is one."""
    lines = text.replace("\r\n", "\n").splitlines(keepends=True)
    begin = next((i for i, line in enumerate(lines) if _BEGIN_RE.match(line.rstrip("\n"))), None)
    end = next((i for i, line in enumerate(lines) if _END_RE.match(line.rstrip("\n"))), None)
    if begin is None or end is None or end < begin:
        return None
    return "".join(lines[begin : end + 1])


def cited_ids(block: str) -> list[str]:
    return [m.group(1) for m in (_CITED.match(line) for line in block.splitlines()) if m]


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise AgentFileError(f"not UTF-8 (byte {exc.start})", path=path,
                             hint="save the file as UTF-8, then run `flow render` again") from exc


def render_agent_file(repo: FlowRepo, target: str, check: bool = False, max_lines: int | None = None) -> RenderResult:
    """Write (or with ``check``, only compare) the managed block of ``target``'s file."""
    from flowloop.pilr.store import PilrStore

    path = target_path(repo, target)
    settings = repo.settings.render
    cap = max_lines if max_lines is not None else settings.max_lines
    if cap < 20:
        raise AgentFileError(f"a cap of {cap} lines leaves no room for a convention", field="max_lines",
                             hint="use 20 lines or more (default 150)")
    documents = PilrStore(repo).scan().documents
    usage, logged = usage_log(repo)
    conventions = ranked_conventions(repo, documents, usage, settings.lines_per_document)
    block, cited, left_out = block_text(target, conventions, cap)
    existing = _read(path)
    prefix = CURSOR_FRONT_MATTER if target == "cursor" else ""
    if check:
        old = current_block(existing) if existing is not None else None
        stale, reason = _staleness(old, block, logged, target, conventions, cap)
        return RenderResult(target, path, False, stale, cited, block.count("\n"), left_out, reason)
    new = splice(existing, block, path, prefix)
    changed = new != existing
    if changed:
        try:
            atomic_write_text(path, new)
        except OSError as exc:
            raise AgentFileError(f"cannot write: {exc.strerror or exc}", path=path,
                                 hint="check the folder's permissions; the file was left as it was") from exc
    return RenderResult(target, path, changed, False, cited, block.count("\n"), left_out)


def _staleness(
    old: str | None, fresh: str, logged: bool, target: str, conventions: list[Convention], cap: int
) -> tuple[bool, str]:
    if old is None:
        return True, "no flowloop block yet"
    if old == fresh:
        return False, ""
    if logged:
        return True, "the block differs from what the current PILRs and retrieval log render"
    # No retrieval log (CI): keep the block's own selection and order, re-render its documents.
    by_id = {c.id: c for c in conventions}
    pinned = [by_id[i] for i in cited_ids(old) if i in by_id]
    gone = [i for i in cited_ids(old) if i not in by_id]
    if gone:
        return True, f"cited but no longer active evergreen: {', '.join(gone)}"
    rest = [c for c in conventions if c.id not in set(cited_ids(old))]
    again, _, _ = block_text(target, pinned + rest, cap)
    if again == old:
        return False, ""
    return True, "a cited document changed since the block was rendered"

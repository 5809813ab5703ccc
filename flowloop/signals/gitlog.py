"""Read a repository's history with ONE streamed ``git log`` process.

The git collector must mine 10,000 commits in well under a minute, so it never starts a process
per commit: ``git log --name-only -z`` with a record separator (``\\x1e``) and field separator
(``\\x1f``) is read in chunks (:func:`flowloop.git.stream_git`) and parsed as it arrives. This
module knows git's log format and task ids, nothing about events;
:mod:`flowloop.signals.collect_git` turns commits into events.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flowloop.git import stream_git

_RS, _FS = "\x1e", "\x1f"
# %B is the raw message; the trailing %x1f marks where git's -z file list starts.
_FORMAT = "%x1e%H%x1f%P%x1f%at%x1f%aN%x1f%B%x1f"

# Task ids: Jira-style keys (ABC-123) or issue references (#123). Keys that are really
# standards or hashes (UTF-8, SHA-256, ISO-8601, CVE-2024-1) are not tasks.
_JIRA = re.compile(r"\b([A-Z][A-Z0-9]{1,9}-\d+)\b")
_ISSUE = re.compile(r"(?<![\w&])#(\d+)\b")
_NOT_TASKS = {"UTF", "SHA", "ISO", "RFC", "PEP", "CVE", "MD", "HTTP", "TLS", "SSL", "AES", "RSA", "CWE", "GPL", "LGPL", "ECMA"}
_TRAILER = re.compile(r"^[A-Za-z][A-Za-z0-9-]*: .+$")
_GENERATED = re.compile(r"^\W*Generated with \[?Claude Code", re.IGNORECASE)


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author_time: dt.datetime
    author: str
    message: str
    files: tuple[str, ...]

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0].strip()


def find_task(text: str) -> str | None:
    """The first task id in ``text``: a key like ``ABC-123`` or an issue like ``#123``."""
    for line in text.splitlines():
        for found in _JIRA.finditer(line):
            if found.group(1).split("-", 1)[0] not in _NOT_TASKS:
                return found.group(1)
        issue = _ISSUE.search(line)
        if issue:
            return f"#{issue.group(1)}"
    return None


def task_id(message: str, sha: str) -> str:
    """The task a commit belongs to: a task id from its message, else its short sha."""
    return find_task(message) or sha[:12]


def description(message: str) -> str:
    """The message without its trailer paragraph (Signed-off-by, Co-Authored-By, ...)."""
    paragraphs = message.strip().split("\n\n")
    if len(paragraphs) > 1:
        last = [line for line in paragraphs[-1].splitlines() if line.strip()]
        if last and all(_TRAILER.match(line) or _GENERATED.match(line) for line in last):
            paragraphs.pop()
    kept = [p for p in paragraphs if not _GENERATED.match(p.strip())]
    return "\n\n".join(kept).strip()


def iter_commits(root: Path, revisions: list[str], since: dt.datetime | None = None) -> Iterator[Commit]:
    """Commits reachable from ``revisions``, oldest first, streamed from one ``git log``."""
    args = ["-c", "core.quotePath=false", "log", "--reverse", "--no-renames", "--name-only", "-z", f"--format={_FORMAT}"]
    if since is not None:
        args.append(f"--since=@{int(since.timestamp())}")
    args += [*revisions, "--"]
    buffer = ""
    for chunk in stream_git(root, *args):
        records = (buffer + chunk).split(_RS)
        buffer = records.pop()
        for record in records:
            commit = _parse(record)
            if commit is not None:
                yield commit
    commit = _parse(buffer)
    if commit is not None:
        yield commit


def _parse(record: str) -> Commit | None:
    if not record.strip():
        return None
    fields = record.split(_FS)
    if len(fields) < 6:
        return None  # a message containing our separators: skip rather than misread
    sha, parents, stamp, author = fields[0], fields[1], fields[2], fields[3]
    message = _FS.join(fields[4:-1])
    files = tuple(
        name for name in (part.strip("\n") for part in fields[-1].split("\0"))
        if name and not name.startswith(".flow/")
    )
    return Commit(
        sha=sha.strip(),
        parents=tuple(parents.split()),
        author_time=dt.datetime.fromtimestamp(int(stamp), tz=dt.timezone.utc),
        author=author,
        message=message.strip(),
        files=files,
    )

"""``flow collect git``: a repository's history as work records and outcomes.

A team gets signal from day one: every commit is a ``work_record`` (its message is the task
description, the files it touched are the answer a planner should give), and history says what
held up. A commit that was later reverted gets a ``reverted`` outcome; a commit followed within
``signals.hotfix_window_days`` by a fix touching any of the same files gets a ``hotfix`` outcome.
Two rules keep that honest on real history: files matching ``signals.hotfix_exclude``
(changelogs, docs; nearly every commit touches them) never make the overlap, and a fix is read
from the subject's wording, not from an issue reference (``Closes #12`` also closes features).
A hotfix share above ``signals.hotfix_share_warn`` comes back as a warning with the count.

Incremental by a cursor (``.flow/state/collect_git.json``: the last mined HEAD): later runs turn
only commits not reachable from it into events, but still read the whole history (one streamed
``git log``) so a new fix can mark an older commit and a new revert can name an old one. Every
event has a stable idempotency key (``git:<sha>:<what>``), so an interrupted or repeated run never
duplicates anything.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re
from collections import deque
from collections.abc import Callable
from typing import Any
from dataclasses import dataclass, field
from pathlib import Path

from flowloop.atomic import atomic_write_text
from flowloop.errors import CollectorError
from flowloop.git import head_commit, is_ancestor, run_git
from flowloop.repo import FlowRepo
from flowloop.signals.events import EventBase, OutcomeEvent, WorkRecordEvent
from flowloop.signals.gitlog import Commit, description, iter_commits, task_id

CURSOR_FILE = "collect_git.json"
SOURCE = "git"
BATCH = 2000

_REVERTS_SHA = re.compile(r"This reverts commit ([0-9a-f]{7,40})", re.IGNORECASE)
_REVERT_SUBJECT = re.compile(r'^Revert\s+"(.+)"\s*$')
# A fix: conventional `fix:`/`fix(scope):`, or the words fix/hotfix/bug/patch/regression/broken in
# the subject. An issue reference ("... (fixes #12)", "Closes #3", "resolves GH-7", any line of the
# body) names the issue a change closes, feature requests included, so it is removed before the
# words are read; only a subject that starts "Fix #N" says so itself.
_FIX = re.compile(
    r"^(fix|hotfix|bugfix)(\([^)]*\))?!?:|\b(fix(es|ed|ing)?|hot-?fix(es)?|bug(s|fix)?|patch(es|ed)?|regression|broken)\b",
    re.IGNORECASE,
)
_ISSUE_REF = re.compile(
    r"\(?\b(fix(es|ed)?|close[sd]?|resolve[sd]?)\s*:?\s+(([\w.-]+/[\w.-]+)?#\d+|GH-\d+)(\s*,\s*#\d+)*\)?",
    re.IGNORECASE,
)
_LEADING_FIX_REF = re.compile(r"^fix(es|ed)?\s*:?\s+#\d+", re.IGNORECASE)
MIN_WORK_FOR_SHARE_WARNING = 20


def excluded(path: str, patterns: list[str] | tuple[str, ...]) -> bool:
    """Whether ``path`` (repository-relative, '/'-separated) matches one of the exclude globs.

    A pattern without '/' matches the file name at any depth (``CHANGELOG*``, ``*.md``); one with
    '/' matches the whole path from the root, ``*`` crossing folders (``docs/**``)."""
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(path if "/" in p else name, p) for p in patterns)


@dataclass
class CollectResult:
    head: str | None = None
    commits_seen: int = 0
    new_commits: int = 0
    work_records: int = 0
    reverted: int = 0
    hotfixes: int = 0
    merges_skipped: int = 0
    added: int = 0
    duplicates: int = 0
    full_scan: bool = True
    details: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def hotfix_share(self) -> float:
        return self.hotfixes / self.work_records if self.work_records else 0.0


def is_fix(commit: Commit) -> bool:
    """Whether a commit is a fix, by its subject's wording; reverts are not, and neither is a
    commit whose only "fix" is an issue reference (``Closes #3``, ``(fixes #12)``, a body line)."""
    if commit.subject.startswith(("Revert ", "Reapply ")):
        return False
    if _LEADING_FIX_REF.match(commit.subject):
        return True  # "Fix #744": the subject's own verb says it fixes
    return bool(_FIX.search(_ISSUE_REF.sub(" ", commit.subject)))


def collect_git(
    repo: FlowRepo,
    since: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CollectResult:
    """Mine the history of ``repo`` into the signals store; see the module docstring."""
    from flowloop.signals.store import open_store  # the store pulls in SQLAlchemy: only when mining

    root = repo.root
    result = CollectResult(head=head_commit(root))
    if result.head is None:
        return result  # an empty repository: nothing to mine yet
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.timezone.utc)

    cursor = _read_cursor(repo)
    known: set[str] | None = None  # shas already mined; None = treat every commit as new
    if cursor and _cursor_covers(cursor, since) and is_ancestor(root, cursor["head"], result.head):
        if cursor["head"] == result.head:
            result.full_scan = False
            return result
        known = _reachable(root, cursor["head"], since)
        result.full_scan = False

    total = int(run_git(root, "rev-list", "--count", "HEAD").strip() or 0)
    window = dt.timedelta(days=repo.settings.signals.hotfix_window_days)
    signals = repo.settings.signals
    miner = _Miner(window, known, result, tuple(signals.hotfix_exclude))
    with open_store(repo) as store:
        batch: list[EventBase] = []
        for commit in iter_commits(root, ["HEAD"], since):
            batch.extend(miner.feed(commit))
            if len(batch) >= BATCH:
                _flush(store, batch, result)
            if progress is not None and result.commits_seen % 200 == 0:
                progress(result.commits_seen, total)
        batch.extend(miner.finish())
        _flush(store, batch, result)
    if progress is not None:
        progress(result.commits_seen, result.commits_seen)
    _write_cursor(repo, result.head, since)
    result.warnings.extend(_share_warnings(result, signals.hotfix_share_warn, signals.hotfix_window_days))
    return result


def _share_warnings(result: CollectResult, limit: float, days: int) -> list[str]:
    """A hotfix share above ``limit`` usually means the rule misreads this project, not that a
    fifth of its work failed: say so, with the count, before the weights reach a dataset."""
    if result.work_records < MIN_WORK_FOR_SHARE_WARNING or result.hotfix_share <= limit:
        return []
    return [
        f"{result.hotfixes} of {result.work_records} work records ({result.hotfix_share:.0%}) got a hotfix "
        f"outcome, more than signals.hotfix_share_warn ({limit:.0%}); each halves its task's weight. "
        f"Check which files the fixes share (add them to signals.hotfix_exclude), or shorten "
        f"signals.hotfix_window_days (now {days})"
    ]


class _Miner:
    """Walks commits oldest first and emits events; keeps only what later commits can refer to."""

    def __init__(
        self, window: dt.timedelta, known: set[str] | None, result: CollectResult, exclude: tuple[str, ...] = ()
    ) -> None:
        self.window = window
        self.exclude = exclude
        self.known = known
        self.result = result
        self.commits: dict[str, tuple[str, dt.datetime]] = {}  # sha -> (task, author time)
        self.by_subject: dict[str, str] = {}  # latest commit per subject, for `Revert "..."` only
        self.recent: dict[str, deque[tuple[dt.datetime, str]]] = {}  # file -> commits in the window
        self.marked: set[str] = set()  # commits given a hotfix outcome in this run
        self.pending_reverts: list[tuple[str, Commit]] = []  # targets not seen (yet) in the walk

    def is_new(self, sha: str) -> bool:
        return self.known is None or sha not in self.known

    def feed(self, commit: Commit) -> list[EventBase]:
        self.result.commits_seen += 1
        new = self.is_new(commit.sha)
        self.result.new_commits += int(new)
        task = task_id(commit.message, commit.sha)
        self.commits[commit.sha] = (task, commit.author_time)
        events: list[EventBase] = []
        if commit.is_merge:
            # A merge repeats its branch's work, and git log lists no files for it by default.
            self.result.merges_skipped += int(new)
        elif new and commit.files:
            events.append(_work_record(commit, task))
            self.result.work_records += 1
        target = self._revert_target(commit)
        if target is not None and new:
            if target in self.commits:
                events.append(self._reverted(target, commit))
            else:
                self.pending_reverts.append((target, commit))
        if new and is_fix(commit) and target is None:
            events.extend(self._hotfixes(commit))
        if not commit.is_merge:
            self._remember(commit)
        self.by_subject[commit.subject] = commit.sha
        return events

    def finish(self) -> list[EventBase]:
        """Reverts whose target was not in the walk (before ``since``, another branch): still recorded."""
        return [self._reverted(target, revert) for target, revert in self.pending_reverts]

    def _revert_target(self, commit: Commit) -> str | None:
        found = _REVERTS_SHA.search(commit.message)
        if found:
            target = found.group(1).lower()
            if len(target) < 40:  # abbreviated by hand: resolve against what was walked so far
                target = next((sha for sha in self.commits if sha.startswith(target)), target)
            return target
        quoted = _REVERT_SUBJECT.match(commit.subject)
        if quoted:
            return self.by_subject.get(quoted.group(1))
        return None

    def _reverted(self, target: str, revert: Commit) -> OutcomeEvent:
        self.result.reverted += 1
        task = self.commits.get(target, (target[:12], None))[0]
        return OutcomeEvent(
            task=task,
            metric="reverted",
            value=1.0,
            commit=target,
            repo_commit=revert.sha,
            actor=revert.author,
            created_at=revert.author_time,
            idempotency_key=f"git:{target}:reverted",
            source=SOURCE,
        )

    def _hotfixes(self, fix: Commit) -> list[EventBase]:
        events: list[EventBase] = []
        oldest = fix.author_time - self.window
        for path in self._code_files(fix):
            for when, sha in self.recent.get(path, ()):
                if sha == fix.sha or sha in self.marked or not (oldest <= when <= fix.author_time):
                    continue
                self.marked.add(sha)
                self.result.hotfixes += 1
                events.append(
                    OutcomeEvent(
                        task=self.commits[sha][0],
                        metric="hotfix",
                        value=1.0,
                        window=f"{self.window.days}d",
                        commit=sha,
                        repo_commit=fix.sha,
                        actor=fix.author,
                        created_at=fix.author_time,
                        idempotency_key=f"git:{sha}:hotfix",
                        source=SOURCE,
                    )
                )
        return events

    def _code_files(self, commit: Commit) -> list[str]:
        """The files whose overlap can make a hotfix (changelog and docs files excluded)."""
        return [path for path in commit.files if not excluded(path, self.exclude)]

    def _remember(self, commit: Commit) -> None:
        oldest = commit.author_time - self.window
        for path in self._code_files(commit):
            queue = self.recent.setdefault(path, deque())
            queue.append((commit.author_time, commit.sha))
            # Author times are not monotonic across branches, so prune from the left only while old.
            while queue and queue[0][0] < oldest:
                queue.popleft()


def _work_record(commit: Commit, task: str) -> WorkRecordEvent:
    return WorkRecordEvent(
        task=task,
        description=description(commit.message) or commit.subject or commit.sha,
        files=list(commit.files),
        commit=commit.sha,
        author_time=commit.author_time,
        actor=commit.author,
        repo_commit=commit.sha,
        created_at=commit.author_time,
        idempotency_key=f"git:{commit.sha}:work_record",
        source=SOURCE,
    )


def _flush(store: Any, batch: list[EventBase], result: CollectResult) -> None:
    if not batch:
        return
    added = store.add(batch)
    result.added += added.added
    result.duplicates += added.duplicates
    batch.clear()


def _reachable(root: Path, head: str, since: dt.datetime | None) -> set[str]:
    args = ["rev-list", head]
    if since is not None:
        args.append(f"--since=@{int(since.timestamp())}")
    return set(run_git(root, *args).split())


def _read_cursor(repo: FlowRepo) -> dict[str, Any] | None:
    path = repo.state_dir / CURSOR_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None  # no or unreadable cursor: a full, idempotent rescan is always safe
    return data if isinstance(data, dict) and isinstance(data.get("head"), str) else None


def _cursor_covers(cursor: dict[str, Any], since: dt.datetime | None) -> bool:
    """A cursor from a ``--since`` run covers this run only if this run looks no further back."""
    mined_since = cursor.get("since")
    if mined_since is None:
        return True
    return since is not None and since.timestamp() >= float(mined_since)


def _write_cursor(repo: FlowRepo, head: str | None, since: dt.datetime | None) -> None:
    data = {"head": head, "since": since.timestamp() if since else None, "mined_at": dt.datetime.now(dt.timezone.utc).isoformat()}
    atomic_write_text(repo.state_path(CURSOR_FILE), json.dumps(data, indent=2) + "\n")


def commit_task(repo: FlowRepo, commit: str) -> str:
    """The task of one commit (for outcomes from CI, webhooks): from its message, else its sha."""
    try:
        message = run_git(repo.root, "log", "-1", "--format=%B", commit, "--")
    except CollectorError:
        return commit[:12]  # not a git repo, or a commit this clone does not have
    return task_id(message, commit)

"""Labelled commits of a real history for the reward benchmark, time-split at a cut.

A git bundle (``../shared/histories/NAME.bundle``) is cloned into a temp folder, ``flow init``
and ``flow collect git`` run on it (``planning.git_history``; the real collector: ``reverted``
and ``hotfix`` outcomes), and every commit with code files becomes one labelled item:

- text: the commit's diff as ``flow validate`` reads it (its hunks through
  ``flowloop.specialist.units.diff_units``: binary and huge files skipped), each hunk headed by
  its file, cut to ``max_chars``; context: the first paragraph of its message (what a pull
  request's title and description would say);
- label: ``violating`` when the commit was reverted or got a hotfix outcome, else ``compliant``
  (it held).

Time split, so nothing after the cut leaks into what is learned:

- training items are the commits before ``cut - window``, labelled *as of the cut* (an outcome
  whose revert or fix came after the cut does not count: the team could not have known it);
  commits in the last ``window`` days before the cut are left out, their fate not yet settled;
- scored items are the commits from the cut until ``window`` days before the newest commit,
  labelled from the whole history.

Commits whose files are all changelog or documentation files (``signals.hotfix_exclude``) are
left out on both sides: the collector never gives them a hotfix, so they would be free
"compliant" items. The reward pass's own calibration slice (the newest training tasks) then
chooses the threshold, before the cut.

The items are written as a dataset version (``reward_train``; ``reward_heldout`` and
``eval_validation`` the scored ones), so the reward pass trains and the reviewers are compared
through the same functions as on any project.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowloop.passes import get_pass, passes
from flowloop.pipeline.manifest import FILE_NAMES, jsonl_bytes, write_version
from flowloop.pipeline.records import iso
from flowloop.repo import FlowRepo
from flowloop.signals.collect_git import excluded
from flowloop.signals.events import OutcomeEvent, WorkRecordEvent
from flowloop.signals.store import open_store
from flowloop.specialist.units import diff_units

FAILED = ("reverted", "hotfix")


@dataclass
class Commit:
    sha: str
    task: str
    time: dt.datetime
    description: str
    files: list[str]
    failed_at: dt.datetime | None  # the first revert or fix that marked it, if any


def commits(repo: FlowRepo) -> list[Commit]:
    """Every work record of the store with the time its revert or hotfix was recorded."""
    with open_store(repo) as store:
        works = [e for e in store.query(kind="work_record") if isinstance(e, WorkRecordEvent) and e.commit]
        outcomes = [e for e in store.query(kind="outcome")
                    if isinstance(e, OutcomeEvent) and e.metric in FAILED and e.value > 0 and e.commit]
    failed: dict[str, dt.datetime] = {}
    for outcome in outcomes:
        when = outcome.created_at
        failed[outcome.commit] = min(failed.get(outcome.commit, when), when)
    return sorted((Commit(w.commit, w.task or w.commit[:12], w.author_time or w.created_at, w.description, list(w.files),
                          failed.get(w.commit)) for w in works), key=lambda c: (c.time, c.sha))


def commit_text(root: Path, sha: str, max_chars: int, exclude: tuple[str, ...]) -> str:
    """The commit's hunks as ``flow validate`` splits them, each under its file, code files
    first (a changelog entry would otherwise fill the characters the classifier reads)."""
    diff = subprocess.run(["git", "-c", "core.quotePath=false", "show", "--format=", "--no-color", "--no-ext-diff",
                           "--unified=3", sha], cwd=root, capture_output=True, text=True, errors="replace", check=True).stdout
    units = sorted(diff_units(diff, f"commit {sha[:12]}").units, key=lambda u: excluded(u.path, exclude))
    return "\n".join(f"File: {u.path}\n{u.text}" for u in units)[:max_chars]


def labelled(repo: FlowRepo, cut: dt.datetime, max_chars: int = 1500,
             test_limit: int = 0) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """``(training rows, scored rows, counts)``; see the module docstring for the rules.
    ``test_limit``: only the first so many commits after the cut are scored (0: all)."""
    window = dt.timedelta(days=repo.settings.signals.hotfix_window_days)
    exclude = tuple(repo.settings.signals.hotfix_exclude)
    found = commits(repo)
    newest = max(c.time for c in found)
    train, test = [], []
    skipped: Counter[str] = Counter()
    for c in found:
        if all(excluded(path, exclude) for path in c.files):
            skipped["docs or changelog only"] += 1
            continue
        if c.time < cut - window:
            violating = c.failed_at is not None and c.failed_at < cut
            side = train
        elif cut <= c.time <= newest - window and not (test_limit and len(test) >= test_limit):
            violating = c.failed_at is not None
            side = test
        else:
            skipped["fate not settled at the cut or at the end, or past the scored commits"] += 1
            continue
        text = commit_text(repo.root, c.sha, max_chars, exclude)
        if not text.strip():
            skipped["no text hunk (binary or huge files only)"] += 1
            continue
        context = c.description.split("\n\n", 1)[0][:300]
        side.append({"id": f"commit-{c.sha[:12]}", "text": text, "context": context,
                     "label": "violating" if violating else "compliant", "source": f"git:{c.sha}",
                     "task": c.task, "time": iso(c.time), "weight": 1.0})
    counts = {"train": len(train), "train_violating": sum(r["label"] == "violating" for r in train),
              "test": len(test), "test_violating": sum(r["label"] == "violating" for r in test),
              "skipped": dict(skipped), "newest_commit": iso(newest), "window_days": window.days}
    return train, test, counts


def balance(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` training rows, violations weighted up to the compliant count (at most
    4 copies, see ``flowloop.train.data``) so a few training steps see both labels."""
    rows = rows[-limit:] if limit else rows
    bad = sum(r["label"] == "violating" for r in rows)
    weight = min(4.0, max(1.0, (len(rows) - bad) / bad)) if bad else 1.0
    return [{**r, "weight": round(weight, 3)} if r["label"] == "violating" else r for r in rows]


def write_dataset(repo: FlowRepo, train: list[dict[str, Any]], test: list[dict[str, Any]], cut: dt.datetime) -> str:
    """A dataset version of the labelled commits; returns its name (``vN``)."""
    spec = get_pass("reward")
    content = {spec.train_file: train, spec.heldout_file: test, "eval_validation":
               [{k: r[k] for k in ("id", "text", "context", "label", "source")} for r in test]}
    files = {FILE_NAMES[k]: jsonl_bytes(rows) for k, rows in content.items()}
    manifest = write_version(repo, files, {
        "counts": {spec.count_field: len(train), "files": {k: len(v) for k, v in content.items()}},
        "thresholds": {p.name: p.threshold(repo.settings) for p in passes()},
        "split": {"holdout_share": None, "cutoff": iso(cut), "train_tasks": [], "heldout_tasks": []},
        "files": {k: FILE_NAMES[k] for k in content},
        "curate": "history-benchmark",
    })
    return f"v{manifest.version}"

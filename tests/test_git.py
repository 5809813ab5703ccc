"""``flowloop.git`` on real repositories in tmp_path, linked worktrees included.

In a worktree made by ``git worktree add``, ``.git`` is a file pointing at the real git
directory; everything that reads git (the collector, the review queue, the loop, the hooks'
branch lookup) goes through ``flowloop.git`` and must treat it as a repository of its own.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest

from flowloop import git as flowgit
from flowloop.errors import CollectorError, GitError
from flowloop.pilr.model import PilrMeta, PilrType
from flowloop.pilr.review import review_queue
from flowloop.pilr.store import PilrStore
from flowloop.repo import FlowRepo, init_repo
from flowloop.signals.collect_git import collect_git
from flowloop.signals.store import open_store


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def worktree(git_repo: Path, tmp_path: Path) -> Path:
    """A linked worktree of ``git_repo`` on branch ``feature/refund-rounding``."""
    (git_repo / "README.md").write_text("ledger\n")
    git(git_repo, "add", "README.md")
    git(git_repo, "commit", "-q", "-m", "LED-1: start the ledger")
    path = tmp_path / "worktrees" / "refunds"
    git(git_repo, "worktree", "add", "-q", "-b", "feature/refund-rounding", str(path))
    return path


def test_a_worktree_is_a_repository_of_its_own(git_repo: Path, worktree: Path) -> None:
    assert (worktree / ".git").is_file()  # the case `.git`-is-a-folder code got wrong
    assert flowgit.is_toplevel(worktree) and flowgit.is_toplevel(git_repo)
    assert flowgit.toplevel(worktree) == worktree.resolve()
    assert flowgit.common_dir(worktree) == (git_repo / ".git").resolve()
    assert flowgit.git_dir(worktree) not in (None, flowgit.common_dir(worktree))
    assert flowgit.own_git_dir(worktree) == flowgit.git_dir(worktree)
    assert flowgit.current_branch(worktree) == "feature/refund-rounding"
    assert flowgit.current_branch(git_repo) == "main"
    assert flowgit.head_commit(worktree) == flowgit.head_commit(git_repo)


def test_a_subfolder_and_a_plain_folder_are_not_top_levels(git_repo: Path, worktree: Path, tmp_path: Path) -> None:
    example = worktree / "examples" / "demo"
    example.mkdir(parents=True)
    assert not flowgit.is_toplevel(example)  # a .flow project there must not mine its parent's history
    assert flowgit.current_branch(example) is None
    plain = tmp_path / "plain"
    plain.mkdir()
    assert flowgit.toplevel(plain) is None and flowgit.git_dir(plain) is None
    assert not flowgit.is_toplevel(plain) and flowgit.current_branch(plain) is None
    with pytest.raises(GitError, match="not a git repository") as info:
        flowgit.head_commit(plain)
    assert isinstance(info.value, CollectorError) and info.value.path == plain


def test_detached_head_has_no_branch(worktree: Path) -> None:
    git(worktree, "checkout", "-q", "--detach")
    assert flowgit.current_branch(worktree) is None
    assert flowgit.head_commit(worktree)


def test_a_failing_streamed_command_raises_after_its_output(worktree: Path) -> None:
    chunks = flowgit.stream_git(worktree, "-c", "core.quotePath=false", "log", "no-such-revision", "--")
    with pytest.raises(GitError, match="git log failed"):
        list(chunks)


def test_collect_and_review_read_the_worktrees_history(worktree: Path) -> None:
    repo = init_repo(worktree).repo
    store = PilrStore(repo)
    store.create(PilrMeta(id="eph-refunds", type=PilrType.EPHEMERAL, title="Refund rounding", task="LED-7",
                          created=dt.date(2025, 1, 1), updated=dt.date(2025, 1, 2)),
                 "## Spec\n\nRound refunds half-even.\n")
    (worktree / "refunds.py").write_text("ROUNDING = 'half-even'\n")
    git(worktree, "add", "refunds.py")
    git(worktree, "commit", "-q", "-m", "LED-7: round refunds half-even")

    queue = review_queue(PilrStore(FlowRepo(worktree)))
    assert [item.document.id for item in queue.to_archive] == ["eph-refunds"]
    assert queue.to_archive[0].evidence.startswith("commit ")

    result = collect_git(FlowRepo(worktree))
    assert result.head == flowgit.head_commit(worktree) and result.work_records == 2
    with open_store(FlowRepo(worktree)) as signals:
        assert {event.task for event in signals.query(kind="work_record")} == {"LED-1", "LED-7"}

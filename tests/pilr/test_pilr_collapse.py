"""No collapse: a much shorter replacement needs --allow-shorter; review shows the size change."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers_pilr import add, git, make_store

from flowloop.errors import LifecycleError
from flowloop.pilr import lifecycle
from flowloop.pilr.model import PilrStatus

LONG = "## Context\n\n" + "The outbox is polled every second by one beat task. " * 40
SHORT = "## Context\n\nPoll the outbox.\n"


def test_supersede_by_a_much_shorter_document_is_refused_until_confirmed(tmp_path: Path) -> None:
    store = make_store(tmp_path / "r")
    add(store, "evg-old", "evergreen", "Outbox", LONG)
    add(store, "evg-new", "evergreen", "Outbox v2", SHORT)
    with pytest.raises(LifecycleError, match="collapse"):
        lifecycle.supersede(store, "evg-old", "evg-new")
    assert store.get("evg-old").status is PilrStatus.ACTIVE  # nothing was written
    lifecycle.supersede(store, "evg-old", "evg-new", allow_shorter=True)
    assert store.get("evg-old").status is PilrStatus.SUPERSEDED


def test_a_replacement_of_similar_length_needs_no_confirmation(tmp_path: Path) -> None:
    store = make_store(tmp_path / "r")
    add(store, "evg-old", "evergreen", "Outbox", LONG)
    add(store, "evg-new", "evergreen", "Outbox v2", LONG + " And one more sentence.")
    lifecycle.supersede(store, "evg-old", "evg-new")


def test_archive_keeping_a_sliver_of_the_note_is_refused_until_confirmed(tmp_path: Path) -> None:
    store = make_store(tmp_path / "r")
    body = "## Plan\n\n" + "Step by step we change the poller. " * 60 + "\n\n## Decisions\n\nPoll.\n"
    add(store, "eph-1", "ephemeral", "Task", body, task="T-1")
    with pytest.raises(LifecycleError, match="allow-shorter"):
        lifecycle.archive(store, "eph-1")
    result = lifecycle.archive(store, "eph-1", allow_shorter=True)
    assert result.source is not None and result.source.status is PilrStatus.ARCHIVED


def test_review_shows_the_size_change_of_pending_moves(tmp_path: Path, git_repo: Path) -> None:


    from flowloop.pilr.review import review_queue

    store = make_store(git_repo)
    body = "## Plan\n\n" + "We change the poller. " * 30 + "\n\n## Decisions\n\n" + "Poll every second. " * 10
    add(store, "eph-1", "ephemeral", "Task", body, task="T-1")
    (git_repo / "x.txt").write_text("x", encoding="utf-8")
    git(git_repo, "add", "x.txt")
    git(git_repo, "commit", "-qm", "T-1: poller")
    queue = review_queue(store)
    (item,) = queue.to_archive
    assert item.size_change is not None
    assert item.size_change.old_words > item.size_change.new_words > 0
    assert "words" in item.size_change.render()

"""Staleness against the code, after real commits in a temporary repository, checked incrementally."""

from __future__ import annotations

import datetime as dt
from pathlib import Path


from helpers_pilr import add, git, make_store

from flowloop.pilr.lint import lint
from flowloop.pilr.staleness import cached_flags, check


def _commit(root: Path, path: str, text: str, message: str, when: str) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-qm", message, env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})


def _setup(git_repo: Path):  # type: ignore[no-untyped-def]
    store = make_store(git_repo)
    _commit(git_repo, "src/money.py", "def from_minor(x):\n    return x\n\ndef apply_tax(x):\n    return x\n",
            "money", "2025-01-01T10:00:00")
    _commit(git_repo, "src/other.py", "VALUE = 1\n", "other", "2025-01-01T11:00:00")
    add(store, "evg-money", "evergreen", "Money", "Use `from_minor()` and `apply_tax()`.",
        sources=["src/money.py"], updated=dt.date(2025, 1, 2))
    add(store, "evg-other", "evergreen", "Other", "See `src/other.py`.", updated=dt.date(2025, 1, 2))
    return store


def test_a_source_changed_since_updated_is_flagged_with_count_and_date(git_repo: Path) -> None:
    store = _setup(git_repo)
    assert check(store.repo, store.load()).stale() == {}
    for n in range(2):
        _commit(git_repo, "src/money.py", f"def from_minor(x):\n    return x + {n}\n\ndef apply_tax(x):\n    return x\n",
                f"change {n}", f"2025-02-0{n + 1}T10:00:00")
    report = lint(store, staleness=True)
    messages = [w.message for w in report.warnings]
    assert "possibly stale: src/money.py changed in 2 commits since 2025-01-02" in messages
    assert report.ok  # a warning, not an error
    assert list(cached_flags(store.repo)) == ["evg-money"]


def test_a_vanished_symbol_is_a_stronger_flag(git_repo: Path) -> None:
    store = _setup(git_repo)
    _commit(git_repo, "src/money.py", "def from_minor(x):\n    return x\n", "drop apply_tax", "2025-02-01T10:00:00")
    result = check(store.repo, store.load()).stale()["evg-money"]
    assert result.missing == ["apply_tax"]
    assert any(m.startswith("likely stale: `apply_tax` no longer exists") for m in result.messages())


def test_the_check_is_incremental(git_repo: Path) -> None:
    store = _setup(git_repo)
    first = check(store.repo, store.load())
    assert sorted(first.checked) == ["evg-money", "evg-other"]
    assert check(store.repo, store.load()).checked == []  # nothing changed: all from the cache
    _commit(git_repo, "src/other.py", "VALUE = 2\n", "other again", "2025-02-01T10:00:00")
    third = check(store.repo, store.load())
    assert third.checked == ["evg-other"]  # only the document watching the changed file
    assert third.results["evg-other"].commits == 1
    assert not third.results["evg-money"].stale


def test_no_git_history_means_no_flags(tmp_path: Path) -> None:
    store = make_store(tmp_path / "plain")
    add(store, "evg-x", "evergreen", "X", "`some_symbol`", sources=["a.py"])
    assert check(store.repo, store.load()).results == {}

"""The usage-logging policy a retriever is given: direct, pending or from a background thread."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowloop.signals.spool import pending_path
from flowloop.index.usage_log import UsageLog
from flowloop.repo import FlowRepo, find_repo, init_repo
from flowloop.signals.store import open_store

CANDIDATES = [("evg-money", 0.9, ".flow/pilrs/evergreen/money.md"), ("cum-tax", 0.4, ".flow/pilrs/cumulative/tax.md")]


@pytest.fixture
def repo(tmp_path: Path) -> FlowRepo:
    return init_repo(tmp_path / "proj").repo


def _queries(repo: FlowRepo) -> list[str]:
    with open_store(FlowRepo(repo.root)) as store:
        return [e.query for e in store.query("retrieval")]


def test_direct_writes_before_returning(repo: FlowRepo) -> None:
    log = UsageLog(repo, "direct")
    log.record("search", "money", CANDIDATES, ["evg-money"], session="s1")
    assert not pending_path(repo).exists()
    assert _queries(repo) == ["money"]


def test_pending_appends_a_line_and_leaves_the_store_closed(repo: FlowRepo) -> None:
    log = UsageLog(repo, "pending")
    log.record("context", "tax rounding", CANDIDATES, ["cum-tax"])
    log.record("search", "money", CANDIDATES, [])
    assert len(pending_path(repo).read_text(encoding="utf-8").splitlines()) == 2


def test_background_writes_everything_by_close_in_order(repo: FlowRepo) -> None:
    log = UsageLog(repo, "background")
    for i in range(5):
        log.record("search", f"q{i}", CANDIDATES, ["evg-money"])
    log.close()
    assert _queries(repo) == [f"q{i}" for i in range(5)]
    assert log.errors == []
    log.close()  # closing twice is harmless


def test_background_keeps_a_store_failure_instead_of_dying(repo: FlowRepo, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a SQLite database" * 100)
    monkeypatch.setenv("FLOW_DATABASE_URL", f"sqlite:///{broken}")
    log = UsageLog(find_repo(repo.root), "background")
    log.record("search", "money", CANDIDATES, [])
    log.record("search", "tax", CANDIDATES, [])
    log.close()
    assert len(log.errors) == 2 and all(e for e in log.errors)


def test_an_unknown_mode_is_refused(repo: FlowRepo) -> None:
    with pytest.raises(ValueError, match="unknown log_mode 'sometimes'"):
        UsageLog(repo, "sometimes")

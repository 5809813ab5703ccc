"""What `flow validate` reads: plans and diff hunks from a real git repository, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowloop.errors import ValidateError
from flowloop.specialist.units import diff_text, diff_units, plan_units, read_plan
from helpers_validate import change, git, project


def test_a_working_tree_diff_is_one_unit_per_hunk_and_binary_files_are_named(git_repo: Path) -> None:
    project(git_repo)
    change(git_repo)
    text, source = diff_text(git_repo, None)
    units = diff_units(text, source)
    assert source == "diff of the working tree against HEAD"
    assert [u.path for u in units.units] == ["src/ledger.py"] * len(units.units) and len(units.units) >= 1
    assert units.units[0].id == "src/ledger.py:1" and units.units[0].line == 1
    assert "+    return float(" in units.units[0].text and "float" in units.units[0].query
    assert units.skipped == [{"path": "logo.png", "reason": "binary file"}]


def test_a_revision_range_and_a_huge_file(git_repo: Path) -> None:
    project(git_repo)
    (git_repo / "big.txt").write_text("\n".join(f"row {i}" for i in range(50)) + "\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "big")
    text, source = diff_text(git_repo, "HEAD~1..HEAD")
    units = diff_units(text, source, max_file_lines=10)
    assert source == "diff HEAD~1..HEAD" and units.units == []
    assert units.skipped == [{"path": "big.txt", "reason": "50 changed lines (over 10)"}]


def test_a_revision_range_that_does_not_exist_names_the_revision(git_repo: Path) -> None:
    project(git_repo)
    with pytest.raises(ValidateError, match=r"field '--diff': revision 'nope' of range 'nope..HEAD' does not exist") as err:
        diff_text(git_repo, "nope..HEAD")
    assert err.value.exit_code == 2


def test_outside_git_the_error_says_so(tmp_path: Path) -> None:
    with pytest.raises(ValidateError, match="not a git repository"):
        diff_text(tmp_path, None)


def test_plan_files_missing_binary_or_not_utf8_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValidateError, match=r"missing\.md: field '--plan': plan file not found"):
        read_plan(tmp_path / "missing.md", None)
    (tmp_path / "plan.bin").write_bytes(b"PK\x03\x04\0\0binary")
    with pytest.raises(ValidateError, match=r"plan\.bin: field '--plan': the plan file is not text"):
        read_plan(tmp_path / "plan.bin", None)
    (tmp_path / "latin.md").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ValidateError, match="not UTF-8 text"):
        read_plan(tmp_path / "latin.md", None)
    (tmp_path / "plan.md").write_text("Store money as float.\n")
    assert read_plan(tmp_path / "plan.md", None) == ("Store money as float.\n", str(tmp_path / "plan.md"))
    assert read_plan(None, "from stdin") == ("from stdin", "<stdin>")
    assert plan_units("  ", "<stdin>").units == []

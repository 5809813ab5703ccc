"""Git mining on real repositories built in tmp_path: work records, reverts, hotfixes, increments."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import CollectorError
from flowloop.repo import init_repo
from flowloop.signals.collect_git import collect_git
from flowloop.signals.gitlog import description, task_id
from flowloop.signals.store import open_store

DAY0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.timezone.utc)


def run_git(repo: Path, *args: str, day: float = 0) -> str:
    stamp = (DAY0 + dt.timedelta(days=day)).isoformat()
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo),
           "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


def commit(repo: Path, message: str, files: dict[str, str], day: float) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        run_git(repo, "add", "-f", name)
    run_git(repo, "commit", "-q", "-m", message, day=day)
    return run_git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def history(git_repo: Path) -> dict[str, str]:
    """A small history with a hotfix, a revert, a merge and a .flow-only change."""
    init_repo(git_repo)
    shas = {}
    shas["parser"] = commit(git_repo, "ABC-1: add parser\n\nSigned-off-by: Dev <dev@example.com>",
                            {"src/parser.py": "v1", "src/util.py": "v1"}, day=0)
    shas["exporter"] = commit(git_repo, "Add exporter", {"src/export.py": "v1"}, day=1)
    shas["fix"] = commit(git_repo, "fix: parser crash on empty input", {"src/parser.py": "v2"}, day=2)
    run_git(git_repo, "revert", "--no-edit", shas["exporter"], day=3)
    shas["revert"] = run_git(git_repo, "rev-parse", "HEAD").strip()
    shas["docs"] = commit(git_repo, "Document the parser (#42)", {"docs/parser.md": "v1", ".flow/pilrs/evergreen/x.md": "x"},
                          day=20)
    run_git(git_repo, "checkout", "-q", "-b", "feature")
    shas["branch"] = commit(git_repo, "ABC-7: add CSV reader", {"src/csv.py": "v1"}, day=21)
    run_git(git_repo, "checkout", "-q", "main")
    run_git(git_repo, "merge", "-q", "--no-ff", "-m", "Merge branch 'feature'", "feature", day=22)
    shas["merge"] = run_git(git_repo, "rev-parse", "HEAD").strip()
    shas["late_fix"] = commit(git_repo, "fix typo in util", {"src/util.py": "v2"}, day=30)  # parser is 30 days old
    return shas


def outcomes(repo: Path, metric: str) -> dict[str, object]:
    with open_store(init_repo(repo).repo) as store:
        return {e.commit: e for e in store.query(kind="outcome") if e.metric == metric}  # type: ignore[attr-defined]


def test_mines_work_records_reverts_and_hotfixes(git_repo: Path, history: dict[str, str]) -> None:
    repo = init_repo(git_repo).repo
    result = collect_git(repo)
    assert result.commits_seen == 8 and result.merges_skipped == 1
    with open_store(repo) as store:
        records = {e.commit: e for e in store.query(kind="work_record")}  # type: ignore[attr-defined]
    assert history["merge"] not in records  # a merge repeats its branch's work
    assert set(records) == set(history.values()) - {history["merge"]}
    parser = records[history["parser"]]
    assert parser.task == "ABC-1" and parser.description == "ABC-1: add parser"  # trailer dropped
    assert parser.files == ["src/parser.py", "src/util.py"]
    assert parser.author_time == DAY0 and parser.created_at == DAY0
    assert parser.idempotency_key == f"git:{history['parser']}:work_record"
    assert records[history["docs"]].task == "#42"
    assert records[history["docs"]].files == ["docs/parser.md"]  # .flow/ files are ignored
    assert records[history["exporter"]].task == history["exporter"][:12]

    reverted = outcomes(git_repo, "reverted")
    assert set(reverted) == {history["exporter"]}
    assert reverted[history["exporter"]].repo_commit == history["revert"]  # type: ignore[attr-defined]
    assert reverted[history["exporter"]].value == 1.0  # type: ignore[attr-defined]

    hotfix = outcomes(git_repo, "hotfix")
    assert set(hotfix) == {history["parser"]}  # the late fix of util.py is outside the 7-day window
    assert hotfix[history["parser"]].repo_commit == history["fix"]  # type: ignore[attr-defined]
    assert hotfix[history["parser"]].task == "ABC-1"  # type: ignore[attr-defined]
    assert hotfix[history["parser"]].window == "7d"  # type: ignore[attr-defined]


def test_second_run_adds_only_new_commits(git_repo: Path, history: dict[str, str]) -> None:
    repo = init_repo(git_repo).repo
    first = collect_git(repo)
    assert first.full_scan and first.added > 0
    again = collect_git(repo)
    assert (again.new_commits, again.added, again.duplicates) == (0, 0, 0)

    # A new fix of src/csv.py, 1.5 days after the branch commit: marks an OLD commit as hotfixed.
    run_git(git_repo, "checkout", "-q", "main")
    commit(git_repo, "Bug: CSV reader drops the last row", {"src/csv.py": "v2"}, day=22.5)
    third = collect_git(repo)
    assert not third.full_scan and third.new_commits == 1
    assert third.added == 2 and third.duplicates == 0  # the new work record + the old commit's hotfix
    assert history["branch"] in outcomes(git_repo, "hotfix")
    with open_store(repo) as store:
        keys = [e.idempotency_key for e in store.query()]
    assert len(keys) == len(set(keys))


def test_revert_by_subject_and_window_setting(git_repo: Path) -> None:
    repo = init_repo(git_repo).repo
    (repo.config_path).write_text(repo.config_path.read_text() + "\n[signals]\nhotfix_window_days = 40\n")
    first = commit(git_repo, "ABC-9: add cache", {"cache.py": "v1"}, day=0)
    commit(git_repo, 'Revert "ABC-9: add cache"', {"cache.py": ""}, day=1)  # hand-written, no sha line
    commit(git_repo, "hotfix cache eviction", {"cache.py": "v3"}, day=30)
    result = collect_git(init_repo(git_repo).repo)
    assert result.reverted == 1
    assert set(outcomes(git_repo, "reverted")) == {first}
    assert first in outcomes(git_repo, "hotfix")  # 30 days is inside a 40-day window


def test_since_limits_and_a_later_full_run_fills_in(git_repo: Path, history: dict[str, str]) -> None:
    repo = init_repo(git_repo).repo
    partial = collect_git(repo, since=DAY0 + dt.timedelta(days=19))
    assert partial.work_records == 3  # docs, branch commit, late fix
    full = collect_git(repo)
    assert full.full_scan  # the cursor of a --since run does not cover older history
    with open_store(repo) as store:
        assert store.count(kind="work_record") == 7


def test_cli_collect_git_and_errors(git_repo: Path, history: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["-C", str(git_repo), "collect", "git", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["work_records"] == 7
    bad = runner.invoke(app, ["-C", str(git_repo), "collect", "git", "--since", "last tuesday"])
    assert bad.exit_code == 2

    plain = tmp_path / "plain"
    plain.mkdir()
    init_repo(plain)
    with pytest.raises(CollectorError, match="not a git repository"):
        collect_git(init_repo(plain).repo)
    failed = runner.invoke(app, ["-C", str(plain), "collect", "git"])
    assert failed.exit_code == 1 and "not a git repository" in failed.output


def test_empty_repository_mines_nothing(git_repo: Path) -> None:
    result = collect_git(init_repo(git_repo).repo)
    assert result.head is None and result.added == 0


def test_task_ids_and_descriptions() -> None:
    sha = "0123456789abcdef0123"
    assert task_id("Fix UTF-8 handling (LED-12)", sha) == "LED-12"
    assert task_id("Use SHA-256 everywhere", sha) == sha[:12]
    assert task_id("Closes #7: totals", sha) == "#7"
    assert task_id("color: &#123; entity", sha) == sha[:12]
    text = "Add X\n\nWhy it matters.\n\nCo-Authored-By: Claude <noreply@anthropic.com>\nSigned-off-by: A <a@b>"
    assert description(text) == "Add X\n\nWhy it matters."


def test_changelog_and_docs_overlap_is_not_a_hotfix(git_repo: Path) -> None:
    repo = init_repo(git_repo).repo
    feature = commit(git_repo, "Add retries to the client",
                     {"src/client.py": "v1", "CHANGES.rst": "v1", "docs/api.md": "v1", "pkg/sub/README.md": "v1"}, day=0)
    docs_only = commit(git_repo, "Add timeouts", {"src/timeouts.py": "v1", "CHANGES.rst": "v2"}, day=1)
    commit(git_repo, "fix: broken links in the docs",
           {"CHANGES.rst": "v3", "docs/api.md": "v2", "pkg/sub/README.md": "v2"}, day=2)
    result = collect_git(repo)
    assert result.hotfixes == 0  # before: both earlier commits, through CHANGES.rst and docs/
    commit(git_repo, "Fix retry loop that never stopped", {"src/client.py": "v2", "CHANGES.rst": "v4"}, day=3)
    collect_git(repo)
    assert set(outcomes(git_repo, "hotfix")) == {feature}  # the code overlap counts; docs_only stays clean
    assert docs_only not in outcomes(git_repo, "hotfix")


def test_hotfix_exclude_is_configurable(git_repo: Path) -> None:
    repo = init_repo(git_repo).repo
    repo.config_path.write_text(repo.config_path.read_text() + '\n[signals]\nhotfix_exclude = ["src/generated/**"]\n')
    generated = commit(git_repo, "Regenerate the client", {"src/generated/api.py": "v1"}, day=0)
    changelog = commit(git_repo, "Add a changelog entry", {"CHANGELOG.md": "v1"}, day=1)
    commit(git_repo, "fix: regenerate after the schema bug", {"src/generated/api.py": "v2", "CHANGELOG.md": "v2"}, day=2)
    collect_git(init_repo(git_repo).repo)
    # The configured list replaces the defaults: generated code is excluded, the changelog is not.
    assert set(outcomes(git_repo, "hotfix")) == {changelog} and generated not in outcomes(git_repo, "hotfix")


def test_an_issue_reference_alone_is_not_a_fix(git_repo: Path) -> None:
    from flowloop.signals.collect_git import is_fix
    from flowloop.signals.gitlog import Commit

    repo = init_repo(git_repo).repo
    earlier = [
        commit(git_repo, "Add the pager", {"src/pager.py": "v1"}, day=0),
        commit(git_repo, "Add pagination links\n\nCloses #12", {"src/pager.py": "v2"}, day=1),
        commit(git_repo, "Support streaming bodies (fixes #14)", {"src/pager.py": "v3"}, day=1.5),
        commit(git_repo, "Resolves #15: page size option", {"src/pager.py": "v4"}, day=2),
    ]
    assert collect_git(repo).hotfixes == 0  # before: three "fixes", marking six earlier commits
    commit(git_repo, "Fix off-by-one in the last page (closes #16)", {"src/pager.py": "v5"}, day=3)
    assert collect_git(repo).hotfixes == 4  # a real fix marks the earlier work on the file
    assert set(outcomes(git_repo, "hotfix")) == set(earlier)

    def subject(text: str, message: str = "") -> Commit:
        return Commit(sha="0" * 40, parents=(), author_time=DAY0, author="a", message=text + "\n\n" + message,
                      files=())

    assert not is_fix(subject("Add CSV export", "Fixes #31"))
    assert not is_fix(subject("Closes pallets/click#2001 by adding a flag"))
    assert is_fix(subject("fix(parser): empty input")) and is_fix(subject("Hotfix for the 2.1 release"))
    assert is_fix(subject("Fix #744")) and is_fix(subject("Fixes #99: crash when the file is empty"))
    assert not is_fix(subject('Revert "fix: parser crash"'))


def test_an_implausible_hotfix_share_is_a_warning(git_repo: Path) -> None:
    for i in range(12):
        commit(git_repo, f"Add module {i}", {f"src/m{i}.py": "v1"}, day=i)
        commit(git_repo, f"fix: crash in module {i}", {f"src/m{i}.py": "v2"}, day=i + 0.5)
    repo = init_repo(git_repo).repo
    out = CliRunner().invoke(app, ["-C", str(git_repo), "collect", "git"])
    assert out.exit_code == 0 and "warning: 12 of 24 work records (50%) got a hotfix outcome" in out.stderr, out.output
    assert "signals.hotfix_exclude" in out.stderr
    (repo.state_dir / "collect_git.json").unlink()  # a full rescan (idempotent) reports the same
    result = collect_git(repo)
    assert (result.hotfixes, result.work_records, result.hotfix_share) == (12, 24, 0.5)
    assert result.warnings[0].startswith("12 of 24 work records (50%)")
    assert result.added == 0  # nothing stored twice


def test_a_plausible_share_is_quiet(git_repo: Path) -> None:
    for i in range(24):
        commit(git_repo, f"Add module {i}", {f"src/m{i}.py": "v1"}, day=i)
    commit(git_repo, "fix: crash in module 23", {"src/m23.py": "v2"}, day=24)
    result = collect_git(init_repo(git_repo).repo)
    assert result.hotfixes == 1 and result.warnings == []

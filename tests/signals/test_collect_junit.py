"""JUnit XML from several CI tools into ci_passed / tests_total / tests_failed outcomes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import CollectorError
from flowloop.repo import init_repo
from flowloop.signals.collect_junit import collect_junit, parse_junit_bytes, parse_junit_files
from flowloop.signals.store import open_store

JUNIT = Path(__file__).parent / "junit"
runner = CliRunner()


def outcome_values(repo_root: Path) -> dict[str, float]:
    with open_store(init_repo(repo_root).repo) as store:
        return {e.metric: e.value for e in store.query(kind="outcome")}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "total", "failed", "skipped"),
    [
        ("pytest.xml", 4, 1, 1),  # <testsuites><testsuite>, a failure and a skip
        ("surefire.xml", 3, 1, 0),  # single <testsuite>; flakyFailure passed on rerun, error counts
        ("jest.xml", 2, 0, 0),
        ("summary_only.xml", 15, 3, 1),  # no test cases listed: the suites' counters
    ],
)
def test_formats_are_counted(name: str, total: int, failed: int, skipped: int) -> None:
    counts = parse_junit_bytes((JUNIT / name).read_bytes(), name)
    assert (counts.total, counts.failed, counts.skipped) == (total, failed, skipped)
    assert counts.passed is (failed == 0)


def test_real_pytest_report_round_trip(tmp_path: Path) -> None:
    """A report written by the pytest we run under, not a hand-made one."""
    (tmp_path / "test_sample.py").write_text("import pytest\n\ndef test_ok():\n    pass\n\ndef test_bad():\n    assert 1 == 2\n\n"
                                             "@pytest.mark.skip\ndef test_skip():\n    pass\n")
    report = tmp_path / "out.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                    str(tmp_path / "test_sample.py")], cwd=tmp_path, capture_output=True, env=env)
    counts = parse_junit_files([report])
    assert (counts.total, counts.failed, counts.skipped) == (3, 1, 1)


def test_collect_stores_outcomes_per_commit_idempotently(git_repo: Path) -> None:
    repo = init_repo(git_repo).repo
    (git_repo / "a.txt").write_text("a")
    subprocess.run(["git", "add", "a.txt"], cwd=git_repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "LED-5: add a"], cwd=git_repo, check=True,
                   env={**os.environ, "HOME": str(git_repo)})
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=git_repo, capture_output=True, text=True).stdout.strip()

    result = collect_junit(repo, [JUNIT / "pytest.xml", JUNIT / "jest.xml"])
    assert result.commit == head and result.added == 3
    assert outcome_values(git_repo) == {"ci_passed": 0.0, "tests_total": 6.0, "tests_failed": 1.0}
    with open_store(repo) as store:
        events = store.query(kind="outcome")
    assert {e.commit for e in events} == {head}  # type: ignore[attr-defined]
    assert {e.task for e in events} == {"LED-5"}  # the commit's task, so outcomes join work records
    again = collect_junit(repo, [JUNIT / "jest.xml", JUNIT / "pytest.xml"])
    assert (again.added, again.duplicates) == (0, 3)


def test_cli_junit_with_commit(tmp_path: Path) -> None:
    assert runner.invoke(app, ["-C", str(tmp_path), "init"]).exit_code == 0
    sha = "ab" * 20
    done = runner.invoke(app, ["-C", str(tmp_path), "collect", "junit", str(JUNIT / "jest.xml"), "--commit", sha, "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["ci_passed"] is True and data["commit"] == sha and data["added"] == 3
    assert outcome_values(tmp_path)["ci_passed"] == 1.0


def test_malformed_and_unsafe_xml_name_the_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_SHA", "CI_COMMIT_SHA"):  # when run inside CI, --commit would default to these
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(CollectorError) as bad:
        parse_junit_files([JUNIT / "malformed.xml"])
    assert bad.value.path == JUNIT / "malformed.xml" and bad.value.line == 5
    with pytest.raises(CollectorError, match="DOCTYPE") as unsafe:
        parse_junit_files([JUNIT / "laughs.xml"])
    assert unsafe.value.line == 2
    with pytest.raises(CollectorError, match="not <testsuites>"):
        parse_junit_bytes(b"<html><body/></html>", "page.html")
    with pytest.raises(CollectorError, match="no such file"):
        parse_junit_files([tmp_path / "missing.xml"])

    # Through the CLI: exit 1, the file named, and nothing stored (parsing comes first).
    assert runner.invoke(app, ["-C", str(tmp_path), "init"]).exit_code == 0
    failed = runner.invoke(app, ["-C", str(tmp_path), "collect", "junit", str(JUNIT / "jest.xml"),
                                 str(JUNIT / "malformed.xml"), "--commit", "abcdef1"])
    assert failed.exit_code == 1 and "malformed.xml:5" in failed.output
    assert outcome_values(tmp_path) == {}
    no_git = runner.invoke(app, ["-C", str(tmp_path), "collect", "junit", str(JUNIT / "jest.xml")])
    assert no_git.exit_code == 1 and "--commit" in no_git.output
    bad_sha = runner.invoke(app, ["-C", str(tmp_path), "collect", "junit", str(JUNIT / "jest.xml"), "--commit", "nope"])
    assert bad_sha.exit_code == 1 and "commit" in bad_sha.output


def test_commit_may_be_head_or_a_revision_as_the_default_is(git_repo: Path) -> None:
    repo = init_repo(git_repo).repo
    (git_repo / "a.txt").write_text("a")
    subprocess.run(["git", "add", "a.txt"], cwd=git_repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "LED-6: add a"], cwd=git_repo, check=True,
                   env={**os.environ, "HOME": str(git_repo)})
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=git_repo, capture_output=True, text=True).stdout.strip()
    done = runner.invoke(app, ["-C", str(git_repo), "collect", "junit", str(JUNIT / "jest.xml"), "--commit", "HEAD", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["commit"] == head
    assert collect_junit(repo, [JUNIT / "jest.xml"], commit="main").commit == head
    for bad in ("--upload-pack=x", "nope-branch", "HEAD~5"):
        with pytest.raises(CollectorError) as caught:
            collect_junit(repo, [JUNIT / "jest.xml"], commit=bad)
        assert caught.value.field == "commit"

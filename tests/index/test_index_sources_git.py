"""`flow source add|list` and git-dated sources: `as_of` holds for the repository's own docs."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.index.api import build_index, context_pack
from flowloop.repo import FlowRepo, init_repo

runner = CliRunner()

REFUNDS = "# Refund policy\n\nRefunds are issued to the original card within five business days; partial refunds allowed.\n"
CREDIT = "# Credit notes for refunds\n\nA refund on a finalized invoice issues a credit note; refund amounts never exceed the paid total.\n"


def git(cwd: Path, *args: str, when: str | None = None) -> str:
    import subprocess

    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)}
    if when:
        env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def commit(repo: Path, path: str, text: str, when: str) -> None:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text)
    git(repo, "add", path)
    git(repo, "commit", "-q", "-m", f"docs: {path}", when=when)


def test_source_add_and_list_keep_the_rest_of_the_config(git_repo: Path) -> None:
    init_repo(git_repo)
    config = git_repo / ".flow" / "config.toml"
    before = config.read_text()
    (git_repo / "docs").mkdir()
    (git_repo / "docs" / "refunds.md").write_text(REFUNDS)
    (git_repo / "docs" / "ops.rst").write_text("Ops\n===\n\nRestart workers.\n")

    done = runner.invoke(app, ["-C", str(git_repo), "source", "add", "docs/*.md", "--type", "evergreen"])
    assert done.exit_code == 0, done.output
    assert "1 file" in done.output
    assert runner.invoke(app, ["-C", str(git_repo), "source", "add", "docs/*.rst", "--type", "cumulative"]).exit_code == 0
    after = config.read_text()
    assert after.startswith(before)  # every line the user had is still there, in order
    listed = runner.invoke(app, ["-C", str(git_repo), "source", "list", "--json"])
    assert json.loads(listed.output) == [
        {"glob": "docs/*.md", "type": "evergreen", "files": ["docs/refunds.md"]},
        {"glob": "docs/*.rst", "type": "cumulative", "files": ["docs/ops.rst"]},
    ]
    assert FlowRepo(git_repo).settings.sources[1].type == "cumulative"

    for args, expected in (
        (["docs/*.md"], "already a source"),
        (["missing/*.md"], "matches no files"),
        (["../elsewhere/*.md"], "relative to the repository root"),
        (["docs/*.rst", "--type", "howto"], "unknown type"),
    ):
        refused = runner.invoke(app, ["-C", str(git_repo), "source", "add", *args])
        assert refused.exit_code == 1 and expected in refused.output, (args, refused.output)
    assert config.read_text() == after  # nothing written by a refusal


def test_git_dated_sources_honour_as_of(git_repo: Path) -> None:
    from flowloop.pipeline.planning_context import planning_context

    repo = init_repo(git_repo).repo
    commit(git_repo, "docs/refunds.md", REFUNDS, "2024-01-10T10:00:00+00:00")
    commit(git_repo, "docs/credit-notes.md", CREDIT, "2025-06-01T12:00:00+00:00")
    commit(git_repo, "docs/refunds.md", REFUNDS + "\nUpdated for SEPA.\n", "2025-07-01T09:00:00+00:00")
    assert runner.invoke(app, ["-C", str(git_repo), "source", "add", "docs/*.md"]).exit_code == 0
    build_index(repo)
    from flowloop.index.api import Retriever

    retriever = Retriever(repo)
    created = {d["id"]: d["created"] for d in retriever.list_documents()}
    retriever.close()
    # created = the first commit that added the file, not the later edit
    assert created == {"docs/refunds.md": "2024-01-10T10:00:00+00:00", "docs/credit-notes.md": "2025-06-01T12:00:00+00:00"}

    task = "refund on a finalized invoice: credit note and refund amounts"
    ids = lambda pack: {d.id for d in pack.documents}  # noqa: E731
    assert ids(context_pack(repo, task, log=False)) == {"docs/refunds.md", "docs/credit-notes.md"}
    assert ids(context_pack(repo, task, as_of=dt.date(2024, 6, 1), log=False)) == {"docs/refunds.md"}
    # The same day, before the commit: not yet written (a task's own docs never leak into its plan).
    morning = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.timezone.utc)
    assert ids(context_pack(repo, task, as_of=morning, log=False)) == {"docs/refunds.md"}
    assert "docs/credit-notes.md" in ids(context_pack(repo, task, as_of=dt.date(2025, 6, 1), log=False))

    cli = runner.invoke(app, ["-C", str(git_repo), "context", task, "--as-of", "2024-06-01", "--json"])
    assert cli.exit_code == 0, cli.output
    assert {d["id"] for d in json.loads(cli.output)["documents"]} == {"docs/refunds.md"}

    planning = planning_context(repo, task, morning, history=[])
    assert "docs/credit-notes.md" not in planning.document_ids() and "docs/refunds.md" in planning.document_ids()


def test_an_uncommitted_doc_is_dated_by_its_file_and_redated_by_its_commit(git_repo: Path) -> None:
    repo = init_repo(git_repo).repo
    commit(git_repo, "docs/refunds.md", REFUNDS, "2024-01-10T10:00:00+00:00")
    (git_repo / "docs" / "credit-notes.md").write_text(CREDIT)  # written, not committed
    assert runner.invoke(app, ["-C", str(git_repo), "source", "add", "docs/*.md"]).exit_code == 0
    build_index(repo)
    task = "refund on a finalized invoice: credit note and refund amounts"
    past = {d.id for d in context_pack(repo, task, as_of=dt.date(2024, 6, 1), log=False).documents}
    assert past == {"docs/refunds.md"}

    git(git_repo, "add", "docs/credit-notes.md")
    git(git_repo, "commit", "-q", "-m", "docs", when="2024-03-01T08:00:00+00:00")
    stats = build_index(repo)
    assert stats.changed == ["docs/credit-notes.md"] and stats.chunks_embedded == 0  # re-dated, not re-embedded
    past = {d.id for d in context_pack(repo, task, as_of=dt.date(2024, 6, 1), log=False).documents}
    assert past == {"docs/refunds.md", "docs/credit-notes.md"}

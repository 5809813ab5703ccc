"""``flow render``: conventions into CLAUDE.md, AGENTS.md and a Cursor rule; block-only, idempotent,
``--check`` for CI, ranked by the retrieval log and outcomes, under the size cap."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import AgentFileError
from flowloop.integrations.agent_files import cited_ids, current_block, render_agent_file
from flowloop.pilr.model import PilrMeta, PilrStatus, PilrType
from flowloop.pilr.store import PilrStore
from flowloop.repo import FlowRepo, init_repo
from flowloop.signals.events import OutcomeEvent, RetrievalEvent
from flowloop.signals.store import open_store

runner = CliRunner()
DOCS = {
    "evg-money": ("Money is integer cents", "## Rules\n\n- Amounts are integer minor units; never floats.\n"
                  "- Rounding happens once, half-up, in `Money.from_decimal`.\n"),
    "evg-retries": ("Retries of external calls", "Every external call has a timeout of 5 s and at most three "
                    "retries with jitter.\n\n```python\nretry(call, attempts=3)\n```\n"),
    "evg-tenancy": ("Tenant scope", "## Rule\n\nEvery query is scoped by `tenant_id`; another tenant's id "
                    "answers 404, never 403.\n\n## References\n\n- ADR 0004\n"),
}


def add_doc(repo: FlowRepo, doc_id: str, title: str, body: str, day: int = 1,
            status: PilrStatus = PilrStatus.ACTIVE) -> None:
    when = dt.date(2025, 3, day)
    PilrStore(repo).create(PilrMeta(id=doc_id, type=PilrType.EVERGREEN, title=title, status=status,
                                    created=when, updated=when), f"# {title}\n\n{body}")


@pytest.fixture
def repo(tmp_path: Path) -> FlowRepo:
    repo = init_repo(tmp_path / "project").repo
    for day, (doc_id, (title, body)) in enumerate(DOCS.items(), start=1):
        add_doc(repo, doc_id, title, body, day=day)
    PilrStore(repo).create(PilrMeta(id="eph-plan", type=PilrType.EPHEMERAL, title="Plan T-1", created=dt.date(2025, 3, 9),
                                    updated=dt.date(2025, 3, 9)), "# Plan T-1\n\n## Plan\n\nA task note, not a convention.\n")
    t0 = dt.datetime(2025, 3, 10, tzinfo=dt.timezone.utc)
    with open_store(repo) as store:
        store.add([
            # retries: injected twice, used twice; money: injected once into a task that needed a hotfix.
            RetrievalEvent(operation="context", query="q1", injected=["evg-money", "evg-retries"], used=["evg-retries"],
                           task="T-1", created_at=t0),
            RetrievalEvent(operation="context", query="q2", injected=["evg-retries"], used=["evg-retries"], task="T-2",
                           created_at=t0),
            OutcomeEvent(task="T-1", metric="hotfix", value=1, created_at=t0),
        ])
    return FlowRepo(repo.root)


def flow(repo: FlowRepo, *args: str) -> object:
    return runner.invoke(app, ["-C", str(repo.root), *args])


@pytest.mark.parametrize("target,name", [("claude-md", "CLAUDE.md"), ("agents-md", "AGENTS.md"),
                                         ("cursor", ".cursor/rules/flowloop.mdc")])
def test_each_target_ranked_cited_and_idempotent(repo: FlowRepo, target: str, name: str) -> None:
    out = flow(repo, "render", target)
    assert out.exit_code == 0, out.output
    assert f"{name}: updated; 3 documents in" in out.stdout
    path = repo.root / name
    first = path.read_bytes()
    block = current_block(first.decode())
    assert block is not None and block.endswith("<!-- flowloop:end -->\n")
    # Most used first (retries), then money (used once, in a task that got a hotfix), then tenancy.
    assert cited_ids(block) == ["evg-retries", "evg-money", "evg-tenancy"]
    assert "eph-plan" not in block and "retry(call" not in block and "ADR 0004" not in block
    assert "- Amounts are integer minor units; never floats." in block  # the document's own statement
    again = flow(repo, "render", target)
    assert again.exit_code == 0 and "unchanged" in again.stdout and path.read_bytes() == first
    check = flow(repo, "render", target, "--check")
    assert check.exit_code == 0 and "up to date (3 documents)" in check.stdout
    if target == "cursor":
        text = first.decode()
        assert text.startswith("---\n")
        front = yaml.safe_load(text.split("---\n")[1])
        assert front["alwaysApply"] is True and front["description"] and "globs" in front


def test_only_the_block_is_touched(repo: FlowRepo) -> None:
    path = repo.root / "CLAUDE.md"
    before = "# Team notes\r\n\r\nRun `make test` before pushing.\r\n"
    after = "\r\n## Local\r\n\r\nMy own notes stay.\r\n"
    path.write_bytes(before.encode())
    assert render_agent_file(repo, "claude-md").changed
    appended = path.read_bytes().decode()
    assert appended.startswith(before) and "\r\n<!-- flowloop:begin" in appended
    assert "\n" not in appended.replace("\r\n", "")  # the file keeps its CRLF line ends
    path.write_bytes((appended + after).encode())
    add_doc(repo, "evg-clock", "Time and clock", "All times are UTC, from `core.clock.now()`.\n", day=20)
    assert render_agent_file(repo, "claude-md").changed
    text = path.read_bytes().decode()
    assert text.startswith(before) and text.endswith(after) and "evg-clock" in text
    assert text.count("<!-- flowloop:begin") == 1


def test_check_reports_a_stale_block_and_fails_ci(repo: FlowRepo, tmp_path: Path) -> None:
    assert flow(repo, "render", "agents-md", "--check").exit_code == 1  # no block yet
    flow(repo, "render", "agents-md")
    assert flow(repo, "render", "agents-md", "--check").exit_code == 0
    # CI: a clone of the committed files only (no .flow/state, so no retrieval log).
    ci = tmp_path / "ci"
    shutil.copytree(repo.root, ci, ignore=shutil.ignore_patterns("state"))
    ci_repo = FlowRepo(ci)
    assert flow(ci_repo, "render", "agents-md", "--check").exit_code == 0  # the block's own selection holds
    doc = ci / ".flow/pilrs/evergreen/evg-tenancy.md"
    doc.write_text(doc.read_text().replace("never 403", "never 403 or 401"))
    stale = flow(ci_repo, "render", "agents-md", "--check")
    assert stale.exit_code == 1 and "stale (a cited document changed" in stale.stderr
    assert (ci / "AGENTS.md").read_text() == (repo.root / "AGENTS.md").read_text()  # --check writes nothing
    money = PilrStore(ci_repo).get("evg-money")
    PilrStore(ci_repo).write(money.model_copy(update={"meta": money.meta.model_copy(update={"status": PilrStatus.ARCHIVED})}))
    gone = flow(ci_repo, "render", "agents-md", "--check")
    assert gone.exit_code == 1 and "no longer active evergreen: evg-money" in gone.stderr


def test_size_cap(repo: FlowRepo) -> None:
    for i in range(40):
        add_doc(repo, f"evg-rule-{i:02d}", f"Rule {i}", "\n".join(f"- Statement {j} of rule {i} holds everywhere."
                                                              for j in range(6)) + "\n", day=1)
    result = render_agent_file(repo, "claude-md")
    text = (repo.root / "CLAUDE.md").read_text()
    assert len(text.splitlines()) == result.lines <= 150
    assert result.left_out > 0 and f"{result.left_out} more evergreen documents are not shown" in text
    small = flow(repo, "render", "claude-md", "--max-lines", "40")
    assert small.exit_code == 0 and len((repo.root / "CLAUDE.md").read_text().splitlines()) <= 40
    bad = flow(repo, "render", "claude-md", "--max-lines", "5")
    assert bad.exit_code == 1 and "field 'max_lines'" in bad.stderr


def test_bad_input(repo: FlowRepo) -> None:
    unknown = flow(repo, "render", "vscode")
    assert unknown.exit_code == 1 and "unknown render target 'vscode'" in unknown.stderr and "claude-md" in unknown.stderr
    path = repo.root / "CLAUDE.md"
    damaged = "intro\n<!-- flowloop:begin: x -->\nold\n<!-- flowloop:begin: y -->\n<!-- flowloop:end -->\n"
    path.write_text(damaged)
    with pytest.raises(AgentFileError, match="damaged") as info:
        render_agent_file(repo, "claude-md")
    assert info.value.path == path and info.value.line == 4
    assert path.read_text() == damaged  # nothing half-written
    path.write_bytes(b"\xff\xfe not utf-8")
    out = flow(repo, "render", "claude-md")
    assert out.exit_code == 1 and "CLAUDE.md" in out.stderr and "UTF-8" in out.stderr

"""The report shows the last loop run it is handed; ``flow report`` hands it the saved one."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.report import build_report
from flowloop.repo import FlowRepo

LAST_LOOP = "Last <code>flow loop</code>"


def test_the_page_shows_the_loop_run_it_is_given(flow_repo: FlowRepo) -> None:
    assert LAST_LOOP not in build_report(flow_repo).read_text(encoding="utf-8")  # never ran
    page = build_report(flow_repo, loop_run={"started_at": "2026-01-01T09:00:00+00:00", "status": "running"})
    assert f"{LAST_LOOP}: 2026-01-01T09:00:00+00:00 — running" in page.read_text(encoding="utf-8")


def test_flow_report_reads_the_saved_loop_state(flow_repo: FlowRepo) -> None:
    state = flow_repo.state_dir / "loop" / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"run": 3, "started_at": "2026-01-02T10:00:00+00:00", "status": "done", "stages": {}}))
    done = CliRunner().invoke(app, ["-C", str(flow_repo.root), "report", "--json"])
    assert done.exit_code == 0, done.output
    page = Path(json.loads(done.stdout)["path"])
    assert f"{LAST_LOOP}: 2026-01-02T10:00:00+00:00 — done" in page.read_text(encoding="utf-8")


def test_the_page_shows_helpfulness_from_outcomes(flow_repo: FlowRepo) -> None:
    from flowloop.signals.events import OutcomeEvent, RetrievalEvent, WorkRecordEvent
    from flowloop.signals.store import open_store

    events = []
    for n in range(6):  # ordinary work holds
        events += [RetrievalEvent(query="q", injected=["evg-fine"], task=f"G-{n}"),
                   WorkRecordEvent(task=f"G-{n}", description="work")]
    for n in range(4):
        task = f"T-{n}"
        events += [RetrievalEvent(query="q", injected=["evg-flaky"], task=task),
                   WorkRecordEvent(task=task, description="work"), OutcomeEvent(task=task, metric="hotfix", value=1)]
    with open_store(flow_repo) as store:
        store.add(events)
    page = build_report(flow_repo).read_text(encoding="utf-8")
    assert "Knowledge helpfulness from task outcomes" in page
    assert "evg-flaky (review: possibly misleading)" in page

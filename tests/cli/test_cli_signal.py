"""``flow signal ...`` end to end through the real Typer app."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.repo import FlowRepo, init_repo
from flowloop.signals.store import open_store

runner = CliRunner()


def flow(repo: FlowRepo, *args: str, input: str | None = None):  # noqa: A002 - click's name
    return runner.invoke(app, ["-C", str(repo.root), *args], input=input)


def test_record_list_and_stats(store_repo: FlowRepo) -> None:
    out = flow(store_repo, "signal", "prefer", "--task", "T1", "--chosen", "plan A", "--rejected", "plan B",
               "--rejected", "plan C uses sk_live_4eC39HqLyjWDarjtT1zdp7dc", "--prompt", "which plan?")
    assert out.exit_code == 0, out.output
    assert "recorded preference" in out.stdout
    out = flow(store_repo, "signal", "correct", "--task", "T1", "--agent", "mock the db", "--correction", "use sqlite",
               "--context", "tests")
    assert out.exit_code == 0, out.output
    out = flow(store_repo, "signal", "outcome", "--task", "T1", "--metric", "ci_passed", "--value", "1", "--commit", "3f78")
    assert out.exit_code == 0, out.output

    listed = flow(store_repo, "signal", "list", "--json")
    assert listed.exit_code == 0, listed.output
    events = json.loads(listed.stdout)
    assert [e["kind"] for e in events] == ["preference", "correction", "outcome"]
    pref = events[0]
    assert pref["rejected"] == ["plan B", "plan C uses [REDACTED:stripe_key]"]
    assert pref["prompt"] == "which plan?" and pref["source"] == "cli" and pref["task"] == "T1"
    assert {"id", "created_at", "idempotency_key", "schema_version", "session", "actor"} <= set(pref)
    assert events[2]["value"] == 1.0 and events[2]["commit"] == "3f78"

    only = json.loads(flow(store_repo, "signal", "list", "--json", "--kind", "correction").stdout)
    assert [e["correction"] for e in only] == ["use sqlite"]
    assert json.loads(flow(store_repo, "signal", "list", "--json", "--task", "T9").stdout) == []
    table = flow(store_repo, "signal", "list")
    assert "plan A" in table.stdout and "ci_passed = 1" in table.stdout

    stats = flow(store_repo, "signal", "stats", "--json")
    assert stats.exit_code == 0, stats.output
    data = json.loads(stats.stdout)
    assert data["by_kind"] == {"correction": 1, "outcome": 1, "preference": 1}
    assert data["thresholds"]["dpo"]["have"] == 3 and data["thresholds"]["sft"]["threshold"] == 50
    human = flow(store_repo, "signal", "stats")
    assert human.exit_code == 0 and "DPO" in human.stdout and "3 pairs" in human.stdout


def test_stdin_event_and_json_lines(store_repo: FlowRepo) -> None:
    one = json.dumps({"kind": "rewrite", "task": "T2", "agent_output": "colour", "final": "color"})
    out = flow(store_repo, "signal", "prefer", "-", input=one)
    assert out.exit_code == 0, out.output
    lines = "\n".join(
        json.dumps({"metric": "hotfix", "value": v, "commit": c, "created_at": "2025-03-04T10:00:00Z"})
        for v, c in ((1, "a1"), (0, "b2"))
    )
    out = flow(store_repo, "signal", "outcome", "-", "--task", "T2", input=lines + "\n")
    assert out.exit_code == 0 and "recorded 2 events; 0 already stored" in out.stdout, out.output
    # The same event again is a duplicate, not an error.
    again = flow(store_repo, "signal", "outcome", "-", "--task", "T2", input=lines)
    assert again.exit_code == 0 and "2 already stored" in again.stdout
    with open_store(store_repo) as store:
        assert store.count("rewrite") == 1
        assert sorted(e.commit for e in store.query(kind="outcome", task="T2")) == ["a1", "b2"]  # type: ignore[attr-defined]


def test_bad_input_exits_non_zero_and_stores_nothing(store_repo: FlowRepo) -> None:
    missing = flow(store_repo, "signal", "prefer", "--task", "T", "--chosen", "a")
    assert missing.exit_code == 2 and "--rejected" in missing.output
    wrong_kind = flow(store_repo, "signal", "correct", "-", input='{"kind": "outcome", "metric": "m", "value": 1}')
    assert wrong_kind.exit_code == 1 and "kind" in wrong_kind.stderr
    bad = flow(store_repo, "signal", "outcome", "-", input='{"metric": "m", "value": 1}\n{"metric": "m"}\n')
    assert bad.exit_code == 1
    assert "stdin:2" in bad.stderr and "value" in bad.stderr
    not_json = flow(store_repo, "signal", "prefer", "-", input="{nope")
    assert not_json.exit_code == 1 and "JSON" in not_json.stderr
    unknown = flow(store_repo, "signal", "list", "--kind", "nope")
    assert unknown.exit_code == 1
    with open_store(store_repo) as store:
        assert store.count() == 0


def test_export_import_between_repositories(
    store_repo: FlowRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow(store_repo, "signal", "correct", "--task", "T", "--agent", "a", "--correction", "b")
    flow(store_repo, "signal", "outcome", "--task", "T", "--metric", "reverted", "--value", "0")
    out_file = tmp_path / "signals.jsonl"
    exported = flow(store_repo, "signal", "export", "--output", str(out_file))
    assert exported.exit_code == 0, exported.output
    assert len(out_file.read_text().splitlines()) == 2
    to_stdout = flow(store_repo, "signal", "export")
    assert to_stdout.stdout == out_file.read_text()

    monkeypatch.delenv("FLOW_DATABASE_URL", raising=False)
    other = init_repo(tmp_path / "other").repo  # SQLite; the source may be PostgreSQL
    first = flow(other, "signal", "import", str(out_file))
    assert first.exit_code == 0, first.output
    assert "2 added" in first.stdout
    second = flow(other, "signal", "import", str(out_file))
    assert "0 added, 2 already stored" in second.stdout

    broken = tmp_path / "broken.jsonl"
    broken.write_text(out_file.read_text() + '{"kind": "outcome", "value": 1}\n')
    third = init_repo(tmp_path / "third").repo
    failed = flow(third, "signal", "import", str(broken))
    assert failed.exit_code == 1
    assert f"{broken}:3" in failed.stderr and "metric" in failed.stderr
    with open_store(third) as store:
        assert store.count() == 0


def test_installed_flow_command_and_fast_help(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "p").repo
    flow_bin = Path(sys.executable).with_name("flow")
    done = subprocess.run(
        [str(flow_bin), "-C", str(repo.root), "signal", "correct", "-"],
        input='{"agent": "a", "correction": "b", "task": "T"}', capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    # The CLI group must not import the store (SQLAlchemy) just to show help.
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, flowloop.cli.main; print('sqlalchemy' in sys.modules)"],
        capture_output=True, text=True, check=True,
    )
    assert probe.stdout.strip() == "False"


def test_stats_short_by_default_long_by_week(store_repo: FlowRepo) -> None:
    """Ten years of weekly events: the default is a summary; `--by week` is the long table."""
    import datetime as dt

    from flowloop.signals.events import OutcomeEvent
    from flowloop.signals.store import open_store

    start = dt.datetime(2015, 1, 5, tzinfo=dt.timezone.utc)
    with open_store(store_repo) as store:
        store.add([OutcomeEvent(metric="ci_passed", value=1, commit=f"c{i}", created_at=start + dt.timedelta(weeks=i))
                   for i in range(520)])
    short = flow(store_repo, "signal", "stats")
    assert short.exit_code == 0, short.output
    assert "520 weeks with events, 2015-W02 to 2024-W51" in short.stdout and "--by week" in short.stdout
    assert "2019-W10" not in short.stdout and len(short.stdout.splitlines()) < 25
    assert "needs 50 more documents" in short.stdout
    long = flow(store_repo, "signal", "stats", "--by", "week")
    assert long.exit_code == 0 and "2019-W10" in long.stdout and len(long.stdout.splitlines()) > 520
    data = json.loads(flow(store_repo, "signal", "stats", "--json").stdout)
    assert "by_week" not in data and data["weeks"] == {"first": "2015-W02", "last": "2024-W51", "with_events": 520}
    assert len(json.loads(flow(store_repo, "signal", "stats", "--json", "--by", "week").stdout)["by_week"]) == 520
    bad = flow(store_repo, "signal", "stats", "--by", "month")
    assert bad.exit_code != 0 and "--by week" in bad.output

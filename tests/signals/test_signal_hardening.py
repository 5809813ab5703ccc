"""Issue 11 on the signals side: keys scrubbed, echoes scrubbed, no NaN, reads create nothing."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import SignalError
from flowloop.repo import FlowRepo, init_repo
from flowloop.signals.events import OutcomeEvent, parse_event
from flowloop.signals.store import open_store

runner = CliRunner()
SECRET = "AKIAIOSFODNN7EXAMPLE"


def flow(repo: FlowRepo, *args: str, input: str | None = None):  # noqa: A002 - click's name
    return runner.invoke(app, ["-C", str(repo.root), *args], input=input)


def test_idempotency_key_is_scrubbed_and_still_dedupes(store_repo: FlowRepo) -> None:
    event = OutcomeEvent(task="T", metric="ci_passed", value=1, idempotency_key=f"deploy:{SECRET}:1")
    other = OutcomeEvent(task="T", metric="ci_passed", value=1, idempotency_key="deploy:AKIAIOSFODNN7EXAMPLF:1")
    with open_store(store_repo) as store:
        assert store.add([event]).added == 1
        assert store.add([event]).duplicates == 1  # the same retry, the same stored key
        assert store.add([other]).added == 1  # a different secret is a different key
        with store.engine.connect() as conn:
            keys = [row[0] for row in conn.execute(sa.text("SELECT idempotency_key FROM events"))]
    assert all(SECRET not in key and "AKIA" not in key for key in keys)
    assert all(key.startswith("deploy:[REDACTED:aws_access_key]:1#") for key in keys)


def test_signal_correct_never_echoes_a_secret(store_repo: FlowRepo) -> None:
    out = flow(store_repo, "signal", "correct", "--task", f"T-{SECRET}", "--agent", "a", "--correction", "b")
    assert out.exit_code == 0, out.output
    assert SECRET not in out.output and "[REDACTED:aws_access_key]" in out.output


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_outcome_values_are_refused_with_the_field(store_repo: FlowRepo, value: str) -> None:
    out = flow(store_repo, "signal", "outcome", "--task", "T", "--metric", "m", "--value", value)
    assert out.exit_code == 1 and "value" in out.output and "finite" in out.output
    line = f'{{"kind": "outcome", "task": "T", "metric": "m", "value": {json.dumps(float(value))}}}'
    out = flow(store_repo, "signal", "outcome", "-", input=line)  # NaN / Infinity as JSON literals
    assert out.exit_code == 1 and "value" in out.output
    with pytest.raises(SignalError) as caught:
        parse_event({"kind": "retrieval", "query": "q", "candidates": [{"id": "a", "score": float(value)}]})
    assert caught.value.field == "candidates.0.score"
    listed = flow(store_repo, "signal", "list", "--json")
    assert json.loads(listed.stdout) == []


def test_signal_list_creates_nothing(tmp_path) -> None:
    repo = init_repo(tmp_path / "p").repo
    before = sorted(p.relative_to(repo.root) for p in repo.root.rglob("*"))
    out = flow(repo, "signal", "list")
    assert out.exit_code == 0 and "no events" in out.output
    assert sorted(p.relative_to(repo.root) for p in repo.root.rglob("*")) == before
    assert not (repo.state_dir / "signals.db").exists()


def test_import_memory_stays_below_the_file_size(tmp_path) -> None:
    """A 100 MB import once peaked at ~640 MB: every line and event was held at once."""
    import subprocess
    import sys

    path = tmp_path / "events.jsonl"
    with path.open("w") as fh:
        for i in range(16_000):
            fh.write(json.dumps({"kind": "correction", "task": f"T-{i}", "agent": "a" * 400, "correction": "b" * 400,
                                 "context": "c" * 200, "idempotency_key": f"k{i}"}) + "\n")
    size_mb = path.stat().st_size / 2**20
    script = (
        "import resource, sys\nfrom pathlib import Path\nfrom flowloop.repo import init_repo\n"
        "from flowloop.signals.api import import_events\n"
        "repo = init_repo(Path(sys.argv[1])).repo\n"
        "import_events(repo, Path(sys.argv[4]))  # warm: imports, engine, migrations\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "r = import_events(init_repo(Path(sys.argv[3])).repo, Path(sys.argv[2]))\n"
        "print(r.added, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)\n"
    )
    small = tmp_path / "one.jsonl"
    small.write_text(path.read_text().splitlines()[0] + "\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "warm"), str(path), str(tmp_path / "p"), str(small)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    added, grew_mb = done.stdout.split()
    assert int(added) == 16_000
    assert float(grew_mb) < size_mb, (grew_mb, size_mb)

"""``flow init``: the layout it creates, and that a second run changes nothing."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from flowloop.cli.main import app

runner = CliRunner()


def test_init_creates_layout_and_is_idempotent(git_repo: Path) -> None:
    first = runner.invoke(app, ["-C", str(git_repo), "init"])
    assert first.exit_code == 0, first.output
    flow = git_repo / ".flow"
    for sub in ("ephemeral", "evergreen", "cumulative"):
        assert (flow / "pilrs" / sub).is_dir()
    assert (flow / "config.toml").is_file()
    assert "state/" in (flow / ".gitignore").read_text()
    before = {p: p.stat().st_mtime_ns for p in flow.rglob("*")}

    second = runner.invoke(app, ["-C", str(git_repo), "init"])
    assert second.exit_code == 0
    assert "nothing changed" in second.output
    assert {p: p.stat().st_mtime_ns for p in flow.rglob("*")} == before

"""Settings: the FLOW_* overlay over .flow/config.toml, and errors that name the file, line and field."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from flowloop.cli.main import app

runner = CliRunner()


def test_settings_env_overrides_toml(git_repo: Path, monkeypatch) -> None:
    from flowloop.repo import FlowRepo, init_repo

    init_repo(git_repo)
    monkeypatch.setenv("FLOW_INDEX__BUDGET", "777")
    monkeypatch.setenv("FLOW_DATABASE_URL", "sqlite:///x.db")
    settings = FlowRepo(git_repo).settings
    assert settings.index.budget == 777
    assert settings.database_url == "sqlite:///x.db"


def test_bad_config_names_file_and_line(git_repo: Path) -> None:
    from flowloop.repo import init_repo

    init_repo(git_repo)
    (git_repo / ".flow" / "config.toml").write_text("[index]\nbudget = = 3\n")
    result = runner.invoke(app, ["-C", str(git_repo), "pilr", "--help"])
    assert result.exit_code == 0
    from flowloop.errors import ConfigError
    from flowloop.repo import FlowRepo
    import pytest

    with pytest.raises(ConfigError) as info:
        FlowRepo(git_repo).settings
    assert "config.toml:2" in str(info.value)


def test_unknown_config_key_names_field(git_repo: Path) -> None:
    import pytest

    from flowloop.errors import ConfigError
    from flowloop.repo import FlowRepo, init_repo

    init_repo(git_repo)
    (git_repo / ".flow" / "config.toml").write_text("[index]\nbudgett = 3\n")
    with pytest.raises(ConfigError) as info:
        FlowRepo(git_repo).settings
    assert "index.budgett" in str(info.value)


def _with_umask(mask: int):
    import contextlib
    import os

    @contextlib.contextmanager
    def scope():
        old = os.umask(mask)
        try:
            yield
        finally:
            os.umask(old)

    return scope()


def test_init_from_a_subfolder_uses_the_git_top_level(git_repo: Path) -> None:
    sub = git_repo / "src" / "pkg"
    sub.mkdir(parents=True)
    done = runner.invoke(app, ["-C", str(sub), "init"])
    assert done.exit_code == 0, done.output
    assert (git_repo / ".flow" / "config.toml").is_file() and not (sub / ".flow").exists()
    assert "git top level" in done.output
    again = runner.invoke(app, ["-C", str(sub), "init"])
    assert again.exit_code == 0 and "nothing changed" in again.output


def test_a_nested_flow_folder_is_refused(git_repo: Path, tmp_path: Path) -> None:
    from flowloop.errors import InitError
    from flowloop.repo import init_repo
    import pytest

    # A project that is not in git: its .flow/ covers the folders below it.
    plain = tmp_path / "plain"
    (plain / "docs").mkdir(parents=True)
    init_repo(plain)
    with pytest.raises(InitError) as err:
        init_repo(plain / "docs")
    assert err.value.path == plain / ".flow" and "nest" in str(err.value)
    assert not (plain / "docs" / ".flow").exists()
    refused = runner.invoke(app, ["-C", str(plain / "docs"), "init"])
    assert refused.exit_code == 1 and str(plain / ".flow") in refused.output

    # In git: a .flow/ an older flowloop made in a subfolder is not shadowed by a new top-level one.
    (git_repo / "service" / ".flow").mkdir(parents=True)
    (git_repo / "service" / ".flow" / "config.toml").write_text('[project]\nname = "service"\n')
    with pytest.raises(InitError, match="below the git top level"):
        init_repo(git_repo / "service")
    assert not (git_repo / ".flow").exists()


def test_init_outside_git_warns(tmp_path: Path) -> None:
    done = runner.invoke(app, ["-C", str(tmp_path), "init"])
    assert done.exit_code == 0
    assert "not in a git repository" in done.output and (tmp_path / ".flow" / "config.toml").is_file()


def test_committed_files_follow_the_umask_and_empty_folders_are_committable(git_repo: Path) -> None:
    import stat
    import subprocess

    def git(cwd: Path, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout

    with _with_umask(0o022):
        assert runner.invoke(app, ["-C", str(git_repo), "init"]).exit_code == 0
    flow = git_repo / ".flow"
    for name in ("config.toml", ".gitignore"):
        assert stat.S_IMODE((flow / name).stat().st_mode) == 0o644, name
    for sub in ("ephemeral", "evergreen", "cumulative"):
        assert (flow / "pilrs" / sub / ".gitkeep").is_file()
    git(git_repo, "add", ".flow")
    tracked = git(git_repo, "ls-files").split()
    assert ".flow/pilrs/evergreen/.gitkeep" in tracked and ".flow/config.toml" in tracked

    from flowloop.atomic import atomic_write_text
    from flowloop.repo import FlowRepo

    (flow / "config.toml").chmod(0o664)  # a group-writable checkout keeps its mode on rewrite
    atomic_write_text(flow / "config.toml", (flow / "config.toml").read_text())
    assert stat.S_IMODE((flow / "config.toml").stat().st_mode) == 0o664
    with _with_umask(0o077):
        atomic_write_text(git_repo / "private.txt", "x")
    assert stat.S_IMODE((git_repo / "private.txt").stat().st_mode) == 0o600
    # Derived state (prompts, signals, models) sits in an owner-only folder.
    FlowRepo(git_repo).state_path("signals.db")
    assert stat.S_IMODE((flow / "state").stat().st_mode) == 0o700


def test_hooks_settings_file_is_not_forced_private(git_repo: Path) -> None:
    import stat
    import sys

    with _with_umask(0o022):
        assert runner.invoke(app, ["-C", str(git_repo), "init"]).exit_code == 0
        done = runner.invoke(app, ["-C", str(git_repo), "hooks", "install", "claude-code",
                                   "--program", str(Path(sys.executable).with_name("flow"))])
    assert done.exit_code == 0, done.output
    assert stat.S_IMODE((git_repo / ".claude" / "settings.json").stat().st_mode) == 0o644

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

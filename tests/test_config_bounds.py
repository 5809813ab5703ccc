"""Every settings number is range-checked and errors name where the bad value came from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flowloop.config import Settings, load_settings
from flowloop.errors import ConfigError
from flowloop.repo import init_repo

FLOW = str(Path(sys.executable).with_name("flow"))


def _int_settings() -> list[tuple[str, str]]:
    """(section, key) of every integer setting, found from the settings classes themselves."""
    found = []
    for section, spec in Settings.model_fields.items():
        model = getattr(spec.annotation, "model_fields", None)
        if not model:
            continue
        for key, field in model.items():
            if field.annotation is int:
                found.append((section, key))
    return found


def test_every_integer_setting_refuses_a_negative_value_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    names = _int_settings()
    assert ("index", "rrf_k") in names and len(names) > 20
    for section, key in names:
        variable = f"FLOW_{section.upper()}__{key.upper()}"
        monkeypatch.setenv(variable, "-1000")
        with pytest.raises(ConfigError) as caught:
            load_settings(None)
        assert caught.value.field == f"{section}.{key}"
        assert variable in caught.value.message and caught.value.path is None  # the variable, not config.toml
        monkeypatch.delenv(variable)


def test_sentinels_and_defaults_still_load() -> None:
    settings = load_settings(None)
    assert settings.train.max_steps == -1 and settings.index.rrf_k == 20


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_floats_are_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("FLOW_INDEX__RELEVANCE_FLOOR", value)
    with pytest.raises(ConfigError, match="FLOW_INDEX__RELEVANCE_FLOOR"):
        load_settings(None)


def test_file_errors_name_the_file_line_and_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[project]\nname = "x"\n\n[index]\nbudget = 100\nrrf_k = 0\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert caught.value.path == config and caught.value.line == 6 and caught.value.field == "index.rrf_k"


def test_unparseable_database_port_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOW_DATABASE_URL", "postgresql://u:pw@localhost:notaport/db")
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert caught.value.field == "database_url" and "FLOW_DATABASE_URL" in caught.value.message


@pytest.mark.parametrize(
    ("env", "args", "needle"),
    [
        ({"FLOW_INDEX__RRF_K": "-1"}, ["search", "refund"], "FLOW_INDEX__RRF_K"),
        ({"FLOW_DATABASE_URL": "postgresql://u@h:x/db"}, ["signal", "list"], "FLOW_DATABASE_URL"),
        ({}, ["ingest", "serve", "--port", "-1"], "--port"),
    ],
)
def test_cli_reports_bad_settings_without_a_traceback(tmp_path: Path, env: dict[str, str], args: list[str], needle: str) -> None:
    import os

    repo = init_repo(tmp_path / "p").repo
    done = subprocess.run([FLOW, "-C", str(repo.root), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "FLOW_INGEST_TOKEN": "x" * 32, **env})
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and needle in done.stderr, done.stderr

"""Settings resolution of names with a short environment alias (FLOW_INGEST_TOKEN)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowloop.config import load_settings


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[signals]\ningest_token = "from-the-file-0123456789abcdef"\n', encoding="utf-8")
    return path


def test_the_file_value_is_used_without_environment(tmp_path: Path) -> None:
    assert load_settings(_config(tmp_path)).signals.ingest_token == "from-the-file-0123456789abcdef"


@pytest.mark.parametrize("name", ["FLOW_INGEST_TOKEN", "FLOW_SIGNALS__INGEST_TOKEN"])
def test_either_environment_name_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "from-env-0123456789abcdefghij")
    assert load_settings(_config(tmp_path)).signals.ingest_token == "from-env-0123456789abcdefghij"


def test_the_short_name_wins_over_the_long_one_and_a_flag_over_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOW_SIGNALS__INGEST_TOKEN", "long-name-0123456789abcdefghij")
    monkeypatch.setenv("FLOW_INGEST_TOKEN", "short-name-0123456789abcdefghi")
    assert load_settings(_config(tmp_path)).signals.ingest_token == "short-name-0123456789abcdefghi"
    flagged = load_settings(_config(tmp_path), signals={"ingest_token": "flag-0123456789abcdefghijklmn"})
    assert flagged.signals.ingest_token == "flag-0123456789abcdefghijklmn"

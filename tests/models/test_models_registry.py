"""The model registry: versions, atomic writes, the current pointer, promote and rollback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import RegistryError
from flowloop.models.registry import Registry
from flowloop.repo import init_repo

runner = CliRunner()


def adapter(tmp_path: Path, name: str = "adapter") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "adapter_config.json").write_text('{"r": 4}', encoding="utf-8")
    (folder / "adapter_model.safetensors").write_bytes(b"\0" * 1024)
    return folder


def fields(pass_name: str = "sft", parent: str | None = None) -> dict:
    return {"pass": pass_name, "base_model": "smollm2", "dataset_version": 1, "dataset_hash": "abc",
            "settings": {"lora_r": 4}, "metrics": {"loss": 1.5, "steps": 3}, "parent": parent}


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(init_repo(tmp_path / "repo").repo)


def test_register_numbers_versions_and_reads_them_back(registry: Registry, tmp_path: Path) -> None:
    v1 = registry.register(adapter(tmp_path), fields())
    v2 = registry.register(adapter(tmp_path, "b"), fields("dpo", parent="v1"))
    assert [v.version for v in registry.versions()] == ["v1", "v2"]
    assert (v1.adapter_dir / "adapter_config.json").is_file()
    assert v2.parent == "v1" and v2.pass_name == "dpo"
    assert registry.latest("sft").version == "v1" and registry.latest().version == "v2"
    assert registry.get("2").version == "v2" and registry.get("latest").version == "v2"
    manifest = json.loads((v2.path / "manifest.json").read_text())
    assert manifest["version"] == "v2" and manifest["created_at"]
    assert registry.current() is None


def test_a_crash_while_writing_leaves_the_previous_state(registry: Registry, tmp_path: Path) -> None:
    registry.register(adapter(tmp_path), fields())
    registry.promote("v1", "first")
    before = sorted(p.name for p in registry.root.iterdir())
    broken = adapter(tmp_path, "broken")
    (broken / "weights.bin").symlink_to(tmp_path / "missing-file")  # copying it fails mid-way
    with pytest.raises(OSError):  # shutil.Error, raised after the copy of the rest
        registry.register(broken, fields())
    assert sorted(p.name for p in registry.root.iterdir()) == before  # no v2, no temp folder
    assert [v.version for v in registry.versions()] == ["v1"]
    assert registry.current().version == "v1"
    # A process killed mid-copy leaves a temp folder: listings ignore it, numbering goes on.
    (registry.root / ".tmp-deadbeef" / "adapter").mkdir(parents=True)
    assert [v.version for v in registry.versions()] == ["v1"]
    assert registry.register(adapter(tmp_path, "c"), fields()).version == "v2"


def test_promote_and_rollback_move_the_pointer_like_a_stack(registry: Registry, tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        registry.register(adapter(tmp_path, name), fields())
    registry.promote("v1", "first")
    registry.promote("v3", "better planning F1", forced=True, actor="alice")
    assert registry.current().version == "v3"
    entry = registry.history()[-1]
    assert (entry.action, entry.version, entry.previous, entry.forced, entry.actor) == ("promote", "v3", "v1", True, "alice")
    assert registry.rollback().version == "v1"
    assert registry.current().version == "v1"
    assert registry.rollback().version is None
    assert registry.current() is None
    with pytest.raises(RegistryError, match="nothing to roll back"):
        registry.rollback()
    assert [e.action for e in registry.history()] == ["promote", "promote", "rollback", "rollback"]


def test_unknown_version_and_corrupt_files_are_clear_errors(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="no model version v7"):
        registry.get("v7")
    with pytest.raises(RegistryError, match="bad model version"):
        registry.get("seven")
    v1 = registry.register(adapter(tmp_path), fields())
    (registry.root / "current.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(RegistryError) as err:
        registry.current()
    assert "current.json" in str(err.value)
    (v1.path / "manifest.json").write_text('{"version": "v1"}', encoding="utf-8")
    with pytest.raises(RegistryError) as err:
        registry.get("v1")
    assert err.value.field == "pass"
    with pytest.raises(RegistryError, match="adapter_config.json"):
        registry.register(tmp_path, fields())


def test_models_cli_list_show_rollback(registry: Registry, tmp_path: Path) -> None:
    root = str(registry.repo.root)
    registry.register(adapter(tmp_path), fields())
    registry.register(adapter(tmp_path, "b"), fields("dpo", parent="v1"))
    registry.promote("v1", "setup")
    registry.promote("v2", "setup")
    listed = runner.invoke(app, ["-C", root, "models", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.stdout)
    assert data["current"] == "v2" and [v["version"] for v in data["versions"]] == ["v1", "v2"]
    shown = runner.invoke(app, ["-C", root, "models", "show", "v2", "--json"])
    assert json.loads(shown.stdout)["parent"] == "v1"
    rolled = runner.invoke(app, ["-C", root, "models", "rollback", "--json"])
    assert rolled.exit_code == 0 and json.loads(rolled.stdout)["version"] == "v1"
    missing = runner.invoke(app, ["-C", root, "models", "show", "v9"])
    assert missing.exit_code == 1 and "no model version v9" in missing.output


def test_models_list_shows_every_family_with_versions(registry: Registry, tmp_path: Path) -> None:
    root = str(registry.repo.root)
    registry.register(adapter(tmp_path), fields())
    model = tmp_path / "localizer-model"
    model.mkdir()
    (model / "config.json").write_text("{}", encoding="utf-8")
    localizer = Registry(registry.repo, "localizer")
    localizer.register(model, fields("localizer"))
    localizer.promote("v1", "setup")
    listed = runner.invoke(app, ["-C", root, "models", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.stdout)
    assert data["current"] is None and [v["version"] for v in data["versions"]] == ["v1"]  # the specialist's
    assert data["families"]["localizer"]["current"] == "v1"
    assert data["families"]["reward"] == {"current": None, "versions": []}
    text = runner.invoke(app, ["-C", root, "models", "list"])
    assert "localizer versions" in text.stdout and "localizer current: v1" in text.stdout
    assert "reward versions" not in text.stdout  # a family with nothing trained stays out of the way
    one = runner.invoke(app, ["-C", root, "models", "list", "--family", "reward"])
    assert one.exit_code == 0 and "no reward version trained yet" in one.stdout
    bad = runner.invoke(app, ["-C", root, "models", "list", "--family", "nope"])
    assert bad.exit_code == 1 and "unknown model family 'nope'" in bad.output
    shown = runner.invoke(app, ["-C", root, "models", "show", "current", "--family", "localizer", "--json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["pass"] == "localizer"

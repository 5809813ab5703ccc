"""The pass registry is the one place a pass is declared, and the old keys still work."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from flowloop.config import TrainSettings, load_settings
from flowloop.errors import ConfigError, DatasetError, TrainingError
from flowloop.passes import PASSES, PassSettings, get_pass, passes
from flowloop.pipeline.manifest import FILE_NAMES
from flowloop.train.api import runner

PACKAGE = Path(__file__).resolve().parents[2] / "flowloop"


def test_every_pass_has_its_table_its_files_and_a_runner() -> None:
    settings = TrainSettings()
    for spec in passes():
        table = getattr(settings, spec.name)
        assert isinstance(table, spec.settings) and isinstance(table, PassSettings)
        assert spec.train_file in FILE_NAMES and spec.heldout_file in FILE_NAMES
        assert callable(runner(spec))
        assert spec.starts_from is None or list(PASSES).index(spec.starts_from) < list(PASSES).index(spec.name)


def test_an_unknown_pass_is_both_a_dataset_and_a_training_error() -> None:
    for kind in (DatasetError, TrainingError):
        with pytest.raises(kind, match="unknown training pass 'rlhf'.*use one of: sft, dpo"):
            get_pass("rlhf")


def _pass_branches(path: Path) -> list[str]:
    """Comparisons against a pass's name and dicts keyed by pass names: special cases."""
    names = set(PASSES)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        constants: list[ast.AST] = []
        if isinstance(node, ast.Compare):
            constants = [node.left, *node.comparators]
            constants += [e for c in node.comparators if isinstance(c, (ast.Tuple, ast.List, ast.Set)) for e in c.elts]
        elif isinstance(node, ast.Dict):
            constants = [k for k in node.keys if k is not None]
        elif isinstance(node, ast.match_case) and isinstance(node.pattern, ast.MatchValue):
            constants = [node.pattern.value]
        for constant in constants:
            if isinstance(constant, ast.Constant) and constant.value in names:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{constant.lineno}: {constant.value!r}")
    return found


def test_no_module_outside_the_registry_branches_on_a_pass_name() -> None:
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) if "passes" not in path.parts
             for hit in _pass_branches(path)]
    assert found == []


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_old_keys_still_work_and_say_where_they_moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _config(tmp_path, "[dataset]\nsft_threshold = 7\n\n[train]\nlearning_rate = 0.001\ndpo_beta = 0.3\n\n"
                             "[loop]\nsft_max_steps = 24\nmin_new_dpo_pairs = 5\n")
    monkeypatch.setenv("FLOW_DATASET__DPO_THRESHOLD", "9")
    settings = load_settings(path)
    assert settings.train.sft.threshold == 7 and settings.train.sft.learning_rate == 0.001
    assert settings.train.sft.loop_max_steps == 24
    assert settings.train.dpo.beta == 0.3 and settings.train.dpo.min_new == 5 and settings.train.dpo.threshold == 9
    messages = "\n".join(settings.deprecations)
    assert "[dataset] sft_threshold is deprecated: use [train.sft] threshold" in messages
    assert "[loop] sft_max_steps is deprecated: use [train.sft] loop_max_steps" in messages
    assert "FLOW_DATASET__DPO_THRESHOLD is deprecated: use FLOW_TRAIN__DPO__THRESHOLD" in messages
    assert len(settings.deprecations) == 6


def test_the_new_key_wins_over_the_old_one(tmp_path: Path) -> None:
    path = _config(tmp_path, "[dataset]\nsft_threshold = 7\n\n[train.sft]\nthreshold = 3\n")
    assert load_settings(path).train.sft.threshold == 3


def test_new_keys_raise_no_deprecation(tmp_path: Path) -> None:
    path = _config(tmp_path, "[train.sft]\nthreshold = 3\n\n[train.dpo]\nbeta = 0.2\n")
    settings = load_settings(path)
    assert settings.deprecations == () and settings.train.dpo.beta == 0.2


def test_a_bad_old_key_is_reported_at_its_line(tmp_path: Path) -> None:
    path = _config(tmp_path, "[project]\nname = 'x'\n\n[dataset]\nsft_threshold = 0\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.line == 5 and info.value.field == "train.sft.threshold"


def test_a_typo_in_a_pass_table_is_an_error(tmp_path: Path) -> None:
    path = _config(tmp_path, "[train.dpo]\nbeat = 0.2\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.field == "train.dpo.beat" and info.value.line == 2

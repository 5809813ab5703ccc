"""Dataset file names come from one table (pipeline/manifest.py), readers included."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowloop.errors import DatasetError
from flowloop.evaluate.data import DatasetRef
from flowloop.pipeline.manifest import FILE_NAMES, dataset_file


def test_every_reader_names_files_through_the_manifest_table(tmp_path: Path) -> None:
    ref = DatasetRef("v1", tmp_path, "hash")
    for key, name in FILE_NAMES.items():
        assert dataset_file(key) == name
        assert ref.file(key) == tmp_path / name


def test_an_unknown_dataset_file_is_a_clear_error() -> None:
    with pytest.raises(DatasetError, match="no dataset file is called 'sft_trian'") as info:
        dataset_file("sft_trian")
    assert "sft_train" in (info.value.hint or "")

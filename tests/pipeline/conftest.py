"""Fixtures of the pipeline tests; the builders live in pipeline_kit."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Callable

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pipeline_kit import EXAMPLE, make_small_repo  # noqa: E402

from flowloop.repo import FlowRepo  # noqa: E402
from flowloop.signals.store import open_store  # noqa: E402

@pytest.fixture
def small_repo(tmp_path: Path) -> FlowRepo:
    return make_small_repo(tmp_path / "acme")


@pytest.fixture
def example_repo(tmp_path: Path) -> Callable[[], FlowRepo]:
    """The bundled example copied to tmp_path, its shipped signals imported into the store."""

    def make() -> FlowRepo:
        if not (EXAMPLE / ".flow" / "config.toml").is_file():
            pytest.skip("the bundled example is not written yet")
        target = tmp_path / "ledgerline"
        shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("state"))
        repo = FlowRepo(target)
        shipped = target / ".flow" / "signals" / "events.jsonl"
        if shipped.is_file():
            with open_store(repo) as store:
                store.import_jsonl(shipped)
        return repo

    return make

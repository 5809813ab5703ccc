"""Fixtures of the eval tests; the builders live in ``evalkit.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowloop.repo import FlowRepo, init_repo


@pytest.fixture
def flow_repo(tmp_path: Path) -> FlowRepo:
    return init_repo(tmp_path / "proj").repo

"""Fixtures of the planner tests (helpers in ``helpers_planner``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowloop.repo import FlowRepo
from helpers_planner import example_repo


@pytest.fixture
def example(tmp_path: Path) -> FlowRepo:
    return example_repo(tmp_path)

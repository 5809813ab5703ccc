"""The train case of ``benchmarks/faults.py`` at small size: ``flow train sft`` killed with
SIGKILL at a random moment leaves the registry whole, and the next run registers (slow)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from helpers_train import small_repo, write_dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import faults  # noqa: E402  (benchmarks/faults.py)

pytestmark = pytest.mark.slow


def test_sigkill_train(tmp_path: Path, base_checkpoint: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    write_dataset(repo)
    rows = faults.sigkill_train(repo.root, kills=1, rng=random.Random(4), window=(2.0, 15.0), steps=2)
    assert rows and all(r["held"] for r in rows), rows

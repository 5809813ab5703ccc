"""Fixtures of the training tests: the converted base model once per session, small repos."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def base_checkpoint(model_cache: Path) -> Path:
    """The packaged SmolLM2 GGUF converted once into the session's model cache."""
    from flowloop.config import load_settings
    from flowloop.models.base_model import resolve_base_model

    return resolve_base_model(load_settings(None, cache_dir=str(model_cache)))

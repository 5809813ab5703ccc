"""The cold paths stay light: CLI modules and the hook-side client import nothing heavy."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "sentence_transformers", "transformers", "numpy", "sqlalchemy", "mcp", "tokenizers")


def _imported(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sorted(set(sys.modules))))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(out.split())


def test_index_cli_and_warm_client_import_nothing_heavy() -> None:
    for module in ("flowloop.cli.index", "flowloop.cli.mcp", "flowloop.index.api", "flowloop.index.warm"):
        loaded = _imported(module)
        assert not [m for m in HEAVY if m in loaded], module


def test_pilr_commands_never_load_a_model() -> None:
    loaded = _imported("flowloop.cli.main")
    assert "torch" not in loaded and "sentence_transformers" not in loaded

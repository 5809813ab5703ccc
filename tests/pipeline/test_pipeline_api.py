"""The pipeline's public API and the CLI's import cost."""

from __future__ import annotations

import subprocess
import sys

from flowloop.pipeline import api


def test_public_api_names_exist() -> None:
    for name in api.__all__:
        assert getattr(api, name) is not None, name
    assert {"build_dataset", "load_manifest", "dataset_stats", "check_threshold", "planning_context"} <= set(api.__all__)


def test_dataset_cli_imports_nothing_heavy() -> None:
    code = (
        "import sys, flowloop.cli.main, flowloop.cli.dataset, flowloop.pipeline.api\n"
        "heavy = [m for m in ('torch', 'transformers', 'datasets', 'numpy', 'sentence_transformers', 'trl')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

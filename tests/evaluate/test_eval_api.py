"""The public API of flowloop.evaluate and flowloop.loop, and that the CLI stays light to import."""

from __future__ import annotations

import subprocess
import sys

import flowloop.evaluate
import flowloop.loop


def test_public_names_are_exported() -> None:
    for module in (flowloop.evaluate, flowloop.loop):
        for name in module.__all__:
            assert getattr(module, name) is not None, name
    assert callable(flowloop.evaluate.gated_promote) and callable(flowloop.loop.run_loop)


def test_eval_loop_report_commands_import_no_heavy_libraries() -> None:
    code = (
        "import sys, flowloop.cli.main, flowloop.cli.eval, flowloop.cli.loop, flowloop.cli.report, flowloop.evaluate, flowloop.loop\n"
        "heavy = [m for m in ('torch', 'numpy', 'transformers', 'sqlalchemy') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

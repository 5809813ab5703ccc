"""The public API: ``flowloop.__all__`` is exactly what the package exports, and each name resolves.

Like httpx's ``test_all_imports_are_exported``: a name added to the facade but not to
``__all__`` (or the other way round) fails here, as does a verb whose module moved.
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import flowloop

HEAVY = ("torch", "transformers", "trl", "peft", "sentence_transformers", "sqlalchemy", "numpy")


def test_all_lists_every_export_once_sorted() -> None:
    eager = {name for name, value in vars(flowloop).items()
             if not inspect.ismodule(value) and (not name.startswith("_") or name == "__version__")}
    lazy = set(flowloop._LAZY)
    assert flowloop.__all__ == sorted(flowloop.__all__)
    assert len(flowloop.__all__) == len(set(flowloop.__all__))
    helpers = {"annotations", "importlib", "TYPE_CHECKING", "Any"}  # the facade's own imports
    assert set(flowloop.__all__) == (eager - helpers) | lazy
    assert set(flowloop.__all__) <= set(dir(flowloop))


@pytest.mark.parametrize("name", [n for n in flowloop.__all__ if n != "__version__"])
def test_each_export_resolves_to_the_library_object(name: str) -> None:
    value = getattr(flowloop, name)
    assert callable(value), name
    if name in flowloop._LAZY:
        module, attribute = flowloop._LAZY[name]
        assert value is getattr(importlib.import_module(module), attribute)
    assert value.__doc__, f"{name} has no docstring"


def test_the_product_verbs_are_exported() -> None:
    verbs = {"init_repo", "find_repo", "search", "context_pack", "record_signals", "build_dataset",
             "train_pass", "evaluate_model", "run_loop"}
    assert verbs <= set(flowloop.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        flowloop.nope  # noqa: B018
    assert not hasattr(flowloop, "nope")


def test_version_matches_the_package_metadata() -> None:
    from importlib.metadata import version

    assert flowloop.__version__ == version("flowloop")


@pytest.mark.parametrize("statement", ["import flowloop", "import flowloop.cli.main",
                                       "import flowloop; flowloop.FlowRepo; flowloop.find_repo"])
def test_importing_the_package_loads_no_heavy_stack(statement: str) -> None:
    """``import flowloop`` and ``flow --help`` stay fast: the verbs' stacks load on first use."""
    code = f"import sys\n{statement}\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_a_verb_loads_its_module_on_first_use() -> None:
    code = ("import sys, flowloop\n"
            "before = 'flowloop.loop.run' in sys.modules\n"
            "flowloop.run_loop\n"
            "print(before, 'flowloop.loop.run' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]

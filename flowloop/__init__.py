"""flowloop: the FLOW pattern (fast loop: PILRs and retrieval; slow loop: a fine-tuned specialist).

The product's verbs, re-exported here for library users::

    import flowloop

    repo = flowloop.find_repo(Path("."))                 # or flowloop.init_repo(path).repo
    flowloop.build_index(repo)
    pack = flowloop.context_pack(repo, "how do we store money?")
    flowloop.record_signals(repo, [{"kind": "approval", "task": "LED-7", "output": "the plan"}])
    manifest = flowloop.build_dataset(repo)
    result = flowloop.train_pass(repo, "sft")
    evaluation = flowloop.evaluate_model(repo, "current")
    summary = flowloop.run_loop(repo)

Everything below the repository layer (settings, errors, the repository) is imported here at
once; each verb is imported on first use (module ``__getattr__``), because this module runs
before any ``flowloop.*`` import and the verbs' modules pull in SQLAlchemy, NumPy or torch.
``import flowloop`` and ``flow --help`` stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flowloop.config import Settings, load_settings
from flowloop.errors import FlowError
from flowloop.repo import FlowRepo, InitResult, find_repo, init_repo

__version__ = "0.1.0"

# name -> (module, attribute): the verbs, imported on first use.
_LAZY: dict[str, tuple[str, str]] = {
    # search and context packs
    "Retriever": ("flowloop.index.api", "Retriever"),
    "build_index": ("flowloop.index.api", "build_index"),
    "context_pack": ("flowloop.index.api", "context_pack"),
    "search": ("flowloop.index.api", "search"),
    # signals
    "collect_git": ("flowloop.signals.collect_git", "collect_git"),
    "import_events": ("flowloop.signals.api", "import_events"),
    "open_store": ("flowloop.signals.store", "open_store"),
    "record_signals": ("flowloop.signals.api", "record"),
    # datasets
    "build_dataset": ("flowloop.pipeline.api", "build_dataset"),
    "dataset_stats": ("flowloop.pipeline.api", "dataset_stats"),
    "load_manifest": ("flowloop.pipeline.api", "load_manifest"),
    # training and the model registry
    "Registry": ("flowloop.models.registry", "Registry"),
    "train_pass": ("flowloop.train.api", "train"),  # not ``train``: that name is the subpackage
    # the specialist, evaluation, the report, the loop
    "ask": ("flowloop.specialist.ask", "ask"),
    "build_report": ("flowloop.report", "build_report"),
    "evaluate_model": ("flowloop.evaluate.runner", "evaluate_model"),
    "gated_promote": ("flowloop.evaluate.gate", "gated_promote"),
    "run_loop": ("flowloop.loop.run", "run_loop"),
}

if TYPE_CHECKING:  # what type checkers and editors see; nothing is imported at run time
    from flowloop.evaluate.gate import gated_promote
    from flowloop.evaluate.runner import evaluate_model
    from flowloop.index.api import Retriever, build_index, context_pack, search
    from flowloop.loop.run import run_loop
    from flowloop.models.registry import Registry
    from flowloop.pipeline.api import build_dataset, dataset_stats, load_manifest
    from flowloop.report import build_report
    from flowloop.signals.api import import_events
    from flowloop.signals.api import record as record_signals
    from flowloop.signals.collect_git import collect_git
    from flowloop.signals.store import open_store
    from flowloop.specialist.ask import ask
    from flowloop.train.api import train as train_pass


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'flowloop' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "FlowError",
    "FlowRepo",
    "InitResult",
    "Registry",
    "Retriever",
    "Settings",
    "__version__",
    "ask",
    "build_dataset",
    "build_index",
    "build_report",
    "collect_git",
    "context_pack",
    "dataset_stats",
    "evaluate_model",
    "find_repo",
    "gated_promote",
    "import_events",
    "init_repo",
    "load_manifest",
    "load_settings",
    "open_store",
    "record_signals",
    "run_loop",
    "search",
    "train_pass",
]

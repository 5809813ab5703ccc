"""The trainer's public API: one call per pass, used by `flow train`, `flow loop` and scripts.

``train(repo, name, ...)`` looks the pass up in :mod:`flowloop.passes.registry`, applies the
per-call overrides (``max_steps``, ``qlora``, ...) to a copy of the repository's ``[train]``
settings and calls the pass's runner; the result names the registered version
(``result.version == "v3"``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from flowloop.config import TrainSettings
from flowloop.errors import TrainingError
from flowloop.passes import TrainingPass, get_pass
from flowloop.repo import FlowRepo
from flowloop.train.types import LogSink, Notify, TrainResult
from flowloop.types import Progress


def train_settings(repo: FlowRepo, **overrides: Any) -> TrainSettings:
    """``repo.settings.train`` with the non-None ``overrides`` applied (validated)."""
    base = repo.settings.train
    update = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(update) - set(TrainSettings.model_fields)
    if unknown:
        raise TrainingError(f"unknown training setting(s): {', '.join(sorted(unknown))}", field="train")
    return TrainSettings.model_validate({**base.model_dump(), **update})


def runner(spec: TrainingPass) -> Callable[..., TrainResult]:
    """The function that trains ``spec`` (its record names it as ``module:function``)."""
    module, _, name = spec.runner.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise TrainingError(f"the runner of pass {spec.name!r} cannot be loaded: {spec.runner}",
                            hint="check the pass's entry in flowloop/passes/registry.py") from exc


def train(
    repo: FlowRepo,
    pass_name: str,
    *,
    dataset: str | int = "latest",
    max_steps: int | None = None,
    force: bool = False,
    resume: str = "auto",
    parent: str | None = None,
    settings: TrainSettings | None = None,
    progress: Progress | None = None,
    on_log: LogSink | None = None,
    notify: Notify | None = None,
    callbacks: Sequence[Any] = (),
) -> TrainResult:
    """Run one pass. ``parent``: the version to start from, for a pass that continues another
    (default: the newest version of that pass)."""
    spec = get_pass(pass_name)
    if max_steps is not None and max_steps < 1:
        raise TrainingError(f"--max-steps must be at least 1, not {max_steps}", field="max_steps")
    chosen = settings or repo.settings.train
    if max_steps is not None:
        chosen = chosen.model_copy(update={"max_steps": max_steps})
    return runner(spec)(repo, settings=chosen, dataset=dataset, parent=parent, force=force, resume=resume,
                        progress=progress, on_log=on_log, notify=notify, callbacks=callbacks)

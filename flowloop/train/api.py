"""The trainer's public API: one call per pass, used by `flow train`, `flow loop` and scripts.

``train(repo, "sft" | "dpo", ...)`` applies the per-call overrides (``max_steps``, ``qlora``,
...) to a copy of the repository's ``[train]`` settings and runs that pass (see ``sft.py`` and
``dpo.py``); the result names the registered version (``result.version == "v3"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flowloop.config import TrainSettings
from flowloop.errors import TrainingError
from flowloop.repo import FlowRepo
from flowloop.train.types import LogSink, Notify, TrainResult
from flowloop.types import Progress

PASSES = ("sft", "dpo")


def train_settings(repo: FlowRepo, **overrides: Any) -> TrainSettings:
    """``repo.settings.train`` with the non-None ``overrides`` applied (validated)."""
    base = repo.settings.train
    update = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(update) - set(TrainSettings.model_fields)
    if unknown:
        raise TrainingError(f"unknown training setting(s): {', '.join(sorted(unknown))}", field="train")
    return TrainSettings.model_validate({**base.model_dump(), **update})


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
    """Run one pass. ``parent`` (DPO only): the version to start from (default: newest SFT)."""
    if pass_name not in PASSES:
        raise TrainingError(f"unknown training pass {pass_name!r}", hint="use 'sft' or 'dpo'")
    if max_steps is not None and max_steps < 1:
        raise TrainingError(f"--max-steps must be at least 1, not {max_steps}", field="max_steps")
    chosen = settings or repo.settings.train
    if max_steps is not None:
        chosen = chosen.model_copy(update={"max_steps": max_steps})
    common = dict(settings=chosen, dataset=dataset, force=force, resume=resume, progress=progress,
                  on_log=on_log, notify=notify, callbacks=callbacks)
    if pass_name == "sft":
        if parent is not None:
            raise TrainingError("SFT always starts from the base model", field="parent", hint="drop --from")
        from flowloop.train.sft import train_sft

        return train_sft(repo, **common)
    from flowloop.train.dpo import train_dpo

    return train_dpo(repo, parent=parent, **common)

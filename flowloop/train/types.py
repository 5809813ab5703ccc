"""Light types shared by the trainer's modules and its callers (no torch, no transformers).

``flowloop.train.api`` imports only these at module level, so ``flow loop`` and the CLI can
import the API without loading the training stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from flowloop.models.registry import ModelVersion
    from flowloop.train.device import Hardware, MemoryEstimate

LogSink = Callable[[dict[str, float]], None]
"""Each logged step's numbers: ``loss``, ``grad_norm``, DPO's ``rewards/*``, ``step``."""
Notify = Callable[[str], None]
"""One-line notes for the user (``"warning: ..."`` for warnings)."""


@dataclass
class TrainResult:
    """A finished run: ``version`` is the registered name (``"v3"``), ``model`` its registry
    entry; both None on a non-main ``accelerate`` process, which does not register."""

    version: str | None
    model: "ModelVersion | None"
    run_id: str
    metrics: dict[str, Any]
    hardware: "Hardware"
    memory: "MemoryEstimate"
    data: dict[str, Any] = field(default_factory=dict)

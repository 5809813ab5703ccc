"""What a training pass is: one record that every part of flowloop reads.

A pass is declared once, as a :class:`TrainingPass`: the dataset file its rows live in and the
fields a row has, the threshold it must reach and what that threshold counts, its settings
table (``[train.<name>]``: threshold, retraining minimum, the loop's step cap and time budget,
and the pass's own knobs), the pass whose newest version it starts from, and its runner. The
dataset build, ``flow dataset stats``, ``flow signal stats``, ``flow train``, ``flow loop`` and
the report all look passes up here, so none of them branches on a pass's name.

The runner is named as ``"module:function"`` (as a package's entry point is) rather than
imported: the runner lives in the training layer, far above this record, and importing it
would load the training stack for every command that only counts examples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import Field

from flowloop.section import Section


class PassSettings(Section):
    """The keys every ``[train.<name>]`` table has; a pass subclasses it to add its own."""

    threshold: int = Field(1, ge=1, description="Training data needed before this pass first trains.")
    min_new: int = Field(10, description="New training rows needed before `flow loop` retrains this pass.")
    loop_max_steps: int = Field(
        60, ge=1, description="Step cap of this pass inside `flow loop` (fewer when train.epochs over the data takes fewer)."
    )
    loop_minutes: float = Field(
        0.0, ge=0, description="Wall-clock budget of this pass inside `flow loop`, in minutes (0: no budget)."
    )
    learning_rate: float = Field(2e-4, gt=0, description="Learning rate of this pass.")


class CountedExample(Protocol):
    """The attributes a counting rule reads of a dataset example; ``kind`` and ``task`` let a
    pass count work records (the build adds one item of kind ``work`` per training-split task)."""

    pass_: str
    kind: str
    task: str | None
    documents: list[str]


Counter = Callable[[Iterable[CountedExample]], int]


@dataclass(frozen=True)
class TrainingPass:
    """One training pass, declared once (see the module docstring)."""

    name: str  # the CLI verb, the ``[train.<name>]`` table, the registry's ``pass`` field
    title: str  # how messages name it: "SFT"
    summary: str  # one line of help
    train_file: str  # dataset file (manifest key) of the training rows
    heldout_file: str  # dataset file of the held-out rows
    fields: tuple[str, ...]  # the message columns a row carries to the trainer
    count_field: str  # key of the threshold count in a manifest's ``counts``
    unit: str  # what the threshold counts, plural: "documents"
    count: Counter  # the counting rule, over the training examples of a build
    more: str  # how to get more data when below the threshold
    new_unit: str  # what "new since the last version" counts, plural: "examples"
    settings: type[PassSettings]  # the ``[train.<name>]`` table
    runner: str  # ``"module:function"`` that trains it
    starts_from: str | None = None  # the pass whose newest version this continues; None: the base model
    deprecated: dict[str, str] = field(default_factory=dict)  # old dotted key -> key of this table
    family: str = "specialist"  # the model registry family its versions land in
    gate: str | None = None  # ``"module:function"`` promoting a version of a non-specialist family
    rollback: str | None = None  # ``"module:function"`` undoing that family's latest promotion
    # True: its rows are the build's labelled outputs (compliant / violating texts in their
    # context, split like the validation items), not examples written for this pass.
    labelled: bool = False
    # What one epoch's steps are counted over: ``examples`` (the weighted training rows, at the
    # trainer's batch x grad_accum) or ``positives`` (the positive rows, at the pass's own
    # ``batch_size``: retrieval pairs and work records, whose negatives ride along with them).
    step_rows: str = "examples"
    # The dataset file whose held-out rows its gate scores a new version on; when a build has
    # none, the loop does not train it (a version no gate can judge is never promoted, so the
    # run's time is better spent elsewhere). None: the gate has several suites to fall back on.
    gated_on: str | None = None

    @property
    def completion_field(self) -> str:
        """The field holding what the model should write (``completion``, or ``chosen`` of a pair)."""
        return self.fields[1]

    def table(self, settings: Any) -> PassSettings:
        """This pass's ``[train.<name>]`` table of a repository's ``Settings``."""
        return getattr(settings.train, self.name)

    def threshold(self, settings: Any) -> int:
        return int(self.table(settings).threshold)


@dataclass(frozen=True)
class Readiness:
    """One pass's count against its threshold."""

    name: str
    unit: str
    have: int
    threshold: int
    more: str

    @property
    def ready(self) -> bool:
        return self.have >= self.threshold

    @property
    def share(self) -> float:
        return 1.0 if self.threshold <= 0 else min(1.0, self.have / self.threshold)

    @property
    def next_step(self) -> str:
        """What to do next: nothing to add when ready, else how to get the missing data."""
        if self.ready:
            return f"ready: `flow train {self.name}` or `flow loop`"
        missing = self.threshold - self.have
        return f"needs {missing} more {self.unit if missing != 1 else self.unit[:-1]}: {self.more}"

    def to_dict(self) -> dict[str, Any]:
        return {"have": self.have, "threshold": self.threshold, "ready": self.ready, "unit": self.unit,
                "next": self.next_step}

"""The training thresholds, counted one way for every caller.

Each pass has one counting rule, a function over the *training* examples (held-out tasks,
rejected, duplicate and reverted examples excluded):

- SFT counts the distinct evergreen and cumulative documents (PILRs and documentation
  ``[[sources]]`` of those types) that contributed at least one training example (seed: ~50);
- DPO counts training pairs (seed: ~200).

``dataset build`` records these counts in the manifest; ``readiness`` computes the same counts
from the current inputs without building (no retrieval, no files written), for ``flow signal
stats`` and the report before any dataset exists. ``flow dataset stats``, ``flow train`` and
``flow loop`` read the manifest through ``check_threshold``. Each pass is one ``PassThreshold``
record, so a registry of training passes can carry it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from flowloop.pipeline.records import Example
from flowloop.repo import FlowRepo


def sft_documents(train: Iterable[Example]) -> int:
    """Distinct evergreen/cumulative documents behind at least one SFT training example."""
    return len({doc for e in train if e.pass_ == "sft" for doc in e.documents})


def dpo_pairs(train: Iterable[Example]) -> int:
    """DPO training pairs."""
    return sum(1 for e in train if e.pass_ == "dpo")


@dataclass(frozen=True)
class PassThreshold:
    """What one pass counts, where the count lives in a manifest, and how to get more."""

    name: str
    field: str  # key in the manifest's ``counts``
    unit: str
    count: Callable[[Iterable[Example]], int]
    setting: str  # ``[dataset]`` key holding the threshold
    more: str  # what to do when below the threshold

    def threshold(self, settings: Any) -> int:
        return int(getattr(settings.dataset, self.setting))


PASSES: dict[str, PassThreshold] = {
    "sft": PassThreshold(
        "sft", "sft_documents", "documents", sft_documents, "sft_threshold",
        "write evergreen or cumulative PILRs with sections (`flow pilr new --type evergreen`), "
        "add documentation as evergreen [[sources]] in .flow/config.toml, or lower dataset.sft_threshold",
    ),
    "dpo": PassThreshold(
        "dpo", "dpo_pairs", "pairs", dpo_pairs, "dpo_threshold",
        "record preferences and corrections (`flow signal prefer`, `flow signal correct`, "
        "or the agent hooks: `flow hooks install claude-code`), or lower dataset.dpo_threshold",
    ),
}
COUNTERS: dict[str, Callable[[Iterable[Example]], int]] = {p.field: p.count for p in PASSES.values()}


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


def pass_threshold(name: str) -> PassThreshold:
    from flowloop.errors import DatasetError

    if name not in PASSES:
        raise DatasetError(f"unknown training pass {name!r}", hint=f"use one of {', '.join(PASSES)}")
    return PASSES[name]


def readiness_of(name: str, have: int, threshold: int) -> Readiness:
    spec = pass_threshold(name)
    return Readiness(spec.name, spec.unit, have, threshold, spec.more)


def readiness(repo: FlowRepo) -> dict[str, Readiness]:
    """Each pass's count from the current inputs, by the rule a build applies, without building.

    Planning examples are left out: they need retrieval, and they count toward neither
    threshold (they cite no document and are not pairs).
    """
    from flowloop.pipeline.behavior import signal_examples
    from flowloop.pipeline.inputs import load_inputs
    from flowloop.pipeline.selection import select_examples
    from flowloop.pipeline.split import time_split
    from flowloop.pipeline.templates import document_examples, section_examples

    settings = repo.settings
    inputs = load_inputs(repo)
    examples = document_examples(settings, inputs.pilrs, inputs.task_time)[0]
    examples += section_examples(settings, inputs.sections)
    examples += signal_examples(settings, inputs)[0]
    kept = select_examples(repo, inputs, examples).kept
    split = time_split(inputs.task_time, settings.dataset.holdout_share)
    train = [e for e in kept if not split.example_heldout(e)]
    return {name: readiness_of(name, spec.count(train), spec.threshold(settings)) for name, spec in PASSES.items()}

"""``flow signal stats``: what the store holds, and how far it is from a first training run.

The seed's thresholds (``dataset.sft_threshold``, ~50 documents; ``dataset.dpo_threshold``,
~200 pairs) decide when each training pass has enough data. SFT counts the active evergreen and
cumulative PILRs (matured knowledge; ephemeral notes, archived and superseded documents do not
train); DPO counts pairs with the shared rule of ``pairs.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from flowloop.repo import FlowRepo
from flowloop.signals.pairs import PAIR_KINDS, count_pairs
from flowloop.signals.store import StoreStats, open_store

SFT_TYPES = ("evergreen", "cumulative")


@dataclass(frozen=True)
class Progress:
    """Progress of one training pass toward its data threshold."""

    have: int
    threshold: int

    @property
    def ready(self) -> bool:
        return self.have >= self.threshold

    @property
    def share(self) -> float:
        return 1.0 if self.threshold <= 0 else min(1.0, self.have / self.threshold)


@dataclass(frozen=True)
class SignalStats:
    store_url: str
    store: StoreStats
    sft: Progress
    dpo: Progress
    pilr_problems: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store_url,
            "total": self.store.total,
            "by_kind": self.store.by_kind,
            "by_week": self.store.by_week,
            "thresholds": {
                name: {**asdict(progress), "ready": progress.ready}
                for name, progress in (("sft", self.sft), ("dpo", self.dpo))
            },
            "pilr_problems": self.pilr_problems,
        }


def sft_document_count(repo: FlowRepo) -> tuple[int, int]:
    """(active evergreen + cumulative PILRs, documents that failed to parse)."""
    from flowloop.pilr.model import PilrStatus
    from flowloop.pilr.store import PilrStore

    scan = PilrStore(repo).scan()
    count = sum(
        1 for doc in scan.documents if doc.meta.type.value in SFT_TYPES and doc.meta.status == PilrStatus.ACTIVE
    )
    return count, len(scan.errors)


def signal_stats(repo: FlowRepo) -> SignalStats:
    """Counts by kind and week, and progress against the SFT and DPO thresholds."""
    settings = repo.settings.dataset
    with open_store(repo) as store:
        counts = store.stats()
        pairs = count_pairs(store.iter_events(kind=PAIR_KINDS))
        url = store.url
    documents, problems = sft_document_count(repo)
    return SignalStats(
        store_url=url,
        store=counts,
        sft=Progress(documents, settings.sft_threshold),
        dpo=Progress(pairs, settings.dpo_threshold),
        pilr_problems=problems,
    )

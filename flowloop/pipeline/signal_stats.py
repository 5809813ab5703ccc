"""``flow signal stats``: what the signals store holds, and how far each pass is from training.

It lives in ``pipeline/`` rather than ``signals/`` because the threshold counts are the
dataset's rule (``thresholds.readiness``): the same documents and pairs a build would train
on, so ``flow signal stats``, ``flow dataset stats``, ``flow loop`` and the report agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowloop.pipeline.thresholds import Readiness, readiness
from flowloop.repo import FlowRepo
from flowloop.signals.store import StoreStats, open_store


@dataclass(frozen=True)
class SignalStats:
    store_url: str
    store: StoreStats
    passes: dict[str, Readiness]
    pilr_problems: int

    def __getattr__(self, name: str) -> Readiness:
        # ``stats.sft``: one attribute per registered pass, without naming any here
        passes = self.__dict__.get("passes", {})
        if name in passes:
            return passes[name]
        raise AttributeError(name)

    @property
    def weeks(self) -> tuple[str, str] | None:
        """(first, last) ISO week with events, or None for an empty store."""
        weeks = list(self.store.by_week)
        return (weeks[0], weeks[-1]) if weeks else None

    def to_dict(self, by_week: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "store": self.store_url,
            "total": self.store.total,
            "by_kind": self.store.by_kind,
            "weeks": {"first": self.weeks[0], "last": self.weeks[1], "with_events": len(self.store.by_week)}
            if self.weeks else None,
            "thresholds": {name: r.to_dict() for name, r in self.passes.items()},
            "pilr_problems": self.pilr_problems,
        }
        if by_week:
            out["by_week"] = self.store.by_week
        return out


def signal_stats(repo: FlowRepo) -> SignalStats:
    """Counts by kind and week, and each pass's progress toward its threshold."""
    from flowloop.pilr.store import PilrStore

    with open_store(repo) as store:
        counts = store.stats()
        url = store.url
    problems = len(PilrStore(repo).scan().errors)
    return SignalStats(store_url=url, store=counts, passes=readiness(repo), pilr_problems=problems)

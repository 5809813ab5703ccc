"""How many DPO preference pairs an event yields: one rule, shared by stats and the dataset.

A ``preference`` gives one (chosen, rejected) pair per rejected option; a ``rewrite`` gives one
(the human's final version over the agent's output); a ``correction`` gives one (the human's
correction over the agent's direction). Every other kind yields none (outcomes only weight
pairs, approvals and scope changes are not contrasts).
"""

from __future__ import annotations

from typing import Iterable

from flowloop.signals.events import CorrectionEvent, EventBase, PreferenceEvent, RewriteEvent

# Kinds that can yield pairs: query only these when counting.
PAIR_KINDS = ("preference", "rewrite", "correction")


def pair_count(event: EventBase) -> int:
    """Number of DPO pairs ``event`` contributes."""
    if isinstance(event, PreferenceEvent):
        return len(event.rejected)
    if isinstance(event, (RewriteEvent, CorrectionEvent)):
        return 1
    return 0


def count_pairs(events: Iterable[EventBase]) -> int:
    """Total DPO pairs of ``events``."""
    return sum(pair_count(event) for event in events)

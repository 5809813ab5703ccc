"""flowloop.loop: the main job (`flow loop`), both loops in one locked, resumable run."""

from flowloop.loop.lock import LoopLock
from flowloop.loop.run import LoopSummary, run_loop

__all__ = ["LoopLock", "LoopSummary", "run_loop"]

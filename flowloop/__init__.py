"""flowloop: the FLOW pattern (fast loop: PILRs and retrieval; slow loop: a fine-tuned specialist).

The public API is re-exported here; heavy dependencies (torch, transformers) load only inside the
functions that need them.
"""

from __future__ import annotations

__version__ = "0.1.0"

from flowloop.config import Settings, load_settings
from flowloop.errors import FlowError
from flowloop.repo import FlowRepo, find_repo, init_repo

__all__ = [
    "FlowError",
    "FlowRepo",
    "Settings",
    "__version__",
    "find_repo",
    "init_repo",
    "load_settings",
]

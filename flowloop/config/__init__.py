"""Typed settings for a flowloop repository.

Resolved once, in this order (first wins): explicit keyword overrides (CLI flags) > ``FLOW_*``
environment variables > ``.flow/config.toml`` > defaults. Nested sections use ``__`` in
environment names, e.g. ``FLOW_INDEX__BUDGET=1500``; ``FLOW_DATABASE_URL`` names the signals
store. A few settings also have a short name (:data:`ENV_ALIASES`): ``FLOW_INGEST_TOKEN`` is
``signals.ingest_token`` and wins over ``FLOW_SIGNALS__INGEST_TOKEN`` when both are set. Only
:mod:`flowloop.config.load` reads ``os.environ``.
"""

from __future__ import annotations

from flowloop.config.load import ENV_ALIASES, load_settings
from flowloop.config.schema import (
    DEFAULT_HOTFIX_EXCLUDE,
    USER_ONLY,
    DatasetSettings,
    EvalSettings,
    IndexSettings,
    InferenceSettings,
    LoopSettings,
    PilrSettings,
    PilrTypeName,
    ProjectSettings,
    RenderSettings,
    RetrievalSettings,
    Settings,
    SignalsSettings,
    SourceSettings,
    TrainSettings,
)
from flowloop.config.template import DEFAULT_CONFIG_TOML

__all__ = [
    "DEFAULT_CONFIG_TOML",
    "DEFAULT_HOTFIX_EXCLUDE",
    "ENV_ALIASES",
    "USER_ONLY",
    "DatasetSettings",
    "EvalSettings",
    "IndexSettings",
    "InferenceSettings",
    "LoopSettings",
    "PilrSettings",
    "PilrTypeName",
    "ProjectSettings",
    "RenderSettings",
    "RetrievalSettings",
    "Settings",
    "SignalsSettings",
    "SourceSettings",
    "TrainSettings",
    "load_settings",
]

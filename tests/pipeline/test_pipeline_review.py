"""Review decisions persist by example hash in the committed .flow/dataset-review.jsonl."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import DatasetError
from flowloop.pipeline.api import ReviewDecision, build_dataset, pending_items, read_rows, run_review
from flowloop.pipeline.review import review_path
from flowloop.repo import FlowRepo, init_repo
from flowloop.signals.events import CorrectionEvent, PreferenceEvent

from pipeline_kit import add_events, add_pilr, utc

runner = CliRunner()


def make_repo(root: Path) -> FlowRepo:
    repo = init_repo(root, name="Acme").repo
    add_pilr(repo, "evg-money", "evergreen", "Money as integer minor units",
             "## Context\n\nFloats lost cents when invoice totals were summed.\n\n"
             "## Decision\n\nAll amounts are integer minor units with an ISO currency code.\n", dt.date(2025, 1, 2))
    add_events(repo, [
        PreferenceEvent(task="T-1", prompt="How should refunds be recorded?", chosen="As refund rows.",
                        rejected=["By editing the invoice."], created_at=utc(1, 5)),
        CorrectionEvent(task="T-2", context="Summing invoice totals", agent="Use float arithmetic.",
                        correction="Sum integer minor units with Money.", created_at=utc(2, 5)),
    ])
    return repo


def test_decisions_apply_to_the_next_build_and_persist(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "acme")
    first = build_dataset(repo)
    items = pending_items(repo)
    by_kind = {item.example.kind: item for item in items if item.file == "sft_train"}
    rejected = by_kind["explain"].example.id
    explain_ids = [i.example.id for i in items if i.example.kind == "explain"]
    edited = next(i for i in explain_ids if i != rejected)
    dpo = next(item for item in items if item.file == "dpo_train").example.id

    def decide(item):  # type: ignore[no-untyped-def]
        if item.example.id == rejected:
            return "reject"
        if item.example.id == edited:
            return ReviewDecision(edited, "edit", completion="Integer minor units (Money), never floats.")
        if item.example.id == dpo:
            return "quit"
        return "accept"

    summary = run_review(repo, decide)
    assert summary.stopped and summary.rejected == 1 and summary.edited == 1
    lines = [json.loads(line) for line in review_path(repo).read_text().splitlines()]
    assert {line["id"] for line in lines} == set(summary.decided)
    assert review_path(repo).parent == repo.flow_dir  # committed with the repo, not under state/

    second = build_dataset(repo)
    assert second.version == first.version + 1
    rows = {row["id"]: row for row in read_rows(second.file("sft_train"))}
    assert rejected not in rows
    assert rows[edited]["completion"][0]["content"] == "Integer minor units (Money), never floats."
    assert second.counts["removed"]["rejected_in_review"] == 1
    assert second.counts["removed"]["edited_in_review"] == 1
    # Decided examples are not offered again; the one we quit on still is.
    pending = {item.example.id for item in pending_items(repo)}
    assert not pending & set(summary.decided) and dpo in pending
    third = build_dataset(repo)
    assert third.reused and third.version == second.version


def test_accept_all_from_the_cli(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "acme")
    result = runner.invoke(app, ["-C", str(repo.root), "dataset", "build"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["-C", str(repo.root), "dataset", "review", "--accept-all", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert counts["accepted"] > 0 and counts["pending"] == 0
    assert pending_items(repo) == []


def test_interactive_review_in_the_terminal(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "acme")
    build_dataset(repo)
    total = len(pending_items(repo))
    result = runner.invoke(app, ["-C", str(repo.root), "dataset", "review"], input="a\nr\ns\nq\n")
    assert result.exit_code == 0, result.output
    assert "accepted 1, rejected 1" in result.stdout
    assert len(pending_items(repo)) == total - 2


def test_a_bad_review_line_is_named(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "acme")
    build_dataset(repo)
    review_path(repo).write_text('{"id": "ex-1", "decision": "accept"}\n{"id": "ex-2", "decision": "maybe"}\n')
    with pytest.raises(DatasetError) as info:
        build_dataset(repo)
    assert info.value.line == 2 and info.value.field == "decision"
    assert str(review_path(repo)) in info.value.render()
    review_path(repo).write_text("not json\n")
    result = runner.invoke(app, ["-C", str(repo.root), "dataset", "review", "--accept-all"])
    assert result.exit_code == 1
    assert "dataset-review.jsonl:1" in result.output


def test_edit_in_the_terminal_opens_the_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "acme")
    build_dataset(repo)
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "Amounts are integer minor units; never floats.\\n" > "$1"\n')
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    first = pending_items(repo)[0].example
    result = runner.invoke(app, ["-C", str(repo.root), "dataset", "review"], input="e\nq\n")
    assert result.exit_code == 0, result.output
    assert "edited 1" in result.stdout
    rebuilt = build_dataset(repo)
    name = "sft_train" if first.pass_ == "sft" else "dpo_train"
    row = next(r for r in read_rows(rebuilt.file(name)) if r["id"] == first.id)
    answer = row["completion"] if first.pass_ == "sft" else row["chosen"]
    assert answer[0]["content"] == "Amounts are integer minor units; never floats."

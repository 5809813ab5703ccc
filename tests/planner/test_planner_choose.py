"""Drafting and choosing through the real stores: N ranked plans, each way of choosing lands its
events exactly once and writes the task's Type 1 note, and every bad input is refused whole."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import PlanError
from flowloop.localize.service import MAX_TASK_CHARS
from flowloop.pilr.lint import lint
from flowloop.pilr.model import PilrType
from flowloop.pilr.store import PilrStore
from flowloop.planner.choose import choose_plan
from flowloop.planner.draft import MAX_PLANS, draft_plans
from flowloop.planner.store import load, plans_dir
from flowloop.repo import FlowRepo
from flowloop.signals.api import list_events
from helpers_planner import TASK, fake

runner = CliRunner()


def flow(repo: FlowRepo, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["-C", str(repo.root), *args], env=env)


def signals(repo: FlowRepo, task: str | None = None) -> list[tuple[str, str | None]]:
    """Category A events (of ``task``; all of them when None, the example's own included)."""
    return [(e.kind, e.task) for e in list_events(repo, task=task) if e.kind in ("preference", "approval", "rewrite")]


def notes(repo: FlowRepo, task: str) -> list:  # type: ignore[type-arg]
    return [d for d in PilrStore(repo).load() if d.type == PilrType.EPHEMERAL and d.meta.task == task]


def editor(tmp_path: Path, script: str) -> str:
    path = tmp_path / "editor.sh"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_drafts_are_different_ranked_and_name_only_real_files(example: FlowRepo) -> None:
    plan_set = draft_plans(example, TASK, 4, task="LED-900", backend=fake())
    assert plan_set.drawn == 4 and len(plan_set.plans) == 3  # the repeated draft is dropped
    assert "1 of 4 drafts were identical" in " ".join(plan_set.notes)
    assert [p.score for p in plan_set.plans] == sorted((p.score for p in plan_set.plans), reverse=True)
    best = plan_set.plans[0]
    assert best.text.startswith("Approach: store each refund") and plan_set.scored_by.startswith("mean log-likelihood")
    localized = plan_set.localization["files"]
    assert localized and best.files[: len(localized)] == localized  # the localizer's files lead
    assert "src/ledgerline/api/errors.py" in best.files  # named by the draft, and it exists
    assert "src/ledgerline/invented.py" in best.named and "src/ledgerline/invented.py" not in best.files
    notes_text = " ".join(plan_set.notes)
    assert "retrieval-only" in notes_text and "no promoted specialist yet: the base model drafts" in notes_text
    stored = json.loads((plans_dir(example) / f"{plan_set.id}.json").read_text())
    assert stored["task"] == "LED-900" and [p["k"] for p in stored["plans"]] == [1, 2, 3]


def test_choosing_as_is_records_a_preference_and_an_approval_once_and_writes_the_note(example: FlowRepo) -> None:
    plan_set = draft_plans(example, TASK, 4, task="LED-901", backend=fake())
    out = flow(example, "plan", "choose", plan_set.id, "2", "--json")
    assert out.exit_code == 0, out.output
    choice = json.loads(out.stdout)
    assert [e["kind"] for e in choice["events"]] == ["preference", "approval"]
    assert signals(example, "LED-901") == [("preference", "LED-901"), ("approval", "LED-901")]
    preference = next(e for e in list_events(example, kind="preference", task="LED-901"))
    chosen = plan_set.plans[1].markdown()
    assert preference.chosen == chosen and len(preference.rejected) == 2 and chosen not in preference.rejected
    assert preference.prompt.startswith(f"Spec: {TASK}") and preference.source == "cli"
    (note,) = notes(example, "LED-901")
    assert note.meta.title == f"LED-901 plan: {TASK}" and note.id == choice["note"]["id"]
    assert note.body.startswith(f"## Spec\n\n{TASK}") and "## Test plan" in note.body
    assert "Reuse the full refund path" in note.body or "Add the amount" in note.body
    assert note.meta.sources == plan_set.plans[1].files
    report = lint(PilrStore(example))
    assert report.errors_for(note) == [] and not [w for w in report.warnings if w.path == note.path]
    # a second pick of the same set is refused and records nothing more
    again = flow(example, "plan", "choose", plan_set.id, "1")
    assert again.exit_code != 0 and "was already chosen (plan 2" in again.stderr
    assert len(signals(example, "LED-901")) == 2 and len(notes(example, "LED-901")) == 1


def test_an_edited_plan_is_a_rewrite_and_the_note_holds_the_edit(example: FlowRepo, tmp_path: Path) -> None:
    plan_set = draft_plans(example, TASK, 4, task="LED-902", backend=fake())
    script = editor(tmp_path, 'printf "\\n## Decisions\\n\\nRefunds are rows, never negative payments.\\n" >> "$1"')
    out = flow(example, "plan", "choose", plan_set.id, "1", "--edit", env={"EDITOR": script, "VISUAL": ""})
    assert out.exit_code == 0, out.output
    assert "recorded preference, rewrite" in out.stdout
    (rewrite,) = list_events(example, kind="rewrite", task="LED-902")
    assert rewrite.agent_output == plan_set.plans[0].markdown() and rewrite.final.endswith("never negative payments.")
    assert rewrite.edit_distance > 0 and not list_events(example, kind="approval", task="LED-902")
    (note,) = notes(example, "LED-902")
    assert "Refunds are rows, never negative payments." in note.body
    assert load(example, plan_set.id).chosen["edited"] is True


def test_an_editor_that_fails_records_nothing(example: FlowRepo, tmp_path: Path) -> None:
    plan_set = draft_plans(example, TASK, 2, task="LED-903", backend=fake())
    out = flow(example, "plan", "choose", plan_set.id, "1", "--edit", env={"EDITOR": editor(tmp_path, "exit 3"), "VISUAL": ""})
    assert out.exit_code != 0 and "exited with status 3: nothing recorded" in out.stderr
    assert signals(example, "LED-903") == [] and notes(example, "LED-903") == [] and load(example, plan_set.id).chosen is None
    assert flow(example, "plan", "choose", plan_set.id, "1").exit_code == 0  # the set can still be chosen


def test_a_retry_after_a_crash_lands_nothing_twice(example: FlowRepo) -> None:
    plan_set = draft_plans(example, TASK, 4, task="LED-904", backend=fake())
    choose_plan(example, plan_set.id, 1)
    path = plans_dir(example) / f"{plan_set.id}.json"
    data = json.loads(path.read_text())
    data["chosen"] = None  # as if the process died after the events and the note, before marking the set
    path.write_text(json.dumps(data))
    choice = choose_plan(example, plan_set.id, 1, source="mcp")
    assert signals(example, "LED-904") == [("preference", "LED-904"), ("approval", "LED-904")]
    assert len(notes(example, "LED-904")) == 1 and choice.note_id == notes(example, "LED-904")[0].id


def test_one_distinct_draft_is_an_approval_without_a_preference(example: FlowRepo) -> None:
    plan_set = draft_plans(example, TASK, 3, task="LED-905", backend=fake(["1. One way only."]))
    assert len(plan_set.plans) == 1
    assert [e["kind"] for e in choose_plan(example, plan_set.id, 1).to_dict()["events"]] == ["approval"]


@pytest.mark.parametrize("args, message", [
    (["   "], "task description is empty"),
    (["x" * (MAX_TASK_CHARS + 1)], f"the limit is {MAX_TASK_CHARS}"),
    ([TASK, "--n", "0"], f"N must be from 1 to {MAX_PLANS}"),
    ([TASK, "--n", str(MAX_PLANS + 1)], f"N must be from 1 to {MAX_PLANS}"),
    ([TASK, "--task", "two words"], "is not an id"),
    (["choose", "0123456789", "1"], "no plan set '0123456789'"),
    (["choose", "../../etc", "1"], "a plan set id is 10 hex digits"),
])
def test_bad_input_is_a_clear_message_and_writes_nothing(example: FlowRepo, args: list[str], message: str) -> None:
    before = signals(example)
    out = flow(example, "plan", *args, env={"FLOW_INFERENCE__BACKEND": "fake"})
    assert out.exit_code != 0 and message in out.stderr, out.output
    assert not plans_dir(example).exists() and signals(example) == before


def test_choosing_a_plan_the_set_does_not_have_is_refused(example: FlowRepo) -> None:
    plan_set = draft_plans(example, TASK, 2, task="LED-906", backend=fake())
    with pytest.raises(PlanError, match="has plans 1 to 2, not 5"):
        choose_plan(example, plan_set.id, 5)
    with pytest.raises(PlanError, match="the edited plan is empty"):
        choose_plan(example, plan_set.id, 1, "  \n")
    assert signals(example, "LED-906") == [] and load(example, plan_set.id).chosen is None


def test_without_a_tty_the_command_says_how_to_choose(example: FlowRepo) -> None:
    out = flow(example, "plan", TASK, "--n", "2", "--task", "LED-907", env={"FLOW_INFERENCE__BACKEND": "fake"})
    assert out.exit_code == 0, out.output
    assert "ranked by mean log-likelihood per token (current)" in out.stdout and "## Files" in out.stdout
    assert "choose one with: flow plan choose" in out.stderr
    assert "no promoted specialist yet" in out.stderr and "files by retrieval-only" in out.stderr
    assert os.listdir(plans_dir(example))

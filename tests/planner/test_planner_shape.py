"""A plan's files (one definition for product and eval) and its Type 1 shape, read and rendered."""

from __future__ import annotations

from pathlib import Path

from flowloop.config import load_settings
from flowloop.pilr.model import Pilr, PilrMeta, PilrType
from flowloop.pipeline.templates import plan_examples
from flowloop.planner.files import RepoFiles, planned_files
from flowloop.planner.shape import NO_STEPS, Plan, note_body, read_reply

DOCS = [{"id": "evg-money", "type": "evergreen", "path": ".flow/pilrs/evergreen/evg-money.md"},
        {"id": "cum-double-refund", "type": "cumulative", "path": None},
        {"id": "eph-led-1", "type": "ephemeral", "path": None}]


def test_the_localizers_files_come_first_then_the_real_candidates_the_plan_names(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "errors.py").write_text("")
    (tmp_path.parent / "outside.py").write_text("")
    files = RepoFiles(tmp_path, pool=["src/pool.py"])
    named = ["./src/refunds.py", "src/errors.py", "src/invented.py", "src/pool.py", "../outside.py", "/etc/passwd"]
    assert planned_files(["src/refunds.py", "`tests/test_refunds.py`"], named, files) == [
        "src/refunds.py", "tests/test_refunds.py", "src/errors.py", "src/pool.py"]
    # the eval passes the as-of candidate pool as a plain set: the same function, nothing on disk
    assert planned_files([], ["a.py", "b.py"], {"b.py"}) == ["b.py"]


def test_a_headed_reply_is_read_into_its_parts_and_cites_the_documents_it_names() -> None:
    reply = ("## Approach\n\nOne row per refund.\n\n## Steps\n\n1. Add the amount to the request body.\n"
             "2. Check the refundable balance first (evg-money).\n\n**Risks**\n- Two refunds racing past the balance.\n\n"
             "Files:\n- src/ledgerline/payments/refunds.py")
    plan = read_reply(reply, DOCS)
    assert plan.approach == "One row per refund."
    assert plan.steps == ["Add the amount to the request body.", "Check the refundable balance first (evg-money)."]
    assert plan.risks == ["Two refunds racing past the balance."]
    assert plan.named == ["src/ledgerline/payments/refunds.py"]
    assert [(c["id"], c["cited"]) for c in plan.conventions] == [("evg-money", True), ("cum-double-refund", False)]
    text = plan.markdown()
    for heading in ("## Plan", "## Files", "## Risks", "## Conventions"):
        assert heading in text
    assert "`evg-money` (.flow/pilrs/evergreen/evg-money.md): cited by the plan" in text
    assert "A problem solved before applies: `cum-double-refund`" in text  # a past problem is a risk


def test_prose_is_the_approach_list_items_are_steps_and_an_empty_reply_says_so() -> None:
    plan = read_reply("We extend the refund service.\n\n- Add an amount column to refunds.\n- `src/x.py`", [])
    assert plan.approach == "We extend the refund service." and plan.steps == ["Add an amount column to refunds."]
    assert NO_STEPS in read_reply("", []).markdown()
    again = Plan.from_dict(plan.to_dict())
    assert again.markdown() == plan.markdown()


def test_the_note_of_a_chosen_plan_is_a_planning_example_for_the_next_specialist(tmp_path: Path) -> None:
    plan = read_reply("1. Add the amount to the refund request.", [])
    plan.files = ["src/ledgerline/payments/refunds.py"]
    meta = PilrMeta(id="eph-led-9-partial-refunds", type=PilrType.EPHEMERAL, title="LED-9 plan: partial refunds",
                    created="2025-01-02", updated="2025-01-02", task="LED-9")
    doc = Pilr(meta=meta, body=note_body("Add partial refunds", plan.markdown()), path=tmp_path / "x.md")
    (example,) = plan_examples(load_settings(None), doc, None)
    assert "Add partial refunds" in example.key
    assert "Add the amount to the refund request." in example.completion
    assert "src/ledgerline/payments/refunds.py" in example.completion

"""The planning suite as used, on the example's real history, index and dataset: base,
retrieval-only, the specialist with context and the full planner side by side on the same
held-out tasks, with the paired interval of the full planner minus retrieval-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.evaluate.runner import PLANNER_VS_RETRIEVAL, evaluate_model
from flowloop.index.api import build_index
from flowloop.inference.fake import TableScorer
from flowloop.pipeline.api import build_dataset
from helpers_planner import example_repo

pytestmark = pytest.mark.slow  # an index and a dataset build of the example: about 25 s


def test_the_full_planner_is_scored_beside_retrieval_only_with_a_paired_interval(tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    build_index(repo)
    build_dataset(repo)
    # a model that names one real file of the example in every answer (and an invented one)
    scorer = TableScorer("base", default_answer="1. Change it.\n\nFiles:\n- src/ledgerline/api/errors.py\n- nope/x.py")
    result = evaluate_model(repo, "base", ["planning", "planner"], factory=lambda ref: scorer, max_examples=8)
    planner, planning = result.suites["planner"], result.suites["planning"]
    retrieval = result.baselines["retrieval_only"]["planning"]
    assert planner.n == planning.n == retrieval.n == 8
    assert [d["id"] for d in planner.details] == [d["id"] for d in retrieval.details]  # the same tasks
    from flowloop.evaluate.localizer import planner_localizations
    from flowloop.evaluate.runner import EvalData
    from flowloop.evaluate.data import resolve_dataset

    found, which = planner_localizations(repo, EvalData(repo, resolve_dataset(repo), max_examples=8).items("planning"))
    assert which.startswith("retrieval-only")  # no localizer promoted yet
    for full, localized in zip(planner.details, found):
        assert full["predicted"][: len(localized.files)] == localized.files  # the localizer's files lead
        assert "nope/x.py" not in full["predicted"]  # an invented path never reaches a plan
    paired = result.paired[PLANNER_VS_RETRIEVAL]
    assert paired["n"] == 8 and paired["ci"][0] <= paired["diff"] <= paired["ci"][1]
    assert result.settings["localizer"] is None and result.settings["plan_max_new_tokens"] == repo.settings.plan.max_new_tokens
    out = CliRunner().invoke(app, ["-C", str(repo.root), "eval", "--model", "base", "--suite", "planning",
                                   "--suite", "planner", "--max-examples", "8"], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "full planner (localizer + base)" in out.stdout and "retrieval only" in out.stdout
    assert "full planner minus retrieval only" in out.stdout and "n=8" in out.stdout

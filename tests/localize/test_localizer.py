"""The localizer trains on real history (the example's work records), answers a task, falls
back to retrieval-only without a model, and refuses bad input clearly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flowloop.errors import DatasetError, RegistryError
from flowloop.localize.api import Localizer, fit, f1, retrieval_only
from flowloop.localize.features import FEATURES, FeatureBuilder
from flowloop.localize.model import MODEL_FILE, LocalizerModel
from flowloop.pipeline.inputs import assemble
from flowloop.pipeline.records import WorkRecord
from flowloop.signals.jsonl import read_events

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ledgerline"


@pytest.fixture(scope="module")
def work() -> list[WorkRecord]:
    return [w for w in assemble([], [], read_events(EXAMPLE / ".flow" / "signals" / "events.jsonl")).work if w.files]


def test_trains_on_the_example_history_and_ranks_held_out_tasks(work: list[WorkRecord], tmp_path: Path) -> None:
    cut = int(len(work) * 0.8)
    builder = FeatureBuilder(work)
    model, report = fit(work, work[:cut], builder=builder)
    assert report.tasks == cut and report.positives > 0 and 0 < report.candidate_recall <= 1
    assert model.features == list(FEATURES) and 0 < model.threshold < 1
    # the similarity of precedents that touched a file is evidence for it
    assert model.weights[FEATURES.index("sim_sum")] > 0
    localizer = Localizer(work, LocalizerModel.load(model.save(tmp_path).parent), "v1", builder=builder)
    held = work[cut:]
    answers = [localizer.localize(w.description, w.as_of, exclude_task=w.task) for w in held]
    assert all(a.method == "learned" and a.files and a.version == "v1" for a in answers)
    assert all(a.scores == sorted(a.scores, reverse=True) for a in answers)
    learned = sum(f1(a.files, w.files) for a, w in zip(answers, held)) / len(held)
    assert learned > 0.3  # a sanity floor; whether it beats retrieval-only is the benchmark's claim, with intervals


def test_without_a_model_it_is_retrieval_only_and_says_so(work: list[WorkRecord]) -> None:
    task = work[-1]
    answer = Localizer(work, None).localize(task.description, task.as_of, exclude_task=task.task)
    assert answer.method == "retrieval-only" and "no trained localizer yet" in answer.note
    cands = FeatureBuilder(work).candidates(task.description, task.as_of, exclude_task=task.task)
    assert answer.files == retrieval_only(cands)


def test_an_empty_task_is_refused(work: list[WorkRecord]) -> None:
    with pytest.raises(DatasetError, match="task description is empty"):
        Localizer(work, None).localize("   ")


def test_too_little_history_is_a_clear_error() -> None:
    t = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    records = [WorkRecord(f"t{i}", f"change {i}", [f"f{i}.py"], t + dt.timedelta(days=i), t + dt.timedelta(days=i), str(i))
               for i in range(3)]
    with pytest.raises(DatasetError, match="too little history to train the localizer"):
        fit(records, records)


def test_a_corrupt_model_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / MODEL_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(RegistryError) as info:
        LocalizerModel.load(tmp_path)
    assert info.value.path == tmp_path / MODEL_FILE

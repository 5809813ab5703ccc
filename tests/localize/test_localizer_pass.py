"""The localizer as a training pass, end to end on the bundled example: the dataset counts its
work records, the loop's train stage fits it, registers a version in its own registry family
and gates it against retrieval-only on the held-out tasks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flowloop.evaluate.data import read_jsonl
from flowloop.errors import EvaluationError
from flowloop.evaluate.localizer import gate_localizer, planning_row, registry
from flowloop.evaluate.suites.planning import PlanningItem
from flowloop.localize.model import LocalizerModel
from flowloop.loop import stages
from flowloop.passes import get_pass
from flowloop.pipeline.api import build_dataset
from flowloop.repo import FlowRepo
from flowloop.signals.store import open_store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ledgerline"


@pytest.mark.slow  # the dataset build embeds the example's documents and tasks with the real MiniLM
def test_the_loop_stage_trains_registers_and_gates_the_localizer(tmp_path: Path) -> None:
    root = tmp_path / "ledgerline"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("state"))
    repo = FlowRepo(root)
    with open_store(repo) as store:
        store.import_jsonl(root / ".flow" / "signals" / "events.jsonl")
    data = stages.dataset(repo, None)
    count = data.passes["localizer"]
    assert count.ready and count.count >= count.threshold  # history alone is enough
    rows = (repo.state_dir / "datasets" / data.version / "work_train.jsonl").read_text().splitlines()
    assert len(rows) == count.count

    result = stages.train(repo, get_pass("localizer"), data, None)
    # trained, and judged by its own gate here: not handed on to the specialist's evaluate stage
    assert result.trained and result.version is None and "Localizer: trained v1" in result.message, result.message
    assert "retrieval-only" in result.message and "paired difference" in result.message
    version = registry(repo).get("v1")
    assert version.manifest["dataset_version"] == int(data.version[1:])
    LocalizerModel.load(version.model_dir)  # the registered folder holds a loadable model
    stored = json.loads((repo.state_dir / "evals" / "localizer" / "v1.json").read_text())
    assert stored["n"] > 0 and stored["reference"] == "retrieval-only"
    assert stored["promoted"] == (stored["diff_ci"][0] > 0)
    assert ("localizer v1 promoted" in result.message) == stored["promoted"]
    assert (registry(repo).current() is not None) == stored["promoted"]
    # the specialist's registry is untouched: its evaluate/promote stages never see this version
    assert not (repo.state_dir / "models" / "specialist").exists()

    # the planning suite's "localizer alone" row: on the held-out tasks only, never on trained ones
    folder = repo.state_dir / "datasets" / data.version
    def items(name: str) -> list[PlanningItem]:
        return [PlanningItem(r["id"], r["task"], r["description"], r["files"], r["time"], r["as_of"])
                for r in read_jsonl(folder / name)]
    details, why = planning_row(repo, items("eval_planning.jsonl"))
    if stored["promoted"]:
        with pytest.raises(EvaluationError, match="localizer v1 is already current"):
            gate_localizer(repo, "v1")
        assert why == "v1" and details is not None and len(details) == stored["n"]
        assert {d["id"] for d in details} == {d["id"] for d in stored["details"]["candidate"]}
        refused, why = planning_row(repo, items("work_train.jsonl")[:3])
        assert refused is None and "was trained on 3 of these held-out tasks" in why
    else:
        assert details is None and why == "no localizer promoted"

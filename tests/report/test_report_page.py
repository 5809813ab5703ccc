"""The report shows the last loop run it is handed; ``flow report`` hands it the saved one."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.report import build_report
from flowloop.repo import FlowRepo

LAST_LOOP = "Last <code>flow loop</code>"


def test_the_page_shows_the_loop_run_it_is_given(flow_repo: FlowRepo) -> None:
    assert LAST_LOOP not in build_report(flow_repo).read_text(encoding="utf-8")  # never ran
    page = build_report(flow_repo, loop_run={"started_at": "2026-01-01T09:00:00+00:00", "status": "running"})
    assert f"{LAST_LOOP}: 2026-01-01T09:00:00+00:00 — running" in page.read_text(encoding="utf-8")


def test_flow_report_reads_the_saved_loop_state(flow_repo: FlowRepo) -> None:
    state = flow_repo.state_dir / "loop" / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"run": 3, "started_at": "2026-01-02T10:00:00+00:00", "status": "done", "stages": {}}))
    done = CliRunner().invoke(app, ["-C", str(flow_repo.root), "report", "--json"])
    assert done.exit_code == 0, done.output
    page = Path(json.loads(done.stdout)["path"])
    assert f"{LAST_LOOP}: 2026-01-02T10:00:00+00:00 — done" in page.read_text(encoding="utf-8")


def _suite(value: float, metric: str = "accuracy", n: int = 16) -> dict[str, object]:
    return {metric: value, "n": n, "ci": {metric: [round(value - 0.1, 4), round(value + 0.1, 4)]}}


def test_the_headline_says_what_the_run_learned_and_what_the_gate_did(flow_repo: FlowRepo) -> None:
    candidate = {"suites": {"planning": _suite(0.31, "f1"), "general": _suite(0.5)},
                 "baselines": {"retrieval_only": {"planning": _suite(0.47, "f1")}}}
    current = {"suites": {"planning": _suite(0.28, "f1"), "general": _suite(0.875)}, "baselines": {}}
    loop = {"run": 4, "started_at": "2026-03-01T02:00:00+00:00", "status": "done", "stages": {
        "train_sft": {"status": "done", "result": {"trained": True, "version": "v3",
                                                   "message": "SFT: trained v3 on 40 new examples (24 steps, cap 24)"}},
        "train_dpo": {"status": "done", "result": {"trained": False, "message": "DPO: below threshold (3 of 200 pairs)"}},
        "evaluate": {"status": "done", "result": {"models": {"base": current, "v1": current, "v3": candidate}}},
        "promote": {"status": "done", "result": {"decisions": [
            {"candidate": "v3", "promoted": False, "reason": "general.accuracy regressed beyond tolerance"}]}},
    }}
    page = build_report(flow_repo, loop_run=loop).read_text(encoding="utf-8")
    assert f"{LAST_LOOP}: 2026-03-01T02:00:00+00:00 — done (run 4)" in page
    assert "SFT: trained v3 on 40 new examples" in page and "DPO: below threshold (3 of 200 pairs)" in page
    assert "<b>v3 not promoted</b>: general.accuracy regressed beyond tolerance" in page
    assert "v3 against v1 (95% CI)" in page  # the current version is the reference, not base
    assert "0.310 [0.210, 0.410] n=16" in page and "0.470 [0.370, 0.570] n=16" in page
    assert "Warning: general accuracy fell from 0.875 (v1) to 0.500 (v3), more than the gate&#x27;s tolerance of 0.05" in page
    assert "Still missing:" in page and "SFT: needs 50 more documents" in page


def test_axis_ticks_are_round_numbers() -> None:
    from flowloop.report import svg

    chart = svg.bar_chart("c", "t", ["a", "b"], [svg.Series("s", [3711.4, 2783.55])], y_label="n")
    ticks = [part.split(">")[1].split("<")[0] for part in chart.split("<text") if 'text-anchor="end"' in part]
    assert ticks == ["0", "1000", "2000", "3000", "4000"]


def test_the_page_shows_helpfulness_from_outcomes(flow_repo: FlowRepo) -> None:
    from flowloop.signals.events import OutcomeEvent, RetrievalEvent, WorkRecordEvent
    from flowloop.signals.store import open_store

    events = []
    for n in range(6):  # ordinary work holds
        events += [RetrievalEvent(query="q", injected=["evg-fine"], task=f"G-{n}"),
                   WorkRecordEvent(task=f"G-{n}", description="work")]
    for n in range(4):
        task = f"T-{n}"
        events += [RetrievalEvent(query="q", injected=["evg-flaky"], task=task),
                   WorkRecordEvent(task=task, description="work"), OutcomeEvent(task=task, metric="hotfix", value=1)]
    with open_store(flow_repo) as store:
        store.add(events)
    page = build_report(flow_repo).read_text(encoding="utf-8")
    assert "Knowledge helpfulness from task outcomes" in page
    assert "evg-flaky (review: possibly misleading)" in page


def test_the_planning_table_shows_the_localizer_alone(flow_repo: FlowRepo) -> None:
    from flowloop.evaluate.results import EvalResult, SuiteResult, store_result

    def planning(f1: float) -> dict[str, SuiteResult]:
        return {"planning": SuiteResult("planning", {"f1": f1, "precision": f1, "recall": f1}, 21,
                                        {"f1": (f1 - 0.1, f1 + 0.1)})}

    store_result(flow_repo, EvalResult("v2", "v1", "abc", planning(0.28),
                                       {"retrieval_only": planning(0.496), "localizer": planning(0.713)}))
    page = build_report(flow_repo).read_text(encoding="utf-8")
    assert "<th>localizer alone</th>" in page and "0.713 [0.613, 0.813] n=21" in page


def test_a_run_resumed_across_budgets_shows_its_learning_curve(flow_repo: FlowRepo, tmp_path: Path) -> None:
    """Versions of one run (a paused run resumed each night) are placed at the minutes trained so far."""
    from flowloop.evaluate.results import EvalResult, store_result
    from flowloop.evaluate.suites import summarise
    from flowloop.models.registry import Registry

    def register(run_id: str, seconds: float, steps: int) -> str:
        adapter = tmp_path / f"adapter-{len(list(tmp_path.glob('adapter-*')))}"
        adapter.mkdir()
        (adapter / "adapter_config.json").write_text("{}", encoding="utf-8")
        fields = {"pass": "sft", "base_model": "smollm2", "dataset_version": "v1", "dataset_hash": "h",
                  "settings": {}, "metrics": {"seconds": seconds, "steps": steps}, "parent": None, "run_id": run_id}
        return Registry(flow_repo).register(adapter, fields).version

    def store(model: str, correct: int) -> None:
        result = EvalResult(model=model, dataset="v1", dataset_hash="h", settings={"knowledge_options": 4})
        result.suites["knowledge"] = summarise("knowledge", [{"id": f"k{i}", "correct": float(i < correct)} for i in range(20)], 200, 1)
        result.suites["general"] = summarise("general", [{"id": f"g{i}", "correct": 1.0} for i in range(8)], 200, 1)
        store_result(flow_repo, result)

    store("base", 5)
    night = [register("sft-abc-1", 600.0, 40), register("sft-abc-1", 590.0, 80), register("sft-abc-1", 610.0, 120)]
    for version, correct in zip(night, (6, 9, 12)):
        store(version, correct)
    alone = register("sft-def-1", 60.0, 5)  # a run of one version has no curve
    store(alone, 7)
    page = build_report(flow_repo).read_text(encoding="utf-8")
    assert 'id="chart-learning-curve"' in page and "run sft-abc-1" in page
    for label in ("0 min (base)", f"10 min ({night[0]})", f"20 min ({night[1]})", f"30 min ({night[2]})"):
        assert label in page
    assert f"({alone})" not in page.split('id="chart-learning-curve"')[1].split("</svg>")[0]
    assert 'data-name="chance (1/4)"' in page


def test_no_learning_curve_without_a_resumed_run(flow_repo: FlowRepo) -> None:
    assert "chart-learning-curve" not in build_report(flow_repo).read_text(encoding="utf-8")


def test_the_validation_view_puts_both_reviewers_side_by_side_with_their_curves(flow_repo: FlowRepo) -> None:
    import re

    from flowloop.evaluate.results import EvalResult, store_result
    from flowloop.evaluate.suites import summarise
    from flowloop.report import svg

    def details(scores: list[float], threshold: float, **extra: object) -> list[dict[str, object]]:
        return [{"id": f"v{i}", "violating": i < 3, "flagged": s < threshold, "score": s, **extra}
                for i, s in enumerate(scores)]

    result = EvalResult(model="v1", dataset="v2", dataset_hash="h")
    result.suites["validation"] = summarise("validation", details([0.6, 0.4, 0.7, 0.5, 0.8, 0.3], 0.5), 100, 1)
    reward = summarise("validation", details([0.1, 0.2, 0.3, 0.6, 0.7, 0.8], 0.45, version="v3"), 100, 1)
    reward.metrics["threshold"] = 0.45
    result.baselines["reward"] = {"validation": reward}
    store_result(flow_repo, result)
    page = build_report(flow_repo).read_text(encoding="utf-8")
    table = page[page.index('<table id="validation-reviewers">'):].split("</table>")[0]
    assert "<td>v1, generative reviewer</td><td>0.500</td>" in table and "<td>reward model v3</td><td>0.450</td>" in table
    assert table.count("<tr>") == 3 and "<td>1.000 [" in table  # the reward model's AUROC 1.0 with its interval
    chart = page[page.index('id="chart-validation-pr"'):].split("</svg>")[0]
    assert chart.count('class="series"') == 2 and chart.count('class="marker"') == 2
    # every drawn point falls inside the plot area (x: recall, y: precision, both 0..1)
    left, right = svg.LEFT, svg.WIDTH - svg.RIGHT
    top, bottom = svg.TOP, svg.HEIGHT - svg.BOTTOM
    for points in re.findall(r'<polyline points="([^"]+)"', chart):
        for pair in points.split():
            x, y = map(float, pair.split(","))
            assert left <= x <= right and top <= y <= bottom
    # the reward model separates perfectly: its curve reaches recall 1 at precision 1 (top right)
    reward_group = chart[chart.index('data-name="reward model v3"'):]
    assert f"{right:.1f},{top:.1f}" in reward_group.split("</g>")[0]


def test_a_planning_series_no_model_was_measured_on_is_left_out_of_the_chart(flow_repo: FlowRepo) -> None:
    from flowloop.evaluate.results import EvalResult, SuiteResult, store_result

    suite = SuiteResult("planning", {"f1": 0.4, "precision": 0.4, "recall": 0.4}, 12, {"f1": (0.3, 0.5)})
    store_result(flow_repo, EvalResult("v1", "v1", "abc", {"planning": suite}, {"retrieval_only": {"planning": suite}}))
    page = build_report(flow_repo).read_text(encoding="utf-8")
    chart = page[page.index('id="chart-planning"'):]
    chart = chart[: chart.index("</svg>")]
    assert 'data-series="2"' in chart and 'data-name="full planner"' not in chart and 'data-name="alone"' not in chart

"""The HTML report opened in a real headless Chromium: every chart rendered, with its series."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from flowloop.evaluate.results import EvalResult, store_result
from flowloop.evaluate.suites import summarise
from flowloop.pilr.model import PilrMeta, PilrType
from flowloop.pilr.store import PilrStore
from flowloop.repo import init_repo
from flowloop.report import build_report
from flowloop.signals.events import PreferenceEvent, RetrievalEvent, WorkRecordEvent
from flowloop.signals.store import open_store

UTC = dt.timezone.utc


def _planning(f1s: list[float]) -> list[dict]:
    return [{"id": f"t{i}", "f1": v, "precision": v, "recall": v} for i, v in enumerate(f1s)]


def _result(model: str, level: float, when: str) -> EvalResult:
    s = lambda name, details: summarise(name, details, 200, 1)  # noqa: E731
    result = EvalResult(model=model, dataset="v1", dataset_hash="h", created_at=when)
    result.suites = {
        "planning": s("planning", _planning([level, level + 0.1, level - 0.1, level])),
        "knowledge": s("knowledge", [{"id": f"k{i}", "correct": float(i % 2 == 0 or level > 0.5)} for i in range(6)]),
        "preference": s("preference", [{"id": f"p{i}", "win": float(i < 3 + level * 4)} for i in range(6)]),
        "validation": s("validation", _validation(level)),
        "general": s("general", [{"id": f"g{i}", "correct": 1.0} for i in range(8)]),
    }
    if model != "base":
        # The full planner was evaluated on the later versions only; its series has no point for base.
        result.suites["planner"] = s("planner", _planning([level + 0.05] * 4))
    result.baselines = {
        "retrieval_only": {"planning": s("planning", _planning([0.3, 0.4, 0.2, 0.3]))},
        "alone": {"planning": s("planning", _planning([level / 2] * 4))},
        "reward": {"validation": s("validation", _validation(level + 0.2, version="v1"))},
    }
    return result


def _validation(level: float, **extra: str) -> list[dict]:
    """Six items, three violating; a higher level scores violations lower (P(compliant))."""
    scores = [0.5 - level / 2, 0.3, 0.6 - level / 3, 0.55, 0.7, 0.9]
    return [{"id": f"v{i}", "violating": i < 3, "flagged": v < 0.5, "score": v, **extra} for i, v in enumerate(scores)]


@pytest.fixture
def report_repo(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "proj").repo
    store = PilrStore(repo)
    for n, (kind, day) in enumerate(
        [(PilrType.EVERGREEN, "2025-03-02"), (PilrType.EPHEMERAL, "2025-03-20"), (PilrType.CUMULATIVE, "2025-04-11"),
         (PilrType.EVERGREEN, "2025-05-05"), (PilrType.CUMULATIVE, "2025-05-30")]
    ):
        created = dt.date.fromisoformat(day)
        meta = PilrMeta(id=f"doc-{n}", type=kind, title=f"Doc {n}", created=created, updated=created)
        store.create(meta, f"# Doc {n}\n\nSome knowledge number {n}.\n")
    events = [
        RetrievalEvent(query=f"q{i}", created_at=dt.datetime(2025, 4, 1 + 3 * i, tzinfo=UTC)) for i in range(6)
    ] + [
        PreferenceEvent(chosen="a", rejected=["b"], task="T-1", created_at=dt.datetime(2025, 4, 2, tzinfo=UTC)),
        WorkRecordEvent(description="did it", files=["x.py"], task="T-1", created_at=dt.datetime(2025, 4, 3, tzinfo=UTC)),
    ]
    with open_store(repo) as signals:
        signals.add(events)
    for model, level, when in (("base", 0.3, "2025-06-01T00:00:00"), ("v1", 0.5, "2025-06-02T00:00:00"), ("v2", 0.7, "2025-06-03T00:00:00")):
        store_result(repo, _result(model, level, when))
    return repo.root


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("needs Debian chromium + chromium-driver (installed by .ci/run)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    import tempfile

    profile = tempfile.mkdtemp(prefix="flow-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                "--window-size=1200,3000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


EXPECTED_SERIES = {
    "chart-planning": 4,  # with context, alone, retrieval only, full planner
    "chart-knowledge": 1,
    "chart-preference": 1,
    "chart-validation": 2,
    "chart-validation-pr": 2,  # both reviewers' precision-recall curves
    "chart-general": 1,
    "chart-knowledge-base": 3,
    "chart-thresholds": 2,
    "chart-signals": 1,
    "chart-retrieval": 1,
}


@pytest.mark.browser
def test_report_charts_render_in_chromium(report_repo: Path, browser) -> None:  # type: ignore[no-untyped-def]
    from flowloop.repo import FlowRepo

    path = build_report(FlowRepo(report_repo))
    assert path == report_repo / ".flow" / "state" / "reports" / "index.html"
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    browser.get(path.as_uri())
    charts = browser.find_elements("css selector", "svg.chart")
    found = {c.get_attribute("id"): c for c in charts}
    assert set(EXPECTED_SERIES) <= set(found)
    for chart_id, expected in EXPECTED_SERIES.items():
        chart = found[chart_id]
        box = browser.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];", chart)
        assert box[0] > 0 and box[1] > 0, chart_id
        series = chart.find_elements("css selector", "g.series")
        assert len(series) == expected, chart_id
        for group in series:
            bbox = browser.execute_script("const b = arguments[0].getBBox(); return [b.width, b.height];", group)
            assert bbox[0] > 0 or bbox[1] > 0, f"{chart_id}: empty series {group.get_attribute('data-name')}"
    # Intervals were drawn for the suite charts: one whisker per model per series.
    assert len(found["chart-planning"].find_elements("css selector", "line.ci")) == 11  # the planner has no base point
    # Three model versions on the x axis, in order.
    labels = [t.text for t in found["chart-preference"].find_elements("css selector", "text")]
    assert labels.index("base") < labels.index("v1") < labels.index("v2")
    # Each reviewer's curve has its operating threshold marked, and the axes run from 0 to 1.
    assert len(found["chart-validation-pr"].find_elements("css selector", "circle.marker")) == 2
    axis = [t.text for t in found["chart-validation-pr"].find_elements("css selector", "text")]
    assert {"recall", "precision", "0.5", "1"} <= set(axis)


@pytest.mark.browser
def test_report_of_an_empty_repository_still_renders(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    repo = init_repo(tmp_path / "empty").repo
    path = build_report(repo)
    browser.get(path.as_uri())
    charts = browser.find_elements("css selector", "svg.chart")
    assert len(charts) == len(EXPECTED_SERIES)
    for chart in charts:
        box = browser.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];", chart)
        assert box[0] > 0 and box[1] > 0


@pytest.mark.browser
def test_the_headline_leads_the_page_in_chromium(report_repo: Path, browser) -> None:  # type: ignore[no-untyped-def]
    from flowloop.repo import FlowRepo

    loop = {"run": 2, "started_at": "2026-03-01T02:00:00+00:00", "status": "done", "stages": {
        "train_sft": {"status": "done", "result": {"trained": True, "version": "v2", "message": "SFT: trained v2"}},
        "evaluate": {"status": "done", "result": {"models": {
            "v1": {"suites": {"general": {"accuracy": 0.875, "n": 8, "ci": {"accuracy": [0.6, 1.0]}}}},
            "v2": {"suites": {"general": {"accuracy": 0.5, "n": 8, "ci": {"accuracy": [0.2, 0.8]}}}}}}},
        "promote": {"status": "done", "result": {"decisions": [{"candidate": "v2", "promoted": False, "reason": "general fell"}]}},
    }}
    browser.get(build_report(FlowRepo(report_repo), loop_run=loop).as_uri())
    head = browser.find_element("css selector", "#headline")
    assert head.is_displayed()
    text = head.text
    assert "SFT: trained v2" in text and "v2 not promoted: general fell" in text
    assert "general accuracy fell from 0.875 (v1) to 0.500 (v2)" in text
    first_chart = browser.find_elements("css selector", "svg.chart")[0]
    assert head.location["y"] < first_chart.location["y"]  # read before any chart

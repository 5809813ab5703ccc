"""``flow report``: one static HTML page showing whether the loops are working.

Written to ``.flow/state/reports/index.html`` (atomically; one self-contained file, inline SVG,
no scripts, no network). Charts:

1. each suite's metric over model versions, with 95% intervals (planning also shows the
   model alone and the retrieval-only baseline), and the validation suite's precision-recall
   curves of both reviewers, the generative one and the reward model, beside their table
   (``report/validation.py``); when a training run resumed across time budgets, knowledge
   accuracy against the minutes it trained (``curve.py``);
2. the knowledge base by type over time (cumulative count of PILRs by ``created`` date);
3. signals collected against the training thresholds, and signals by kind;
4. retrieval usage: retrieval events per ISO week;
5. knowledge health: each document's helpfulness from outcomes (posterior mean, tasks behind
   it), least helpful first, with the ones ``flow pilr review`` calls possibly misleading;
6. retrieval: the retrieval suite's systems side by side (``report/retrieval.py``).

The last loop run is shown from the state its caller passes in (``flow loop`` its own run,
``flow report`` the saved one): the loop writes this page as its last stage, so the page may not
import the loop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from flowloop.atomic import atomic_write_text
from flowloop.errors import DatasetError
from flowloop.evaluate.results import LOCALIZER_BASELINE, EvalResult, RetrievalResult, SuiteResult, all_results, latest_retrieval
from flowloop.repo import FlowRepo
from flowloop.report import svg
from flowloop.report.curve import Curve, curve_chart, training_curve
from flowloop.report.headline import headline
from flowloop.report.validation import curve_chart as pr_chart
from flowloop.report.validation import side_by_side, validation_result
from flowloop.report.retrieval import retrieval_table

REPORT_NAME = "index.html"
SUITE_METRICS = {
    "planning": ("f1", "planning F1"),
    "knowledge": ("accuracy", "knowledge accuracy"),
    "preference": ("win_rate", "preference win rate against the base model (0.5: no change)"),
    "validation": ("recall", "validation precision / recall"),
    "general": ("accuracy", "general instruction-following accuracy"),
}


@dataclass
class ReportData:
    """What the page shows, gathered from the stores (separate from rendering, for tests)."""

    results: list[EvalResult] = field(default_factory=list)
    pilrs: list[tuple[str, dt.date]] = field(default_factory=list)  # (type, created)
    by_kind: dict[str, int] = field(default_factory=dict)
    by_week: dict[str, dict[str, int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # sft_documents, dpo_pairs
    thresholds: dict[str, int] = field(default_factory=dict)  # sft, dpo
    dataset: str = ""
    current: str | None = None
    loop: dict[str, Any] = field(default_factory=dict)
    tolerance: float = 0.05  # the gate's, for the headline's "fell by more than"
    helpfulness: list[tuple[str, str, Any]] = field(default_factory=list)  # (id, title, Helpfulness)
    retrieval: RetrievalResult | None = None  # the newest retrieval suite result
    fusion: dict[str, Any] | None = None  # the promoted fusion, if any
    misleading: set[str] = field(default_factory=set)
    curve: Curve | None = None  # knowledge against minutes trained, when a run resumed across budgets


def gather(repo: FlowRepo, loop_run: Mapping[str, Any] | None = None) -> ReportData:
    """Everything the page shows; ``loop_run`` is the last loop run's state (``{}``: none)."""
    from flowloop.pilr.store import PilrStore
    from flowloop.signals.store import open_store

    from flowloop.index.active import active_fusion

    out = ReportData(results=all_results(repo), retrieval=latest_retrieval(repo), fusion=active_fusion(repo))
    documents = PilrStore(repo).scan().documents
    out.pilrs = [(doc.type.value, doc.meta.created) for doc in documents]
    from flowloop.pilr.helpfulness import compute

    helpful = compute(repo)
    pilr = repo.settings.pilr
    titles = {doc.id: doc.title for doc in documents}
    out.helpfulness = sorted(((i, titles.get(i, ""), h) for i, h in helpful.items() if h.tasks),
                             key=lambda row: (row[2].mean, row[0]))
    out.misleading = {i for i, _, h in out.helpfulness if h.misleading(pilr.misleading_below, pilr.misleading_min_failures)}
    with open_store(repo) as store:
        stats = store.stats()
    out.by_kind, out.by_week = dict(stats.by_kind), dict(stats.by_week)
    try:
        from flowloop.pipeline.api import load_manifest

        manifest = load_manifest(repo)
        out.dataset = f"v{manifest.version}"
        out.counts = {k: int(v) for k, v in manifest.counts.items() if isinstance(v, int | float)}
        out.thresholds = {k: int(v) for k, v in manifest.thresholds.items()}
    except DatasetError:  # no dataset yet: the same counts, from the current inputs
        from flowloop.passes import get_pass
        from flowloop.pipeline.thresholds import readiness

        ready = readiness(repo)
        out.counts = {get_pass(name).count_field: r.have for name, r in ready.items()}
        out.thresholds = {name: r.threshold for name, r in ready.items()}
    from flowloop.evaluate.lineage import current_version

    out.current = current_version(repo)
    from flowloop.models.registry import Registry

    out.curve = training_curve(Registry(repo).versions(), latest_per_model(out.results))
    out.loop = dict(loop_run or {})
    out.tolerance = repo.settings.eval.tolerance
    return out


def _version_key(version: str) -> tuple[int, int]:
    return (0, 0) if version == "base" else (1, int(version[1:]) if version[1:].isdigit() else 0)


def latest_per_model(results: list[EvalResult]) -> dict[str, EvalResult]:
    """Each model's most recent result, models ordered base, v1, v2, ..."""
    latest: dict[str, EvalResult] = {}
    for result in results:  # oldest first: later ones win
        latest[result.model] = result
    return {k: latest[k] for k in sorted(latest, key=_version_key)}


def _point(suite: SuiteResult | None, metric: str) -> tuple[float | None, tuple[float, float] | None]:
    if suite is None or metric not in suite.metrics:
        return None, None
    return suite.metrics[metric], suite.ci.get(metric)


def suite_charts(results: list[EvalResult]) -> list[str]:
    per_model = latest_per_model(results)
    labels = list(per_model)
    charts = []
    for suite, (metric, title) in SUITE_METRICS.items():
        if not any(suite in r.suites for r in per_model.values()):
            charts.append(svg.empty_chart(f"chart-{suite}", title, "not evaluated yet: run `flow eval`"))
            continue
        series_spec: list[tuple[str, Callable[[EvalResult], SuiteResult | None], str]]
        if suite == "planning":
            series_spec = [
                ("with context", lambda r: r.suites.get("planning"), "f1"),
                ("alone", lambda r: r.baselines.get("alone", {}).get("planning"), "f1"),
                ("retrieval only", lambda r: r.baselines.get("retrieval_only", {}).get("planning"), "f1"),
                ("full planner", lambda r: r.suites.get("planner"), "f1"),
            ]
        elif suite == "validation":
            series_spec = [
                ("precision", lambda r: r.suites.get("validation"), "precision"),
                ("recall", lambda r: r.suites.get("validation"), "recall"),
            ]
        else:
            series_spec = [(metric.replace("_", " "), lambda r, s=suite: r.suites.get(s), metric)]
        series = []
        for name, pick, m in series_spec:
            points = [_point(pick(r), m) for r in per_model.values()]
            if all(p[0] is None for p in points):
                # A series no model was measured on would be a legend entry with no line.
                continue
            series.append(svg.Series(name, [p[0] for p in points], [p[1] for p in points]))
        charts.append(svg.line_chart(f"chart-{suite}", f"{title} by model version (95% CI)", labels, series, "value" if suite == "validation" else metric.replace("_", " "), y_floor=1.0))
    return charts


def knowledge_chart(pilrs: list[tuple[str, dt.date]]) -> str:
    if not pilrs:
        return svg.empty_chart("chart-knowledge-base", "Knowledge base by type",
                               "no PILRs yet (documentation sources still count toward SFT: see the thresholds)")
    months = sorted({d.strftime("%Y-%m") for _, d in pilrs})
    series = []
    for pilr_type in ("ephemeral", "evergreen", "cumulative"):
        created = sorted(d.strftime("%Y-%m") for t, d in pilrs if t == pilr_type)
        series.append(svg.Series(pilr_type, [float(sum(1 for c in created if c <= m)) for m in months]))
    return svg.line_chart("chart-knowledge-base", "Knowledge base by type over time (documents)", months, series, "documents")


def threshold_chart(data: ReportData) -> str:
    from flowloop.passes import passes

    shown = passes()
    labels = [f"{p.title} {p.unit}" for p in shown]
    series = [
        svg.Series("collected", [float(data.counts.get(p.count_field, 0)) for p in shown]),
        svg.Series("threshold", [float(data.thresholds.get(p.name, 0)) for p in shown]),
    ]
    built = f"dataset {data.dataset}" if data.dataset else "no dataset built: counted from the current inputs"
    title = f"Training data against thresholds ({built})"
    return svg.bar_chart("chart-thresholds", title, labels, series, y_label="count")


def kinds_chart(by_kind: dict[str, int]) -> str:
    if not by_kind:
        return svg.empty_chart("chart-signals", "Signals by kind", "no signals yet")
    kinds = sorted(by_kind)
    return svg.bar_chart("chart-signals", "Signals collected by kind", kinds, [svg.Series("events", [float(by_kind[k]) for k in kinds])], y_label="events")


def _weeks(first: str, last: str) -> list[str]:
    start = dt.date.fromisocalendar(int(first[:4]), int(first[6:]), 1)
    end = dt.date.fromisocalendar(int(last[:4]), int(last[6:]), 1)
    out = []
    while start <= end:
        year, week, _ = start.isocalendar()
        out.append(f"{year}-W{week:02d}")
        start += dt.timedelta(days=7)
    return out


def retrieval_chart(by_week: dict[str, dict[str, int]]) -> str:
    weeks = sorted(w for w, kinds in by_week.items() if kinds.get("retrieval"))
    if not weeks:
        return svg.empty_chart("chart-retrieval", "Retrieval usage", "no retrieval events yet")
    labels = _weeks(weeks[0], weeks[-1])
    values = [float(by_week.get(w, {}).get("retrieval", 0)) for w in labels]
    return svg.bar_chart("chart-retrieval", "Retrieval usage (retrieval events per week)", labels, [svg.Series("retrieval events", values)], y_label="events")


def _planning_table(results: list[EvalResult]) -> str:
    rows = []
    for model, r in latest_per_model(results).items():
        cells = [escape(model), escape(r.dataset)]
        for pick in (r.suites.get("planner"), r.suites.get("planning"), r.baselines.get("alone", {}).get("planning"),
                     r.baselines.get("retrieval_only", {}).get("planning"),
                     r.baselines.get(LOCALIZER_BASELINE, {}).get("planning"), r.baselines.get("base", {}).get("planning")):
            if pick is None:
                cells.append("–")
            else:
                lo, hi = pick.ci.get("f1", (pick.metrics["f1"],) * 2)
                cells.append(f"{pick.metrics['f1']:.3f} [{lo:.3f}, {hi:.3f}] n={pick.n}")
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "<tr><th>model</th><th>dataset</th><th>full planner</th><th>with context</th><th>alone</th><th>retrieval only</th><th>localizer alone</th><th>base (with context)</th></tr>"
    return f"<table><caption>Planning F1 side by side (95% CI)</caption>{head}{''.join(rows)}</table>" if rows else ""


def helpfulness_table(data: ReportData, limit: int = 20) -> str:
    """The least helpful documents by outcome (posterior mean and the tasks behind it)."""
    rows = []
    for doc_id, title, h in data.helpfulness[:limit]:
        mark = " (review: possibly misleading)" if doc_id in data.misleading else ""
        rows.append(f"<tr><td>{escape(doc_id)}{escape(mark)}</td><td>{escape(title)}</td><td>{h.mean:.2f} ± {h.sd:.2f}</td>"
                    f"<td>{h.tasks}</td><td>{h.successes:g} / {h.failures:g}</td></tr>")
    if not rows:
        return ""
    head = "<tr><th>document</th><th>title</th><th>helpfulness</th><th>tasks</th><th>credit / debit</th></tr>"
    return (f"<table><caption>Knowledge helpfulness from task outcomes (least helpful first; "
            f"{len(data.helpfulness)} documents with evidence)</caption>{head}{''.join(rows)}</table>")


def missing_data(data: ReportData) -> list[str]:
    """What each pass below its threshold needs next (the same words as `flow signal stats`)."""
    from flowloop.passes import passes
    from flowloop.pipeline.thresholds import readiness_of

    items = []
    for spec in passes():
        if spec.name not in data.thresholds:
            continue
        ready = readiness_of(spec.name, int(data.counts.get(spec.count_field, 0)), data.thresholds[spec.name])
        if not ready.ready:
            items.append(f"{spec.title}: {ready.next_step}")
    return items


def threshold_steps(data: ReportData) -> str:
    items = "".join(f"<li>{escape(item)}</li>" for item in missing_data(data))
    return f"<ul class=\"next-steps\">{items}</ul>" if items else ""


def render(data: ReportData, generated: str) -> str:
    loop_line = headline(data.loop, missing_data(data), data.tolerance)
    validation = validation_result(latest_per_model(data.results), data.current)
    charts = [*suite_charts(data.results), *([curve_chart(data.curve)] if data.curve else []),
              pr_chart(validation), knowledge_chart(data.pilrs), threshold_chart(data),
              kinds_chart(data.by_kind), retrieval_chart(data.by_week)]
    body = "\n".join(f'<figure>{c}</figure>' for c in charts)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flowloop report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #111827; }}
figure {{ margin: 12px 0; }} table {{ border-collapse: collapse; margin: 12px 0; font-size: 13px; }}
td, th {{ border: 1px solid #d1d5db; padding: 4px 8px; text-align: left; }} caption {{ text-align: left; font-weight: 600; }}
.warning {{ color: #b45309; font-weight: 600; }} #headline {{ border-left: 4px solid #2563eb; padding-left: 12px; }}
</style></head><body>
<h1>flowloop report</h1>
<p>Generated {escape(generated)}. Current specialist: <b>{escape(data.current or 'none (base model)')}</b>.
Dataset: {escape(data.dataset or 'not built')}.</p>
{loop_line}
{_planning_table(data.results)}
{side_by_side(validation)}
{retrieval_table(data.retrieval, data.fusion)}
{"" if data.loop else threshold_steps(data)}
{helpfulness_table(data)}
{body}
</body></html>
"""


def build_report(repo: FlowRepo, loop_run: Mapping[str, Any] | None = None) -> Path:
    """Gather, render and write the report; returns its path. ``loop_run``: see :func:`gather`."""
    data = gather(repo, loop_run)
    html = render(data, dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    path = repo.state_dir / "reports" / REPORT_NAME
    atomic_write_text(path, html)
    return path

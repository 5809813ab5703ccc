"""The report's view of the validation suite: both reviewers side by side, and their
precision-recall curves.

Both rows come from one stored eval result (the current specialist's, else the newest that ran
the validation suite): the generative reviewer is the suite itself, the reward model its
``reward`` baseline, scored on the same held-out items. The curves are drawn from the per-item
scores kept in the result (P(compliant) for both), so they cover every threshold; each
reviewer's operating point (0.5 for the generative reviewer, the threshold recorded with the
reward model's version) is marked on its curve.
"""

from __future__ import annotations

from html import escape

from flowloop.evaluate.results import EvalResult, SuiteResult
from flowloop.evaluate.reward import pr_curve
from flowloop.evaluate.suites.validation import score_of
from flowloop.report import svg

CHART_ID = "chart-validation-pr"
METRICS = ("precision", "recall", "f1", "auroc")


def validation_result(per_model: dict[str, EvalResult], current: str | None) -> EvalResult | None:
    """The result the view shows: the current specialist's when it ran the suite, else the newest model's."""
    order = ([current] if current else []) + list(reversed(list(per_model)))
    return next((per_model[m] for m in order if m in per_model and "validation" in per_model[m].suites), None)


def reviewers(result: EvalResult) -> list[tuple[str, SuiteResult, float]]:
    """``(name, suite result, threshold)`` of each reviewer in ``result``, generative one first."""
    rows = [(f"{result.model}, generative reviewer", result.suites["validation"], 0.5)]
    reward = result.baselines.get("reward", {}).get("validation")
    if reward is not None:
        version = reward.details[0].get("version", "") if reward.details else ""
        rows.append((f"reward model {version}".strip(), reward, reward.metrics.get("threshold", 0.5)))
    return rows


def curve_chart(result: EvalResult | None) -> str:
    title = "Validation: precision against recall of flagging violations"
    if result is None:
        return svg.empty_chart(CHART_ID, title, "not evaluated yet: run `flow eval --suite validation`")
    curves = []
    for name, suite, threshold in reviewers(result):
        scores = [score_of(d) for d in suite.details]
        compliant = [not d["violating"] for d in suite.details]
        # the lowest cut flags nothing: precision is undefined there, so that point is left out
        points = [(p["recall"], p["precision"]) for p in pr_curve(scores, compliant)[1:]]
        marker = (f"threshold {threshold:.3f}", suite.metrics.get("recall", 0.0), suite.metrics.get("precision", 0.0))
        curves.append(svg.Curve(name, points, marker))
    return svg.curve_chart(CHART_ID, f"{title} ({result.model}, dataset {result.dataset}; rings: thresholds)",
                           curves, "recall", "precision")


def _cell(suite: SuiteResult, metric: str) -> str:
    value = suite.metrics.get(metric)
    if value is None:
        return "–"
    lo, hi = suite.ci.get(metric, (value, value))
    return f"{value:.3f} [{lo:.3f}, {hi:.3f}]"


def side_by_side(result: EvalResult | None) -> str:
    """Both reviewers' precision, recall, F1 and AUROC with 95% intervals and n."""
    if result is None:
        return ""
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{threshold:.3f}</td>" + "".join(f"<td>{_cell(suite, m)}</td>" for m in METRICS)
        + f"<td>{suite.n}</td></tr>"
        for name, suite, threshold in reviewers(result))
    head = ("<tr><th>reviewer</th><th>threshold</th><th>precision</th><th>recall</th><th>F1</th><th>AUROC</th>"
            "<th>n</th></tr>")
    return (f"<table id=\"validation-reviewers\"><caption>Validation: both reviewers on the same held-out items "
            f"(95% CI)</caption>{head}{rows}</table>")

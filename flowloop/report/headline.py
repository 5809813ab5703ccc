"""The report's first lines: what the last ``flow loop`` run did, readable in ten seconds.

From the run's state alone (what each training stage said, the loop's own evaluation of base,
current and the new candidate, the gate's decisions), so the page says what happened without
a second command. For each evaluated candidate: each suite's metric with its interval next to
the reference it is judged against (the current version, else the base model) and the
retrieval-only baseline, and every suite that fell, in words, with the numbers.
"""

from __future__ import annotations

from html import escape
from typing import Any

# The metric the headline shows per suite (the first one a suite reports, when not listed).
HEADLINE_METRICS = {"planning": "f1", "planner": "f1", "knowledge": "accuracy", "preference": "win_rate",
                    "validation": "recall", "general": "accuracy"}


def _value(suite: dict[str, Any] | None, metric: str) -> str:
    if not suite or metric not in suite:
        return "–"
    lo, hi = suite.get("ci", {}).get(metric, [suite[metric], suite[metric]])
    return f"{suite[metric]:.3f} [{lo:.3f}, {hi:.3f}] n={suite.get('n', 0)}"


def _reference(models: dict[str, Any], candidate: str) -> str | None:
    others = [m for m in models if m != candidate]
    return next((m for m in others if m != "base"), "base" if "base" in others else None)


def _comparison(models: dict[str, Any], candidate: str, tolerance: float) -> tuple[str, list[str]]:
    """A table of the candidate against its reference and baselines, and the suites that fell."""
    result = models[candidate]
    reference = _reference(models, candidate)
    ref_suites = models.get(reference, {}).get("suites", {}) if reference else {}
    retrieval = result.get("baselines", {}).get("retrieval_only", {})
    rows, fell = [], []
    for suite, values in result.get("suites", {}).items():
        metric = HEADLINE_METRICS.get(suite) or next((k for k in values if k not in ("n", "ci")), "")
        ref = ref_suites.get(suite)
        rows.append(f"<tr><td>{escape(suite)} {escape(metric.replace('_', ' '))}</td>"
                    f"<td>{escape(_value(values, metric))}</td><td>{escape(_value(ref, metric))}</td>"
                    f"<td>{escape(_value(retrieval.get(suite), metric))}</td></tr>")
        if ref and metric in ref and metric in values and ref[metric] - values[metric] > tolerance:
            fell.append(f"{suite} {metric.replace('_', ' ')} fell from {ref[metric]:.3f} ({reference}) to "
                        f"{values[metric]:.3f} ({candidate}), more than the gate's tolerance of {tolerance:g}")
    head = (f"<tr><th>suite</th><th>{escape(candidate)}</th><th>{escape(reference or '–')}</th>"
            "<th>retrieval only</th></tr>")
    table = f"<table class=\"headline\"><caption>{escape(candidate)} against {escape(reference or 'nothing')} " \
            f"(95% CI)</caption>{head}{''.join(rows)}</table>"
    return table, fell


def headline(loop: dict[str, Any], missing: list[str], tolerance: float) -> str:
    """The run summary as HTML (empty when the loop never ran); ``missing``: what data each pass
    below its threshold still needs, in words."""
    if not loop:
        return ""
    stages = loop.get("stages", {})
    run = f" (run {escape(str(loop['run']))})" if "run" in loop else ""
    lines = [f"<h2>Last <code>flow loop</code>: {escape(str(loop.get('started_at', '')))} — "
             f"{escape(str(loop.get('status', '')))}{run}</h2>", "<ul class=\"run\">"]
    for name, stage in stages.items():
        result = stage.get("result") or {}
        if name.startswith("train_") and result.get("message"):
            lines.append(f"<li>{escape(result['message'])}</li>")
    decisions = (stages.get("promote", {}).get("result") or {}).get("decisions", [])
    for decision in decisions:
        verb = "promoted" if decision.get("promoted") else "not promoted"
        lines.append(f"<li><b>{escape(str(decision.get('candidate')))} {verb}</b>: {escape(str(decision.get('reason', '')))}</li>")
    skipped = (stages.get("evaluate", {}).get("result") or {}).get("skipped")
    if skipped:
        lines.append(f"<li>evaluation skipped: {escape(skipped)}</li>")
    lines.append("</ul>")
    models = (stages.get("evaluate", {}).get("result") or {}).get("models", {})
    trained = [r.get("version") for n, s in stages.items() if n.startswith("train_")
               for r in [s.get("result") or {}] if r.get("trained")]
    for candidate in [v for v in trained if v in models][-1:]:
        table, fell = _comparison(models, candidate, tolerance)
        lines.append(table)
        lines.extend(f"<p class=\"warning\">Warning: {escape(line)}.</p>" for line in fell)
    if missing:
        lines.append("<p>Still missing:</p><ul class=\"missing\">" + "".join(f"<li>{escape(m)}</li>" for m in missing) + "</ul>")
    return "<section id=\"headline\">" + "\n".join(lines) + "</section>"

"""The four outputs of ``flow validate``: text for people, JSON for scripts, GitHub workflow
annotations (``::error file=...,line=...::``) and SARIF 2.1.0 for code-scanning UIs.

Each renderer takes a :class:`~flowloop.specialist.validate.Report` and returns a string; the
CLI prints it. GitHub's workflow commands need ``%``, CR and LF escaped in the message and also
``:`` and ``,`` in property values, or the annotation is cut short.
"""

from __future__ import annotations

import json
from typing import Any

from flowloop.specialist.validate import Report, Scored

FORMATS = ("text", "json", "github", "sarif")
RULE_ID = "flowloop/convention"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _cited(result: Scored) -> str:
    return ", ".join(f"{c['id']} ({c['title']})" if c.get("title") else str(c["id"]) for c in result.conventions)


def message(result: Scored, threshold: float) -> str:
    """One line saying why a unit is flagged (or that it passed)."""
    verdict = "below" if result.flagged else "at or above"
    text = f"score {result.score:.3f} {verdict} threshold {threshold:.3f}"
    if result.flagged:
        cited = _cited(result)
        text += f"; likely breaks: {cited}" if cited else "; no convention document retrieved for it"
    return text


def render_text(report: Report) -> str:
    lines = [f"{report.source}: {len(report.results)} unit(s) scored by {report.scorer}, threshold {report.threshold:.3f}"]
    for result in report.results:
        mark = "FLAG" if result.flagged else "ok  "
        lines.append(f"{mark} {result.score:.3f}  {result.unit.id}")
        if result.flagged:
            for convention in result.conventions:
                lines.append(f"       likely breaks {convention['id']}: {convention.get('title', '')} ({convention.get('path', '')})")
    for part in report.skipped:
        lines.append(f"skipped {part['path']}: {part['reason']}")
    lines += [f"note: {note}" for note in report.notes]
    lines.append(f"{len(report.flagged)} flagged" if report.flagged else "passed: nothing below threshold")
    return "\n".join(lines)


def render_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    """One ``::error`` line per flagged unit, ``::notice`` for skipped parts and notes."""
    lines = []
    for result in report.flagged:
        unit = result.unit
        props = f"file={_escape_property(unit.path)},line={unit.line}"
        if unit.end_line and unit.end_line > unit.line:
            props += f",endLine={unit.end_line}"
        props += f",title={_escape_property('flow validate: ' + report.scorer)}"
        lines.append(f"::error {props}::{_escape_data(message(result, report.threshold))}")
    for part in report.skipped:
        lines.append(f"::notice file={_escape_property(part['path'])}::{_escape_data('not validated: ' + part['reason'])}")
    for note in report.notes:
        lines.append(f"::notice::{_escape_data(note)}")
    summary = f"{len(report.flagged)} of {len(report.results)} unit(s) below threshold {report.threshold:.3f}"
    lines.append(f"::{'error' if report.flagged else 'notice'}::{_escape_data(summary)}")
    return "\n".join(lines)


def sarif(report: Report) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log: one result per flagged unit."""
    results = []
    for result in report.flagged:
        unit = result.unit
        region = {"startLine": unit.line, **({"endLine": unit.end_line} if unit.end_line > unit.line else {})}
        results.append({
            "ruleId": RULE_ID,
            "level": "error",
            "message": {"text": message(result, report.threshold)},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": unit.path}, "region": region}}],
            "properties": {"score": round(result.score, 4), "threshold": round(report.threshold, 6),
                           "conventions": [c["id"] for c in result.conventions]},
        })
    notes = [{"message": {"text": note}, "level": "note"} for note in report.notes]
    notes += [{"message": {"text": f"{p['path']} not validated: {p['reason']}"}, "level": "note"} for p in report.skipped]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "flowloop",
                "rules": [{"id": RULE_ID, "name": "FollowsConventions",
                           "shortDescription": {"text": "Work scored below the reward model's threshold"},
                           "fullDescription": {"text": "The reward model (or the generative reviewer) scored this "
                                                       "unit below the threshold chosen for the target precision."},
                           "defaultConfiguration": {"level": "error"}}],
            }},
            "results": results,
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notes}],
            "properties": {"scorer": report.scorer, "threshold": round(report.threshold, 6), "source": report.source},
        }],
    }


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "github":
        return render_github(report)
    if fmt == "sarif":
        return json.dumps(sarif(report), indent=2)
    return render_text(report)

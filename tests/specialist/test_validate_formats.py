"""The four outputs of `flow validate`, from a real diff scored by a scorer given to `validate`.

The scorer here is a plain :class:`Scorer` (the same seam `flow validate` fills with the reward
model) that marks hunks mentioning floats as violations, so the verdicts are known.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from flowloop.specialist.units import Unit, diff_text, diff_units
from flowloop.specialist.validate import Scorer, validate
from flowloop.specialist.validate_formats import render, sarif
from helpers_validate import change, project

# The parts of the SARIF 2.1.0 schema a code-scanning upload checks (required fields, types).
SARIF_SHAPE = {
    "type": "object", "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name"],
                    "properties": {"name": {"type": "string"}, "rules": {"type": "array", "items": {
                        "type": "object", "required": ["id"]}}}}}},
                "results": {"type": "array", "items": {
                    "type": "object", "required": ["message", "ruleId", "locations"],
                    "properties": {
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "message": {"type": "object", "required": ["text"]},
                        "locations": {"type": "array", "items": {"type": "object", "properties": {
                            "physicalLocation": {"type": "object", "required": ["artifactLocation", "region"],
                                                 "properties": {
                                                     "artifactLocation": {"type": "object", "required": ["uri"]},
                                                     "region": {"type": "object", "required": ["startLine"],
                                                                "properties": {"startLine": {"type": "integer",
                                                                                             "minimum": 1}}}}}}}}}}},
            }}},
    },
}


class FloatScorer(Scorer):
    name, threshold = "floats", 0.5

    def scores(self, units: list[Unit]) -> list[float]:
        return [0.1 if "float" in u.text else 0.9 for u in units]


def _report(git_repo: Path):  # noqa: ANN202
    repo = project(git_repo)
    change(git_repo)
    (git_repo / "README.md").write_text("Ledger.\n")
    text, source = diff_text(git_repo, None)
    return validate(repo, diff_units(text, source), scorer=FloatScorer())


def test_flagged_hunks_in_text_and_json(git_repo: Path) -> None:
    report = _report(git_repo)
    assert not report.passed and report.flagged[0].unit.id == "src/ledger.py:1"
    text = render(report, "text")
    assert "FLAG 0.100  src/ledger.py:1" in text and "skipped logo.png: binary file" in text
    data = json.loads(render(report, "json"))
    assert data["scorer"] == "floats" and data["threshold"] == 0.5 and data["passed"] is False
    assert data["flagged"] >= 1 and data["results"][0]["path"] == "src/ledger.py"
    assert any("conventions not cited" in n for n in data["notes"])  # no index built in this repo


def test_github_annotations_are_escaped_workflow_commands(git_repo: Path) -> None:
    lines = render(_report(git_repo), "github").splitlines()
    first = lines[0]
    assert first.startswith("::error file=src/ledger.py,line=1,endLine=")
    assert ",title=flow validate%3A floats::score 0.100 below threshold 0.500" in first
    assert "::notice file=logo.png::not validated: binary file" in lines
    assert lines[-1].startswith("::error::") and "below threshold 0.500" in lines[-1]
    assert all(line.startswith("::") and "\n" not in line for line in lines)


def test_sarif_has_the_schema_shape(git_repo: Path) -> None:
    log = sarif(_report(git_repo))
    jsonschema.validate(log, SARIF_SHAPE)
    result = log["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/ledger.py"
    assert result["level"] == "error" and result["properties"]["score"] == 0.1


def test_an_empty_diff_has_nothing_to_validate(git_repo: Path) -> None:
    repo = project(git_repo)
    text, source = diff_text(git_repo, None)
    report = validate(repo, diff_units(text, source), scorer=FloatScorer())
    assert report.passed and report.results == []
    assert report.notes == ["nothing to validate: the diff of the working tree against HEAD has no changes to score"]
    assert json.loads(render(report, "sarif"))["runs"][0]["results"] == []

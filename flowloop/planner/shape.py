"""A plan in the shape of the example's Type 1 notes: read from a reply, rendered as markdown.

The specialist answers in whatever shape it manages (a small model rarely keeps headings), so
a reply is read tolerantly: headed sections (``## Risks``, ``Risks:``, ``**Risks**``) where it
wrote them, otherwise prose is the approach and list items are the steps. What a reply cannot
be trusted with is filled from evidence: the files are :func:`~flowloop.planner.files.planned_files`,
the conventions are the context pack's documents (marked ``cited`` when the reply names their
id), and the pack's cumulative documents (problems solved before) are listed among the risks.
:meth:`Plan.markdown` is what a developer picks, edits and what the task's Type 1 note holds:
its ``Plan`` and ``Files`` sections are the ones the dataset pipeline reads back as a planning
example (``flowloop.pipeline.templates.plan_examples``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from flowloop.pilr.sections import split_sections
from flowloop.pipeline.prompts import looks_like_path, parse_files_answer
from flowloop.pipeline.templates import list_items

APPROACH = ("approach", "overview", "summary", "goal", "context")
STEPS = ("step", "plan", "implementation", "changes", "tasks")
RISKS = ("risk", "pitfall", "caveat", "concern", "edge case")
SKIPPED = ("file", "affected", "convention", "pattern", "reference")
MAX_APPROACH_CHARS = 800
NO_STEPS = "The draft named no steps; the files below are the localizer's."

# ``Risks:`` or ``**Risks**`` alone on a line: the headings a small model writes instead of ``##``
_LABEL = re.compile(r"^\s*\*{0,2}([A-Za-z][A-Za-z ]{1,30}?)\*{0,2}\s*:?\s*\*{0,2}\s*$")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


@dataclass
class Plan:
    """One draft: the reply, the parts read from it, the evidence added, and its score."""

    text: str
    approach: str = ""
    steps: list[str] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)
    named: list[str] = field(default_factory=list)  # every path the reply names
    files: list[str] = field(default_factory=list)  # planned_files: what the plan affects
    conventions: list[dict[str, Any]] = field(default_factory=list)  # {id, type, path, cited}
    score: float = 0.0

    @property
    def areas(self) -> list[str]:
        from flowloop.pipeline.prompts import area_of

        return list(dict.fromkeys(area_of(f) for f in self.files))

    def markdown(self) -> str:
        """The plan as the sections of a Type 1 note (Plan, Files, Risks, Conventions)."""
        plan = "\n\n".join(part for part in (self.approach, "\n".join(
            f"{i}. {step}" for i, step in enumerate(self.steps, start=1))) if part) or NO_STEPS
        files = "\n".join(f"- `{f}`" for f in self.files) or "- (no file found)"
        seen_before = [f"A problem solved before applies: `{d['id']}`" + (f" ({d['path']})" if d.get("path") else "")
                       for d in self.conventions if d.get("type") == "cumulative"]
        risks = "\n".join(f"- {r}" for r in [*self.risks, *seen_before]) or "- none named"
        rules = "\n".join(
            f"- `{d['id']}`" + (f" ({d['path']})" if d.get("path") else "")
            + (": cited by the plan" if d.get("cited") else ": retrieved for the task")
            for d in self.conventions if d.get("type") != "cumulative") or "- none retrieved"
        return (f"## Plan\n\n{plan}\n\n## Files\n\n{files}\n\n## Risks\n\n{risks}\n\n"
                f"## Conventions\n\n{rules}\n")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "score": round(self.score, 6), "areas": self.areas, "markdown": self.markdown()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Plan":
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


def _headed(text: str) -> str:
    """The reply with bare labels (``Risks:``) turned into headings ``split_sections`` reads."""
    lines = []
    for line in text.splitlines():
        match = _LABEL.match(line)
        word = match.group(1).strip().lower() if match else ""
        if word and word.startswith((*APPROACH, *STEPS, *RISKS, *SKIPPED)):
            lines.append(f"## {match.group(1).strip()}")  # type: ignore[union-attr]
        else:
            lines.append(line)
    return "\n".join(lines)


def _not_a_path(item: str) -> bool:
    bare = item.strip().strip("`'\"").rstrip(".")
    return not looks_like_path(bare)


def read_reply(text: str, documents: list[dict[str, Any]]) -> Plan:
    """The parts of a reply; ``documents`` (the context pack's: id, type, path) become the
    conventions, each ``cited`` when the reply names its id."""
    approach: list[str] = []
    steps: list[str] = []
    risks: list[str] = []
    for heading, body in split_sections(_headed(text)):
        low = heading.lower()
        if low.startswith(SKIPPED):
            continue
        if low.startswith(RISKS):
            risks += [r for r in list_items(body) if _not_a_path(r)]
            continue
        prose = "\n".join(line for line in body.splitlines() if not _LIST.match(line)).strip()
        listed = [s for s in list_items("\n".join(line for line in body.splitlines() if _LIST.match(line)))
                  if _not_a_path(s)]
        if low.startswith(APPROACH):
            approach.append(body if not listed else prose)
            steps += listed if listed and prose else []
        else:
            if prose:
                approach.append(prose)
            steps += listed
    conventions = [{"id": str(d.get("id")), "type": d.get("type"), "path": d.get("path"),
                    "cited": str(d.get("id")) in text} for d in documents if d.get("type") != "ephemeral"]
    joined = "\n\n".join(a.strip() for a in approach if a.strip())
    if len(joined) > MAX_APPROACH_CHARS:
        joined = joined[:MAX_APPROACH_CHARS].rsplit(" ", 1)[0] + " ..."
    return Plan(text=text, approach=joined, steps=list(dict.fromkeys(steps)), risks=list(dict.fromkeys(risks)),
                named=parse_files_answer(text), conventions=conventions)


def note_body(description: str, plan_markdown: str) -> str:
    """The task's Type 1 note: the spec, the chosen plan's sections, then the template's last two."""
    return (f"## Spec\n\n{description.strip()}\n\n{plan_markdown.strip()}\n\n"
            "## Test plan\n\n\n## Decisions\n\n")

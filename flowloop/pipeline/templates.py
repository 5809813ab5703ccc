"""Deterministic examples from knowledge documents (the default curation: no model involved).

- Type 1 (ephemeral) task notes: the spec -> the plan (and the files it names).
- Type 3 (cumulative) entries: the problem -> the root cause and the approach that worked.
  The approaches that did not work become ``violating`` validation items and review-role
  examples (``VIOLATION: ...``); the one that worked becomes ``compliant`` (``OK``).
- Type 2 (evergreen) documents and configured documentation sources: one question per section
  -> the section as the explanation (question wording picked by heading, deterministically).

Superseded documents are skipped: their knowledge has been replaced and must not be taught.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flowloop.pilr.model import Pilr, PilrStatus, PilrType
from flowloop.pilr.sections import find_section, split_sections
from flowloop.pipeline import prompts
from flowloop.pipeline.inputs import DocSection
from flowloop.pipeline.records import Example, ValidationItem, date_time, stable_hash

MIN_SECTION_CHARS = 30
SKIP_HEADINGS = ("provenance", "references", "links", "see also", "files", "changelog", "history")

SPEC = ("spec", "goal", "problem", "summary", "context", "task")
PLAN = ("plan", "approach", "implementation", "steps", "design")
FILES = ("files",)
SYMPTOMS = ("symptom", "problem", "context", "situation")
ROOT_CAUSE = ("root cause", "cause", "why")
WORKED = ("what worked", "solution", "fix", "resolution", "approach")
FAILED = ("what we tried", "what did not work", "what didn't work", "failed", "tried", "dead ends", "rejected")

_QUESTIONS: list[tuple[tuple[str, ...], str]] = [
    (("",), "What is '{title}' about?"),
    (("context", "background", "problem", "motivation"), "What is the background of '{title}'?"),
    (("decision", "we decided", "the decision"), "What did the team decide in '{title}'?"),
    (("consequence", "implications", "trade-off", "tradeoff"), "What are the consequences of '{title}'?"),
    (("rationale", "why"), "Why did the team decide '{title}' the way it did?"),
    (("alternative", "options considered"), "Which alternatives to '{title}' were considered, and why not them?"),
]
_GENERIC = (
    "In {project}, what does '{title}' say about {heading}?",
    "Explain {heading} in {project} (from '{title}').",
    "How does {project} handle {heading}? (see '{title}')",
)


def _usable(doc: Pilr) -> bool:
    return doc.status is not PilrStatus.SUPERSEDED


def _first_paragraph(text: str, limit: int = 400) -> str:
    para = text.strip().split("\n\n")[0].strip()
    if len(para) <= limit:
        return para
    cut = para[:limit]
    end = max(cut.rfind(". "), cut.rfind(".\n"))
    return cut[: end + 1] if end > limit // 2 else cut.rstrip() + "..."


def list_items(text: str) -> list[str]:
    """Bullet items of a section (continuation lines joined); paragraphs if it has no bullets."""
    items: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        bullet = re.match(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$", line)
        if bullet:
            if current:
                items.append(" ".join(current))
            current = [bullet.group(1).strip()]
        elif current is not None and line.strip():
            current.append(line.strip())
        elif current is not None:
            items.append(" ".join(current))
            current = None
    if current:
        items.append(" ".join(current))
    if not items:
        items = [p.strip() for p in text.split("\n\n") if p.strip()]
    return [i for i in items if len(i) >= 10]


def question_for(project: str, title: str, heading: str, salt: str) -> str:
    """A question whose answer is the section ``heading`` of document ``title``."""
    low = heading.lower().strip()
    for prefixes, template in _QUESTIONS:
        if (low == "" and prefixes == ("",)) or (low and any(low.startswith(p) for p in prefixes if p)):
            return template.format(title=title, heading=heading, project=project)
    template = _GENERIC[int(stable_hash(salt, length=8), 16) % len(_GENERIC)]
    return template.format(title=title, heading=heading, project=project)


def _explain(settings: Any, title: str, heading: str, text: str, source: str, docs: tuple[str, ...]) -> Example:
    question = question_for(settings.project.name, title, heading, source)
    return Example(
        pass_="sft",
        kind="explain",
        source=source,
        prompt=prompts.explain_messages(settings, question),
        key=question,
        completion=text,
        holdable=False,
        documents=docs,
    )


def explain_examples(settings: Any, doc: Pilr) -> list[Example]:
    """One explanation example per substantial section of an evergreen document."""
    if not _usable(doc):
        return []
    examples = []
    for heading, text in split_sections(doc.body):
        if len(text) < MIN_SECTION_CHARS or heading.lower().startswith(SKIP_HEADINGS):
            continue
        source = f"pilr:{doc.id}#{heading}" if heading else f"pilr:{doc.id}"
        examples.append(_explain(settings, doc.title, heading, text, source, (f"pilr:{doc.id}",)))
    return examples


def section_examples(settings: Any, sections: list[DocSection]) -> list[Example]:
    """Explanation examples from the configured documentation sources."""
    examples = []
    for section in sections:
        if len(section.text) < MIN_SECTION_CHARS or section.heading.lower().startswith(SKIP_HEADINGS):
            continue
        counted = (f"doc:{section.path}",) if section.doc_type in ("evergreen", "cumulative") else ()
        examples.append(_explain(settings, section.title, section.heading, section.text, section.source, counted))
    return examples


def plan_examples(settings: Any, doc: Pilr, time: dt.datetime | None) -> list[Example]:
    """Type 1: the spec of an ephemeral task note -> its plan and files."""
    if not _usable(doc):
        return []
    plan = find_section(doc.body, *PLAN)
    if not plan:
        return []
    spec = find_section(doc.body, *SPEC)
    files = find_section(doc.body, *FILES)
    key = f"{doc.title}\n\n{spec}".strip()
    completion = plan if not files else f"{plan}\n\nFiles:\n{files}"
    return [
        Example(
            pass_="sft",
            kind="plan",
            source=f"pilr:{doc.id}",
            prompt=prompts.plan_messages(settings, f"Spec: {key}"),
            key=key,
            completion=completion,
            task=doc.meta.task,
            time=time or date_time(doc.meta.created),
        )
    ]


def cumulative_examples(
    settings: Any, doc: Pilr, time: dt.datetime | None
) -> tuple[list[Example], list[ValidationItem]]:
    """Type 3: problem -> what worked; failed approaches -> violations for the review role."""
    if not _usable(doc):
        return [], []
    worked = find_section(doc.body, *WORKED)
    if not worked:
        return explain_examples(settings, doc), []
    symptoms = find_section(doc.body, *SYMPTOMS)
    cause = find_section(doc.body, *ROOT_CAUSE)
    failed = find_section(doc.body, *FAILED)
    when = time or date_time(doc.meta.created)
    source = f"pilr:{doc.id}"
    problem = f"Problem: {doc.title}" + (f"\n\n{symptoms}" if symptoms else "")
    answer = (f"Root cause: {cause}\n\n" if cause else "") + f"What worked: {worked}"
    common: dict[str, Any] = dict(source=source, task=doc.meta.task, time=when, documents=(source,))
    examples = [
        Example(pass_="sft", kind="solution", key=problem,
                prompt=prompts.plan_messages(settings, problem, ask=prompts.SOLVE_ASK),
                completion=answer, **common)
    ]
    items: list[ValidationItem] = []
    fix = _first_paragraph(worked)
    context = problem
    items.append(ValidationItem(fix, context, "compliant", source, doc.meta.task, when))
    examples.append(
        Example(pass_="sft", kind="review", prompt=prompts.review_messages(settings, fix, context),
                key=f"{context}\n{fix}", completion=prompts.OK, **common)
    )
    for attempt in list_items(failed) if failed else []:
        verdict = (
            f"{prompts.VIOLATION}: this was tried for \"{doc.title}\" and did not work ({attempt}). "
            f"What worked instead: {fix}"
        )
        items.append(ValidationItem(attempt, context, "violating", source, doc.meta.task, when))
        examples.append(
            Example(pass_="sft", kind="review", prompt=prompts.review_messages(settings, attempt, context),
                    key=f"{context}\n{attempt}", completion=verdict, **common)
        )
    return examples, items


def document_examples(
    settings: Any, docs: list[Pilr], task_time: dict[str, dt.datetime]
) -> tuple[list[Example], list[ValidationItem]]:
    """Every template example from the PILRs (document order)."""
    examples: list[Example] = []
    items: list[ValidationItem] = []
    for doc in docs:
        time = task_time.get(doc.meta.task) if doc.meta.task else None
        if doc.type is PilrType.EPHEMERAL:
            examples.extend(plan_examples(settings, doc, time))
        elif doc.type is PilrType.CUMULATIVE:
            found, valid = cumulative_examples(settings, doc, time)
            examples.extend(found)
            items.extend(valid)
        else:
            examples.extend(explain_examples(settings, doc))
    return examples, items

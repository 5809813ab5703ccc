"""Knowledge suite: multiple choice on the team's evergreen and cumulative documents.

A question is the prompt a document section is taught with (the dataset's ``explain`` and
``solution`` examples: "What did the team decide in 'ADR 7'?", "Problem: duplicate webhooks");
the options are the first statement of that section's answer and first statements of other
documents' answers. The model picks the option with the highest length-normalised
log-likelihood. Accuracy over questions; chance is ``1 / options``.

These documents are trained on (they are the knowledge the specialist should absorb), so this
suite measures recall of team knowledge, not generalisation; the planning, preference and
validation suites are the held-out ones.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flowloop.evaluate.scorer import loglik_all, per_token
from flowloop.evaluate.stats import mean
from flowloop.inference.model import Model
from flowloop.types import Message, Progress


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(\"'])")
_MIN_CHARS, _MAX_CHARS = 30, 240


@dataclass
class KnowledgeItem:
    id: str
    doc_id: str
    question: str
    options: list[str]
    answer: int
    prompt: list[Message] = field(default_factory=list)


def _plain(text: str) -> str:
    """Markdown prose without fences, tables, list markers or emphasis."""
    out, in_fence = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence or not stripped or stripped.startswith(("|", ">", "<!--")):
            out.append("")
            continue
        stripped = re.sub(r"^(?:[-*+]|\d+[.)])\s+", "", stripped)
        out.append(stripped.replace("**", "").replace("__", ""))
    return "\n".join(out)


def statements(text: str) -> list[str]:
    """Self-contained sentences of a section, the kind that can stand as an answer option."""
    found = []
    for paragraph in re.split(r"\n\s*\n", _plain(text)):
        flat = " ".join(paragraph.split())
        for sentence in _SENTENCE_END.split(flat):
            sentence = sentence.strip()
            if _MIN_CHARS <= len(sentence) <= _MAX_CHARS and not sentence.endswith(":"):
                found.append(sentence)
    return found


@dataclass
class Section:
    """One piece of knowledge: the question it answers and the text that answers it.

    ``prompt`` is the exact training prompt when the section comes from a dataset row; else
    ``question`` is asked in the explain role. ``doc_id`` groups sections of one document, so a
    distractor never comes from the document that is also right.
    """

    doc_id: str
    text: str
    question: str = ""
    prompt: list[Message] = field(default_factory=list)
    id: str = ""


def pilr_sections(docs: Sequence[Any]) -> list[Section]:
    """Sections of PILRs (anything with ``.id``, ``.title``, ``.body``)."""
    from flowloop.pilr.sections import split_sections

    out = []
    for doc in docs:
        for heading, text in split_sections(doc.body):
            if not text.strip():
                continue
            heading = heading.strip()
            about = f" about {heading.lower()}" if heading and heading.lower() != doc.title.lower() else ""
            out.append(Section(doc.id, text, f"What does our '{doc.title}' say{about}?", id=f"{doc.id}#{heading or 'intro'}"))
    return out


def dataset_sections(rows: Sequence[dict[str, Any]], kinds: Sequence[str] = ("explain", "solution")) -> list[Section]:
    """Sections from SFT rows of the dataset (documents' explanations and solved problems).

    The question is the row's own prompt, the one the specialist was trained on; the document
    is the row's provenance (``source`` up to any ``#section``).
    """
    out = []
    for row in rows:
        if row.get("kind") not in kinds or not row.get("completion"):
            continue
        source = str(row.get("source") or row.get("id"))
        out.append(
            Section(
                doc_id=source.split("#", 1)[0],
                text=str(row["completion"][0].get("content", "")),
                prompt=list(row.get("prompt") or []),
                id=str(row.get("id") or source),
            )
        )
    return out


def build_items(
    sections: Sequence[Section], n_options: int = 4, per_doc: int = 2, limit: int = 200, seed: int = 0
) -> list[KnowledgeItem]:
    """Questions from document sections, deterministic for a seed.

    The answer is the first self-contained statement of a section; distractors are answers
    of other documents' sections (never of the same document, which could also be right).
    """
    rng = random.Random(seed)
    chosen: list[tuple[Section, str]] = []
    taken: dict[str, int] = {}
    for section in sorted(sections, key=lambda s: s.doc_id):  # stable: keeps section order per doc
        found = statements(section.text)
        if not found or taken.get(section.doc_id, 0) >= per_doc:
            continue
        chosen.append((section, found[0]))
        taken[section.doc_id] = taken.get(section.doc_id, 0) + 1
    items: list[KnowledgeItem] = []
    used_ids: set[str] = set()
    for section, answer in chosen:
        pool = sorted({s for other, s in chosen if other.doc_id != section.doc_id and s != answer})
        if not pool:
            continue
        options = [answer, *rng.sample(pool, min(n_options - 1, len(pool)))]
        rng.shuffle(options)
        item_id = base_id = section.id or section.doc_id
        while item_id in used_ids:  # ids stay unique: the gate pairs results by id
            item_id = f"{base_id}~{len(used_ids)}"
        used_ids.add(item_id)
        items.append(
            KnowledgeItem(
                id=item_id,
                doc_id=section.doc_id,
                question=section.question,
                options=options,
                answer=options.index(answer),
                prompt=section.prompt,
            )
        )
    if len(items) > limit:
        items = sorted(rng.sample(items, limit), key=lambda it: it.id)
    return items


def run(scorer: Model, items: Sequence[KnowledgeItem], settings: Any, progress: Progress | None = None) -> list[dict[str, Any]]:
    from flowloop.pipeline.prompts import explain_messages

    pairs = []
    for item in items:
        prompt = item.prompt or explain_messages(settings, item.question)
        pairs += [(prompt, option) for option in item.options]
    # Options are first sentences of longer answers: scored as prefixes, no end of turn.
    scored = iter(loglik_all(scorer, pairs, end_of_turn=False, progress=progress, unit=max(1, len(items[0].options)) if items else 1))
    details = []
    for item in items:
        scores = [per_token(next(scored)) for _ in item.options]
        best = max(range(len(scores)), key=lambda k: scores[k])
        details.append(
            {
                "id": item.id,
                "correct": 1.0 if best == item.answer else 0.0,
                "chosen": best,
                "answer": item.answer,
                "scores": [round(s, 4) for s in scores],
            }
        )
    return details


def statistic(details: list[dict[str, Any]], idx: Sequence[int]) -> dict[str, float]:
    return {"accuracy": mean([details[i]["correct"] for i in idx])}

"""The pipeline's in-memory records: one training example, one validation item, one work record.

Every stage (templates, signals, weighting, review, dedup, split, writing) passes these along;
only the writer turns them into the JSONL rows of contract 3. An example's ``id`` is a hash of
what it teaches (pass, kind, provenance, the core question and the original answer), not of
the retrieved context in its prompt, so a human's review decision survives index changes and
rebuilds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from flowloop.passes import get_pass, passes
from flowloop.scrub import scrub, scrub_value
from flowloop.types import Message

Pass = str  # a name in flowloop.passes.registry


def stable_hash(*parts: Any, length: int = 16) -> str:
    """A short SHA-256 of ``parts`` (JSON-encoded, so ordering and types are part of it)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:length]


def iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.timezone.utc).isoformat() if value is not None else None


def parse_iso(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def date_time(value: dt.date) -> dt.datetime:
    """A document date as midnight UTC of that day."""
    return dt.datetime.combine(value, dt.time.min, tzinfo=dt.timezone.utc)


@dataclass
class Example:
    """One SFT example (``completion``) or DPO pair (``chosen`` over ``rejected``).

    ``key`` is the core of the prompt (a task description, a question) used for the id and for
    near-duplicate detection; the full ``prompt`` may add retrieved context. ``task`` is the
    split unit; ``holdable`` says whether an example without a task is split by its ``time``
    (behavioral events) or always trains (document explanations). ``documents`` are the
    evergreen/cumulative documents it draws from (the SFT threshold counts those).
    """

    pass_: Pass
    kind: str
    source: str
    prompt: list[Message]
    key: str
    completion: str = ""
    chosen: str = ""
    rejected: str = ""
    task: str | None = None
    time: dt.datetime | None = None
    weight: float = 1.0
    draft: bool = False
    holdable: bool = True
    documents: tuple[str, ...] = ()
    id: str = ""
    reviewed: str = ""  # "", "accept" or "edit" once a human decided

    def __post_init__(self) -> None:
        if not self.id:
            self.id = "ex-" + stable_hash(
                self.pass_, self.kind, self.source, self.key, self.completion, self.chosen, self.rejected
            )

    def scrubbed(self) -> "Example":
        """Secrets removed from every text (done before the id is relied upon anywhere)."""
        self.prompt = scrub_value(self.prompt)
        self.key = scrub(self.key)
        self.completion = scrub(self.completion)
        self.chosen = scrub(self.chosen)
        self.rejected = scrub(self.rejected)
        return self

    def answers(self) -> list[tuple[str, str]]:
        """``(field, text)`` of each answer column of the example's pass: the completion, or
        the chosen and the rejected side of a pair (the pass record names them)."""
        return [(name, getattr(self, name)) for name in get_pass(self.pass_).fields[1:]]

    @property
    def answer(self) -> str:
        """What the model should write: the completion, or the chosen side of a pair."""
        return self.answers()[0][1]

    def set_answer(self, text: str) -> None:
        setattr(self, get_pass(self.pass_).completion_field, text)

    def answer_text(self) -> str:
        """What the example teaches, for near-duplicate detection."""
        return "\n<rejected>\n".join(text for _, text in self.answers())

    def row(self) -> dict[str, Any]:
        """The JSONL row of contract 3 (drafts carry ``draft: true`` in their own file)."""
        row: dict[str, Any] = {"id": self.id, "prompt": self.prompt}
        for name, text in self.answers():
            row[name] = [{"role": "assistant", "content": text}]
        row.update(
            kind=self.kind,
            source=self.source,
            task=self.task,
            time=iso(self.time),
            weight=round(self.weight, 4),
        )
        if self.draft:
            row["draft"] = True
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Example":
        """Rebuild an example from its JSONL row (review reads the latest build this way)."""
        spec = next(p for p in passes() if all(name in row for name in p.fields))
        texts = {name: row[name][0]["content"] for name in spec.fields[1:]}
        return cls(
            pass_=spec.name,
            kind=row["kind"],
            source=row["source"],
            prompt=row["prompt"],
            key=row.get("key") or next((m["content"] for m in reversed(row["prompt"]) if m["role"] == "user"), ""),
            completion=texts.get("completion", ""),
            chosen=texts.get("chosen", ""),
            rejected=texts.get("rejected", ""),
            task=row.get("task"),
            time=parse_iso(row.get("time")),
            weight=float(row.get("weight", 1.0)),
            draft=bool(row.get("draft", False)),
            id=row["id"],
        )


@dataclass
class ValidationItem:
    """A labelled output for the review role: ``violating`` or ``compliant`` in its context.

    It is also a training row of a labelled pass (the reward model): ``pass_``, ``kind`` and
    ``documents`` let the passes' counting rules read items beside examples.
    """

    pass_: ClassVar[str] = "labelled"
    kind: ClassVar[str] = "labelled"
    documents: ClassVar[tuple[str, ...]] = ()

    text: str
    context: str
    label: Literal["violating", "compliant"]
    source: str
    task: str | None = None
    time: dt.datetime | None = None
    id: str = ""

    def __post_init__(self) -> None:
        self.text = scrub(self.text)
        self.context = scrub(self.context)
        if not self.id:
            self.id = "val-" + stable_hash(self.source, self.label, self.text, self.context)

    def row(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "context": self.context, "label": self.label, "source": self.source}

    def training_row(self) -> dict[str, Any]:
        """The row of a labelled pass's files: the item with the task and time it is split by."""
        return {**self.row(), "task": self.task, "time": iso(self.time), "weight": 1.0}


@dataclass
class WorkRecord:
    """A finished task: what was asked, the files it touched, when it finished, when planned.

    ``time`` is when the work finished (the commit's author time); ``as_of`` is the moment a
    planner would have planned it: the end of the day before the task's earliest trace (its
    plan document, its first event, or the commit itself). Context for training prompts is
    retrieved as of ``as_of``, and similar tasks must have finished before it.
    """

    task: str
    description: str
    files: list[str]
    time: dt.datetime
    as_of: dt.datetime
    event_id: str
    commit: str | None = None
    reverted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def eval_row(self) -> dict[str, Any]:
        return {
            "id": f"plan-{stable_hash(self.task, self.event_id)}",
            "task": self.task,
            "description": self.description,
            "files": self.files,
            "time": iso(self.time),
            "as_of": iso(self.as_of),
        }

"""Human review before training: accept, reject or edit examples; decisions outlive builds.

Decisions live in ``.flow/dataset-review.jsonl``, which is COMMITTED: the team's curation
travels with the repository like the PILRs themselves. One JSON object per line:
``{"id": <example hash>, "decision": "accept"|"reject"|"edit", "completion": <edited text>,
"example": <row, drafts only>, "at": <ISO time>}``; the last line for an id wins. Because an
example's id hashes what it teaches (not its retrieved context), a decision applies to every
later build that produces the same example: rejected examples leave the training files, edits
replace the completion (the ``chosen`` answer of a DPO pair), accepted model-drafted examples
join the training files (their full row is stored, since a templates-only build would not
recreate them).

The library never prompts: :func:`run_review` takes a ``decide`` callback (the CLI renders and
asks; tests pass decisions in).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

from flowloop.atomic import atomic_write_text
from flowloop.errors import DatasetError
from flowloop.pipeline.manifest import DatasetManifest, load_manifest, read_rows
from flowloop.pipeline.records import Example
from flowloop.repo import FlowRepo
from flowloop.scrub import scrub

REVIEW_FILE = "dataset-review.jsonl"
DECISIONS = ("accept", "reject", "edit")
Action = Literal["accept", "reject", "edit", "skip", "quit"]
REVIEWED_FILES = ("sft_drafts", "sft_train", "dpo_train")


@dataclass(frozen=True)
class ReviewDecision:
    id: str
    decision: Action
    completion: str | None = None
    example: dict[str, Any] | None = None

    def line(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "decision": self.decision}
        if self.completion is not None:
            data["completion"] = self.completion
        if self.example is not None:
            data["example"] = self.example
        data["at"] = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        return data


@dataclass
class ReviewItem:
    """One example shown to a reviewer, with where it came from."""

    example: Example
    file: str
    index: int
    total: int


@dataclass
class ReviewSummary:
    accepted: int = 0
    rejected: int = 0
    edited: int = 0
    skipped: int = 0
    pending: int = 0
    stopped: bool = False
    decided: list[str] = field(default_factory=list)


def review_path(repo: FlowRepo) -> Path:
    return repo.flow_dir / REVIEW_FILE


def load_decisions(repo: FlowRepo) -> dict[str, ReviewDecision]:
    """The latest decision per example id; a bad line raises naming the file and line."""
    path = review_path(repo)
    if not path.exists():
        return {}
    decisions: dict[str, ReviewDecision] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError("not valid UTF-8", path=path, hint="save the file as UTF-8") from exc
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        decisions_line = _parse_line(path, number, raw)
        decisions[decisions_line.id] = decisions_line
    return decisions


def _parse_line(path: Path, number: int, raw: str) -> ReviewDecision:
    hint = 'each line is {"id": "ex-...", "decision": "accept"|"reject"|"edit", ...}; fix or delete it'
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"not valid JSON: {exc.msg}", path=path, line=number, hint=hint) from exc
    if not isinstance(data, dict):
        raise DatasetError("a review line must be a JSON object", path=path, line=number, hint=hint)
    if not isinstance(data.get("id"), str) or not data["id"]:
        raise DatasetError("missing example id", path=path, line=number, field="id", hint=hint)
    if data.get("decision") not in DECISIONS:
        raise DatasetError(
            f"unknown decision {data.get('decision')!r}", path=path, line=number, field="decision", hint=hint
        )
    completion = data.get("completion")
    if data["decision"] == "edit" and not (isinstance(completion, str) and completion.strip()):
        raise DatasetError(
            "an edit needs a non-empty completion", path=path, line=number, field="completion", hint=hint
        )
    example = data.get("example")
    if example is not None and not isinstance(example, dict):
        raise DatasetError("example must be an object", path=path, line=number, field="example", hint=hint)
    return ReviewDecision(data["id"], data["decision"], completion, example)


def record_decisions(repo: FlowRepo, decisions: Iterable[ReviewDecision]) -> int:
    """Append ``decisions`` (accept/reject/edit only) to the review file atomically."""
    lines = [json.dumps(d.line(), ensure_ascii=False, sort_keys=True) for d in decisions if d.decision in DECISIONS]
    if not lines:
        return 0
    path = review_path(repo)
    load_decisions(repo)  # refuse to append to a file that already has a bad line
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if existing and not existing.endswith("\n"):
        existing += "\n"
    atomic_write_text(path, existing + "\n".join(lines) + "\n")
    return len(lines)


def edited(example: Example, text: str) -> Example:
    """``example`` with a reviewer's text as its answer (the completion, or the chosen side)."""
    text = scrub(text.strip())
    example.set_answer(text)
    example.reviewed = "edit"
    return example


@dataclass
class Applied:
    examples: list[Example]
    rejected: int = 0
    edited: int = 0
    accepted_drafts: int = 0


def apply_decisions(examples: list[Example], decisions: dict[str, ReviewDecision]) -> Applied:
    """Drop rejected examples, apply edits, add accepted drafts from the review file.

    Drafts produced in this build stay drafts (not returned) unless already accepted.
    """
    result = Applied(examples=[])
    present: set[str] = set()
    for example in examples:
        present.add(example.id)
        decision = decisions.get(example.id)
        if decision is not None and decision.decision == "reject":
            result.rejected += 1
            continue
        if decision is not None and decision.decision == "edit" and decision.completion:
            example = edited(example, decision.completion)
            result.edited += 1
        elif decision is not None:
            example.reviewed = "accept"
        if example.draft and decision is None:
            continue
        example.draft = False
        result.examples.append(example)
    for decision in decisions.values():
        if decision.example is None or decision.id in present or decision.decision == "reject":
            continue
        example = Example.from_row(decision.example)
        example.draft = False
        example.holdable = False
        example.reviewed = decision.decision
        result.examples.append(example)
        result.accepted_drafts += 1
    return result


def pending_items(repo: FlowRepo, manifest: DatasetManifest | None = None) -> list[ReviewItem]:
    """Examples of the latest build nobody has decided on yet: drafts first, then SFT, then DPO."""
    manifest = manifest or load_manifest(repo)
    decisions = load_decisions(repo)
    found: list[tuple[str, Example]] = []
    for name in REVIEWED_FILES:
        filename = manifest.files.get(name)
        if not filename:
            continue
        for row in read_rows(manifest.path / filename):
            if row["id"] not in decisions:
                found.append((name, Example.from_row(row)))
    return [ReviewItem(example=e, file=f, index=i, total=len(found)) for i, (f, e) in enumerate(found)]


Decider = Callable[[ReviewItem], "ReviewDecision | Action | None"]


def run_review(repo: FlowRepo, decide: Decider, limit: int | None = None) -> ReviewSummary:
    """Offer each pending example to ``decide`` and persist every decision as it is made.

    ``decide`` returns a :class:`ReviewDecision`, or ``"accept"``/``"reject"``/``"skip"``/
    ``"quit"`` (``None`` skips). Quitting keeps the decisions made so far.
    """
    items = pending_items(repo)
    summary = ReviewSummary(pending=len(items))
    for item in items[:limit] if limit is not None else items:
        answer = decide(item)
        if answer is None or answer == "skip":
            summary.skipped += 1
            continue
        if answer == "quit":
            summary.stopped = True
            break
        decision = answer if isinstance(answer, ReviewDecision) else ReviewDecision(item.example.id, answer)
        if decision.decision not in DECISIONS:
            raise DatasetError(
                f"unknown review decision {decision.decision!r}", hint="accept, reject, edit, skip or quit"
            )
        if item.example.draft and decision.decision != "reject" and decision.example is None:
            row = item.example.row()
            if decision.completion:
                row["completion"] = [{"role": "assistant", "content": scrub(decision.completion.strip())}]
            decision = ReviewDecision(decision.id, decision.decision, decision.completion, row)
        record_decisions(repo, [decision])
        summary.decided.append(decision.id)
        if decision.decision == "accept":
            summary.accepted += 1
        elif decision.decision == "reject":
            summary.rejected += 1
        else:
            summary.edited += 1
    summary.pending -= len(summary.decided)
    return summary


def accept_all(repo: FlowRepo) -> ReviewSummary:
    """Accept every pending example in one write (automation: ``flow dataset review --accept-all``)."""
    items = pending_items(repo)
    decisions = [
        ReviewDecision(item.example.id, "accept", None, item.example.row() if item.example.draft else None)
        for item in items
    ]
    record_decisions(repo, decisions)
    return ReviewSummary(accepted=len(decisions), decided=[d.id for d in decisions])

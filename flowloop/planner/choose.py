"""The human's pick is the signal: ``flow plan choose PLAN_SET_ID K [--edit]`` and the MCP
tool ``choose_plan``.

Choosing plan K of a set records, keyed by the set's task, through the signals API that
``flow signal`` uses (:func:`flowloop.signals.api.record`):

- a ``preference``: the chosen plan over each other plan of the set (when it had others);
- an ``approval`` when the plan is taken as is (an edit that changes nothing is taken as is);
- a ``rewrite`` when it was edited: the draft as the agent's output, the edit as the final one.

Then it writes the chosen plan (as edited) as the task's Type 1 note, in the shape ``flow pilr
new --type ephemeral`` creates, and marks the set chosen. Everything is checked before anything
is written; the order of the writes makes a retry after a crash safe: the events carry
idempotency keys made from the set's id (a second store of them is a no-op), the note is found
again by its task and text, and only then is the set marked chosen, which refuses a second pick.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from flowloop.errors import PlanError
from flowloop.pilr.model import Pilr, PilrType
from flowloop.planner.store import PlanSet, load, locked, save
from flowloop.repo import FlowRepo

MAX_TITLE_CHARS = 80


@dataclass
class Choice:
    """What a pick recorded: the events (kind and id), the note, and whether it was edited."""

    plan_set: PlanSet
    k: int
    edited: bool
    events: list[dict[str, str]] = field(default_factory=list)
    note_id: str = ""
    note_path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"plan_set_id": self.plan_set.id, "task": self.plan_set.task, "k": self.k, "edited": self.edited,
                "events": self.events, "note": {"id": self.note_id, "path": self.note_path}}


def _events(plan_set: PlanSet, k: int, final: str, source: str) -> list[dict[str, Any]]:
    texts = [plan.markdown() for plan in plan_set.plans]
    chosen = texts[k - 1]
    others = [t for i, t in enumerate(texts, start=1) if i != k and t != chosen]
    common = {"task": plan_set.task, "prompt": plan_set.prompt, "source": source}
    items: list[dict[str, Any]] = []
    if others:
        items.append({"kind": "preference", "options": texts, "chosen": chosen, "rejected": others, **common})
    if final == chosen.strip():
        items.append({"kind": "approval", "output": chosen, **common})
    else:
        items.append({"kind": "rewrite", "agent_output": chosen, "final": final, **common})
    for item in items:  # the same pick always makes the same events: a retry stores none twice
        key = f"plan:{plan_set.id}:{item['kind']}"
        item.update(idempotency_key=key, id=hashlib.sha256(key.encode()).hexdigest()[:32])
    return items


def _title(plan_set: PlanSet) -> str:
    first = plan_set.description.splitlines()[0].strip()
    if len(first) > MAX_TITLE_CHARS:
        first = first[:MAX_TITLE_CHARS].rsplit(" ", 1)[0] + " ..."
    return f"{plan_set.task} plan: {first}"


def _note(repo: FlowRepo, plan_set: PlanSet, final: str, files: list[str]) -> Pilr:
    """The task's Type 1 note; the one a crashed earlier pick already wrote, if there is one."""
    from flowloop.pilr.lifecycle import create_document
    from flowloop.pilr.store import PilrStore
    from flowloop.planner.shape import note_body

    store = PilrStore(repo)
    body = note_body(plan_set.description, final)
    for doc in store.load():
        if doc.type == PilrType.EPHEMERAL and doc.meta.task == plan_set.task and doc.body.strip() == body.strip():
            return doc
    return create_document(store, PilrType.EPHEMERAL, _title(plan_set), tags=["plan"], task=plan_set.task,
                           body=body, sources=files)


def choose_plan(repo: FlowRepo, plan_set_id: str, k: int, edited_text: str | None = None,
                *, source: str = "cli") -> Choice:
    """Pick plan ``k`` (1-based, as ranked) of a set; ``edited_text`` is the plan as the human
    rewrote it (None: taken as is)."""
    from flowloop.pipeline.prompts import parse_files_answer
    from flowloop.pilr.sections import find_section
    from flowloop.signals.api import PREFERENCE_KINDS, record

    load(repo, plan_set_id)  # a set that does not exist is refused before any lock file is made
    with locked(repo, plan_set_id):
        plan_set = load(repo, plan_set_id)
        if plan_set.chosen:
            was = plan_set.chosen
            raise PlanError(f"plan set {plan_set_id} was already chosen (plan {was.get('k')}, {was.get('at')})",
                            field="plan_set_id", hint='draft a new set with `flow plan "TASK"` to choose again')
        if not 1 <= k <= len(plan_set.plans):
            raise PlanError(f"plan set {plan_set_id} has plans 1 to {len(plan_set.plans)}, not {k}", field="k")
        chosen = plan_set.plans[k - 1]
        final = chosen.markdown().strip() if edited_text is None else edited_text.strip()
        if not final:
            raise PlanError("the edited plan is empty: nothing recorded", field="edited_text",
                            hint="keep the plan's text, or choose without editing")
        edited = final != chosen.markdown().strip()
        files = chosen.files if not edited else parse_files_answer(find_section(final, "files"))
        result = record(repo, _events(plan_set, k, final, source), where=f"plan set {plan_set_id}",
                        allowed=PREFERENCE_KINDS)
        note = _note(repo, plan_set, final, files)
        events = [{"kind": e.kind, "id": e.id} for e in result.events]
        plan_set.chosen = {"k": k, "edited": edited, "source": source, "events": events, "note": note.id,
                           "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        save(repo, plan_set)
    return Choice(plan_set, k, edited, events, note.id, str(note.path))

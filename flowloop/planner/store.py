"""Plan sets on disk: one JSON file per set under ``.flow/state/plans/<id>.json``.

A plan set is written once, whole and atomically, when it is drafted, and once more when a plan
is chosen (the pick, the events it recorded, the note it wrote). State files, not signals: a
draft nobody picked teaches nothing, so it stays out of the signals store, and the pick itself
lands there as ordinary preference, approval or rewrite events. A choice holds the set's lock
(``fcntl``, released when the process ends however it ends), so two pickers cannot both record.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowloop.atomic import atomic_write_text
from flowloop.errors import PlanError
from flowloop.planner.shape import Plan
from flowloop.repo import FlowRepo

PLANS_DIR = "plans"
FORMAT = 1
_ID = re.compile(r"^[0-9a-f]{10}$")


def new_id() -> str:
    return uuid.uuid4().hex[:10]


@dataclass
class PlanSet:
    """The ranked drafts for one task, how they were made, and (once chosen) the pick."""

    id: str
    task: str  # the task id the signals are keyed by
    description: str
    prompt: str  # the request the drafts answer, as the signals' prompt (no as-of context)
    model: str
    scored_by: str
    plans: list[Plan]
    localization: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    drawn: int = 0  # samples drawn before identical ones were dropped
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    chosen: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "id": self.id, "task": self.task, "description": self.description,
                "prompt": self.prompt, "model": self.model, "scored_by": self.scored_by,
                "localization": self.localization, "notes": self.notes, "drawn": self.drawn,
                "created_at": self.created_at, "chosen": self.chosen,
                "plans": [{"k": i, **p.to_dict()} for i, p in enumerate(self.plans, start=1)]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PlanSet":
        return cls(id=data["id"], task=data["task"], description=data["description"], prompt=data["prompt"],
                   model=data["model"], scored_by=data["scored_by"],
                   plans=[Plan.from_dict(p) for p in data["plans"]], localization=data.get("localization") or {},
                   notes=list(data.get("notes") or []), drawn=int(data.get("drawn") or 0),
                   created_at=data["created_at"], chosen=data.get("chosen"))


def plans_dir(repo: FlowRepo) -> Path:
    return repo.state_dir / PLANS_DIR


def path_of(repo: FlowRepo, plan_set_id: str) -> Path:
    """The file of a plan set; an id of another shape names no set (and never a path outside)."""
    if not _ID.match(plan_set_id or ""):
        raise PlanError(f"no plan set {plan_set_id!r}: a plan set id is 10 hex digits", field="plan_set_id",
                        hint='`flow plan "TASK"` prints the id of the set it drafts')
    return plans_dir(repo) / f"{plan_set_id}.json"


def save(repo: FlowRepo, plan_set: PlanSet) -> Path:
    path = repo.state_path(PLANS_DIR, f"{plan_set.id}.json")
    atomic_write_text(path, json.dumps(plan_set.to_dict(), indent=1, ensure_ascii=False) + "\n")
    return path


def load(repo: FlowRepo, plan_set_id: str) -> PlanSet:
    path = path_of(repo, plan_set_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanError(f"no plan set {plan_set_id!r}", path=path, field="plan_set_id",
                        hint='draft one with `flow plan "TASK"`; it prints the set\'s id') from None
    except (OSError, ValueError) as exc:
        raise PlanError(f"plan set {plan_set_id!r} cannot be read: {exc}", path=path,
                        hint='draft the plans again with `flow plan "TASK"`') from exc
    try:
        return PlanSet.from_dict(data)
    except (KeyError, TypeError) as exc:
        raise PlanError(f"plan set {plan_set_id!r} is not a plan set file (missing {exc})", path=path,
                        hint='draft the plans again with `flow plan "TASK"`') from exc


@contextlib.contextmanager
def locked(repo: FlowRepo, plan_set_id: str) -> Iterator[None]:
    """Hold the set's lock (waiting for another picker to finish)."""
    path = path_of(repo, plan_set_id).with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

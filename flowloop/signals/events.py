"""The behavioral signal events (seed, "Beyond PILRs: behavioral training signals").

Category A, preference: ``preference`` (options shown, one chosen), ``approval`` (accepted
without edits), ``rewrite`` (the human's final version; the edit distance is computed),
``scope_change`` (plan vs approved plan; the delta is computed). Category B, outcome:
``outcome`` (a metric about a task or commit; only ever a weight, never a label). Category C,
correction: ``correction``. Plus ``retrieval`` (the index's usage log) and ``work_record`` (a
finished task and the files it touched, e.g. mined from git).

Events are versioned (``schema_version``) and validated strictly: unknown fields are refused so a
typo in a hook payload never silently drops data.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import uuid
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from flowloop.errors import SignalError

SCHEMA_VERSION = 1

KINDS = (
    "preference",
    "approval",
    "rewrite",
    "scope_change",
    "correction",
    "outcome",
    "retrieval",
    "work_record",
)

# Outcome metrics the pipeline understands; any other name is kept as free-form.
KNOWN_METRICS = ("ci_passed", "time_to_green_s", "reverted", "hotfix", "error_rate", "tests_total", "tests_failed")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class EventBase(BaseModel):
    """Fields every event has. ``idempotency_key`` defaults to a hash of the content.

    No number may be NaN or infinite: strict JSON cannot carry them, so one stored would break
    every export and ``--json`` listing after it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    schema_version: int = SCHEMA_VERSION
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    kind: str
    task: str | None = None
    session: str | None = None
    actor: str | None = None
    repo_commit: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    idempotency_key: str = ""
    source: str = "api"

    @model_validator(mode="after")
    def _defaults(self) -> "EventBase":
        if self.created_at.tzinfo is None:
            self.created_at = self.created_at.replace(tzinfo=dt.timezone.utc)
        if not self.idempotency_key:
            self.idempotency_key = self.content_key()
        return self

    def payload(self) -> dict[str, Any]:
        """Kind-specific fields only (what the store keeps in its JSON column)."""
        common = set(EventBase.model_fields)
        return {k: v for k, v in self.model_dump(mode="json").items() if k not in common}

    def content_key(self, with_time: bool = True) -> str:
        """Stable hash of what the event says (not its random id), so a retry dedupes.

        ``with_time=False`` leaves ``created_at`` out: for an event whose time the receiver
        stamped (a client that sent neither key nor time), where a retry differs only in it."""
        body: dict[str, Any] = {
            "kind": self.kind,
            "task": self.task,
            "session": self.session,
            "payload": self.payload(),
        }
        if with_time:
            body["created_at"] = self.created_at.isoformat()
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
        return f"auto:{digest[:32]}"


class PreferenceEvent(EventBase):
    kind: Literal["preference"] = "preference"
    prompt: str = ""
    options: list[str] = Field(default_factory=list)
    chosen: str = Field(min_length=1)
    rejected: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _options(self) -> "PreferenceEvent":
        if not self.options:
            self.options = [self.chosen, *self.rejected]
        if self.chosen in self.rejected:
            raise ValueError("the chosen option is also listed as rejected")
        return self


class ApprovalEvent(EventBase):
    kind: Literal["approval"] = "approval"
    prompt: str = ""
    output: str = Field(min_length=1)


class RewriteEvent(EventBase):
    kind: Literal["rewrite"] = "rewrite"
    prompt: str = ""
    agent_output: str = Field(min_length=1)
    final: str = Field(min_length=1)
    edit_distance: int = -1

    @model_validator(mode="after")
    def _distance(self) -> "RewriteEvent":
        if self.edit_distance < 0:
            self.edit_distance = levenshtein(self.agent_output, self.final)
        return self


class ScopeChangeEvent(EventBase):
    kind: Literal["scope_change"] = "scope_change"
    plan: str = Field(min_length=1)
    approved_plan: str = Field(min_length=1)
    delta: str = ""

    @model_validator(mode="after")
    def _delta(self) -> "ScopeChangeEvent":
        if not self.delta:
            diff = difflib.unified_diff(
                self.plan.splitlines(), self.approved_plan.splitlines(), "plan", "approved", lineterm="", n=0
            )
            self.delta = "\n".join(diff)
        return self


class CorrectionEvent(EventBase):
    kind: Literal["correction"] = "correction"
    context: str = ""
    agent: str = Field(min_length=1)
    correction: str = Field(min_length=1)


class OutcomeEvent(EventBase):
    kind: Literal["outcome"] = "outcome"
    metric: str = Field(min_length=1)
    value: float
    window: str | None = None
    commit: str | None = None


class Candidate(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    id: str
    score: float
    path: str | None = None


class RetrievalEvent(EventBase):
    kind: Literal["retrieval"] = "retrieval"
    operation: Literal["search", "context"] = "search"
    query: str = Field(min_length=1)
    candidates: list[Candidate] = Field(default_factory=list)
    injected: list[str] = Field(default_factory=list)
    used: list[str] = Field(default_factory=list)


class WorkRecordEvent(EventBase):
    kind: Literal["work_record"] = "work_record"
    description: str = Field(min_length=1)
    files: list[str] = Field(default_factory=list)
    commit: str | None = None
    author_time: dt.datetime | None = None


Event = Annotated[
    Union[
        PreferenceEvent,
        ApprovalEvent,
        RewriteEvent,
        ScopeChangeEvent,
        CorrectionEvent,
        OutcomeEvent,
        RetrievalEvent,
        WorkRecordEvent,
    ],
    Field(discriminator="kind"),
]

_ADAPTER: TypeAdapter[Any] = TypeAdapter(Event)


def parse_event(data: Any, where: str = "event") -> EventBase:
    """Validate one event. ``where`` (e.g. ``"events.jsonl:12"``) prefixes the error."""
    if not isinstance(data, dict):
        raise SignalError(f"{where}: an event must be a JSON object", hint="send {\"kind\": ..., ...}")
    if data.get("kind") not in KINDS:
        raise SignalError(
            f"{where}: unknown or missing kind {data.get('kind')!r}",
            field="kind",
            hint=f"use one of: {', '.join(KINDS)}",
        )
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        # Pydantic puts the discriminator tag first; drop only that one (the ``correction`` kind
        # also has a field named ``correction``).
        if loc and loc[0] == data["kind"]:
            loc = loc[1:]
        field = ".".join(loc) or None
        raise SignalError(f"{where}: {err['msg']}", field=field, hint="see `flow signal --help` for the fields of each kind") from exc


def levenshtein(a: str, b: str) -> int:
    """Character edit distance (rapidfuzz: C speed on long agent outputs)."""
    from rapidfuzz.distance import Levenshtein

    return int(Levenshtein.distance(a, b))

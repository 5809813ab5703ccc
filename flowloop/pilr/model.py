"""The PILR document: typed front matter plus a markdown body.

Three types (seed, "The Fast Loop: PILRs"): ``ephemeral`` per-task plans and notes,
``evergreen`` architecture/contracts/ADRs (never deleted without a replacement), ``cumulative``
solved problems and post-mortems (only grows). Links between documents (``supersedes``,
``superseded_by``, ``derived_from``) carry the provenance of knowledge flowing upward.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator


class PilrType(str, Enum):
    EPHEMERAL = "ephemeral"
    EVERGREEN = "evergreen"
    CUMULATIVE = "cumulative"


class PilrStatus(str, Enum):
    ACTIVE = "active"
    ARCHIVED = "archived"
    SUPERSEDED = "superseded"
    # Written by something other than a human's hand (an agent, mined from a transcript, sent
    # over HTTP or MCP): never injected nor trained on until `flow pilr accept` (quarantine).
    PROPOSED = "proposed"


ID_PREFIX = {PilrType.EPHEMERAL: "eph", PilrType.EVERGREEN: "evg", PilrType.CUMULATIVE: "cum"}
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")  # used with fullmatch: "$" let "id\n" pass

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")

# Field order of the rendered front matter; stable so diffs in review stay small.
FIELD_ORDER = (
    "id",
    "type",
    "title",
    "status",
    "tags",
    "created",
    "updated",
    "task",
    "supersedes",
    "superseded_by",
    "derived_from",
    "sources",
    "origin",
)
# Rendered only when set, so that documents written before these fields existed keep their bytes.
OMIT_WHEN_EMPTY = frozenset({"origin"})


class PilrMeta(BaseModel):
    """Front matter of one document. Unknown keys are refused so typos surface in lint."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    id: str
    type: PilrType
    title: str = Field(min_length=1)
    status: PilrStatus = PilrStatus.ACTIVE
    tags: list[str] = Field(default_factory=list)
    created: dt.date
    updated: dt.date
    task: str | None = None
    supersedes: list[str] = Field(default_factory=list)
    superseded_by: str | None = None
    derived_from: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    origin: str | None = None  # where an untrusted write came from ("mcp", "http", "agent", ...)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not ID_PATTERN.fullmatch(value):
            raise ValueError(
                "must be lowercase letters, digits, '.', '_' or '-' (at most 128 characters)"
            )
        return value

    @field_validator("title", "task", "superseded_by", "origin")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        # A newline in a title once wrote "status: archived" and a "---" fence into the front
        # matter: the file stopped parsing and every command reading the store failed.
        if value is not None and _CONTROL.search(value):
            raise ValueError("must be one line without control characters (no newline or tab)")
        return value

    @field_validator("tags", "supersedes", "derived_from", "sources")
    @classmethod
    def _one_line_items(cls, value: list[str]) -> list[str]:
        for item in value:
            if _CONTROL.search(item) or not item.strip():
                raise ValueError(f"{item!r}: each entry must be one non-empty line without control characters")
        return value

    @field_validator("tags", "supersedes", "derived_from", "sources", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        if value is None:
            return []
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("task", "superseded_by", mode="before")
    @classmethod
    def _stringify(cls, value: object) -> object:
        # YAML reads an unquoted task number like 1432 as an int; ids are strings.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value


class Pilr(BaseModel):
    """A parsed document: its front matter, its body and where it lives."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    meta: PilrMeta
    body: str
    path: Path

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def type(self) -> PilrType:
        return self.meta.type

    @property
    def title(self) -> str:
        return self.meta.title

    @property
    def status(self) -> PilrStatus:
        return self.meta.status


def slugify(text: str, max_len: int = 60) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_len].rstrip("-") or "doc"

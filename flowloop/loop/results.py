"""Typed results of the loop's stages, and their JSON form in the run state.

Each stage returns one of these; ``to_json`` is what ``.flow/state/loop/state.json`` keeps (and
what the report reads), ``from_json`` reads it back when a rerun continues after a finished
stage. Keys a stage does not set are left out of the JSON, so state files written before these
types existed read back the same.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class CollectResult:
    git: bool
    added: int = 0
    new_commits: int = 0
    work_records: int = 0
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v != "" or k != "message"}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CollectResult":
        return cls(git=bool(data.get("git", False)), added=int(data.get("added", 0)),
                   new_commits=int(data.get("new_commits", 0)), work_records=int(data.get("work_records", 0)),
                   message=str(data.get("message", "")))


@dataclass
class PassCount:
    """One pass's threshold count in the stage's dataset."""

    count: int
    threshold: int
    ready: bool


@dataclass
class DatasetResult:
    version: str
    reused: bool
    content_hash: str
    passes: dict[str, PassCount] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        # each pass under its own name, as the state files have always kept them
        return {"version": self.version, "reused": self.reused, "content_hash": self.content_hash,
                **{name: asdict(count) for name, count in self.passes.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "DatasetResult":
        fixed = {"version", "reused", "content_hash"}
        passes = {k: PassCount(int(v["count"]), int(v["threshold"]), bool(v["ready"]))
                  for k, v in data.items() if k not in fixed and isinstance(v, dict)}
        return cls(str(data["version"]), bool(data.get("reused", False)), str(data.get("content_hash", "")), passes)


@dataclass
class TrainStageResult:
    """Whether one pass trained this run, and the one line that says why or why not."""

    trained: bool
    message: str
    version: str | None = None
    new: int = 0
    steps: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"trained": self.trained, "message": self.message}
        if self.trained:
            out.update(version=self.version, new=self.new, steps=self.steps, seconds=round(self.seconds, 1))
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TrainStageResult":
        return cls(trained=bool(data.get("trained", False)), message=str(data.get("message", "")),
                   version=data.get("version"), new=int(data.get("new", 0)), steps=int(data.get("steps", 0)),
                   seconds=float(data.get("seconds", 0.0)))


@dataclass
class Decision:
    candidate: str
    promoted: bool
    reason: str
    reference: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"candidate": self.candidate, "promoted": self.promoted, "reason": self.reason}
        if self.reference is not None:
            out["reference"] = self.reference
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Decision":
        return cls(str(data["candidate"]), bool(data["promoted"]), str(data.get("reason", "")), data.get("reference"))


@dataclass
class PromoteResult:
    decisions: list[Decision] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"decisions": [d.to_json() for d in self.decisions]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PromoteResult":
        return cls([Decision.from_json(d) for d in data.get("decisions", [])])


@dataclass
class EvaluateResult:
    """Each evaluated model's result JSON, and the models that could not be evaluated."""

    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"models": self.models, "errors": self.errors}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "EvaluateResult":
        return cls(dict(data.get("models", {})), dict(data.get("errors", {})))


@dataclass(frozen=True)
class StageEvent:
    """A stage starting or ending, for a caller that logs where the run is (CI logs, cron mail)."""

    stage: str
    phase: str  # "start", "end" or "skip" (finished in an earlier, interrupted run; or nothing to do)
    detail: str = ""
    seconds: float = 0.0

    def line(self) -> str:
        """The event as one plain log line."""
        if self.phase == "start":
            return f"[loop] {self.stage}: started"
        if self.phase == "skip":
            return f"[loop] {self.stage}: skipped" + (f" ({self.detail})" if self.detail else "")
        return f"[loop] {self.stage}: done in {self.seconds:.1f}s" + (f": {self.detail}" if self.detail else "")


@dataclass
class ReportResult:
    path: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path}

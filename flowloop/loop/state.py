"""The loop's memory between runs: which stages of the current run finished, with their results.

``.flow/state/loop/state.json`` holds one run: its number, status (``running``, ``failed``,
``done``) and per stage ``{"status", "result", "finished_at"}``. It is rewritten atomically after
every stage, so a run killed at any point resumes at the first stage not marked ``done``. A
finished run is also copied to ``loop/runs/run-<n>.json`` (history for the report), and its
input fingerprint lets the next run say "nothing new" without rebuilding anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowloop.atomic import atomic_write_text
from flowloop.errors import FlowError
from flowloop.repo import FlowRepo

def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def state_path(repo: FlowRepo) -> Path:
    return repo.state_dir / "loop" / "state.json"


@dataclass
class RunState:
    run: int
    started_at: str
    status: str = "running"
    finished_at: str | None = None
    resumed: int = 0
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    fingerprint: str = ""

    def done(self, stage: str) -> bool:
        return self.stages.get(stage, {}).get("status") == "done"

    def result(self, stage: str) -> dict[str, Any]:
        return dict(self.stages.get(stage, {}).get("result") or {})

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "started_at": self.started_at,
            "status": self.status,
            "finished_at": self.finished_at,
            "resumed": self.resumed,
            "fingerprint": self.fingerprint,
            "stages": self.stages,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RunState":
        return cls(
            run=int(data["run"]),
            started_at=str(data["started_at"]),
            status=str(data.get("status", "running")),
            finished_at=data.get("finished_at"),
            resumed=int(data.get("resumed", 0)),
            stages=dict(data.get("stages", {})),
            fingerprint=str(data.get("fingerprint", "")),
        )


def load_state(repo: FlowRepo) -> RunState | None:
    path = state_path(repo)
    if not path.is_file():
        return None
    try:
        return RunState.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FlowError(
            f"unreadable loop state: {exc}", path=path, hint="delete it to start the next run from scratch"
        ) from exc


def save_state(repo: FlowRepo, state: RunState) -> None:
    atomic_write_text(state_path(repo), json.dumps(state.to_json(), indent=1) + "\n")
    if state.status == "done":
        atomic_write_text(repo.state_dir / "loop" / "runs" / f"run-{state.run}.json", json.dumps(state.to_json(), indent=1) + "\n")


def mark(repo: FlowRepo, state: RunState, stage: str, status: str, result: dict[str, Any] | None = None) -> None:
    state.stages[stage] = {"status": status, "result": result or {}, "finished_at": now()}
    save_state(repo, state)


def last_run(repo: FlowRepo) -> dict[str, Any]:
    """The latest run's state as JSON ({} when the loop never ran)."""
    state = load_state(repo)
    return state.to_json() if state is not None else {}


def input_fingerprint(repo: FlowRepo, signal_count: int) -> str:
    """A hash of what a dataset is built from: PILRs, config, documentation sources, signal count."""
    digest = hashlib.sha256()
    digest.update(f"signals:{signal_count}\n".encode())
    files = [repo.config_path, *sorted(repo.pilrs_dir.rglob("*.md"))]
    for source in repo.settings.sources:
        files.extend(sorted(p for p in repo.root.glob(source.glob) if p.is_file()))
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(repo.root)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()

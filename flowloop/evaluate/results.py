"""Eval results: their shape, their JSON, and where they are stored.

One file per (model, dataset): ``.flow/state/evals/<model>-<dataset>.json``, written atomically
once the whole evaluation finished (an interrupted run stores nothing). The file holds the public
JSON of ``flow eval --json`` plus what the gate and the report need: the dataset hash, the
per-example scores (for paired comparisons) and when it was made.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowloop.atomic import atomic_write_text
from flowloop.errors import EvaluationError
from flowloop.evaluate.stats import Interval
from flowloop.repo import FlowRepo

EVALS_DIR = "evals"
# The key of the localizer-alone row in an EvalResult's baselines (beside retrieval_only, alone, base).
LOCALIZER_BASELINE = "localizer"
RECORD_VERSION = 1
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class SuiteResult:
    """One suite's metrics for one model: point estimates, ``n`` and 95% intervals."""

    name: str
    metrics: dict[str, float]
    n: int
    ci: dict[str, Interval]
    details: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: round(v, 4) for k, v in self.metrics.items()}
        out["n"] = self.n
        out["ci"] = {k: [round(lo, 4), round(hi, 4)] for k, (lo, hi) in self.ci.items()}
        return out

    def to_record(self) -> dict[str, Any]:
        return {**self.to_json(), "details": self.details}

    @classmethod
    def from_record(cls, name: str, data: dict[str, Any]) -> "SuiteResult":
        ci = {k: (float(v[0]), float(v[1])) for k, v in data.get("ci", {}).items()}
        metrics = {k: float(v) for k, v in data.items() if k not in ("n", "ci", "details")}
        return cls(name, metrics, int(data.get("n", 0)), ci, list(data.get("details", [])))


@dataclass
class EvalResult:
    """Every suite of one model on one dataset, plus the baselines it is compared against."""

    model: str
    dataset: str
    dataset_hash: str
    suites: dict[str, SuiteResult] = field(default_factory=dict)
    # baseline name ("base", "retrieval_only", "alone") -> suite name -> result
    baselines: dict[str, dict[str, SuiteResult]] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat())
    settings: dict[str, Any] = field(default_factory=dict)
    empty: list[str] = field(default_factory=list)  # suites asked for that had no examples
    # paired comparisons over the same examples: name -> {diff, ci, n}
    paired: dict[str, dict[str, Any]] = field(default_factory=dict)

    def covers(self, suites: list[str]) -> bool:
        """True when every suite in ``suites`` was scored or found to have no data."""
        return all(s in self.suites or s in self.empty for s in suites)

    def metric(self, dotted: str) -> float | None:
        """``planning.f1`` -> the value, or None when that suite was not run."""
        suite, _, name = dotted.partition(".")
        found = self.suites.get(suite)
        return None if found is None else found.metrics.get(name)

    def to_json(self) -> dict[str, Any]:
        """The public shape of ``flow eval --json``."""
        return {
            "model": self.model,
            "dataset": self.dataset,
            "suites": {name: s.to_json() for name, s in self.suites.items()},
            "baselines": {
                base: {name: s.to_json() for name, s in suites.items()}
                for base, suites in self.baselines.items()
            },
            **({"paired": self.paired} if self.paired else {}),
        }

    def to_record(self) -> dict[str, Any]:
        return {
            "record_version": RECORD_VERSION,
            "model": self.model,
            "dataset": self.dataset,
            "dataset_hash": self.dataset_hash,
            "created_at": self.created_at,
            "settings": self.settings,
            "empty": self.empty,
            "paired": self.paired,
            "suites": {name: s.to_record() for name, s in self.suites.items()},
            "baselines": {
                base: {name: s.to_record() for name, s in suites.items()}
                for base, suites in self.baselines.items()
            },
        }

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> "EvalResult":
        return cls(
            model=str(data["model"]),
            dataset=str(data["dataset"]),
            dataset_hash=str(data.get("dataset_hash", "")),
            suites={k: SuiteResult.from_record(k, v) for k, v in data.get("suites", {}).items()},
            baselines={
                base: {k: SuiteResult.from_record(k, v) for k, v in suites.items()}
                for base, suites in data.get("baselines", {}).items()
            },
            created_at=str(data.get("created_at", "")),
            settings=dict(data.get("settings", {})),
            empty=list(data.get("empty", [])),
            paired=dict(data.get("paired", {})),
        )


def result_path(repo: FlowRepo, model: str, dataset: str) -> Path:
    name = f"{_SAFE.sub('_', model)}-{_SAFE.sub('_', dataset)}.json"
    return repo.state_dir / EVALS_DIR / name


def store_result(repo: FlowRepo, result: EvalResult) -> Path:
    path = result_path(repo, result.model, result.dataset)
    atomic_write_text(path, json.dumps(result.to_record(), indent=1, sort_keys=False) + "\n")
    return path


def load_result(repo: FlowRepo, model: str, dataset: str, dataset_hash: str | None = None) -> EvalResult | None:
    """The stored result, or None if absent or made on different data (a rebuilt dataset)."""
    path = result_path(repo, model, dataset)
    if not path.is_file():
        return None
    result = _read(path)
    if dataset_hash is not None and result.dataset_hash != dataset_hash:
        return None
    return result


def all_results(repo: FlowRepo) -> list[EvalResult]:
    """Every stored result (for the report), oldest first."""
    folder = repo.state_dir / EVALS_DIR
    if not folder.is_dir():
        return []
    found = [_read(path) for path in sorted(folder.glob("*.json"))]
    return sorted(found, key=lambda r: r.created_at)


def _read(path: Path, parse: Any = None, command: str = "`flow eval`") -> Any:
    """A stored result parsed by ``parse`` (default: an eval result); a clear error when broken."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return (parse or EvalResult.from_record)(data)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EvaluationError(
            f"stored eval result is unreadable: {exc}",
            path=path,
            hint=f"delete the file; {command} recomputes it",
        ) from exc

RETRIEVAL_DIR = "retrieval"


@dataclass
class RetrievalResult:
    """The retrieval suite on one dataset: each system's document metrics (``systems``), its
    file metric where it has one (``files``), what each system is (``specs``: models, weights,
    in words under ``label``), and each one's paired difference against ``reference``."""

    dataset: str
    dataset_hash: str
    systems: dict[str, SuiteResult] = field(default_factory=dict)
    files: dict[str, SuiteResult] = field(default_factory=dict)
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    versus: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    reference: str = "stock"
    serving: str = ""
    notes: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat())
    settings: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The public shape of ``flow eval --suite retrieval --json``."""
        return {
            "suite": "retrieval", "dataset": self.dataset, "reference": self.reference, "serving": self.serving,
            "systems": {name: {"label": self.specs.get(name, {}).get("label", name), **s.to_json(),
                               **({"files": self.files[name].to_json()} if name in self.files else {}),
                               **({"vs_reference": self.versus[name]} if name in self.versus else {})}
                        for name, s in self.systems.items()},
            "notes": self.notes,
        }

    def to_record(self) -> dict[str, Any]:
        return {
            "record_version": RECORD_VERSION, "dataset": self.dataset, "dataset_hash": self.dataset_hash,
            "created_at": self.created_at, "settings": self.settings, "reference": self.reference,
            "serving": self.serving, "notes": self.notes, "specs": self.specs, "versus": self.versus,
            "systems": {name: s.to_record() for name, s in self.systems.items()},
            "files": {name: s.to_record() for name, s in self.files.items()},
        }

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> "RetrievalResult":
        return cls(
            dataset=str(data["dataset"]), dataset_hash=str(data.get("dataset_hash", "")),
            systems={k: SuiteResult.from_record("retrieval", v) for k, v in data.get("systems", {}).items()},
            files={k: SuiteResult.from_record("retrieval_files", v) for k, v in data.get("files", {}).items()},
            specs=dict(data.get("specs", {})), versus=dict(data.get("versus", {})),
            reference=str(data.get("reference", "stock")), serving=str(data.get("serving", "")),
            notes=list(data.get("notes", [])), created_at=str(data.get("created_at", "")),
            settings=dict(data.get("settings", {})),
        )


def retrieval_path(repo: FlowRepo, dataset: str) -> Path:
    return repo.state_dir / EVALS_DIR / RETRIEVAL_DIR / f"{_SAFE.sub('_', dataset)}.json"


def store_retrieval(repo: FlowRepo, result: RetrievalResult) -> Path:
    path = retrieval_path(repo, result.dataset)
    atomic_write_text(path, json.dumps(result.to_record(), indent=1) + "\n")
    return path


def load_retrieval(repo: FlowRepo, dataset: str, dataset_hash: str | None = None) -> RetrievalResult | None:
    """The stored retrieval result of a dataset, or None if absent or made on other data."""
    path = retrieval_path(repo, dataset)
    if not path.is_file():
        return None
    result = _read(path, RetrievalResult.from_record, "`flow eval --suite retrieval`")
    return None if dataset_hash is not None and result.dataset_hash != dataset_hash else result


def latest_retrieval(repo: FlowRepo) -> RetrievalResult | None:
    """The most recent retrieval result of any dataset (for the report)."""
    folder = repo.state_dir / EVALS_DIR / RETRIEVAL_DIR
    found = [_read(p, RetrievalResult.from_record) for p in folder.glob("*.json")] if folder.is_dir() else []
    return max(found, key=lambda r: r.created_at) if found else None


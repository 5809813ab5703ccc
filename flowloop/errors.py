"""One exception hierarchy for the whole library.

The library raises these and never prints or exits; the CLI alone turns them into messages and
exit codes (see ``flowloop.cli.main``). Each subclass carries what the user needs to act: the
file, the line, the field and the fix.
"""

from __future__ import annotations

from pathlib import Path


class FlowError(Exception):
    """Base class: a problem the user can fix. ``exit_code`` is what the CLI returns."""

    exit_code: int = 1

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.field = field
        self.hint = hint
        super().__init__(self.render())

    def location(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else str(self.path)

    def render(self) -> str:
        parts = []
        loc = self.location()
        if loc:
            parts.append(f"{loc}: ")
        if self.field:
            parts.append(f"field '{self.field}': ")
        parts.append(self.message)
        if self.hint:
            parts.append(f" ({self.hint})")
        return "".join(parts)


class NotInitializedError(FlowError):
    """The directory has no ``.flow/`` folder."""


class InitError(FlowError):
    """``flow init`` would create a .flow/ that shadows another."""


class ConfigError(FlowError):
    """``.flow/config.toml`` or a ``FLOW_*`` variable is invalid."""


class DocumentError(FlowError):
    """A PILR document is malformed: front matter, type, encoding, size."""


class DocumentNotFoundError(FlowError):
    """No PILR has the requested id."""


class LifecycleError(FlowError):
    """A lifecycle move that is not allowed (e.g. deleting evergreen knowledge without a replacement)."""


class QuarantineError(FlowError):
    """An untrusted write the screen refuses, or a quarantine move on a document not proposed.

    ``findings`` holds the screen's findings (``flowloop.pilr.screen.Finding``), each with its line."""

    def __init__(self, message: str, *, findings: list[object] | None = None, **kwargs: object) -> None:
        self.findings = list(findings or [])
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class IndexError_(FlowError):
    """The retrieval index cannot be built or read. (Trailing underscore: not the builtin.)"""


class QueryError(FlowError):
    """A search or context request is invalid (empty, too long, budget too small)."""


class ModelNotFoundError(FlowError):
    """A model (embedder, reranker, base LLM) is not installed locally; nothing downloads at run time."""


class SignalError(FlowError):
    """An event payload is invalid or cannot be stored."""


class StoreError(FlowError):
    """The signals store cannot be opened or migrated."""


class CollectorError(FlowError):
    """A collector (git, JUnit, hooks, webhooks) met input it cannot read."""


class GitError(CollectorError):
    """git is missing, this is not a git repository, or a git command failed (``flowloop.git``)."""


class DatasetError(FlowError):
    """A dataset is missing, corrupt or below its threshold."""


class TrainingError(FlowError):
    """Training cannot start or could not finish."""


class UnknownPass(DatasetError, TrainingError):
    """A training pass name that the pass registry does not declare (a dataset and a training
    problem at once: either kind of caller catches it)."""


class RegistryError(FlowError):
    """The model registry is missing a version or is inconsistent."""


class EvaluationError(FlowError):
    """Evaluation cannot run (no held-out data, mismatched dataset and model)."""


class InferenceError(FlowError):
    """An inference backend failed (a server that does not answer, a malformed reply)."""


class LockError(FlowError):
    """Another run holds the lock."""

    exit_code = 2


class AgentFileError(FlowError):
    """An agent instruction file (CLAUDE.md, AGENTS.md, a Cursor rule) cannot be updated safely."""


class ExportError(FlowError):
    """A model version cannot be exported (bad format, occupied output folder, no chat template)."""


class ValidateError(FlowError):
    """``flow validate`` cannot score what it was given (a missing plan file, a revision range
    that does not exist, no reward model under ``--require-model``). Exit code 2, so a CI step
    tells "could not validate" from "something is below threshold" (exit 1)."""

    exit_code = 2


class PlanError(FlowError):
    """``flow plan`` cannot draft or record a pick: a bad count, a plan set that does not exist or
    was already chosen, an edit that failed (nothing is recorded then)."""

"""The model registry (contract 4): every training run lands here as a numbered version.

Layout, under ``.flow/state/models/specialist/``::

    v1/adapter/          PEFT LoRA adapter + tokenizer (chat template, EOS) of that run
    v1/manifest.json     version, pass, base_model, dataset_version, dataset_hash, settings,
                         metrics, parent, created_at (+ run id, device, precision)
    current.json         the promoted version and the stack of earlier ones:
                         {"version": "v2", "stack": ["v1", "v2"], "previous": ..., ...}
    promotions.jsonl     who promoted or rolled back what, when and why (an audit log)

Nothing is ever half-written: a version is assembled in a ``.tmp-*`` folder (adapter copied,
manifest written) and renamed to ``vN`` in one step, so a crash leaves either the whole version
or a stray temp folder that listings ignore and the next registration removes. ``current.json``
and the log are replaced atomically, under a file lock so two promotions cannot interleave.
The pointer alone is the truth (it carries the promotion stack that rollback pops), so a crash
between writing it and appending the log line loses at most an audit line.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowloop.atomic import atomic_write_text
from flowloop.errors import RegistryError
from flowloop.repo import FlowRepo

MANIFEST = "manifest.json"
ADAPTER = "adapter"
CURRENT = "current.json"
LOG = "promotions.jsonl"
_VERSION = re.compile(r"^v(\d+)$")
_REQUIRED = ("version", "pass", "base_model", "created_at")
STALE_TEMP_S = 3600.0
# What each family's version folder holds: the specialist a PEFT adapter; every other family
# named by a training pass (the retrieval models of issue 16) a whole model folder.
SPECIALIST = ("adapter", "adapter_config.json", "a PEFT adapter folder")
MODEL_FOLDER = ("model", "config.json", "a model folder")
# Learned fusion (issue 16): no model, the retrieval weights fitted on the repository's history,
# versioned and promoted like a model so the gate's choice has lineage and can be rolled back.
FUSION = "fusion"
FUSION_FOLDER = ("model", "fusion.json", "a fusion settings folder")


def family_layout(family: str) -> tuple[str, str, str]:
    """``(folder, marker file, what it is)`` of a family's versions; an unknown family is an error."""
    from flowloop.passes import passes

    if family == "specialist":
        return SPECIALIST
    if family == FUSION:
        return FUSION_FOLDER
    if family in {p.family for p in passes()}:
        return MODEL_FOLDER
    raise RegistryError(f"unknown model family {family!r}",
                        hint=f"use one of: {', '.join(sorted({'specialist', FUSION, *(p.family for p in passes())}))}")


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def parse_version(version: str | int) -> int:
    """``"v3"``, ``"3"`` or ``3`` -> 3."""
    match = re.match(r"^v?(\d+)$", str(version).strip().lower())
    if not match:
        raise RegistryError(f"bad model version {version!r}", hint="use vN, e.g. v2")
    return int(match.group(1))


@dataclass(frozen=True)
class ModelVersion:
    """One registered version: its folder and parsed manifest."""

    version: str
    path: Path
    manifest: dict[str, Any]

    @property
    def number(self) -> int:
        return parse_version(self.version)

    @property
    def adapter_dir(self) -> Path:
        return self.path / ADAPTER

    @property
    def model_dir(self) -> Path:
        """The files of this version: the adapter of a specialist, the model of a retrieval family."""
        return self.adapter_dir if (self.path / ADAPTER).is_dir() else self.path / "model"

    @property
    def pass_name(self) -> str:
        return str(self.manifest["pass"])

    @property
    def base_model(self) -> str:
        return str(self.manifest["base_model"])

    @property
    def parent(self) -> str | None:
        return self.manifest.get("parent")

    @property
    def created_at(self) -> str:
        return str(self.manifest["created_at"])

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self.manifest.get("metrics") or {})


@dataclass(frozen=True)
class Promotion:
    """One line of the promotion log."""

    action: str  # "promote" | "rollback"
    version: str | None  # the pointer after the action (None: no version, the base model)
    previous: str | None
    reason: str
    forced: bool
    actor: str
    at: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Registry:
    """The versions of one model family (``specialist``) in a repository."""

    def __init__(self, repo: FlowRepo, family: str = "specialist") -> None:
        family_layout(family)  # an unknown family fails here
        self.repo = repo
        self.family = family
        self.root = repo.state_dir / "models" / family

    # -- reading ------------------------------------------------------------------------------
    def versions(self) -> list[ModelVersion]:
        """All complete versions, oldest first (temp folders of crashed writes are ignored)."""
        if not self.root.is_dir():
            return []
        numbers = sorted(int(m.group(1)) for c in self.root.iterdir() if c.is_dir() and (m := _VERSION.match(c.name)))
        return [self._read(self.root / f"v{n}") for n in numbers]

    def get(self, version: str | int) -> ModelVersion:
        """One version (``vN``); ``"current"`` is the promoted one; ``"latest"`` the newest."""
        text = str(version).strip().lower()
        if text == "current":
            found = self.current()
            if found is None:
                raise RegistryError("no version has been promoted yet", path=self.root / CURRENT,
                                    hint="run `flow models promote vN`, or use --model base")
            return found
        if text == "latest":
            found = self.latest()
            if found is None:
                raise RegistryError("no model has been trained yet", path=self.root, hint="run `flow train sft`")
            return found
        folder = self.root / f"v{parse_version(version)}"
        if not folder.is_dir():
            known = ", ".join(v.version for v in self.versions()) or "none"
            raise RegistryError(f"no model version v{parse_version(version)}", path=self.root,
                                hint=f"versions: {known}")
        return self._read(folder)

    def latest(self, pass_name: str | None = None) -> ModelVersion | None:
        """The newest version, optionally of one pass (``"sft"`` / ``"dpo"``)."""
        found = [v for v in self.versions() if pass_name is None or v.pass_name == pass_name]
        return found[-1] if found else None

    def current(self) -> ModelVersion | None:
        """The promoted version, or None when nothing is promoted (callers then use the base)."""
        pointer = self._pointer()
        name = pointer.get("version")
        return self.get(name) if name else None

    def history(self) -> list[Promotion]:
        """The promotion log, oldest first."""
        path = self.root / LOG
        if not path.is_file():
            return []
        entries = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entries.append(Promotion(**json.loads(line)))
            except (json.JSONDecodeError, TypeError) as exc:
                raise RegistryError(f"corrupt promotion log: {exc}", path=path, line=number,
                                    hint="fix or remove the line") from exc
        return entries

    def _read(self, folder: Path) -> ModelVersion:
        path = folder / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise RegistryError("model version without a manifest", path=path,
                                hint="remove the folder; it was not written by flowloop") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RegistryError(f"corrupt model manifest: {exc}", path=path,
                                hint="remove this version folder and retrain") from exc
        if not isinstance(data, dict):
            raise RegistryError("corrupt model manifest: not a JSON object", path=path)
        for key in _REQUIRED:
            if key not in data:
                raise RegistryError("corrupt model manifest: missing field", path=path, field=key,
                                    hint="remove this version folder and retrain")
        return ModelVersion(version=folder.name, path=folder, manifest=data)

    def _pointer(self) -> dict[str, Any]:
        path = self.root / CURRENT
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RegistryError(f"corrupt current pointer: {exc}", path=path,
                                hint="run `flow models promote vN` to rewrite it") from exc
        if not isinstance(data, dict):
            raise RegistryError("corrupt current pointer: not a JSON object", path=path)
        return data

    # -- writing ------------------------------------------------------------------------------
    def register(self, adapter_source: Path, fields: dict[str, Any]) -> ModelVersion:
        """Copy ``adapter_source`` in as the next version with a manifest made of ``fields``.

        The version number is taken at rename time; if another process took it meanwhile, the
        next free number is used.
        """
        folder, marker, what = family_layout(self.family)
        if not (adapter_source / marker).is_file():
            raise RegistryError(f"not {what} (no {marker})", path=adapter_source)
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_stale_temps()
        tmp = self.root / f".tmp-{uuid.uuid4().hex}"
        try:
            shutil.copytree(adapter_source, tmp / folder)
            number = max((v.number for v in self.versions()), default=0) + 1
            while True:
                manifest = {**fields, "version": f"v{number}", "created_at": fields.get("created_at") or now_iso()}
                atomic_write_text(tmp / MANIFEST, json.dumps(manifest, indent=2, default=str) + "\n")
                target = self.root / f"v{number}"
                try:
                    os.rename(tmp, target)  # atomic; fails if vN exists and is not empty
                    break
                except OSError:
                    if not target.exists():
                        raise
                    number += 1
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return self._read(target)

    def promote(self, version: str | int, reason: str, forced: bool = False, actor: str = "flowloop") -> Promotion:
        """Make ``version`` current and log who/why/when (the gate calls this once it agrees)."""
        with self._lock():
            target = self.get(version)
            pointer = self._pointer()
            stack = list(pointer.get("stack") or [])
            entry = Promotion("promote", target.version, pointer.get("version"), reason, forced, actor, now_iso())
            self._write_pointer(entry, [*stack, target.version])
            self._append_log(entry)
            return entry

    def rollback(self, reason: str = "rollback", actor: str = "flowloop") -> Promotion:
        """Undo the latest promotion still in effect: current goes back to what it was before
        (to no version, i.e. the base model, when the first promotion is undone)."""
        with self._lock():
            stack = list(self._pointer().get("stack") or [])
            if not stack:
                raise RegistryError("nothing to roll back: no promotion in effect", path=self.root / CURRENT,
                                    hint="see `flow models list`")
            undone = stack.pop()
            back_to = stack[-1] if stack else None
            if back_to is not None:
                self.get(back_to)  # the version to return to must still exist
            entry = Promotion("rollback", back_to, undone, reason, False, actor, now_iso())
            self._write_pointer(entry, stack)
            self._append_log(entry)
            return entry

    def _write_pointer(self, entry: Promotion, stack: list[str]) -> None:
        data = {**entry.to_dict(), "stack": stack}
        atomic_write_text(self.root / CURRENT, json.dumps(data, indent=2) + "\n")

    def _append_log(self, entry: Promotion) -> None:
        path = self.root / LOG
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        atomic_write_text(path, old + json.dumps(entry.to_dict()) + "\n")

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def _remove_stale_temps(self) -> None:
        limit = dt.datetime.now().timestamp() - STALE_TEMP_S
        for stray in self.root.glob(".tmp-*"):
            try:
                if stray.stat().st_mtime < limit:
                    shutil.rmtree(stray, ignore_errors=True)
            except OSError:
                pass

"""Versioned dataset folders (contract 3): ``.flow/state/datasets/vN/`` with ``manifest.json``.

A version is written whole or not at all: every file goes into a temporary folder beside the
versions, which is then renamed to ``vN`` (a rename is atomic; a crash leaves only a stray
``.tmp-*`` folder that the next build removes). ``content_hash`` is a SHA-256 over the data
files' names and bytes, so the same inputs give the same hash; a build whose hash equals the
latest version's reuses that version instead of writing a copy. A file with no rows is not
written (``datasets.load_dataset`` cannot read an empty JSONL file) and is absent from ``files``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from flowloop.atomic import atomic_write_bytes, atomic_write_text
from flowloop.errors import DatasetError
from flowloop.passes import passes
from flowloop.repo import FlowRepo

MANIFEST = "manifest.json"
_VERSION_DIR = re.compile(r"^v(\d+)$")
# Each pass's training and held-out rows (named by its record), then the evaluation files.
FILE_NAMES = {
    **{key: f"{key}.jsonl" for p in passes() for key in (p.train_file, p.heldout_file)},
    "eval_planning": "eval_planning.jsonl",
    "eval_validation": "eval_validation.jsonl",
    "sft_drafts": "sft_drafts.jsonl",
}


def dataset_file(key: str) -> str:
    """The file name of dataset file ``key`` (``"sft_train"`` -> ``"sft_train.jsonl"``); every
    reader of a dataset folder names its files through this, so a rename happens here only."""
    try:
        return FILE_NAMES[key]
    except KeyError:
        raise DatasetError(f"no dataset file is called {key!r}", field="file",
                           hint=f"use one of: {', '.join(FILE_NAMES)}") from None


class DatasetManifest(BaseModel):
    """``manifest.json`` of one dataset version; ``path`` is its folder (not stored)."""

    model_config = ConfigDict(extra="allow")

    version: int
    created_at: str
    content_hash: str
    counts: dict[str, Any]
    thresholds: dict[str, int]
    split: dict[str, Any]
    files: dict[str, str]
    curate: str = "templates"
    settings: dict[str, Any] = Field(default_factory=dict)
    _path: Path = PrivateAttr(default=Path("."))
    _reused: bool = PrivateAttr(default=False)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def reused(self) -> bool:
        """True when the build found identical content and returned the existing version."""
        return self._reused

    def file(self, name: str) -> Path:
        """Path of a dataset file by its name (``"sft_train"`` or ``"sft_train.jsonl"``).

        A known file that the build did not write (it had no rows) raises a ``DatasetError``
        saying so; so does an unknown name.
        """
        key = name.removesuffix(".jsonl")
        if key in self.files:
            return self._path / self.files[key]
        if key in FILE_NAMES:
            raise DatasetError(f"dataset v{self.version} has no {key} rows", path=self._path,
                               hint="add the PILRs or signals that produce them and run `flow dataset build`")
        raise DatasetError(f"dataset v{self.version} has no {name!r} file", path=self._path / MANIFEST,
                           hint=f"files: {', '.join(FILE_NAMES)}")


def datasets_dir(repo: FlowRepo) -> Path:
    return repo.state_dir / "datasets"


def versions(repo: FlowRepo) -> list[int]:
    """Version numbers present, oldest first."""
    root = datasets_dir(repo)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        match = _VERSION_DIR.match(child.name)
        if match and child.is_dir():
            found.append(int(match.group(1)))
    return sorted(found)


def _parse_version(version: int | str) -> int | None:
    if isinstance(version, int):
        return version
    text = str(version).strip().lower()
    if text in ("latest", "current", ""):
        return None
    match = re.match(r"^v?(\d+)$", text)
    if not match:
        raise DatasetError(f"bad dataset version {version!r}", hint="use 'latest', 'vN' or N")
    return int(match.group(1))


def load_manifest(repo: FlowRepo, version: int | str = "latest") -> DatasetManifest:
    """The manifest of one version (``"latest"``, ``"v3"`` or ``3``); errors name the file."""
    wanted = _parse_version(version)
    present = versions(repo)
    if not present:
        raise DatasetError("no dataset has been built yet", path=datasets_dir(repo), hint="run `flow dataset build`")
    number = present[-1] if wanted is None else wanted
    if number not in present:
        raise DatasetError(f"no dataset version v{number}", path=datasets_dir(repo),
                           hint=f"versions: {', '.join(f'v{v}' for v in present)}")
    path = datasets_dir(repo) / f"v{number}" / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError("manifest missing", path=path, hint="delete the folder and rebuild") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise DatasetError(f"corrupt manifest: {exc}", path=path, line=line,
                           hint="delete this version folder and run `flow dataset build`") from exc
    try:
        manifest = DatasetManifest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise DatasetError(f"corrupt manifest: {err['msg']}", path=path, field=field,
                           hint="delete this version folder and run `flow dataset build`") from exc
    manifest._path = path.parent
    return manifest


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a dataset file; a bad line raises naming the file and line."""
    rows = []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DatasetError("dataset file missing", path=path, hint="rebuild with `flow dataset build`") from exc
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DatasetError(f"corrupt dataset line: {exc.msg}", path=path, line=number,
                                   hint="rebuild with `flow dataset build`") from exc
    return rows


def jsonl_bytes(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


def content_hash(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale(root: Path, max_age_s: float = 3600.0) -> None:
    """Remove temp folders of builds that crashed (old enough that no build still writes them)."""
    now = dt.datetime.now().timestamp()
    for stray in root.glob(".tmp-*"):
        try:
            if now - stray.stat().st_mtime > max_age_s:
                shutil.rmtree(stray, ignore_errors=True)
        except OSError:
            pass


def write_version(repo: FlowRepo, files: dict[str, bytes], fields: dict[str, Any]) -> DatasetManifest:
    """Write a new version (or reuse the latest when its content hash is the same)."""
    digest = content_hash(files)
    present = versions(repo)
    if present:
        try:
            latest = load_manifest(repo, present[-1])
        except DatasetError:
            latest = None  # a corrupt latest version is never reused; a new one is written
        if latest is not None and latest.content_hash == digest:
            latest._reused = True
            return latest
    root = datasets_dir(repo)
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale(root)
    tmp = root / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        for name, data in files.items():
            atomic_write_bytes(tmp / name, data)
        number = (present[-1] if present else 0) + 1
        while True:
            manifest = DatasetManifest(
                version=number,
                created_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
                content_hash=digest,
                **fields,
            )
            atomic_write_text(tmp / MANIFEST, manifest.model_dump_json(indent=2) + "\n")
            _fsync_dir(tmp)
            target = root / f"v{number}"
            try:
                os.rename(tmp, target)
                break
            except OSError:
                if not target.exists():
                    raise
                number += 1  # another build took this number meanwhile
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest._path = target
    return manifest

"""The ``[[sources]]`` entries of ``.flow/config.toml``: list them, add one.

An entry is appended as its own ``[[sources]]`` table at the end of the file, so every other
line (comments, order, formatting) stays exactly as the user wrote it. The new text is parsed
and validated before it replaces the file (atomically); a glob that leaves the repository, names
no file, or is already listed is refused with the reason.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from typing import get_args

from flowloop.atomic import atomic_write_text
from flowloop.config import PilrTypeName, Settings
from flowloop.errors import ConfigError
from flowloop.index.sources import check_glob, match_source
from flowloop.repo import FlowRepo


@dataclass
class SourceEntry:
    glob: str
    type: str
    files: list[str] = field(default_factory=list)  # what it matches now, relative to the root


def list_sources(repo: FlowRepo) -> list[SourceEntry]:
    """The configured entries, in order, with the files each one matches today."""
    return [
        SourceEntry(s.glob, s.type, [p.relative_to(repo.root).as_posix() for p in match_source(repo, s.glob)])
        for s in repo.require_initialized().settings.sources
    ]


def add_source(repo: FlowRepo, glob: str, type: str = "evergreen") -> SourceEntry:
    """Append a ``[[sources]]`` entry (see the module docstring)."""
    repo.require_initialized()
    types = get_args(PilrTypeName)
    if type not in types:
        raise ConfigError(f"unknown type {type!r}", field="type", hint=f"use one of: {', '.join(types)}")
    check_glob(repo, glob)
    for entry in repo.settings.sources:
        if entry.glob == glob:
            raise ConfigError(f"{glob!r} is already a source (type {entry.type})", path=repo.config_path,
                              field="sources.glob", hint="edit its type in config.toml if it should change")
    files = [p.relative_to(repo.root).as_posix() for p in match_source(repo, glob)]
    if not files:
        raise ConfigError(f"{glob!r} matches no files under {repo.root}", field="glob",
                          hint="globs are relative to the repository root, e.g. 'docs/**/*.md'")
    text = repo.config_path.read_text(encoding="utf-8")
    block = f"[[sources]]\nglob = {json.dumps(glob, ensure_ascii=False)}\ntype = {json.dumps(type)}\n"
    new_text = (text if text.endswith("\n") or not text else text + "\n") + "\n" + block
    try:
        Settings.model_validate(tomllib.loads(new_text))
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ConfigError(f"cannot add a [[sources]] table to this file: {exc}", path=repo.config_path,
                          hint="add the entry by hand (is `sources` written as an inline array?)") from exc
    atomic_write_text(repo.config_path, new_text)
    return SourceEntry(glob, type, files)

"""Small builders for PILR tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flowloop.pilr.model import Pilr, PilrMeta, PilrType
from flowloop.pilr.store import PilrStore
from flowloop.repo import FlowRepo, init_repo


def make_store(root: Path) -> PilrStore:
    init_repo(root)
    return PilrStore(FlowRepo(root))


def add(store: PilrStore, doc_id: str, pilr_type: str, title: str, body: str = "Body.", **fields: object) -> Pilr:
    meta = PilrMeta(
        id=doc_id,
        type=PilrType(pilr_type),
        title=title,
        created=fields.pop("created", dt.date(2025, 1, 1)),
        updated=fields.pop("updated", dt.date(2025, 1, 2)),
        **fields,
    )
    return store.create(meta, body)


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in a test repository (the same isolation as the top-level conftest's helper)."""
    import os
    import subprocess

    full_env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd), **(env or {})}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=full_env).stdout

"""Shared fixtures: an isolated environment, real git repositories in tmp_path."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ledgerline"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for converted models per test session (conversion is paid once)."""
    return tmp_path_factory.mktemp("flow-cache")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, model_cache: Path) -> None:
    """No FLOW_* from the developer's shell leaks in; nothing reaches a hub."""
    for key in list(os.environ):
        if key.startswith("FLOW_") and key != "FLOW_TEST_DATABASE_URL":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("FLOW_CACHE_DIR", str(model_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    full_env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd), **(env or {})}
    out = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=full_env)
    return out.stdout


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A real, empty git repository with an identity configured."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    return repo


# --- PostgreSQL: the signals store runs every test against SQLite and a real server ---------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL server: FLOW_TEST_DATABASE_URL (CI), else a throwaway local one, else skip."""
    url = os.environ.get("FLOW_TEST_DATABASE_URL")
    if url:
        yield url
        return
    from flowloop.errors import StoreError
    from flowloop.signals.pgtemp import start_temp_postgres

    try:
        server = start_temp_postgres(durable=False)
    except StoreError as exc:
        pytest.skip(f"no PostgreSQL server (set FLOW_TEST_DATABASE_URL): {exc}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the test server for one test; dropped afterwards."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(postgres_server)
    name = f"flowtest_{uuid.uuid4().hex[:12]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield base.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_repo(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An initialized FlowRepo whose signals store is SQLite (the default path) or a fresh
    PostgreSQL database (through FLOW_DATABASE_URL, as a user would configure it)."""
    from flowloop.repo import init_repo

    if request.param == "postgres":
        monkeypatch.setenv("FLOW_DATABASE_URL", request.getfixturevalue("postgres_url"))
    return init_repo(tmp_path / "project").repo

"""Shared fixtures: an isolated environment, real git repositories in tmp_path, one trained repo."""

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


@pytest.fixture
def flow_repo(tmp_path: Path) -> Any:
    """A freshly initialized FlowRepo (no git) for tests that write their own data into it."""
    from flowloop.repo import init_repo

    return init_repo(tmp_path / "proj").repo


# --- Models: the packaged base converted once, and one small trained repository -------------


@pytest.fixture(scope="session")
def base_checkpoint(model_cache: Path) -> Path:
    """The packaged SmolLM2 GGUF converted once into the session's model cache."""
    from flowloop.config import load_settings
    from flowloop.models.base_model import resolve_base_model

    return resolve_base_model(load_settings(None, cache_dir=str(model_cache)))


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, base_checkpoint: Path) -> Any:
    """v1 (SFT, 2 steps) and v2 (DPO from v1, 2 steps) trained through the CLI, once per session
    (the training, model-loading and specialist tests read its versions; none trains it again)."""
    import json

    from typer.testing import CliRunner

    from flowloop.cli.main import app
    from helpers_train import small_repo, write_dataset

    runner = CliRunner()
    repo = small_repo(tmp_path_factory.mktemp("trained") / "repo")
    write_dataset(repo)
    sft = runner.invoke(app, ["-C", str(repo.root), "train", "sft", "--max-steps", "2", "--json"])
    assert sft.exit_code == 0, sft.output
    assert json.loads(sft.stdout)["version"] == "v1"
    dpo = runner.invoke(app, ["-C", str(repo.root), "train", "dpo", "--max-steps", "2", "--json"])
    assert dpo.exit_code == 0, dpo.output
    assert json.loads(dpo.stdout)["version"] == "v2"
    return repo


@pytest.fixture(scope="session")
def reward_trained(tmp_path_factory: pytest.TempPathFactory, base_checkpoint: Path) -> Any:
    """A repository with reward v1 trained through `flow train reward` (a few real steps) and
    promoted by force (a few steps need not beat chance), once per session."""
    import json

    from typer.testing import CliRunner

    from flowloop.cli.main import app
    from helpers_reward import write_reward_dataset
    from helpers_train import small_repo

    repo = small_repo(tmp_path_factory.mktemp("reward") / "repo")
    text = repo.config_path.read_text(encoding="utf-8")
    repo.config_path.write_text(text + "\n[train.reward]\nthreshold = 4\n", encoding="utf-8")
    write_reward_dataset(repo)
    done = CliRunner().invoke(app, ["-C", str(repo.root), "train", "reward", "--max-steps", "4", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["version"] == "v1"
    promoted = CliRunner().invoke(app, ["-C", str(repo.root), "models", "promote", "v1", "--reward", "--force"])
    assert promoted.exit_code == 0 and "reward v1 promoted: AUROC" in promoted.stdout, promoted.output
    return repo

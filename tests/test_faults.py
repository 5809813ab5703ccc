"""Small versions of every case of ``benchmarks/faults.py`` (the same functions, small sizes):
concurrent CLI writers, SIGKILL of index / import / dataset build / train, the ingest server
under hostile and repeated requests, and hooks fed hostile input."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from flowloop.repo import init_repo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import faults  # noqa: E402  (benchmarks/faults.py)


def _all_held(rows: list[dict]) -> None:
    assert rows and all(r["held"] for r in rows), [r for r in rows if not r["held"]]


def test_concurrent_cli_events_sqlite(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "p").repo.root
    _all_held(faults.concurrent_events(root, writers=4, per_writer=10, database_url=None, label="SQLite"))


@pytest.mark.postgres
def test_concurrent_cli_events_postgres(tmp_path: Path, postgres_url: str) -> None:
    root = init_repo(tmp_path / "p").repo.root
    _all_held(faults.concurrent_events(root, writers=4, per_writer=10, database_url=postgres_url, label="PostgreSQL"))


def test_sigkill_signal_import(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "p").repo.root
    _all_held(faults.sigkill_import(root, kills=1, rng=random.Random(1), window=(0.3, 2.0), lines=3000))


@pytest.mark.slow
def test_sigkill_index_and_dataset_build(tmp_path: Path) -> None:
    root = faults.example_repo(tmp_path)
    _all_held(faults.sigkill_index(root, kills=1, rng=random.Random(2), window=(0.5, 5.0)))
    _all_held(faults.sigkill_dataset(root, kills=1, rng=random.Random(3), window=(0.5, 4.0)))


def test_ingest_server_faults_and_resent_burst(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "p").repo.root
    _all_held(faults.ingest_faults(root, burst=20, threads=4))


def test_hooks_fed_hostile_input(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "p").repo.root
    _all_held(faults.hook_faults(root, tmp_path, events=("user-prompt-submit", "stop")))

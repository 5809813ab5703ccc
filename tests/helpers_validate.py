"""A git repository with a flowloop project and a diff to validate, for the validate tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from flowloop.repo import FlowRepo, init_repo


def git(cwd: Path, *args: str) -> str:
    """git in ``cwd`` with no system or user config (``from conftest import`` is ambiguous when
    several test folders have a conftest)."""
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def project(git_repo: Path) -> FlowRepo:
    """A committed project: ``.flow/`` plus ``src/ledger.py``."""
    repo = init_repo(git_repo, name="ledgerline").repo
    (git_repo / "src").mkdir()
    (git_repo / "src" / "ledger.py").write_text("def total(items):\n    return sum(i.cents for i in items)\n")
    (git_repo / ".gitignore").write_text(".flow/state/\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "start")
    return repo


def change(git_repo: Path) -> None:
    """A working-tree change of two hunks in one file and a new binary file."""
    lines = [f"# line {i}" for i in range(30)]
    (git_repo / "src" / "ledger.py").write_text(
        "def total(items):\n    return float(sum(i.amount for i in items))\n" + "\n".join(lines)
        + "\ndef fee(x):\n    return x * 0.3\n")
    (git_repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0binary")
    git(git_repo, "add", "logo.png")

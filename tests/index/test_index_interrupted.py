"""An interrupted ``flow index`` leaves the previous index whole and usable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flowloop.errors import LockError
from flowloop.index.api import build_index, search
from flowloop.index.store import IndexLock
from flowloop.repo import FlowRepo


def _edit_everything(repo: FlowRepo) -> None:
    for path in repo.pilrs_dir.rglob("*.md"):
        path.write_text(path.read_text() + "\nAppendix: reviewed again.\n")


def test_interrupt_during_embedding_keeps_previous_generation(kb_repo: FlowRepo) -> None:
    first = build_index(kb_repo)
    before = [h.id for h in search(kb_repo, "stripe webhook", log=False)]
    _edit_everything(kb_repo)

    def interrupt(done: int, total: int) -> None:
        if total and done == 0:
            raise KeyboardInterrupt  # what Ctrl-C raises mid-run

    with pytest.raises(KeyboardInterrupt):
        build_index(kb_repo, progress=interrupt)
    index = kb_repo.state_dir / "index"
    assert sorted(p.name for p in index.iterdir() if p.is_dir()) == [f"gen-{first.generation:06d}"]
    assert [h.id for h in search(kb_repo, "stripe webhook", log=False)] == before
    finished = build_index(kb_repo)
    assert finished.generation == first.generation + 1 and len(finished.changed) == 5


def test_killed_build_leaves_old_index_and_is_swept(kb_repo: FlowRepo) -> None:
    first = build_index(kb_repo)
    _edit_everything(kb_repo)
    # A process that dies without any cleanup (as with SIGKILL or a power cut) mid-embedding.
    script = (
        "import os, sys; from pathlib import Path\n"
        "from flowloop.repo import FlowRepo\n"
        "from flowloop.index.api import build_index\n"
        "def die(done, total):\n"
        "    if total and done >= 0: os._exit(9)\n"
        "build_index(FlowRepo(Path(sys.argv[1])), progress=die)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(kb_repo.root)], capture_output=True, text=True)
    assert done.returncode == 9, done.stderr
    index = kb_repo.state_dir / "index"
    leftovers = [p.name for p in index.iterdir() if p.name.startswith("gen-tmp-")]
    assert leftovers  # the half-written generation is there ...
    assert search(kb_repo, "stripe webhook", log=False)  # ... but readers use the old one
    assert (index / "CURRENT").read_text().count(f"gen-{first.generation:06d}") == 1
    again = build_index(kb_repo)
    assert again.generation == first.generation + 1
    assert sorted(p.name for p in index.iterdir() if p.is_dir()) == [f"gen-{again.generation:06d}"]


def test_one_build_at_a_time(kb_repo: FlowRepo) -> None:
    with IndexLock(kb_repo):
        with pytest.raises(LockError, match="another `flow index` is running"):
            build_index(kb_repo)
    assert build_index(kb_repo).generation == 1


def test_corrupt_generation_is_rebuilt_from_files(kb_repo: FlowRepo) -> None:
    build_index(kb_repo)
    current = kb_repo.state_dir / "index" / "gen-000001" / "vectors.npy"
    current.write_bytes(b"garbage")
    stats = build_index(kb_repo)
    assert stats.rebuilt and stats.generation == 2
    assert search(kb_repo, "stripe webhook", log=False)[0].id == "cum-duplicate-webhooks"


def test_path_helper(kb_repo: FlowRepo) -> None:
    from flowloop.index.api import index_path

    assert index_path(kb_repo) == Path(kb_repo.state_dir / "index")

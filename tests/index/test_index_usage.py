"""The usage log: every search and context call becomes a RetrievalEvent in the signals store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.index.api import Retriever, build_index, context_pack, search
from flowloop.repo import FlowRepo
from flowloop.signals.spool import drain_pending, pending_path
from flowloop.signals.store import open_store

runner = CliRunner()


def _events(repo: FlowRepo) -> list:  # type: ignore[type-arg]
    with open_store(FlowRepo(repo.root)) as store:
        return store.query("retrieval")


def test_direct_log_records_query_candidates_and_injected(kb_repo: FlowRepo) -> None:
    build_index(kb_repo)
    retriever = Retriever(kb_repo)
    pack = retriever.context_pack("retry failed card payments", budget=400, session="sess-1")
    hits = retriever.search("stripe webhooks", k=3)
    retriever.context_pack("not logged", log=False)
    context_event, search_event = _events(kb_repo)
    assert context_event.operation == "context" and context_event.session == "sess-1"
    assert context_event.query == "retry failed card payments"
    assert context_event.injected == [d.id for d in pack.documents]
    assert context_event.candidates[0].score >= context_event.candidates[-1].score
    assert {c.id for c in context_event.candidates} >= set(context_event.injected)
    assert all(c.path for c in context_event.candidates)
    assert search_event.operation == "search" and search_event.injected == [h.id for h in hits]


def test_cold_calls_queue_lines_that_the_next_direct_write_moves_in(kb_repo: FlowRepo) -> None:
    build_index(kb_repo)
    context_pack(kb_repo, "retry failed card payments")
    search(kb_repo, "stripe webhooks")
    result = runner.invoke(app, ["-C", str(kb_repo.root), "context", "tenant scoped sessions"])
    assert result.exit_code == 0
    assert len(pending_path(kb_repo).read_text().splitlines()) == 3
    Retriever(kb_repo).search("money rounding")  # a direct write drains the queue first
    assert not pending_path(kb_repo).exists()
    assert [e.query for e in _events(kb_repo)] == [
        "retry failed card payments", "stripe webhooks", "tenant scoped sessions", "money rounding",
    ]


def test_drain_is_idempotent_and_concurrent_appends_stay_whole(kb_repo: FlowRepo) -> None:
    build_index(kb_repo)
    script = (
        "import sys; from pathlib import Path\n"
        "from flowloop.repo import FlowRepo\n"
        "from flowloop.index.usage import log_retrieval\n"
        "repo = FlowRepo(Path(sys.argv[1]))\n"
        "for i in range(40):\n"
        "    log_retrieval(repo, 'search', f'q{sys.argv[2]}-{i}', [('a', 0.5, 'p')] * 30, ['a'], direct=False)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(kb_repo.root), str(n)]) for n in range(3)]
    with open_store(kb_repo) as store:
        while any(p.poll() is None for p in procs):
            drain_pending(kb_repo, store)  # drains race the writers on purpose
        assert all(p.returncode == 0 for p in procs)
        drain_pending(kb_repo, store)
        assert store.count("retrieval") == 120
        assert drain_pending(kb_repo, store) == 0


def test_orphaned_drain_file_is_imported(kb_repo: FlowRepo) -> None:
    build_index(kb_repo)
    search(kb_repo, "stripe webhooks")
    orphan = pending_path(kb_repo).with_name(f"{pending_path(kb_repo).name}.999999999.draining")
    pending_path(kb_repo).rename(orphan)  # as if a drain died after its rename
    with open_store(kb_repo) as store:  # opening the store drains what is pending
        assert store.count("retrieval") == 1
        assert drain_pending(kb_repo, store) == 0
    assert not orphan.exists()


def test_corrupt_pending_file_is_set_aside_with_a_clear_error(kb_repo: FlowRepo) -> None:
    import pytest

    from flowloop.errors import SignalError

    build_index(kb_repo)
    pending_path(kb_repo).write_text('{"kind": "retrieval", "query": ""}\n')
    with pytest.raises(SignalError) as info:
        open_store(kb_repo)
    assert info.value.path == Path(kb_repo.state_dir / "retrieval-pending.rejected.jsonl")
    assert info.value.path.exists() and not pending_path(kb_repo).exists()

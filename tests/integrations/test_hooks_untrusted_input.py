"""Hook inputs are untrusted: a transcript_path may name a FIFO, /dev/zero, a huge file; stdin may
be anything. The hook process exits 0, prints no traceback, and finishes within its budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowloop.errors import CollectorError
from flowloop.integrations.hooks import handle_hook
from flowloop.integrations.transcript import read_bounded, read_transcript
from flowloop.repo import FlowRepo, init_repo

FLOW = str(Path(sys.executable).with_name("flow"))
HOOK_BUDGET_S = 60  # Claude Code's default hook timeout: past it the agent kills the hook


@pytest.fixture
def project(tmp_path: Path) -> FlowRepo:
    root = tmp_path / "proj"
    root.mkdir()
    return init_repo(root).repo


def _stop_payload(repo: FlowRepo, transcript: str) -> str:
    return json.dumps({"session_id": "s-1", "transcript_path": transcript, "cwd": str(repo.root),
                       "hook_event_name": "Stop"})


def _run(repo: FlowRepo, event: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FLOW, "hook", event], input=stdin, capture_output=True, text=True, cwd=repo.root,
                          timeout=HOOK_BUDGET_S)


def test_a_fifo_is_refused_without_blocking(project: FlowRepo, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(CollectorError, match="not a regular file"):
        read_bounded(fifo)
    for event in ("stop", "session-end"):
        done = _run(project, event, _stop_payload(project, str(fifo)))
        assert done.returncode == 0 and "Traceback" not in done.stderr
        assert "not a regular file" in done.stderr


def test_dev_zero_and_directories_are_refused(project: FlowRepo, tmp_path: Path) -> None:
    for path in ("/dev/zero", str(tmp_path)):
        response = handle_hook(project, "Stop", json.loads(_stop_payload(project, path)))
        assert response.recorded == 0 and any("not a regular file" in p for p in response.problems)
    done = _run(project, "stop", _stop_payload(project, "/dev/zero"))
    assert done.returncode == 0 and "Traceback" not in done.stderr


def test_an_oversized_transcript_is_refused_by_size(project: FlowRepo, tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    big.write_bytes(b'{"type": "user"}\n' * 70_000)  # ~1.2 MB
    with pytest.raises(CollectorError, match="over the 1000000-byte limit"):
        read_transcript(big, max_bytes=1_000_000)
    assert read_transcript(big).bad_lines == 0  # under the real limit it is read


def test_garbage_and_5mb_inputs_exit_zero(project: FlowRepo, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(os.urandom(5 * 1024 * 1024))
    stdins = ["", "\x00\xff not json", "[1,2]", "x" * (5 * 1024 * 1024), _stop_payload(project, str(garbage))]
    for stdin in stdins:
        for event in ("user-prompt-submit", "stop"):
            done = _run(project, event, stdin)
            assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-500:]


def test_a_json_line_with_a_line_separator_inside_a_string_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    entry = {"type": "user", "uuid": "u1", "message": {"role": "user", "content": "one\u2028two"}}
    path.write_text(json.dumps(entry, ensure_ascii=False) + "\n", encoding="utf-8")
    transcript = read_transcript(path)
    assert transcript.bad_lines == 0 and transcript.turns[0].human.text == "one\u2028two"

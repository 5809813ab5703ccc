"""Transcript mining at ``Stop`` / ``SessionEnd``: corrections, work records, a session log.

A correction is a human message redirecting the previous agent turn (tagged
``<agent>-hook:candidate`` for review); a work record is one finished task (its prompt and the
files the agent edited); the session log is the scrubbed prompts and outputs under
``.flow/state/sessions/``. Keys come from the session id and message uuids, so Stop and
SessionEnd firing on the same transcript record everything once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flowloop.errors import CollectorError
from flowloop.integrations.hooks.common import now, session_id, store_events, task_of, transcript_path
from flowloop.integrations.hooks.dispatch import HookResponse
from flowloop.repo import FlowRepo

AGENT_TEXT_LIMIT = 4_000


def record_session(repo: FlowRepo, payload: dict[str, Any], response: HookResponse, agent: str, final: bool) -> None:
    """Store what the transcript shows so far; ``final`` (SessionEnd) closes the last task too."""
    from flowloop.integrations.transcript import Turn, edited_files, is_redirect, read_transcript
    from flowloop.signals.events import CorrectionEvent, EventBase, WorkRecordEvent

    session = session_id(payload)
    path = transcript_path(payload)
    if path is None:
        raise CollectorError("no transcript_path in the hook input", field="transcript_path")
    try:
        transcript = read_transcript(path)
    except FileNotFoundError as exc:
        raise CollectorError("transcript not found", path=path, field="transcript_path") from exc
    if transcript.bad_lines:  # routinely the half-written last line: worth a note, not a message
        response.notes.append(f"{path}: skipped {transcript.bad_lines} unreadable line(s)")
    turns = transcript.turns
    if not turns:
        return
    session_task = task_of(turns[0].human.text, session)
    events: list[EventBase] = []
    tasks: list[list[Turn]] = []
    for i, turn in enumerate(turns):
        human = turn.human
        prev = turns[i - 1] if i else None
        redirect = prev is not None and bool(prev.agent_text) and (
            human.rejected_tool is not None or human.after_interrupt or is_redirect(human.text)
        )
        if redirect and prev is not None:
            agent_said = human.rejected_tool.summary() if human.rejected_tool else prev.agent_text
            context = tasks[-1][0].human.text if tasks else prev.human.text
            events.append(CorrectionEvent(
                task=task_of(context, session, session_task), session=session, context=context,
                agent=agent_said[:AGENT_TEXT_LIMIT], correction=human.text,
                created_at=human.timestamp or now(), source=f"{agent}-hook:candidate",
                idempotency_key=f"{agent}:{session}:{human.uuid}:correction",
            ))
            if tasks:
                tasks[-1].append(turn)  # a correction continues the task it corrects
                continue
        tasks.append([turn])
    # A task is finished once the human moved on to another, or the session ended.
    for index, group in enumerate(tasks):
        if index == len(tasks) - 1 and not final:
            break
        files = edited_files(group, repo.root)
        if files:
            first = group[0].human
            events.append(WorkRecordEvent(
                task=task_of(first.text, session, session_task), session=session, description=first.text, files=files,
                author_time=first.timestamp, created_at=first.timestamp or now(), source=f"{agent}-hook",
                idempotency_key=f"{agent}:{session}:{first.uuid}:work_record",
            ))
    write_session_log(repo, agent, session, turns, path)
    if events:
        response.recorded += store_events(repo, events)


def write_session_log(repo: FlowRepo, agent: str, session: str, turns: list[Any], source: Path) -> None:
    """The session's prompts and outputs, secrets scrubbed: raw material for later review."""
    from flowloop.atomic import atomic_write_text
    from flowloop.integrations.transcript import edited_files
    from flowloop.scrub import scrub

    lines = []
    for turn in turns:
        human = turn.human
        lines.append(json.dumps({
            "uuid": human.uuid,
            "time": human.timestamp.isoformat() if human.timestamp else None,
            "prompt": scrub(human.text),
            "output": scrub(turn.final_text),
            "tools": [tool.name for tool in turn.tools],
            "files": edited_files([turn], repo.root),
        }, ensure_ascii=False))
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", session)[:120] or "session"
    header = json.dumps({"session": session, "agent": agent, "transcript": str(source)}, ensure_ascii=False)
    atomic_write_text(repo.state_path("sessions", agent, f"{name}.jsonl"), "\n".join([header, *lines]) + "\n")

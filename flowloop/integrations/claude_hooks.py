"""Claude Code (and Codex CLI) hook handlers: context in, behavioral signals out.

``flow hook <event>`` reads the hook's JSON on stdin and calls :func:`handle_hook`. Field names
follow Claude Code's documented hook input (research doc ``agent-integration.md`` section 1:
``session_id``, ``transcript_path``, ``cwd``, ``hook_event_name``, ``prompt``, ``tool_name``,
``tool_input``, ``tool_response``, ``tool_use_id``, ``source``, ``reason``); Codex sends the same.

- ``SessionStart`` / ``UserPromptSubmit``: a context pack from the warm index server, returned
  as ``{"hookSpecificOutput": {"hookEventName": ..., "additionalContext": ...}}``. It must come
  within ``signals.hook_context_timeout_s`` or nothing is injected: the agent never waits on us.
- ``PostToolUse`` of ``ExitPlanMode`` (= the human approved a plan): an ``approval``, or a
  ``scope_change`` when the approved plan differs from the one first proposed (the human
  rejected it with feedback, or edited it).
- ``Stop`` / ``SessionEnd``: the transcript's corrections (a human message redirecting the
  previous agent turn; tagged ``<agent>-hook:candidate`` for review), one ``work_record`` per
  finished task (its prompt and the files the agent edited), and a scrubbed session log under
  ``.flow/state/sessions/``. Keys come from the session id and message uuids, so Stop and
  SessionEnd firing on the same transcript record everything once.

Nothing here may break the agent: problems are collected in ``HookResponse.problems`` (the CLI
prints them on stderr) and the hook still exits 0.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowloop.errors import CollectorError, FlowError
from flowloop.integrations.hook_install import InstallResult, install_hooks
from flowloop.repo import FlowRepo

__all__ = ["EVENTS", "HookResponse", "InstallResult", "event_name", "fetch_context", "handle_hook", "install_hooks"]

EVENTS = ("SessionStart", "UserPromptSubmit", "PostToolUse", "Stop", "SessionEnd")
AGENTS = ("claude-code", "codex")
CONTEXT_LIMIT = 9_500  # Claude Code caps injected text at 10,000 characters
_AGENT_TEXT_LIMIT = 4_000
_DEFAULT_BRANCHES = {"main", "master", "trunk", "develop", "dev", "HEAD"}


@dataclass
class HookResponse:
    """What a hook answers: JSON for stdout (or nothing), and problems for stderr."""

    output: dict[str, Any] | None = None
    recorded: int = 0
    problems: list[str] = field(default_factory=list)

    def stdout_text(self) -> str:
        return json.dumps(self.output, ensure_ascii=False) if self.output else ""


def event_name(raw: str) -> str:
    """``session-start``, ``session_start`` and ``SessionStart`` all name ``SessionStart``."""
    wanted = raw.replace("-", "").replace("_", "").lower()
    for name in EVENTS:
        if name.lower() == wanted:
            return name
    raise CollectorError(f"unknown hook event {raw!r}", field="event", hint=f"use one of: {', '.join(EVENTS)}")


def handle_hook(
    repo: FlowRepo, event: str, payload: dict[str, Any], agent: str = "claude-code", timeout_s: float | None = None
) -> HookResponse:
    """Answer one hook call. Never raises for a problem of ours: see ``HookResponse.problems``."""
    response = HookResponse()
    try:
        name = event_name(event)
        if agent not in AGENTS:
            raise CollectorError(f"unknown agent {agent!r}", field="agent", hint=f"use one of: {', '.join(AGENTS)}")
        if not isinstance(payload, dict):
            raise CollectorError("hook input must be a JSON object", hint="Claude Code sends one on stdin")
        if name in ("SessionStart", "UserPromptSubmit"):
            limit = repo.settings.signals.hook_context_timeout_s if timeout_s is None else timeout_s
            _inject_context(repo, name, payload, response, limit)
        elif name == "PostToolUse":
            _record_plan(repo, payload, response, agent)
        else:
            _record_session(repo, payload, response, agent, final=name == "SessionEnd")
    except (FlowError, OSError) as exc:
        response.problems.append(str(exc))
    return response


# -- context injection --------------------------------------------------------------------------


def _inject_context(repo: FlowRepo, name: str, payload: dict[str, Any], response: HookResponse, timeout_s: float) -> None:
    if name == "UserPromptSubmit":
        task = str(payload.get("prompt") or "").strip()
        if not task or task.startswith("/"):
            return  # nothing to look up, or a slash command
    else:
        task = _session_query(repo)
    task = task[: repo.settings.index.max_query_chars]
    session = payload.get("session_id") if isinstance(payload.get("session_id"), str) else None
    text = fetch_context(repo, task, timeout_s, response.problems, session=session)
    if text:
        response.output = {"hookSpecificOutput": {"hookEventName": name, "additionalContext": text[:CONTEXT_LIMIT]}}


def fetch_context(
    repo: FlowRepo, task: str, timeout_s: float, problems: list[str], session: str | None = None
) -> str | None:
    """The warm server's context pack text, or None if it does not answer within ``timeout_s``.

    The call (its import included) runs in a daemon thread that is abandoned at the deadline, so
    even a warm path that ignores its own timeout cannot hold the agent up.
    """
    if timeout_s < 0.1:
        problems.append(f"only {timeout_s:.2f}s of the hook's time budget left after start-up; injecting nothing")
        return None
    box: list[Any] = []

    def run() -> None:
        try:
            from flowloop.index.warm import warm_context

            # The session id lets the index's usage log tie this retrieval to the agent session.
            box.append(warm_context(repo, task, repo.settings.index.budget, max(0.05, timeout_s - 0.05), session=session))
        except ImportError as exc:
            box.append(CollectorError(f"warm context path unavailable: {exc}"))
        except (FlowError, OSError) as exc:
            box.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=run, name="flow-warm-context", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if not box:
        problems.append(f"no context pack within {timeout_s:.2f}s; injecting nothing")
        return None
    result = box[0]
    if isinstance(result, Exception):
        problems.append(str(result))
        return None
    if result is None:
        problems.append(f"no warm server answered ({time.monotonic() - started:.2f}s); run `flow serve`")
        return None
    text = getattr(result, "text", "")
    return text if isinstance(text, str) and text.strip() else None


def _session_query(repo: FlowRepo) -> str:
    """What a new session is likely about: the branch name's words, else the project's description."""
    branch = _branch(repo.root)
    if branch and branch not in _DEFAULT_BRANCHES:
        words = re.sub(r"[/_.-]+", " ", branch.rsplit("/", 1)[-1] if "/" in branch else branch).strip()
        if words:
            return words
    project = repo.settings.project
    return (project.description or project.name).strip() or "project overview"


def _branch(root: Path) -> str | None:
    """The checked-out branch, read from the git directory directly (no git process on the hot
    path); ``.git`` may be a worktree's pointer file (``flowloop.git.current_branch``)."""
    from flowloop.git import current_branch

    return current_branch(root)


# -- plan approval ------------------------------------------------------------------------------


def _record_plan(repo: FlowRepo, payload: dict[str, Any], response: HookResponse, agent: str) -> None:
    from flowloop.integrations.transcript import read_transcript
    from flowloop.signals.events import ApprovalEvent, ScopeChangeEvent

    if payload.get("tool_name") != "ExitPlanMode":
        return
    tool_input = payload.get("tool_input") if isinstance(payload.get("tool_input"), dict) else {}
    plan = tool_input.get("plan")
    if not isinstance(plan, str) or not plan.strip():
        raise CollectorError("ExitPlanMode input has no plan text", field="tool_input.plan")
    session = _session_id(payload)
    tool_id = str(payload.get("tool_use_id") or hashlib.sha256(plan.encode()).hexdigest()[:16])
    prompt, proposed, task = "", None, _task_of("", session)
    path = _transcript_path(payload)
    if path is not None and path.is_file():
        transcript = read_transcript(path)
        if transcript.turns:
            prompt = transcript.turns[-1].human.text
            task = _task_of(transcript.turns[0].human.text, session)
        proposed = _first_rejected_plan(transcript.plans, tool_id)
    edited = _edited_plan(payload.get("tool_response"), plan)
    common = dict(task=task, session=session, source=f"{agent}-hook", created_at=_now())
    if edited is not None:
        event: Any = ScopeChangeEvent(plan=plan, approved_plan=edited, idempotency_key=f"{agent}:{session}:{tool_id}:plan", **common)
    elif proposed is not None and proposed.strip() != plan.strip():
        event = ScopeChangeEvent(plan=proposed, approved_plan=plan, idempotency_key=f"{agent}:{session}:{tool_id}:plan", **common)
    else:
        event = ApprovalEvent(prompt=prompt, output=plan, idempotency_key=f"{agent}:{session}:{tool_id}:plan", **common)
    response.recorded += _store(repo, [event])


def _first_rejected_plan(plans: list[Any], current_id: str) -> str | None:
    """The first plan of the run of rejected plans just before the approved one, if any."""
    run: list[Any] = []
    for tool in plans:
        if tool.id == current_id:
            break
        run = run + [tool] if tool.rejected else []  # an earlier approved plan starts a new run
    first = run[0].input.get("plan") if run else None
    return first if isinstance(first, str) and first.strip() else None


def _edited_plan(tool_response: Any, plan: str) -> str | None:
    """A plan text in the tool response that differs from the input: the human edited it."""
    if isinstance(tool_response, dict):
        for key in ("plan", "approvedPlan", "editedPlan"):
            value = tool_response.get(key)
            if isinstance(value, str) and value.strip() and value.strip() != plan.strip():
                return value
    return None


# -- session transcript -------------------------------------------------------------------------


def _record_session(repo: FlowRepo, payload: dict[str, Any], response: HookResponse, agent: str, final: bool) -> None:
    from flowloop.integrations.transcript import Turn, edited_files, is_redirect, read_transcript
    from flowloop.signals.events import CorrectionEvent, EventBase, WorkRecordEvent

    session = _session_id(payload)
    path = _transcript_path(payload)
    if path is None:
        raise CollectorError("no transcript_path in the hook input", field="transcript_path")
    try:
        transcript = read_transcript(path)
    except FileNotFoundError as exc:
        raise CollectorError("transcript not found", path=path, field="transcript_path") from exc
    if transcript.bad_lines:
        response.problems.append(f"{path}: skipped {transcript.bad_lines} unreadable line(s)")
    turns = transcript.turns
    if not turns:
        return
    session_task = _task_of(turns[0].human.text, session)
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
                task=_task_of(context, session, session_task), session=session, context=context,
                agent=agent_said[:_AGENT_TEXT_LIMIT], correction=human.text,
                created_at=human.timestamp or _now(), source=f"{agent}-hook:candidate",
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
                task=_task_of(first.text, session, session_task), session=session, description=first.text, files=files,
                author_time=first.timestamp, created_at=first.timestamp or _now(), source=f"{agent}-hook",
                idempotency_key=f"{agent}:{session}:{first.uuid}:work_record",
            ))
    _write_session_log(repo, agent, session, turns, path)
    if events:
        response.recorded += _store(repo, events)


def _write_session_log(repo: FlowRepo, agent: str, session: str, turns: list[Any], source: Path) -> None:
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


# -- helpers ------------------------------------------------------------------------------------


def _store(repo: FlowRepo, events: list[Any]) -> int:
    from flowloop.signals.store import open_store

    with open_store(repo) as store:
        return store.add(events).added


def _session_id(payload: dict[str, Any]) -> str:
    session = payload.get("session_id")
    if not isinstance(session, str) or not session.strip():
        raise CollectorError("hook input has no session_id", field="session_id")
    return session.strip()


def _transcript_path(payload: dict[str, Any]) -> Path | None:
    raw = payload.get("transcript_path")
    return Path(raw).expanduser() if isinstance(raw, str) and raw.strip() else None


def _task_of(text: str, session: str, fallback: str | None = None) -> str:
    """The task id named in the prompt (``ABC-123``, ``#123``), else ``fallback``, else the session."""
    from flowloop.signals.gitlog import find_task

    return find_task(text) or fallback or f"session:{session}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


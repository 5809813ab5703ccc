"""One hook call: which handler answers which event, and the JSON the agent reads back.

``flow hook <event>`` reads the hook's JSON on stdin and calls :func:`handle_hook`. Field names
follow Claude Code's documented hook input (``session_id``, ``transcript_path``, ``cwd``,
``hook_event_name``, ``prompt``, ``tool_name``, ``tool_input``, ``tool_response``,
``tool_use_id``, ``source``, ``reason``); Codex CLI sends the same.

- ``SessionStart`` / ``UserPromptSubmit``: a context pack (``context``).
- ``PostToolUse`` of ``ExitPlanMode``: a plan approval or scope change (``plans``).
- ``Stop`` / ``SessionEnd``: corrections, work records and a session log (``sessions``).

The answer is what both agents document for a command hook that exits 0: a JSON object with
``hookSpecificOutput: {hookEventName, additionalContext}`` for the model and a top-level
``systemMessage`` the user sees. A hook's stderr is hidden when it exits 0, so every problem the
user should know about (no index, no context in time, a broken store) goes into
``systemMessage``; ``notes`` (routine, e.g. a transcript's half-written last line) go to stderr
only. Nothing here raises for a problem of ours: the hook always exits 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flowloop.errors import CollectorError, FlowError
from flowloop.repo import FlowRepo

EVENTS = ("SessionStart", "UserPromptSubmit", "PostToolUse", "Stop", "SessionEnd")
AGENTS = ("claude-code", "codex")
MESSAGE_PREFIX = "flowloop: "


@dataclass
class HookResponse:
    """What a hook answers: context for the model, problems for the user, notes for stderr."""

    event: str = ""
    context: str | None = None
    recorded: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def output(self) -> dict[str, Any] | None:
        """The JSON object for stdout (None: print nothing)."""
        data: dict[str, Any] = {}
        if self.context:
            data["hookSpecificOutput"] = {"hookEventName": self.event, "additionalContext": self.context}
        if self.problems:
            data["systemMessage"] = MESSAGE_PREFIX + "; ".join(self.problems)
        return data or None

    def stdout_text(self) -> str:
        output = self.output
        return json.dumps(output, ensure_ascii=False) if output else ""


def event_name(raw: str) -> str:
    """``session-start``, ``session_start`` and ``SessionStart`` all name ``SessionStart``."""
    wanted = raw.replace("-", "").replace("_", "").lower()
    for name in EVENTS:
        if name.lower() == wanted:
            return name
    raise CollectorError(f"unknown hook event {raw!r}", field="event", hint=f"use one of: {', '.join(EVENTS)}")


def handle_hook(
    repo: FlowRepo, event: str, payload: dict[str, Any], agent: str = "claude-code", timeout_s: float = 10.0
) -> HookResponse:
    """Answer one hook call; ``timeout_s`` is how long a context hook may work before it answers
    without context. Never raises for a problem of ours: see :class:`HookResponse`."""
    response = HookResponse()
    try:
        name = response.event = event_name(event)
        if agent not in AGENTS:
            raise CollectorError(f"unknown agent {agent!r}", field="agent", hint=f"use one of: {', '.join(AGENTS)}")
        if not isinstance(payload, dict):
            raise CollectorError("hook input must be a JSON object", hint="the agent sends one on stdin")
        if name in ("SessionStart", "UserPromptSubmit"):
            from flowloop.integrations.hooks.context import inject_context

            inject_context(repo, name, payload, response, timeout_s)
        elif name == "PostToolUse":
            from flowloop.integrations.hooks.plans import record_plan

            record_plan(repo, payload, response, agent)
        else:
            from flowloop.integrations.hooks.sessions import record_session

            record_session(repo, payload, response, agent, final=name == "SessionEnd")
    except FlowError as exc:
        response.problems.append(exc.render())
    except OSError as exc:
        response.problems.append(f"{type(exc).__name__}: {exc}")
    return response

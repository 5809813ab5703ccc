"""Plan approval: Claude Code's ``PostToolUse`` of ``ExitPlanMode`` means the human approved a plan.

It becomes an ``approval`` (the plan as proposed), or a ``scope_change`` when the approved plan
differs from the one first proposed: the human rejected earlier plans with feedback (found in
the transcript), or edited the plan (the tool response carries the edited text).
"""

from __future__ import annotations

import hashlib
from typing import Any

from flowloop.errors import CollectorError
from flowloop.integrations.hooks.common import now, session_id, store_events, task_of, transcript_path
from flowloop.integrations.hooks.dispatch import HookResponse
from flowloop.repo import FlowRepo


def record_plan(repo: FlowRepo, payload: dict[str, Any], response: HookResponse, agent: str) -> None:
    """Store the approval (or scope change) an ``ExitPlanMode`` tool use stands for."""
    from flowloop.integrations.transcript import read_transcript
    from flowloop.signals.events import ApprovalEvent, ScopeChangeEvent

    if payload.get("tool_name") != "ExitPlanMode":
        return
    tool_input = payload.get("tool_input") if isinstance(payload.get("tool_input"), dict) else {}
    plan = tool_input.get("plan")
    if not isinstance(plan, str) or not plan.strip():
        raise CollectorError("ExitPlanMode input has no plan text", field="tool_input.plan")
    session = session_id(payload)
    tool_id = str(payload.get("tool_use_id") or hashlib.sha256(plan.encode()).hexdigest()[:16])
    prompt, proposed, task = "", None, task_of("", session)
    path = transcript_path(payload)
    if path is not None and path.is_file():
        transcript = read_transcript(path)
        if transcript.turns:
            prompt = transcript.turns[-1].human.text
            task = task_of(transcript.turns[0].human.text, session)
        proposed = first_rejected_plan(transcript.plans, tool_id)
    edited = edited_plan(payload.get("tool_response"), plan)
    key = f"{agent}:{session}:{tool_id}:plan"
    common = dict(task=task, session=session, source=f"{agent}-hook", created_at=now(), idempotency_key=key)
    if edited is not None:
        event: Any = ScopeChangeEvent(plan=plan, approved_plan=edited, **common)
    elif proposed is not None and proposed.strip() != plan.strip():
        event = ScopeChangeEvent(plan=proposed, approved_plan=plan, **common)
    else:
        event = ApprovalEvent(prompt=prompt, output=plan, **common)
    response.recorded += store_events(repo, [event])


def first_rejected_plan(plans: list[Any], current_id: str) -> str | None:
    """The first plan of the run of rejected plans just before the approved one, if any."""
    run: list[Any] = []
    for tool in plans:
        if tool.id == current_id:
            break
        run = run + [tool] if tool.rejected else []  # an earlier approved plan starts a new run
    first = run[0].input.get("plan") if run else None
    return first if isinstance(first, str) and first.strip() else None


def edited_plan(tool_response: Any, plan: str) -> str | None:
    """A plan text in the tool response that differs from the input: the human edited it."""
    if isinstance(tool_response, dict):
        for key in ("plan", "approvedPlan", "editedPlan"):
            value = tool_response.get(key)
            if isinstance(value, str) and value.strip() and value.strip() != plan.strip():
                return value
    return None

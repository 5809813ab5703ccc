"""``flow plan "TASK"``: the specialist drafts N plans around the localizer's files, ranked.

In order: the task is checked (empty, too long, N outside 1..``MAX_PLANS``) before anything
loads; the localizer ranks the files (the promoted one, else retrieval-only, and the notes say
so); the planning context is gathered as ``flow ask --role plan`` gathers it (context pack and
similar earlier tasks, as of now; without an index the plans are drafted without it, and say
so); the specialist (the promoted version, else the base model, said too) samples N drafts
from one prompt, seeded; identical drafts are dropped; each is read into a plan
(:mod:`.shape`) whose files are :func:`~flowloop.planner.files.planned_files`; the drafts are
ranked (:mod:`.rank`) and the set is stored with an id (:mod:`.store`) for the pick.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from flowloop.errors import PlanError
from flowloop.inference.model import Model
from flowloop.planner.files import RepoFiles, planned_files
from flowloop.planner.rank import ranked, score_drafts
from flowloop.planner.shape import read_reply
from flowloop.planner.store import PlanSet, new_id, save
from flowloop.repo import FlowRepo

MAX_PLANS = 8
_TASK_ID = re.compile(r"^[A-Za-z][\w.-]{0,63}$")


def task_id_for(description: str) -> str:
    """The task id of an unnamed task: stable for the same description (``plan-<8 hex>``)."""
    return "plan-" + hashlib.sha256(description.strip().encode("utf-8")).hexdigest()[:8]


def check_count(n: int) -> int:
    if not 1 <= n <= MAX_PLANS:
        raise PlanError(f"cannot draft {n} plans: N must be from 1 to {MAX_PLANS}", field="n",
                        hint="e.g. --n 3 (each draft costs generation time)")
    return n


def check_task_id(task: str) -> str:
    if not _TASK_ID.match(task):
        raise PlanError(f"task id {task!r} is not an id", field="task",
                        hint="a word such as LED-252 (letters, digits, '.', '_', '-'; at most 64)")
    return task


def draft_plans(
    repo: FlowRepo,
    description: str,
    n: int | None = None,
    *,
    task: str | None = None,
    model: str = "current",
    backend: Model | None = None,
    retriever: Any | None = None,
    seed: int | None = None,
    max_new_tokens: int | None = None,
) -> PlanSet:
    """Draft, rank and store up to ``n`` (default ``[plan] n``) different plans for ``description``.

    ``backend`` reuses a loaded model; ``retriever`` a warm index (the MCP server's)."""
    from flowloop.localize.service import localize_task
    from flowloop.models.registry import Registry
    from flowloop.pipeline.prompts import PLAN_ASK, planner_messages
    from flowloop.specialist.ask import gather_context

    settings = repo.settings.plan
    count = check_count(settings.n if n is None else n)
    text = description.strip()
    localization = localize_task(repo, text)  # refuses an empty or over-long task before any model loads
    task_id = check_task_id(task.strip()) if task and task.strip() else task_id_for(text)
    notes = [f"files by localizer {localization.version}" if localization.method == "learned"
             else f"files by {localization.method}: {localization.note}"]
    if localization.method == "learned" and localization.note:
        notes.append(localization.note)
    context = gather_context(repo, text, "plan", retriever=retriever)
    if context.note:
        notes.append(context.note)
    if backend is None:
        from flowloop.inference.registry import get_model

        backend = get_model(repo, model)
    if model == "current" and Registry(repo).current() is None:
        notes.append("no promoted specialist yet: the base model drafts (train one with `flow loop`)")
    messages = planner_messages(repo.settings, text, context.text, localization.files)
    drafts = backend.sample(messages, max_new_tokens or settings.max_new_tokens, count,
                            seed=settings.seed if seed is None else seed, temperature=settings.temperature,
                            top_p=settings.top_p)
    unique = _distinct(drafts)
    if len(unique) < len(drafts):
        notes.append(f"{len(drafts) - len(unique)} of {len(drafts)} drafts were identical to another and dropped")
    candidates = RepoFiles(repo.root, localization.pool)
    plans = []
    for reply in unique:
        plan = read_reply(reply, context.documents)
        plan.files = planned_files(localization.files, plan.named, candidates)
        plans.append(plan)
    scored_by = score_drafts(repo, plans, messages, backend)
    plan_set = PlanSet(id=new_id(), task=task_id, description=text, prompt=f"Spec: {text}\n\n{PLAN_ASK}",
                       model=backend.version, scored_by=scored_by, plans=ranked(plans),
                       localization=localization.to_dict(), notes=notes, drawn=len(drafts))
    save(repo, plan_set)
    return plan_set


def _distinct(drafts: list[str]) -> list[str]:
    """Drafts without repeats (whitespace and case do not make a draft different)."""
    seen: set[str] = set()
    out = []
    for draft in drafts:
        key = " ".join(draft.split()).lower()
        if key not in seen:
            seen.add(key)
            out.append(draft)
    return out

"""Examples from behavioral signals (seed, "Beyond PILRs: behavioral training signals").

- Corrections (category C): SFT with the human's correction as the completion (the context and
  the agent's direction in the prompt); a DPO pair (correction chosen over the agent's
  direction); validation items (agent ``violating``, correction ``compliant``) and review-role
  examples from them.
- Preferences (category A): one DPO pair per rejected option; chosen/rejected options also
  become validation items. Rewrites: the human's final version chosen over the agent output.
  Approvals (accepted without edits): an SFT example. Scope changes make no example (the plan
  has no prompt to pair with). Pair counts follow ``flowloop.signals.pairs.pair_count``.
- Outcomes make nothing here: they only weight the examples of their task (``weights.py``).
- Reverted work records become ``violating`` validation items (what not to repeat).
"""

from __future__ import annotations

from typing import Any

from flowloop.pipeline import prompts
from flowloop.pipeline.inputs import Inputs
from flowloop.pipeline.records import Example, ValidationItem
from flowloop.signals.events import (
    ApprovalEvent,
    CorrectionEvent,
    EventBase,
    PreferenceEvent,
    RewriteEvent,
)

FALLBACK_PROMPT = "Propose the approach for this task."


def _request(event: EventBase, text: str, descriptions: dict[str, str]) -> str:
    """The user request of an event: its own prompt, else its task's description."""
    if text.strip():
        return text.strip()
    if event.task and event.task in descriptions:
        return f"Task: {descriptions[event.task]}"
    return f"Task {event.task}: {FALLBACK_PROMPT}" if event.task else FALLBACK_PROMPT


def _common(event: EventBase) -> dict[str, Any]:
    return {"source": f"event:{event.id}", "task": event.task, "time": event.created_at}


def correction_examples(settings: Any, event: CorrectionEvent) -> tuple[list[Example], list[ValidationItem]]:
    common = _common(event)
    context = event.context.strip()
    situation = context or (f"Task {event.task}" if event.task else "")
    examples = [
        Example(pass_="sft", kind="correction", prompt=prompts.correction_messages(settings, context, event.agent),
                key=f"{context}\n{event.agent}", completion=event.correction, **common),
        Example(pass_="dpo", kind="correction",
                prompt=prompts.task_messages(settings, f"{situation}\n\nWhat should be done?".strip()),
                key=situation, chosen=event.correction, rejected=event.agent, **common),
        Example(pass_="sft", kind="review", prompt=prompts.review_messages(settings, event.agent, context),
                key=f"{context}\n{event.agent}", completion=f"{prompts.VIOLATION}: {event.correction.strip()}",
                **common),
        Example(pass_="sft", kind="review", prompt=prompts.review_messages(settings, event.correction, context),
                key=f"{context}\n{event.correction}", completion=prompts.OK, **common),
    ]
    items = [
        ValidationItem(event.agent, context, "violating", common["source"], event.task, event.created_at),
        ValidationItem(event.correction, context, "compliant", common["source"], event.task, event.created_at),
    ]
    return examples, items


def preference_examples(
    settings: Any, event: PreferenceEvent, descriptions: dict[str, str]
) -> tuple[list[Example], list[ValidationItem]]:
    common = _common(event)
    request = _request(event, event.prompt, descriptions)
    messages = prompts.task_messages(settings, request)
    examples = [
        Example(pass_="dpo", kind="preference", prompt=messages, key=request, chosen=event.chosen, rejected=other,
                **common)
        for other in event.rejected
    ]
    items = [ValidationItem(event.chosen, request, "compliant", common["source"], event.task, event.created_at)]
    items.extend(
        ValidationItem(other, request, "violating", common["source"], event.task, event.created_at)
        for other in event.rejected
    )
    return examples, items


def rewrite_example(settings: Any, event: RewriteEvent, descriptions: dict[str, str]) -> Example:
    request = _request(event, event.prompt, descriptions)
    return Example(pass_="dpo", kind="rewrite", prompt=prompts.task_messages(settings, request), key=request,
                   chosen=event.final, rejected=event.agent_output, **_common(event))


def approval_example(settings: Any, event: ApprovalEvent, descriptions: dict[str, str]) -> Example:
    request = _request(event, event.prompt, descriptions)
    return Example(pass_="sft", kind="approval", prompt=prompts.task_messages(settings, request), key=request,
                   completion=event.output, **_common(event))


def signal_examples(settings: Any, inputs: Inputs) -> tuple[list[Example], list[ValidationItem]]:
    """Every example and validation item the stored events yield (event order)."""
    descriptions = {w.task: w.description for w in inputs.work}
    examples: list[Example] = []
    items: list[ValidationItem] = []
    for event in inputs.events:
        if isinstance(event, CorrectionEvent):
            found, valid = correction_examples(settings, event)
        elif isinstance(event, PreferenceEvent):
            found, valid = preference_examples(settings, event, descriptions)
        elif isinstance(event, RewriteEvent):
            found, valid = [rewrite_example(settings, event, descriptions)], []
        elif isinstance(event, ApprovalEvent):
            found, valid = [approval_example(settings, event, descriptions)], []
        else:
            continue
        examples.extend(found)
        items.extend(valid)
    for work in inputs.work:
        if work.reverted and work.files:
            text = f"Task: {work.description}\n\n{prompts.format_files_answer(work.files)}"
            items.append(ValidationItem(text, "", "violating",
                                        f"event:{work.event_id}", work.task, work.time))
    return examples, items

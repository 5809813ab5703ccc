"""Planning suite: from a held-out task description, predict the files the task touched.

Scored per task by precision, recall and F1 of the predicted file set against the files the
task really touched, then averaged over tasks (macro: each task counts once, however many files
it touched). Four ways of answering are compared side by side:

- ``retrieval_only``: no model; the files of the most similar past tasks (from the same
  ``planning_context`` the training prompts use), ranked by summed similarity;
- ``localizer``: the promoted localizer alone (``flowloop.evaluate.localizer``), when one is
  promoted and never trained on these tasks;
- a model ``alone``: the bare description in the plan prompt;
- a model ``with context``: the description plus its planning context (the context pack and the
  similar past tasks, as of the task's time), exactly the prompt the specialist is trained with;
- the ``planner`` suite, the full planner as ``flow plan`` runs it: the localizer's files as of
  the task (the promoted localizer, else retrieval-only) in the plan prompt with the planning
  context, the model's plan, and its files by :func:`flowloop.planner.files.planned_files` over
  the localizer's as-of candidate pool. The gate's primary metric is this suite's F1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flowloop.evaluate.scorer import generate_all
from flowloop.evaluate.stats import mean, set_score
from flowloop.inference.model import Model
from flowloop.planner.files import normalise as normalise_path
from flowloop.types import Progress


@dataclass
class SimilarTask:
    """A past task retrieval found for a held-out one."""

    task: str
    score: float
    files: tuple[str, ...] | list[str]


@dataclass
class PlanningItem:
    id: str
    task: str
    description: str
    files: list[str]
    time: str = ""
    as_of: str = ""  # the task's planning moment (what the localizer answers as of)
    context_text: str = ""
    similar: list[SimilarTask] = field(default_factory=list)


def retrieval_files(similar: Sequence[SimilarTask], max_files: int | None = None) -> list[str]:
    """Files of the most similar past tasks, ranked by the summed similarity of the tasks naming them.

    Ranking is the pipeline's own ``similar_files`` (the same one the training prompts list).
    ``max_files`` defaults to the number of files of the most similar task: retrieval predicts a
    change about as large as its nearest precedent (the union of every similar task's files
    would trade all precision for recall).
    """
    from flowloop.pipeline.similar import similar_files

    if not similar:
        return []
    nearest = max(similar, key=lambda s: s.score)
    limit = max_files if max_files is not None else max(1, len(nearest.files))
    ranked = similar_files(list(similar), None)
    return list(dict.fromkeys(normalise_path(f) for f in ranked))[:limit]


def _detail(item: PlanningItem, predicted: list[str], answer: str | None = None) -> dict[str, Any]:
    truth = [normalise_path(f) for f in item.files]
    score = set_score(predicted, truth)
    out: dict[str, Any] = {
        "id": item.id,
        "task": item.task,
        "precision": score.precision,
        "recall": score.recall,
        "f1": score.f1,
        "predicted": predicted,
        "truth": truth,
    }
    if answer is not None:
        out["answer"] = answer[:2000]
    return out


def run_retrieval(items: Sequence[PlanningItem], progress: Progress | None = None) -> list[dict[str, Any]]:
    details = []
    for i, item in enumerate(items):
        details.append(_detail(item, retrieval_files(item.similar)))
        if progress:
            progress(i + 1, len(items))
    return details


def run_model(
    scorer: Model,
    items: Sequence[PlanningItem],
    settings: Any,
    with_context: bool,
    max_new_tokens: int,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Generate each task's answer with the plan prompt and parse the files from it."""
    from flowloop.pipeline.prompts import parse_files_answer, planning_messages

    conversations = [planning_messages(settings, item.description, item.context_text if with_context else "") for item in items]
    answers = generate_all(scorer, conversations, max_new_tokens, progress)
    details = []
    for item, answer in zip(items, answers):
        predicted = list(dict.fromkeys(normalise_path(f) for f in parse_files_answer(answer)))
        details.append(_detail(item, [p for p in predicted if p], answer))
    return details


def run_planner(
    scorer: Model,
    items: Sequence[PlanningItem],
    settings: Any,
    localizations: Sequence[Any],
    max_new_tokens: int,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """The full planner on each task: ``localizations`` (one :class:`~flowloop.localize.api.Localization`
    per item, as of its task) in the plan prompt, and the plan's files as ``flow plan`` takes them.

    Greedy, not sampled: an evaluation must give the same numbers twice; ``flow plan`` ranks
    samples of this same prompt."""
    from flowloop.pipeline.prompts import parse_files_answer, planner_messages
    from flowloop.planner.files import planned_files

    conversations = [planner_messages(settings, item.description, item.context_text, list(found.files))
                     for item, found in zip(items, localizations)]
    answers = generate_all(scorer, conversations, max_new_tokens, progress)
    return [_detail(item, planned_files(found.files, parse_files_answer(answer), set(found.pool)), answer)
            for item, found, answer in zip(items, localizations, answers)]


def statistic(details: list[dict[str, Any]], idx: Sequence[int]) -> dict[str, float]:
    picked = [details[i] for i in idx]
    return {
        "f1": mean([d["f1"] for d in picked]),
        "precision": mean([d["precision"] for d in picked]),
        "recall": mean([d["recall"] for d in picked]),
    }

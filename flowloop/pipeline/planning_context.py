"""The context a planner had for a task AT THAT TIME: one function, shared by training and eval.

A probe on a real repository showed a specialist trained on bare task descriptions scoring
below a retrieval-only baseline at predicting the files a task touches. So the planning
examples carry what the specialist will be given when used: the PILR context pack retrieved as
of the task's planning moment, plus the descriptions and files of the most similar EARLIER
work records. The dataset builds training prompts with :func:`planning_context`; evaluation
builds the "specialist with context" prompts with the same function and scores the
retrieval-only baseline on its ``similar_files()``. Nothing that appeared after ``as_of`` can
enter: the index filters documents by creation date and similar tasks must have finished
before ``as_of``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Sequence

from flowloop.pipeline.records import WorkRecord
from flowloop.pipeline.similar import SimilarTask, TaskHistory, similar_files
from flowloop.repo import FlowRepo

SIMILAR_HEADING = "## Similar past tasks"


@dataclass
class PlanningContext:
    """What goes under the task in a planning prompt, and where it came from."""

    text: str
    as_of: dt.datetime
    pack_text: str = ""
    documents: list[dict[str, Any]] = field(default_factory=list)
    similar: list[SimilarTask] = field(default_factory=list)

    def similar_files(self, limit: int | None = None) -> list[str]:
        """The retrieval-only prediction: files of the similar earlier tasks, best first."""
        return similar_files(self.similar, limit)

    def document_ids(self) -> list[str]:
        return [str(d.get("id")) for d in self.documents]


def doc_dict(doc: Any) -> dict[str, Any]:
    """A cited document (the index's ``PackDocument`` or a dict) as a plain dict."""
    if isinstance(doc, dict):
        return dict(doc)
    return {name: getattr(doc, name, None) for name in ("id", "path", "type", "score")}


def format_similar(similar: Sequence[SimilarTask]) -> str:
    """The "Similar past tasks" section (empty when there are none)."""
    if not similar:
        return ""
    lines = [SIMILAR_HEADING]
    for task in similar:
        first_line = task.description.strip().splitlines()[0] if task.description.strip() else ""
        lines.append(f"- {task.task} ({task.time.date().isoformat()}): {first_line}")
        if task.files:
            lines.append(f"  files: {', '.join(task.files)}")
    return "\n".join(lines)


class PlanningContextBuilder:
    """Keeps the retriever and the task history loaded across many calls (a build, an eval run)."""

    def __init__(
        self,
        repo: FlowRepo,
        history: Sequence[WorkRecord] | TaskHistory | None = None,
        retriever: Any | None = None,
        budget: int | None = None,
        k: int | None = None,
    ) -> None:
        self.repo = repo
        self._history = history if isinstance(history, TaskHistory) or history is None else TaskHistory(history)
        self._retriever = retriever
        self.budget = budget if budget is not None else repo.settings.dataset.context_budget
        self.k = k if k is not None else repo.settings.dataset.similar_tasks

    @property
    def history(self) -> TaskHistory:
        if self._history is None:
            from flowloop.pipeline.inputs import load_work_history

            self._history = TaskHistory(load_work_history(self.repo))
        return self._history

    @property
    def retriever(self) -> Any:
        if self._retriever is None:
            from flowloop.index.api import Retriever

            self._retriever = Retriever(self.repo)
        return self._retriever

    def build(self, description: str, as_of: dt.datetime, exclude_task: str | None = None) -> PlanningContext:
        """The planning context for ``description`` as it was at ``as_of``."""
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=dt.timezone.utc)
        # The index refuses over-long queries; a long commit message still plans from its start.
        query = description.strip()[: self.repo.settings.index.max_query_chars]
        pack = self.retriever.context_pack(query, budget=self.budget, as_of=as_of, log=False)
        pack_text = (getattr(pack, "text", "") or "").strip()
        documents = [doc_dict(d) for d in getattr(pack, "documents", [])]
        similar = self.history.similar(description, before=as_of, k=self.k, exclude_task=exclude_task)
        # Precedents first: they name files (retrieval-only planning scores from them alone), and
        # a prompt trimmed to the training length loses the end of its context, not the start.
        text = "\n\n".join(part for part in (format_similar(similar), pack_text) if part)
        return PlanningContext(text=text, as_of=as_of, pack_text=pack_text, documents=documents, similar=similar)


def planning_context(
    repo: FlowRepo,
    description: str,
    as_of: dt.datetime,
    *,
    history: Sequence[WorkRecord] | TaskHistory | None = None,
    retriever: Any | None = None,
    budget: int | None = None,
    k: int | None = None,
    exclude_task: str | None = None,
) -> PlanningContext:
    """The planning context of one task: context pack as of ``as_of`` + top-``k`` earlier tasks.

    ``history`` defaults to every work record in the signals store; ``retriever`` to a new
    ``flowloop.index.api.Retriever``; ``budget`` and ``k`` to ``[dataset] context_budget`` and
    ``similar_tasks``. For many calls, keep a :class:`PlanningContextBuilder`.
    Use the task's planning moment as ``as_of`` (``eval_planning.jsonl`` rows carry it).
    """
    builder = PlanningContextBuilder(repo, history=history, retriever=retriever, budget=budget, k=k)
    return builder.build(description, as_of, exclude_task=exclude_task)

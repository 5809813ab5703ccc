"""Localize one task in a repository: the promoted localizer over its work history, or, when
none is promoted yet, retrieval-only (and the answer says so). ``flow plan --files-only`` is
this call; it loads no language model, so it answers in well under a second once imported."""

from __future__ import annotations

import datetime as dt

from flowloop.errors import DatasetError
from flowloop.localize.api import Localization, Localizer
from flowloop.localize.cards import card_root
from flowloop.localize.features import FeatureBuilder
from flowloop.localize.model import LocalizerModel
from flowloop.models.registry import Registry
from flowloop.passes import get_pass
from flowloop.pilr.store import PilrStore
from flowloop.pipeline.inputs import load_work_history
from flowloop.pipeline.records import WorkRecord
from flowloop.repo import FlowRepo

MAX_TASK_CHARS = 4000
PASS = "localizer"


def builder_for(repo: FlowRepo) -> tuple[list[WorkRecord], FeatureBuilder]:
    """The repository's work history and a feature builder over it and its PILRs."""
    history = load_work_history(repo)
    return history, FeatureBuilder(history, documents=PilrStore(repo).load(), root=card_root(repo.root))


def localize_task(repo: FlowRepo, description: str, version: str = "current",
                  before: dt.datetime | None = None) -> Localization:
    """The files ``description`` will probably touch (``version``: ``current``, ``latest`` or ``vN``)."""
    text = description.strip()
    if not text:
        raise DatasetError("the task description is empty", field="task", hint='describe the task: flow plan "Add ..."')
    if len(text) > MAX_TASK_CHARS:
        raise DatasetError(f"the task description is {len(text)} characters; the limit is {MAX_TASK_CHARS}",
                           field="task", hint="describe the task in a paragraph; put details in a PILR")
    registry = Registry(repo, get_pass(PASS).family)
    found = registry.current() if version == "current" else registry.get(version)
    history, builder = builder_for(repo)
    model = None if found is None else LocalizerModel.load(found.model_dir)
    return Localizer(history, model, found.version if found else None, builder=builder).localize(text, before)

"""``flow dataset build``: PILRs, documentation and signals -> one versioned dataset.

Stages, in order: load the inputs; make examples (document templates, planning examples with
their as-of context, behavioral examples, optional model drafts); scrub secrets; weight by
outcomes (reverted tasks dropped); apply the committed review decisions; remove exact and near
duplicates; split by time (newest tasks held out); write the version folder atomically.
Everything is sorted before writing, so the same inputs give byte-identical files and the
same ``content_hash``; an identical build reuses the latest version.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from flowloop.errors import DatasetError
from flowloop.passes import passes
from flowloop.pilr.model import PilrType
from flowloop.pipeline import prompts
from flowloop.pipeline.behavior import signal_examples
from flowloop.pipeline.context_cache import CachingRetriever
from flowloop.pipeline.dedup import canonical_order
from flowloop.pipeline.inputs import Inputs, load_inputs
from flowloop.pipeline.manifest import FILE_NAMES, DatasetManifest, jsonl_bytes, write_version
from flowloop.pipeline.planning_context import PlanningContextBuilder
from flowloop.pipeline.records import Example, ValidationItem, WorkRecord
from flowloop.pipeline.selection import select_examples
from flowloop.pipeline.similar import TaskHistory
from flowloop.pipeline.split import Split, time_split, training_items
from flowloop.pipeline.templates import document_examples, section_examples
from flowloop.pipeline.thresholds import counts as threshold_counts
from flowloop.pipeline.thresholds import training_work
from flowloop.repo import FlowRepo
from flowloop.scrub import scrub_value
from flowloop.types import Message, Progress

CURATE_MODES = ("templates", "agentic")


def planning_examples(
    repo: FlowRepo, inputs: Inputs, retriever: Any | None = None, progress: Progress | None = None
) -> list[Example]:
    """Work records -> files, each prompt carrying the context a planner had at that time."""
    records = [w for w in inputs.work if w.files]
    if not records:
        return []
    settings = repo.settings
    cache: CachingRetriever | None = None
    if retriever is None:
        from flowloop.index.api import Retriever, build_index

        build_index(repo)  # incremental: only documents changed since the last build are embedded
        retriever = cache = CachingRetriever(repo, Retriever(repo))
    builder = PlanningContextBuilder(repo, history=TaskHistory(inputs.work), retriever=retriever)
    examples = []
    for done, work in enumerate(records, start=1):
        context = builder.build(work.description, work.as_of, exclude_task=work.task)
        examples.append(
            Example(
                pass_="sft",
                kind="files",
                source=f"event:{work.event_id}",
                prompt=prompts.planning_messages(settings, work.description, context.text),
                key=work.description,
                completion=prompts.format_files_answer(work.files),
                task=work.task,
                time=work.time,
            )
        )
        if progress is not None:
            progress(done, len(records))
    if cache is not None:
        cache.save()
    return examples


def _source_group(source: str, pilr_types: dict[str, str], event_kinds: dict[str, str]) -> str:
    prefix, _, rest = source.partition(":")
    ident = rest.split("#", 1)[0]
    if prefix == "pilr":
        return f"pilr:{pilr_types.get(ident, 'unknown')}"
    if prefix == "event":
        return f"event:{event_kinds.get(ident, 'unknown')}"
    return prefix


def _counts(
    inputs: Inputs, train: list[Example], heldout: list[Example], drafts: list[Example], removed: dict[str, int],
    work: list[WorkRecord],
    labelled: list[ValidationItem] | None = None,
) -> dict[str, Any]:
    pilr_types = {d.id: d.type.value for d in inputs.pilrs}
    event_kinds = {e.id: e.kind for e in inputs.events}
    by_source: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = {p.name: Counter() for p in passes()}
    for example in train + heldout:
        by_source[_source_group(example.source, pilr_types, event_kinds)] += 1
        by_kind[example.pass_][example.kind] += 1
    return {
        "by_source": dict(sorted(by_source.items())),
        "by_kind": {p: dict(sorted(c.items())) for p, c in by_kind.items()},
        **threshold_counts([*train, *(labelled or [])], work),
        "drafts": len(drafts),
        "removed": removed,
        "inputs": {
            "pilrs": {t.value: sum(1 for d in inputs.pilrs if d.type is t) for t in PilrType},
            "doc_sections": len(inputs.sections),
            "events": dict(sorted(Counter(e.kind for e in inputs.events).items())),
            "tasks": len(inputs.task_time),
        },
    }


def _rows(examples: list[Example]) -> list[dict[str, Any]]:
    return [e.row() for e in canonical_order(examples)]


def assemble_files(
    examples: list[Example], drafts: list[Example], items: list[ValidationItem], inputs: Inputs, split: Split,
    retrieval: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], []),
) -> tuple[dict[str, bytes], dict[str, int], list[Example], list[Example]]:
    """The JSONL files of a version, their row counts, and the train / held-out examples."""
    train = [e for e in examples if not split.example_heldout(e)]
    heldout = [e for e in examples if split.example_heldout(e)]
    planning = [w.eval_row() for w in inputs.work if w.files and not w.reverted and split.task_heldout(w.task, w.time)]
    validation = {i.id: i for i in items if split.item_heldout(i)}
    labelled = {i.id: i for i in items if not split.item_heldout(i)}
    content = {
        **{p.train_file: _rows([e for e in train if e.pass_ == p.name]) for p in passes()},
        **{p.heldout_file: _rows([e for e in heldout if e.pass_ == p.name]) for p in passes()},
        # a labelled pass (the reward model) trains on the labelled outputs of the training
        # tasks and is scored on the same held-out items the validation suite reads
        **{p.train_file: [labelled[k].training_row() for k in sorted(labelled)] for p in passes() if p.labelled},
        **{p.heldout_file: [validation[k].training_row() for k in sorted(validation)] for p in passes() if p.labelled},
        "eval_planning": sorted(planning, key=lambda r: (r["time"], r["task"])),
        # the localizer's training rows: the work records of the training split, as eval rows are
        "work_train": sorted((w.eval_row() for w in training_work(inputs, split)), key=lambda r: (r["time"], r["task"])),
        "eval_validation": [validation[k].row() for k in sorted(validation)],
        "sft_drafts": _rows(drafts),
        "retrieval_train": retrieval[0],
        "eval_retrieval": retrieval[1],
    }
    # Empty files are not written: `datasets.load_dataset` cannot read an empty JSONL file.
    files = {FILE_NAMES[name]: jsonl_bytes(rows) for name, rows in content.items() if rows}
    return files, {name: len(rows) for name, rows in content.items()}, train, heldout


def _retrieval_rows(
    repo: FlowRepo, split: Split, progress: Progress | None
) -> tuple[tuple[list[dict[str, Any]], list[dict[str, Any]]], dict[str, int]]:
    """Retrieval pairs mined as of the split's cutoff (the held-out tasks' work cannot leak into
    them) and the held-out retrieval queries after it; nothing when ``[retrieval] mine`` is off."""
    if not repo.settings.retrieval.mine:
        return ([], []), {}
    import datetime as dt

    from flowloop.pipeline.retrieval_pairs import heldout_queries, mine_pairs

    cut = split.cutoff - dt.timedelta(seconds=1) if split.cutoff is not None else None
    mined = mine_pairs(repo, cut, progress=progress)
    heldout = heldout_queries(repo, cut) if cut is not None else []
    counts = {**mined.counts, "positives": sum(1 for p in mined.pairs if p.label > 0), "heldout_queries": len(heldout)}
    return ([p.row() for p in mined.pairs], heldout), counts


def build_dataset(
    repo: FlowRepo,
    curate: str = "templates",
    progress: Progress | None = None,
    *,
    retriever: Any | None = None,
    generate: Callable[[list[Message]], str] | None = None,
) -> DatasetManifest:
    """Build (or reuse) the next dataset version; see the module docstring for the stages.

    ``retriever`` (default: a new ``flowloop.index.api.Retriever``) and ``generate`` (the
    agentic curator's model; default from ``[dataset]`` settings) can be passed in by callers
    that already hold them.
    """
    if curate not in CURATE_MODES:
        raise DatasetError(f"unknown curation mode {curate!r}", hint="use 'templates' or 'agentic'")
    settings = repo.settings
    inputs = load_inputs(repo)
    if inputs.is_empty():
        raise DatasetError(
            "nothing to build from: no PILRs, no documentation sources and no signals",
            path=repo.flow_dir,
            hint="write PILRs (`flow pilr new`), add [[sources]] to .flow/config.toml, or collect signals "
            "(`flow collect git`)",
        )
    doc_examples, doc_items = document_examples(settings, inputs.pilrs, inputs.task_time)
    examples = doc_examples + section_examples(settings, inputs.sections)
    behavior, behavior_items = signal_examples(settings, inputs)
    examples += behavior
    examples += planning_examples(repo, inputs, retriever=retriever, progress=progress)
    drafts: list[Example] = []
    if curate == "agentic":
        from flowloop.pipeline.curate import draft_examples

        drafts = draft_examples(repo, inputs, generate=generate, progress=progress)
    selected = select_examples(repo, inputs, examples + drafts)
    if not selected.kept and not selected.drafts:
        raise DatasetError(
            "the dataset would be empty: no document or signal yields an example",
            path=repo.flow_dir,
            hint="PILRs need sections (e.g. '## Plan', '## What worked'); work records need files",
        )
    split = time_split(inputs.task_time, settings.dataset.holdout_share)
    retrieval, retrieval_counts = _retrieval_rows(repo, split, progress)
    files, file_counts, train, heldout = assemble_files(
        selected.kept, selected.drafts, doc_items + behavior_items, inputs, split, retrieval
    )
    removed = {
        "exact_duplicates": selected.exact,
        "near_duplicates": selected.near,
        "rejected_in_review": selected.applied.rejected,
        "edited_in_review": selected.applied.edited,
        "accepted_drafts": selected.applied.accepted_drafts,
        "reverted_examples": selected.reverted,
    }
    counts = _counts(inputs, train, heldout, selected.drafts, removed, training_work(inputs, split),
                     training_items(doc_items + behavior_items, split))
    counts["files"] = file_counts
    if retrieval_counts:
        counts["retrieval"] = retrieval_counts
        counts["retrieval_pairs"] = retrieval_counts["positives"]
    fields: dict[str, Any] = {
        "counts": counts,
        "thresholds": {p.name: p.threshold(settings) for p in passes()},
        "split": split.manifest(),
        "files": {name: filename for name, filename in FILE_NAMES.items() if filename in files},
        "curate": curate,
        "settings": scrub_value(settings.dataset.model_dump(exclude={"curate_api_key"})),
    }
    return write_version(repo, files, fields)

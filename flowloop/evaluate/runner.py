"""``evaluate_model``: every suite for one model on one dataset, stored with the model version.

Order of work: resolve the dataset and the model, check they may be paired (lineage), load the
eval data (planning contexts cached per dataset), load the model once, run each suite, add the
planning baselines (retrieval-only, the localizer alone, the same model without context, the
base model with context), the paired difference of the full planner (the ``planner`` suite)
minus retrieval-only on the same tasks and, beside the validation suite, the promoted reward
model on the same items (the ``reward`` baseline: both reviewers side by side), then write one
result file atomically. The preference suite scores against the base model (its implicit
reward), so a specialist's evaluation also scores, or reuses, the base's. An interrupt anywhere before that write
stores nothing. A stored result for the same model, dataset hash and eval settings is reused
(model versions are immutable), so the gate and the loop never score one model twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flowloop.errors import EvaluationError
from flowloop.evaluate import data as eval_data
from flowloop.evaluate.lineage import BASE, ModelRef, check_lineage, resolve_model
from flowloop.evaluate.results import LOCALIZER_BASELINE, EvalResult, SuiteResult, load_result, store_result
from flowloop.evaluate.reward import reward_details
from flowloop.evaluate.suites import SUITES, general, knowledge, planning, preference, summarise, validation
from flowloop.inference.model import Model
from flowloop.inference.registry import get_model
from flowloop.repo import FlowRepo
from flowloop.types import StageProgress

ScorerFactory = Callable[[ModelRef], Model]
REWARD_BASELINE = "reward"  # the promoted reward model on the validation suite's items

HELD_OUT_SUITES = ("planning", "planner", "preference", "validation")
PLANNER_VS_RETRIEVAL = "planner_minus_retrieval_only"


def eval_settings(repo: FlowRepo, max_examples: int | None = None) -> dict[str, Any]:
    """What changes the numbers; a stored result made with other values is recomputed."""
    s = repo.settings
    return {
        "max_examples": max_examples or s.eval.max_examples,
        "seed": s.eval.seed,
        "bootstrap_samples": s.eval.bootstrap_samples,
        "knowledge_options": s.eval.knowledge_options,
        "planning_max_new_tokens": s.eval.planning_max_new_tokens,
        "plan_max_new_tokens": s.plan.max_new_tokens,
        # the full planner starts from the promoted localizer: another one changes its numbers
        LOCALIZER_BASELINE: _current_localizer(repo),
        "base_model": s.train.base_model,
        "precision": s.inference.precision,
        "max_length": s.train.max_length,
        "project": [s.project.name, s.project.description],
        # Another backend scores differently; the default is left out so results stored before
        # the setting existed still count.
        **({"backend": s.eval.backend} if s.eval.backend != "transformers" else {}),
    }


def _current_localizer(repo: FlowRepo) -> str | None:
    from flowloop.models.registry import Registry
    from flowloop.passes import get_pass

    found = Registry(repo, get_pass("localizer").family).current()
    return found.version if found else None


def default_factory(repo: FlowRepo) -> ScorerFactory:
    """Models through the registry, with ``[eval] backend`` (in-process transformers by default)."""

    def load(model: ModelRef) -> Model:
        return get_model(repo, model.version, repo.settings.eval.backend, field="eval.backend")

    return load


class _Stage:
    """Adapts a per-suite ``(done, total)`` callback to the runner's ``(stage, done, total)``."""

    def __init__(self, progress: StageProgress | None, stage: str) -> None:
        self.progress, self.stage = progress, stage

    def __call__(self, done: int, total: int) -> None:
        if self.progress:
            self.progress(self.stage, done, total)


class EvalData:
    """Examples of every suite for one dataset, loaded lazily and shared by several models."""

    def __init__(
        self, repo: FlowRepo, ds: eval_data.DatasetRef, progress: StageProgress | None = None, max_examples: int | None = None
    ) -> None:
        self.repo, self.ds, self.progress = repo, ds, progress
        s = repo.settings.eval
        self.limit, self.seed, self.options = max_examples or s.max_examples, s.seed, s.knowledge_options
        self._cache: dict[str, list[Any]] = {}
        self._localized: tuple[list[Any], str] | None = None

    def localizations(self) -> tuple[list[Any], str]:
        """The full planner's localizer answers on the planning items (computed once) and which
        localizer gave them."""
        if self._localized is None:
            from flowloop.evaluate.localizer import planner_localizations  # numpy: only when planning

            self._localized = planner_localizations(self.repo, self.items("planning"))
        return self._localized

    def items(self, suite: str) -> list[Any]:
        if suite == "planner":  # the full planner answers the planning suite's tasks
            suite = "planning"
        if suite not in self._cache:
            if suite == "planning":
                found: list[Any] = eval_data.planning_items(
                    self.repo, self.ds, self.limit, self.seed, _Stage(self.progress, "planning contexts")
                )
            elif suite == "preference":
                found = eval_data.preference_items(self.ds, self.limit, self.seed)
            elif suite == "validation":
                found = eval_data.validation_items(self.ds, self.limit, self.seed)
            elif suite == "knowledge":
                found = eval_data.knowledge_items(self.ds, self.options, self.limit, self.seed)
            else:
                found = list(general.ITEMS)
            self._cache[suite] = found
        return self._cache[suite]


def _check_suites(suites: Sequence[str] | None) -> list[str]:
    if not suites:
        return list(SUITES)
    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        raise EvaluationError(f"unknown suite {unknown[0]!r}", field="suite", hint=f"use one of: {', '.join(SUITES)}")
    return list(dict.fromkeys(suites))


def _run_suite(suite: str, scorer: Model, data: EvalData, repo: FlowRepo, progress: StageProgress | None,
               reference: Callable[[], list[dict[str, Any]] | None]) -> list[dict[str, Any]]:
    """One suite's details; ``reference``: the base model's preference details, scored on demand
    (None when ``scorer`` is the base model: its own scores are the reference)."""
    settings = repo.settings
    items = data.items(suite)
    stage = _Stage(progress, f"{suite} ({scorer.version})")
    if suite == "planning":
        return planning.run_model(scorer, items, settings, True, settings.eval.planning_max_new_tokens, stage)
    if suite == "planner":
        localized, _ = data.localizations()
        return planning.run_planner(scorer, items, settings, localized, settings.plan.max_new_tokens, stage)
    if suite == "knowledge":
        return knowledge.run(scorer, items, settings, stage)
    if suite == "preference":
        own = preference.run(scorer, items, stage)
        base = reference()
        return preference.against(own, own if base is None else base)
    if suite == "validation":
        return validation.run(scorer, items, settings, stage)
    return general.run(scorer, progress=stage)


def evaluate_model(
    repo: FlowRepo,
    model: str = "current",
    suites: Sequence[str] | None = None,
    dataset: str = "latest",
    progress: StageProgress | None = None,
    *,
    reuse: bool = True,
    factory: ScorerFactory | None = None,
    data: EvalData | None = None,
    max_examples: int | None = None,
) -> EvalResult:
    """Evaluate ``model`` (``base``, ``current`` or ``vN``) on the held-out data of ``dataset``.

    ``factory`` turns a resolved model into a :class:`~flowloop.inference.Model` (default: the
    ``[eval] backend`` registered in :mod:`flowloop.inference.registry`);
    ``data`` shares loaded examples between several calls on the same dataset (its cap wins);
    ``max_examples`` caps each suite (default ``eval.max_examples``).
    """
    wanted = _check_suites(suites)
    ds = data.ds if data is not None else eval_data.resolve_dataset(repo, dataset)
    ref = resolve_model(repo, model)
    check_lineage(repo, ref, ds)
    data = data or EvalData(repo, ds, progress, max_examples)
    config = eval_settings(repo, data.limit)
    stored = load_result(repo, ref.version, ds.version, ds.content_hash) if reuse else None
    if stored is not None and stored.settings != config:
        stored = None
    if stored is not None and "preference" in stored.suites and not preference.is_current(stored.suites["preference"].details):
        del stored.suites["preference"]  # scored by the earlier per-token metric: rescored, the rest kept
    if (stored is not None and stored.covers(wanted) and ("planning" not in stored.suites or _has_baselines(stored, ref))
            and not _reward_missing(repo, stored, wanted)):
        return _only(stored, wanted)  # nothing to compute: no examples or model loaded

    available = [s for s in wanted if data.items(s)]
    held_out = [s for s in wanted if s in HELD_OUT_SUITES]
    if held_out and not any(s in HELD_OUT_SUITES for s in available):
        raise EvaluationError(
            f"dataset {ds.version} has no held-out data for {', '.join(held_out)}",
            path=ds.path,
            hint="held-out tasks are the newest share of tasks: record more work (`flow collect git`, signals) "
            "and rebuild with `flow dataset build`",
        )
    if not available:
        raise EvaluationError(f"dataset {ds.version} has no examples for {', '.join(wanted)}", path=ds.path)

    result = EvalResult(model=ref.version, dataset=ds.version, dataset_hash=ds.content_hash, settings=config)
    if stored is not None:  # suites scored before are kept; only the missing ones run
        result.suites.update(stored.suites)
        result.baselines.update(stored.baselines)
        result.paired.update(stored.paired)
    result.empty = sorted({*(stored.empty if stored else []), *(s for s in wanted if s not in available)} - set(result.suites))
    todo = [s for s in available if s not in result.suites]
    need_baselines = "planning" in available and not _has_baselines(result, ref)
    if not todo and not need_baselines and not _reward_missing(repo, result, wanted):
        return _only(result, wanted)

    samples, seed = repo.settings.eval.bootstrap_samples, repo.settings.eval.seed
    make = factory or default_factory(repo)

    def base_preference() -> list[dict[str, Any]] | None:
        """The reference of the preference suite: the base model's scores of the pairs (stored
        with the base's result, so each dataset scores the base once)."""
        if ref.is_base:
            return None
        base = evaluate_model(repo, BASE, ["preference"], progress=progress, reuse=reuse, factory=make, data=data)
        return base.suites["preference"].details

    if todo or need_baselines:
        scorer = make(ref)
        for suite in todo:
            details = _run_suite(suite, scorer, data, repo, progress, base_preference)
            result.suites[suite] = summarise(suite, details, samples, seed)
        if need_baselines:  # computed whole again; only the reward model's row is kept
            kept = {k: v for k, v in result.baselines.items() if k == REWARD_BASELINE}
            result.baselines = {**kept, **_planning_baselines(repo, ref, scorer, data, progress, make, reuse)}
    _add_paired(result, samples, seed)
    if _reward_missing(repo, result, wanted):  # after the suites: the row sits beside the validation suite
        result.baselines.pop(REWARD_BASELINE, None)
        reward = reward_details(repo, data.items("validation"))
        if reward is not None:
            row = summarise("validation", reward, samples, seed)
            row.metrics["threshold"] = float(reward[0]["threshold"])
            result.baselines[REWARD_BASELINE] = {"validation": row}
    store_result(repo, result)
    return _only(result, wanted)


def _add_paired(result: EvalResult, samples: int, seed: int) -> None:
    """Full planner minus retrieval-only F1 over the same tasks, with its paired 95% interval."""
    from flowloop.evaluate.localizer import paired

    planner = result.suites.get("planner")
    retrieval = result.baselines.get("retrieval_only", {}).get("planning")
    if planner is None or retrieval is None or len(planner.details) != len(retrieval.details):
        return
    diff, ci = paired(planner.details, retrieval.details, samples, seed)
    result.paired[PLANNER_VS_RETRIEVAL] = {"diff": round(diff, 4), "ci": [round(ci[0], 4), round(ci[1], 4)],
                                           "n": len(planner.details)}


def _reward_missing(repo: FlowRepo, result: EvalResult, wanted: Sequence[str]) -> bool:
    """Whether the validation suite (scored, and asked for) lacks the promoted reward model's
    row: none yet, or an older reward version's (a reward model is promoted apart from the
    specialist), or one left from a reward model since rolled back to none."""
    if "validation" not in wanted or "validation" not in result.suites:
        return False
    from flowloop.models.reward import resolve_version

    current = resolve_version(repo, "current")
    row = result.baselines.get(REWARD_BASELINE, {}).get("validation")
    scored = row.details[0].get("version") if row is not None and row.details else None
    return scored != (current.version if current is not None else None)


def _has_baselines(result: EvalResult, ref: ModelRef) -> bool:
    needed = {"retrieval_only"} | (set() if ref.is_base else {"alone", "base"})
    return needed <= set(result.baselines)


def _only(result: EvalResult, wanted: Sequence[str]) -> EvalResult:
    """The result restricted to the suites asked for (the stored file keeps them all)."""
    suites = {k: v for k, v in result.suites.items() if k in wanted}
    baselines = {name: {k: v for k, v in by_suite.items() if k in wanted} for name, by_suite in result.baselines.items()}
    baselines = {name: by_suite for name, by_suite in baselines.items() if by_suite}
    empty = [s for s in result.empty if s in wanted]
    paired = result.paired if "planner" in wanted else {}
    return EvalResult(result.model, result.dataset, result.dataset_hash, suites, baselines, result.created_at,
                      result.settings, empty, paired)


def _planning_baselines(
    repo: FlowRepo,
    ref: ModelRef,
    scorer: Model,
    data: EvalData,
    progress: StageProgress | None,
    make: ScorerFactory,
    reuse: bool,
) -> dict[str, dict[str, SuiteResult]]:
    """Retrieval-only; for a specialist also itself without context and the base model with it."""
    settings = repo.settings
    samples, seed = settings.eval.bootstrap_samples, settings.eval.seed
    items = data.items("planning")
    retrieval = planning.run_retrieval(items, _Stage(progress, "planning (retrieval only)"))
    out = {"retrieval_only": {"planning": summarise("planning", retrieval, samples, seed)}}
    from flowloop.evaluate.localizer import planning_row  # numpy: only once planning is scored

    localized, _why = planning_row(repo, items)
    if localized is not None:  # the learned localizer alone, on the same tasks
        out[LOCALIZER_BASELINE] = {"planning": summarise("planning", localized, samples, seed)}
    if ref.is_base:
        return out  # the comparison is specialist alone vs with context; base alone would only cost time
    alone = planning.run_model(
        scorer, items, settings, False, settings.eval.planning_max_new_tokens, _Stage(progress, f"planning alone ({ref.version})")
    )
    out["alone"] = {"planning": summarise("planning", alone, samples, seed)}
    base = evaluate_model(repo, BASE, ["planning"], progress=progress, reuse=reuse, factory=make, data=data)
    out["base"] = {"planning": base.suites["planning"]}
    return out

"""``evaluate_retrieval``: the retrieval suite on one dataset, systems side by side, stored.

The systems (:func:`suite_systems`): BM25 alone; the stock hybrid (``[index] embedder`` fused
with BM25 by the shipped ``[index]`` weights) which every other system is compared with; the
stock hybrid re-scored by the tuned reranker; the tuned embedder's hybrid, with and without the
tuned reranker; and what ``flow search`` serves now (promoted models and promoted fusion) when
that is none of the others. "Tuned" is the promoted version, else the newest trained one (or the
versions asked for). The retrieval gates add their own candidate and reference (``systems=``).

The result is stored per dataset (``.flow/state/evals/retrieval/vN.json``) and a system scored
before with the same spec on the same data is reused, so the gate, ``flow eval`` and the report
never score one system twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flowloop.errors import EvaluationError
from flowloop.evaluate.results import RetrievalResult, SuiteResult, load_retrieval, store_retrieval
from flowloop.evaluate.retrieval import FILES_METRIC, METRICS, Bench, System, load_queries, open_bench
from flowloop.evaluate.suites import summarise
from flowloop.evaluate.suites.retrieval import file_recall, versus
from flowloop.repo import FlowRepo
from flowloop.types import StageProgress

REFERENCE = "stock"
AUTO = "auto"
NONE = "none"


def pick_version(repo: FlowRepo, family: str, wanted: str | None) -> Any:
    """The version of ``family`` meant by ``wanted``: ``auto`` the promoted one, else the newest;
    ``none`` (or nothing trained) None; ``vN`` that version (an unknown one is an error)."""
    from flowloop.models.registry import Registry

    registry = Registry(repo, family)
    if wanted in (None, NONE):
        return None
    if wanted == AUTO:
        return registry.current() or registry.latest()
    return registry.get(wanted)


def serving_system(repo: FlowRepo) -> System:
    """What ``flow search`` ranks with now: the served vectors, the promoted reranker and fusion."""
    from flowloop.index.active import FUSION_KEYS, active_fusion, effective_index_settings, effective_reranker
    from flowloop.index.embedder import resolve_model

    reranker = effective_reranker(repo)
    settings, base = effective_index_settings(repo), repo.settings.index
    overrides = {k: getattr(settings, k) for k in FUSION_KEYS if getattr(settings, k) != getattr(base, k)}
    fusion = active_fusion(repo) if overrides else None
    label = "serving now: " + ", ".join(filter(None, [
        "embedder as indexed", f"reranker {reranker}" if reranker else "no reranker",
        f"fusion {fusion.get('version')}" if fusion else "[index] weights"]))
    return System("serving", reranker=resolve_model(reranker, repo.root, kind="reranker") if reranker else None,
                  overrides=overrides, label=label)


def stock_system(repo: FlowRepo) -> System:
    """The reference: ``[index] embedder`` fused with BM25 by the shipped weights, no reranker."""
    from flowloop.index.embedder import resolve_model

    name = repo.settings.index.embedder
    return System(REFERENCE, resolve_model(name, repo.root), label=f"stock hybrid ({name})")


def suite_systems(repo: FlowRepo, embedder: str | None = AUTO, reranker: str | None = AUTO) -> list[System]:
    """The suite's systems (see the module docstring), without the serving one."""
    reference = stock_system(repo)
    stock = reference.embedder
    tuned = pick_version(repo, "embedder", embedder)
    rr = pick_version(repo, "reranker", reranker)
    systems = [System("bm25", stock, dense=False, label="BM25 alone"), reference]
    if rr is not None:
        systems.append(System("stock+reranker", stock, rr.model_dir, label=f"stock hybrid + reranker {rr.version}"))
    if tuned is not None:
        systems.append(System("tuned", tuned.model_dir, label=f"tuned embedder {tuned.version} (hybrid)"))
        if rr is not None:
            systems.append(System("tuned+reranker", tuned.model_dir, rr.model_dir,
                                  label=f"tuned embedder {tuned.version} + reranker {rr.version}"))
    return systems


def _settings(repo: FlowRepo) -> dict[str, Any]:
    """What changes the numbers besides the systems' own specs."""
    s = repo.settings
    keys = ("rerank_top", "rerank_blend", "lexical_weight", "dense_weight", "rrf_k", "relevance_floor", "type_weights")
    return {"seed": s.eval.seed, "bootstrap_samples": s.eval.bootstrap_samples,
            "eval_max_queries": s.retrieval.eval_max_queries, "index": {k: getattr(s.index, k) for k in keys}}


def _code_files(row: dict[str, Any]) -> list[str]:
    from flowloop.index.file_index import SOURCE_SUFFIXES

    return [f for f in row.get("files") or [] if f.endswith(SOURCE_SUFFIXES)]


class _Files:
    """The code as it stood before the earliest held-out query, as file cards, per embedder."""

    def __init__(self, repo: FlowRepo, queries: list[dict[str, Any]]) -> None:
        import datetime as dt

        from flowloop.pipeline.retrieval_corpus import commit_at

        self.repo, self.rows = repo, [q for q in queries if _code_files(q)]
        moment = min((q["as_of"] for q in self.rows), default="")
        self.commit = commit_at(repo, dt.datetime.fromisoformat(moment)) if moment else None
        self._corpora: dict[Path, Any] = {}
        self.warnings: list[str] = []

    def details(self, bench: Bench, system: System) -> list[dict[str, Any]]:
        from flowloop.index.file_index import corpus_at

        if self.commit is None or system.embedder is None:
            return []
        if system.embedder not in self._corpora:
            self._corpora[system.embedder], stats = corpus_at(self.repo, self.commit, system.embedder)
            self.warnings = list(dict.fromkeys([*self.warnings, *stats.warnings]))
        corpus = self._corpora[system.embedder]
        settings = system.index_settings(self.repo.settings.index)
        out = []
        for row in self.rows:
            vector = bench.query_vector(system.embedder, row["query"]) if system.dense else None
            found = [h.path for h in corpus.search(row["query"], settings, 10, vector, system.lexical, system.dense)]
            out.append({"id": row["id"], FILES_METRIC: file_recall(found, _code_files(row))})
        return out


def evaluate_retrieval(
    repo: FlowRepo,
    dataset: str | int = "latest",
    *,
    embedder: str | None = AUTO,
    reranker: str | None = AUTO,
    systems: Sequence[System] | None = None,
    reuse: bool = True,
    progress: StageProgress | None = None,
) -> RetrievalResult:
    """Score the suite's systems (or ``systems``) on ``dataset``'s held-out retrieval queries."""
    from flowloop.pipeline.api import load_manifest

    manifest = load_manifest(repo, dataset)
    queries = load_queries(repo, manifest.version)
    wanted = list(systems) if systems is not None else suite_systems(repo, embedder, reranker)
    ev = repo.settings.eval
    config = _settings(repo)
    stored = load_retrieval(repo, f"v{manifest.version}", manifest.content_hash) if reuse else None
    if stored is not None and stored.settings != config:
        stored = None
    bench = open_bench(repo)
    try:
        if systems is None:
            serving = serving_system(repo)
            keys = {s.key(bench.served): s.name for s in wanted}
            serving_as = keys.get(serving.key(bench.served))
            if serving_as is None:
                wanted.append(serving)
        result = RetrievalResult(f"v{manifest.version}", manifest.content_hash, settings=config)
        if stored is not None:  # every stored system is kept; the ones asked for are rescored if changed
            result.systems, result.files, result.specs = dict(stored.systems), dict(stored.files), dict(stored.specs)
            result.serving = stored.serving
        if systems is None:
            result.serving = serving_as or "serving"
        files = _Files(repo, queries)
        for number, system in enumerate(wanted, start=1):
            spec = {**system.spec(bench.served), "label": system.label or system.name}
            if progress:
                progress("retrieval systems", number - 1, len(wanted))
            if stored is not None and system.name in stored.systems and _same(stored.specs.get(system.name), spec):
                result.specs[system.name] = spec
                continue
            details = bench.score(system, queries)
            result.systems[system.name] = summarise("retrieval", details, ev.bootstrap_samples, ev.seed)
            result.specs[system.name] = spec
            result.files.pop(system.name, None)
            if system.reranker is None and not system.overrides:  # the file index has no reranker or fusion
                file_details = files.details(bench, system)
                if file_details:
                    result.files[system.name] = summarise("retrieval_files", file_details, ev.bootstrap_samples, ev.seed)
        if progress:
            progress("retrieval systems", len(wanted), len(wanted))
    finally:
        bench.reader.close()
    _compare_all(result, ev.bootstrap_samples, ev.seed)
    result.notes = _notes(files, result)
    store_retrieval(repo, result)
    return result


def _same(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    """Whether a stored system was scored the same way (its label is only its name in words)."""
    return old is not None and {k: v for k, v in old.items() if k != "label"} == {k: v for k, v in new.items() if k != "label"}


def _compare_all(result: RetrievalResult, samples: int, seed: int) -> None:
    result.versus = {}
    reference = result.systems.get(result.reference)
    if reference is None:
        return
    for name, suite in result.systems.items():
        if name != result.reference:
            result.versus[name] = versus(suite.details, reference.details, METRICS, samples, seed)
            if name in result.files and result.reference in result.files:
                result.versus[name] |= versus(result.files[name].details, result.files[result.reference].details,
                                              (FILES_METRIC,), samples, seed)


def _notes(files: _Files, result: RetrievalResult) -> list[str]:
    notes = []
    if not files.rows:
        notes.append("no held-out query touched source files: no file-index recall")
    elif files.commit is None:
        notes.append("no commit before the held-out queries: no file-index recall")
    else:
        notes.append(f"file cards of the tree at {files.commit[:12]} (before the earliest held-out query)")
    notes += [f"file card: {w}" for w in files.warnings[:5]]
    if "tuned" not in result.systems:
        notes.append("no tuned embedder trained yet (`flow train embedder`)")
    return notes


def gate_pair(repo: FlowRepo, dataset: str | int, candidate: System, reference: System) -> tuple[
        RetrievalResult, SuiteResult, SuiteResult]:
    """The suite with just a gate's two systems; their results, for the gate's comparison."""
    if candidate.name == reference.name:
        raise EvaluationError("a gate's candidate and reference need two names")
    result = evaluate_retrieval(repo, dataset, systems=[reference, candidate])
    return result, result.systems[candidate.name], result.systems[reference.name]

"""Does a helpfulness prior from task outcomes make retrieval better? Measured on the example.

The Ledgerline example has outcome events (CI, time to green, hotfixes, reverts, corrections)
but no retrieval usage log: nobody ran agents on it. So the usage is replayed: every training
task (the time split's older 80%, ``[dataset] holdout_share``) asks for a context pack with its
description, as of the day before it started, and the documents injected are recorded as that
task's retrieval event. Helpfulness is estimated from those events and the training tasks'
outcomes only (held-out outcomes never enter). Then retrieval is scored with and without the
prior, at several weights, on two query sets:

- the held-out tasks: query = the task's description, as of the day before it started;
  relevant = documents existing then whose ``sources`` share files with the files the task
  really touched (grade = shared files, at most 3), plus the task's own note (grade 3) when it
  existed before the work. Tasks with no relevant document are left out (n is printed);
- the judged query set of ``benchmarks/retrieval.py`` (``benchmarks/data/ledgerline_queries.jsonl``).

recall@5 and nDCG@10 per query (``retrieval.score``), the mean difference (prior - none) with
a paired percentile-bootstrap 95% interval over queries (``flowloop.evaluate.stats``). Staleness
is off throughout (the copy has no git history), so only the helpfulness prior differs.

    .venv/bin/python benchmarks/helpfulness.py [--weights 0.5 1] [--correction-debits 1 0] [--samples 2000]

Prints a markdown table and writes ``benchmarks/results/helpfulness.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from retrieval import EXAMPLE, QUERIES, copy_example, score  # noqa: E402

from flowloop.evaluate.stats import paired_difference  # noqa: E402
from flowloop.index.api import Retriever, build_index  # noqa: E402
from flowloop.pilr.helpfulness import estimate  # noqa: E402
from flowloop.pilr.store import PilrStore  # noqa: E402
from flowloop.pipeline.split import time_split  # noqa: E402
from flowloop.signals.events import RetrievalEvent  # noqa: E402
from flowloop.signals.jsonl import read_events  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "helpfulness.json"


def tasks_of(events: list[Any]) -> dict[str, dict[str, Any]]:
    """Each finished task: description, files, first event time (start) and finish time."""
    tasks: dict[str, dict[str, Any]] = {}
    starts: dict[str, dt.datetime] = {}
    for e in events:
        if e.task:
            starts[e.task] = min(starts.get(e.task, e.created_at), e.created_at)
    for e in events:
        if e.kind == "work_record" and e.task:
            t = tasks.setdefault(e.task, {"description": e.description, "files": set(), "finish": e.created_at})
            t["files"] |= {f.strip() for f in e.files if f.strip()}
            t["finish"] = max(t["finish"], e.created_at)
    for task, t in tasks.items():
        t["as_of"] = (starts[task] - dt.timedelta(days=1)).date()
    return tasks


def relevance(task: str, info: dict[str, Any], docs: list[Any]) -> dict[str, int]:
    rel: dict[str, int] = {}
    for doc in docs:
        if doc.meta.created > info["as_of"]:
            continue
        shared = len(set(doc.meta.sources) & info["files"])
        if shared:
            rel[doc.id] = min(shared, 3)
        if doc.meta.task == task:
            rel[doc.id] = 3
    return rel


def write_cache(repo: Any, helpful: dict[str, Any]) -> None:
    path = repo.state_path("pilr", "helpfulness.json")
    path.write_text(json.dumps({k: asdict(v) for k, v in helpful.items()}), encoding="utf-8")


def with_weight(repo: Any, weight: float) -> None:
    settings = repo.settings
    repo._settings[0] = settings.model_copy(update={"pilr": settings.pilr.model_copy(update={"helpfulness_weight": weight})})


def run_queries(retriever: Retriever, queries: list[dict[str, Any]]) -> list[tuple[float, float]]:
    out = []
    for q in queries:
        hits = retriever.search(q["query"], k=10, as_of=q.get("as_of"), include_archived=q.get("as_of") is None,
                                log=False)
        recall, ndcg, _ = score([h.id for h in hits], q["relevant"])
        out.append((recall, ndcg))
    return out


def compare(base: list[tuple[float, float]], other: list[tuple[float, float]], samples: int) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for i, name in enumerate(("recall@5", "ndcg@10")):
        diff, (low, high) = paired_difference([o[i] for o in other], [b[i] for b in base], samples, seed=7)
        row[name] = {"mean": round(sum(o[i] for o in other) / len(other), 4), "diff": round(diff, 4),
                     "ci95": [round(low, 4), round(high, 4)]}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.5, 1.0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--correction-debits", type=float, nargs="+", default=[1.0, 0.0],
                        help="Values of [pilr] correction_debit to measure (1: a correction debits like a revert).")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    events = read_events(EXAMPLE / ".flow" / "signals" / "events.jsonl")
    tasks = tasks_of(events)
    with tempfile.TemporaryDirectory(prefix="flow-helpful-") as tmp:
        repo = copy_example(Path(tmp) / "ledgerline")
        build_index(repo)
        split = time_split({t: info["finish"] for t, info in tasks.items()}, repo.settings.dataset.holdout_share)
        held = set(split.heldout_tasks)
        train = sorted((t for t in tasks if t not in held), key=lambda t: tasks[t]["finish"])
        retriever = Retriever(repo)
        retriever.use_priors = False
        replayed = []
        for task in train:  # the usage log the example never had: what each task would have been given
            pack = retriever.context_pack(tasks[task]["description"], as_of=tasks[task]["as_of"], log=False)
            replayed.append(RetrievalEvent(query=tasks[task]["description"], injected=[d.id for d in pack.documents],
                                           task=task, operation="context"))
        train_events = [e for e in events if e.task in set(train)] + replayed
        docs = PilrStore(repo).load()
        by_path = {d.path: d.id for d in retriever.reader.documents.values()}
        heldout_queries = []
        for task in sorted(held):
            rel = relevance(task, tasks[task], docs)
            if rel:
                heldout_queries.append({"query": tasks[task]["description"], "relevant": rel, "as_of": tasks[task]["as_of"]})
        judged = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
        for q in judged:
            q["relevant"] = {by_path.get(k, k): g for k, g in q["relevant"].items()}
        sets = {"held-out tasks": heldout_queries, "judged queries": judged}
        results: dict[str, Any] = {"train_tasks": len(train), "heldout_tasks": len(held), "variants": {}, "sets": {}}
        base: dict[str, list[tuple[float, float]]] = {}
        retriever.use_priors = False
        for name, queries in sets.items():
            base[name] = run_queries(retriever, queries)
            results["sets"][name] = {"n": len(queries), "none": {
                "recall@5": round(sum(b[0] for b in base[name]) / len(queries), 4),
                "ndcg@10": round(sum(b[1] for b in base[name]) / len(queries), 4)}}
        retriever.use_priors = True
        for debit in args.correction_debits:
            helpful = estimate(train_events, repo.settings.pilr.helpfulness_prior, repo.settings.dataset.fast_green_s, debit)
            write_cache(repo, helpful)
            means = [h.mean for h in helpful.values() if h.tasks]
            results["variants"][f"correction_debit {debit:g}"] = {
                "documents_with_evidence": len(means), "base_rate": round(next(iter(helpful.values())).base, 4),
                "mean_range": [round(min(means), 4), round(max(means), 4)],
                "helpfulness": {k: v.to_dict() for k, v in sorted(helpful.items(), key=lambda kv: kv[1].mean)}}
            for name, queries in sets.items():
                for weight in args.weights:
                    with_weight(repo, weight)
                    results["sets"][name][f"correction_debit {debit:g}, weight {weight:g}"] = compare(
                        base[name], run_queries(retriever, queries), args.samples)
            with_weight(repo, 0.0)
        retriever.close()
    lines = ["| query set | n | prior | recall@5 | diff [95% CI] | nDCG@10 | diff [95% CI] |",
             "| --- | ---: | --- | ---: | --- | ---: | --- |"]
    for name, entry in results["sets"].items():
        lines.append(f"| {name} | {entry['n']} | none | {entry['none']['recall@5']:.3f} | | {entry['none']['ndcg@10']:.3f} | |")
        for key, row in entry.items():
            if not key.startswith("correction"):
                continue
            r, n = row["recall@5"], row["ndcg@10"]
            lines.append(f"| {name} | {entry['n']} | {key} | {r['mean']:.3f} | {r['diff']:+.3f} [{r['ci95'][0]:+.3f}, {r['ci95'][1]:+.3f}]"
                         f" | {n['mean']:.3f} | {n['diff']:+.3f} [{n['ci95'][0]:+.3f}, {n['ci95'][1]:+.3f}] |")
    lines.append(f"\n{results['train_tasks']} training tasks replayed; held-out tasks {results['heldout_tasks']}")
    for key, v in results["variants"].items():
        lines.append(f"{key}: base rate {v['base_rate']:.2f}, {v['documents_with_evidence']} documents with evidence, "
                     f"means {v['mean_range'][0]:.2f} to {v['mean_range'][1]:.2f}")
    text = "\n".join(lines)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({**results, "table": text}, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

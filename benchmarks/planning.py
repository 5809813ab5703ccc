"""Planning benchmark: the learned localizer against retrieval-only, on the example and real histories.

For each history: the work records (commits with their files) in time order; the newest
``--holdout`` share of tasks is held out (the dataset build's time split); the localizer is
trained on the earlier tasks (``flowloop.localize.api.fit``: every feature as of each task's
planning moment) and both systems answer every held-out task as of its own planning moment
from the same history:

- ``retrieval-only``: the planning suite's baseline (the files of the ``similar_tasks`` most
  similar earlier tasks, ranked by summed similarity, as many as the nearest one had);
- ``localizer``: the trained ranker over candidates from similar tasks, co-change and path words.

- ``full planner`` (``--planner``): the localizer's files in the plan prompt with the planning
  context, the specialist's (greedy) plan, its files through ``flowloop.planner.files.planned_files``,
  exactly the planning suite's ``planner`` row; with no trained specialist in a benchmark, the
  packaged base model writes the plans. Generation is slow on 2 cores, so the real histories score
  a seeded subsample (``--planner-tasks``; the n is printed).

Reported: macro F1 (precision, recall) with n and percentile-bootstrap 95% intervals, the paired
interval of localizer minus retrieval-only over the same tasks, the recall ceiling of the
candidates, training time, per-task answer time in process (p50) and ``flow plan TASK
--files-only`` as a fresh process with the trained model promoted (p50 of 3). Histories: the bundled Ledgerline
example (its shipped signals) and the git bundles in ``../shared/histories/`` (cloned into a
temp folder, mined with ``flow collect git``'s library call).

    .venv/bin/python benchmarks/planning.py [--histories DIR] [--only example,click,httpx] [--ablate]
        [--planner] [--planner-tasks 40] [--plan-latency]

``--plan-latency`` also times ``flow plan TASK --n 3`` as a fresh process (p50 of 3, the base
model drafting, the trained localizer promoted) on the example.

``--ablate`` also retrains the localizer without each feature group (co-change, path words,
frequency and recency, file kind, documents' sources, file cards) and reports the paired change;
"no file cards at all" is the localizer built with no git root, so neither the card features nor
the card candidates exist (the localizer before cards), with its training time beside.

Prints a markdown table and writes ``benchmarks/results/planning.json`` (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ledgerline"
RESULTS = ROOT / "benchmarks" / "results" / "planning.json"
# beside the main checkout (../shared/histories); a worktree one level deeper looks one level up
HISTORIES = next((p / "shared" / "histories" for p in (ROOT.parent, ROOT.parent.parent)
                  if (p / "shared" / "histories").is_dir()), ROOT.parent / "shared" / "histories")

sys.path.insert(0, str(ROOT))
from flowloop.evaluate.localizer import localizer_details, retrieval_details  # noqa: E402
from flowloop.evaluate.stats import bootstrap_intervals  # noqa: E402
from flowloop.evaluate.suites import planning  # noqa: E402
from flowloop.localize.api import Localizer, fit  # noqa: E402
from flowloop.localize.cards import card_root  # noqa: E402
from flowloop.localize.features import FeatureBuilder  # noqa: E402
from flowloop.pilr.store import PilrStore  # noqa: E402
from flowloop.pipeline.inputs import load_work_history  # noqa: E402
from flowloop.pipeline.split import held_count  # noqa: E402
from flowloop.repo import FlowRepo, init_repo  # noqa: E402

SAMPLES = 2000
SEED = 13


def example_history(work: Path) -> FlowRepo:
    from flowloop.signals.api import import_events

    root = work / "ledgerline"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("state"))
    repo = FlowRepo(root)
    import_events(repo, root / ".flow" / "signals" / "events.jsonl")
    return repo


def git_history(work: Path, bundle: Path) -> FlowRepo:
    from flowloop.signals.collect_git import collect_git

    root = work / bundle.stem
    subprocess.run(["git", "clone", "-q", str(bundle), str(root)], check=True)
    repo = init_repo(root).repo
    collect_git(repo)
    return repo


def interval(details: list[dict[str, Any]]) -> tuple[float, float]:
    return bootstrap_intervals(len(details), lambda idx: planning.statistic(details, idx), SAMPLES, SEED)["f1"]


def planner_row(repo: FlowRepo, work: list[Any], test: list[Any], localizer: Localizer, builder: FeatureBuilder,
                k: int, limit: int, max_new_tokens: int) -> dict[str, Any]:
    """The full planner (localizer + the base model) on a seeded subsample of the held-out tasks,
    beside retrieval-only and the localizer alone on the same tasks, with paired intervals."""
    import random

    from flowloop.errors import IndexError_
    from flowloop.evaluate.suites.planning import PlanningItem
    from flowloop.models.loader import load_specialist
    from flowloop.pipeline.planning_context import PlanningContextBuilder, format_similar

    if PilrStore(repo).load():  # the context pack needs the index of the documents
        from flowloop.index.api import build_index

        build_index(repo)
    tasks = test if len(test) <= limit else [test[i] for i in sorted(random.Random(SEED).sample(range(len(test)), limit))]
    contexts = PlanningContextBuilder(repo, history=work, k=k)
    items = []
    for t in tasks:
        try:
            text = contexts.build(t.description, t.as_of, exclude_task=t.task).text
        except IndexError_:  # a history with no documents has no index: the precedents alone
            text = format_similar(contexts.history.similar(t.description, before=t.as_of, k=k, exclude_task=t.task))
        items.append(PlanningItem(t.event_id, t.task, t.description, list(t.files), t.as_of.isoformat(),
                                  t.as_of.isoformat(), text))
    found = [localizer.localize(t.description, t.as_of, exclude_task=t.task) for t in tasks]
    model = load_specialist(repo, "base")
    started = time.monotonic()
    full = planning.run_planner(model, items, repo.settings, found, max_new_tokens)
    seconds = time.monotonic() - started
    baseline, learned = retrieval_details(builder, tasks, k), localizer_details(localizer, tasks)

    def paired(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> dict[str, Any]:
        def diff(idx: Any) -> dict[str, float]:
            return {"diff": planning.statistic(a, idx)["f1"] - planning.statistic(b, idx)["f1"]}

        ci = bootstrap_intervals(len(a), diff, SAMPLES, SEED)["diff"]
        return {"diff": round(diff(range(len(a)))["diff"], 4), "ci": [round(ci[0], 4), round(ci[1], 4)]}

    rows = {}
    for label, details in (("retrieval-only", baseline), ("localizer", learned), ("full planner", full)):
        stat = planning.statistic(details, range(len(details)))
        rows[label] = {**{k2: round(v, 4) for k2, v in stat.items()}, "f1_ci": [round(x, 4) for x in interval(details)],
                       "n": len(details)}
    added = [len(d["predicted"]) - len(f.files) for d, f in zip(full, found)]
    return {"n": len(tasks), "systems": rows, "planner_minus_retrieval": paired(full, baseline),
            "planner_minus_localizer": paired(full, learned), "model": model.version,
            "max_new_tokens": max_new_tokens, "generate_s": round(seconds, 1),
            "s_per_task": round(seconds / max(1, len(tasks)), 2),
            "files_added_by_plans": sum(added), "tasks_with_files_added": sum(1 for a in added if a > 0)}


def plan_latency(repo: FlowRepo, tasks: list[Any], runs: int = 3) -> dict[str, Any]:
    """``flow plan TASK --n 3`` as a fresh process (the promoted localizer, the base model): p50 s."""
    flow = str(Path(sys.executable).with_name("flow"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    walls = []
    for task in tasks[:runs]:
        t0 = time.monotonic()
        done = subprocess.run([flow, "-C", str(repo.root), "plan", task.description.splitlines()[0], "--n", "3",
                               "--json"], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
        walls.append(time.monotonic() - t0)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
    return {"flow_plan_n3_s_p50": round(statistics.median(walls), 1), "runs": len(walls),
            "walls": [round(w, 1) for w in walls], "max_new_tokens": repo.settings.plan.max_new_tokens}


def measure(name: str, repo: FlowRepo, holdout: float, k: int, ablate: bool = False,
            planner_tasks: int = 0, latency: bool = False) -> dict[str, Any]:
    work = [w for w in load_work_history(repo) if w.files and not w.reverted]
    held = held_count(len(work), holdout)
    train, test = work[: len(work) - held], work[len(work) - held:]
    builder = FeatureBuilder(work, documents=PilrStore(repo).load(), root=card_root(repo.root))
    started = time.monotonic()
    model, report = fit(work, train, builder=builder)
    train_s = time.monotonic() - started
    localizer = Localizer(work, model, "bench", builder=builder)
    timings = []
    learned: list[dict[str, Any]] = []
    for task in test:
        t0 = time.perf_counter()
        learned += localizer_details(localizer, [task])
        timings.append(time.perf_counter() - t0)
    baseline = retrieval_details(builder, test, k)
    recall = [len(set(c.paths) & set(t.files)) / len(set(t.files)) for t in test
              for c in [builder.candidates(t.description, t.as_of, exclude_task=t.task)]]

    def diff(idx: Any) -> dict[str, float]:
        return {"diff": planning.statistic(learned, idx)["f1"] - planning.statistic(baseline, idx)["f1"]}

    rows = {}
    for label, details in (("retrieval-only", baseline), ("localizer", learned)):
        stat = planning.statistic(details, range(len(details)))
        rows[label] = {**{k2: round(v, 4) for k2, v in stat.items()}, "f1_ci": [round(x, 4) for x in interval(details)],
                       "n": len(details)}
    point = diff(range(len(test)))["diff"]
    ci = bootstrap_intervals(len(test), diff, SAMPLES, SEED)["diff"]
    return {
        "history": name, "tasks": len(work), "train_tasks": len(train), "heldout_tasks": len(test),
        "first_heldout": test[0].time.isoformat() if test else None, "systems": rows,
        "diff": round(point, 4), "diff_ci": [round(ci[0], 4), round(ci[1], 4)],
        "ratio": round(rows["localizer"]["f1"] / rows["retrieval-only"]["f1"], 3) if rows["retrieval-only"]["f1"] else None,
        "candidate_recall_heldout": round(statistics.mean(recall), 4) if recall else 0.0,
        "train_seconds": round(train_s, 2), "fit": report.to_dict(),
        "answer_ms_p50": round(1000 * statistics.median(timings), 2) if timings else None,
        "weights": dict(zip(model.features, [round(w, 3) for w in model.weights])), "threshold": model.threshold,
        "cli": cli_latency(repo, model, test),
        "card_blob_reads": builder.cards.blob_reads,
        **({"ablations": {**ablations(work, train, test, builder, learned),
                          "no file cards at all": without_cards(repo, work, train, test, learned)}} if ablate else {}),
        **({"planner": planner_row(repo, work, test, localizer, builder, k, planner_tasks,
                                   repo.settings.plan.max_new_tokens)} if planner_tasks else {}),
        **({"plan_latency": plan_latency(repo, test)} if latency else {}),
    }


ABLATIONS = {
    "co-change": ("cochange", "cochange_count"),
    "path words": ("path_overlap", "path_shared"),
    "frequency and recency": ("log_frequency", "recency", "never_changed"),
    "file kind": ("is_test", "is_doc", "is_code"),
    "documents' sources": ("doc_sum", "doc_max"),
    "file cards": ("card_score", "card_rank"),
}


def paired_to(details: list[dict[str, Any]], full: list[dict[str, Any]]) -> dict[str, Any]:
    """F1 of ``details`` and its paired difference to ``full`` over the same tasks."""
    def diff(idx: Any) -> dict[str, float]:
        return {"diff": planning.statistic(details, idx)["f1"] - planning.statistic(full, idx)["f1"]}

    ci = bootstrap_intervals(len(full), diff, SAMPLES, SEED)["diff"]
    return {"f1": round(planning.statistic(details, range(len(details)))["f1"], 4),
            "diff_to_full": round(diff(range(len(full)))["diff"], 4), "diff_ci": [round(ci[0], 4), round(ci[1], 4)]}


def without_cards(repo: FlowRepo, work: list[Any], train: list[Any], test: list[Any],
                  full: list[dict[str, Any]]) -> dict[str, Any]:
    """The localizer with no file cards (no git root: no card features, no card candidates)."""
    builder = FeatureBuilder(work, documents=PilrStore(repo).load())
    started = time.monotonic()
    model, _ = fit(work, train, builder=builder)
    seconds = time.monotonic() - started
    return {**paired_to(localizer_details(Localizer(work, model, "no-cards", builder=builder), test), full),
            "train_seconds": round(seconds, 2)}


def ablations(work: list[Any], train: list[Any], test: list[Any], builder: FeatureBuilder,
              full: list[dict[str, Any]]) -> dict[str, Any]:
    """The localizer retrained without each feature group (its columns zeroed in training and
    answering): F1 and the paired difference to the full model."""
    from flowloop.localize.features import FEATURES

    original = builder.candidates
    out = {}
    for group, names in ABLATIONS.items():
        drop = [FEATURES.index(n) for n in names]

        def zeroed(*args: Any, **kwargs: Any) -> Any:
            found = original(*args, **kwargs)
            found.rows = [[0.0 if i in drop else v for i, v in enumerate(row)] for row in found.rows]
            return found

        builder.candidates = zeroed  # type: ignore[method-assign]
        try:
            model, _ = fit(work, train, builder=builder)
            details = localizer_details(Localizer(work, model, "ablated", builder=builder), test)
        finally:
            builder.candidates = original  # type: ignore[method-assign]
        out[group] = paired_to(details, full)
    return out


def cli_latency(repo: FlowRepo, model: Any, tasks: list[Any], runs: int = 3) -> dict[str, Any]:
    """``flow plan TASK --files-only`` as a fresh process with this model promoted: p50 wall seconds."""
    from flowloop.models.registry import Registry

    registry = Registry(repo, "localizer")
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp))
        version = registry.register(Path(tmp), {"pass": "localizer", "base_model": "logistic-regression"})
    registry.promote(version.version, "benchmark")
    flow = str(Path(sys.executable).with_name("flow"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    walls = []
    for task in tasks[:runs]:
        t0 = time.monotonic()
        done = subprocess.run([flow, "-C", str(repo.root), "plan", task.description.splitlines()[0], "--files-only"],
                              capture_output=True, text=True, env=env)
        walls.append(time.monotonic() - t0)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
    return {"flow_plan_files_only_s_p50": round(statistics.median(walls), 2), "runs": len(walls)}


def print_table(results: list[dict[str, Any]]) -> None:
    print("| history | n held out | retrieval-only F1 [95% CI] | localizer F1 [95% CI] | paired diff [95% CI] | ratio | train s | answer ms p50 | `flow plan --files-only` s p50 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        base, loc = r["systems"]["retrieval-only"], r["systems"]["localizer"]
        print(f"| {r['history']} ({r['train_tasks']} train) | {r['heldout_tasks']} "
              f"| {base['f1']:.3f} [{base['f1_ci'][0]:.3f}, {base['f1_ci'][1]:.3f}] "
              f"| {loc['f1']:.3f} [{loc['f1_ci'][0]:.3f}, {loc['f1_ci'][1]:.3f}] "
              f"| {r['diff']:+.3f} [{r['diff_ci'][0]:+.3f}, {r['diff_ci'][1]:+.3f}] | {r['ratio']} "
              f"| {r['train_seconds']:.1f} | {r['answer_ms_p50']} | {r['cli']['flow_plan_files_only_s_p50']} |")


def print_planner(results: list[dict[str, Any]]) -> None:
    print("\n| history | n | retrieval-only F1 [95% CI] | localizer F1 [95% CI] | full planner F1 [95% CI] "
          "| planner - retrieval [95% CI] | planner - localizer [95% CI] | s per task |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        if "planner" not in r:
            continue
        p = r["planner"]
        cells = [f"{p['systems'][s]['f1']:.3f} [{p['systems'][s]['f1_ci'][0]:.3f}, {p['systems'][s]['f1_ci'][1]:.3f}]"
                 for s in ("retrieval-only", "localizer", "full planner")]
        diffs = [f"{p[d]['diff']:+.3f} [{p[d]['ci'][0]:+.3f}, {p[d]['ci'][1]:+.3f}]"
                 for d in ("planner_minus_retrieval", "planner_minus_localizer")]
        print(f"| {r['history']} | {p['n']} | " + " | ".join(cells + diffs) + f" | {p['s_per_task']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--histories", type=Path, default=HISTORIES)
    parser.add_argument("--only", default="example,click,httpx")
    parser.add_argument("--holdout", type=float, default=0.2, help="newest share of tasks held out (the build's default)")
    parser.add_argument("--similar", type=int, default=3, help="retrieval-only's similar tasks (dataset.similar_tasks)")
    parser.add_argument("--ablate", action="store_true", help="also retrain without each feature group")
    parser.add_argument("--planner", action="store_true", help="also score the full planner (localizer + base model)")
    parser.add_argument("--planner-tasks", type=int, default=40,
                        help="held-out tasks the full planner answers on a real history (all of the example's)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--plan-latency", action="store_true", help="also time `flow plan --n 3` on the example")
    args = parser.parse_args()
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-planning-") as tmp:
        work = Path(tmp)
        for name in wanted:
            if name == "example":
                repo = example_history(work)
            else:
                bundle = args.histories / f"{name}.bundle"
                if not bundle.is_file():
                    print(f"skipped {name}: no {bundle}", file=sys.stderr)
                    continue
                repo = git_history(work, bundle)
            limit = (10_000 if name == "example" else args.planner_tasks) if args.planner else 0
            results.append(measure(name, repo, args.holdout, args.similar, args.ablate, limit,
                                   args.plan_latency and name == "example"))
            print(f"{name}: done", file=sys.stderr)
    print_table(results)
    if args.ablate:
        print("\n| without | " + " | ".join(r["history"] for r in results) + " |")
        print("| --- |" + " --- |" * len(results))
        for group in [*ABLATIONS, "no file cards at all"]:
            cells = [f"{r['ablations'][group]['f1']:.3f} ({r['ablations'][group]['diff_to_full']:+.3f} "
                     f"[{r['ablations'][group]['diff_ci'][0]:+.3f}, {r['ablations'][group]['diff_ci'][1]:+.3f}])"
                     for r in results]
            print(f"| {group} | " + " | ".join(cells) + " |")
    if args.planner:
        print_planner(results)
    for r in results:
        if "plan_latency" in r:
            lat = r["plan_latency"]
            print(f"\n`flow plan --n 3` on {r['history']}: p50 {lat['flow_plan_n3_s_p50']} s over {lat['runs']} runs "
                  f"({lat['walls']}), {lat['max_new_tokens']} new tokens per plan")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"command": "benchmarks/planning.py " + " ".join(sys.argv[1:]), "holdout": args.holdout,
               "similar_tasks": args.similar, "bootstrap_samples": SAMPLES, "results": results,
               "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()}}
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Does the specialist learn on a CPU? SFT on the example under a wall-clock budget, evaluated as it goes.

In a scratch copy of ``examples/ledgerline`` (signals imported, dataset v1 built, as ``make
demo`` does) this trains SFT for ``--minutes`` of training time in segments of ``--every``
minutes. Each segment is an ordinary run with ``[train] max_minutes`` = the segment: the time
budget stops it before a step would pass the budget, saves a checkpoint and registers the
adapter, and the next segment resumes that run where it stopped (the path a nightly
``flow loop`` with ``loop_minutes`` takes). Every registered version, and the base model at 0
minutes, is scored on the knowledge suite (multiple choice on the team's documents; chance is
1/options) and the general instruction-following check. The minutes are training time (model
loading and evaluation are not counted; the wall time with them is recorded too).

Printed: minutes, steps, examples seen, knowledge accuracy with its 95% interval and n, whether
the interval is clear of chance, the paired difference against the base model, and the general
check. Written: ``benchmarks/results/learning_curve.json`` (``--out``). ``--report PATH`` also
copies the scratch project's ``flow report`` page there (it draws the same curve from the
registry).

The full run (about 60 minutes of training plus about 2 minutes of evaluation per checkpoint on
2 cores); put it under the shared lock on a shared machine:

    .venv/bin/python benchmarks/learning_curve.py --minutes 60 --every 10

Options: ``--batching`` (the example's setting by default), ``--learning-rate`` (the example's
``[train.sft] learning_rate`` by default), ``--epochs`` (the planned length of the run: the
learning rate decays linearly over it, whether or not the budget reaches its end),
``--max-examples`` (knowledge questions per checkpoint; 0 = all).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "learning_curve.json"
SUITES = ["knowledge", "general"]


def settings_for(repo: Any, segment: float, args: argparse.Namespace) -> Any:
    """The repository's ``[train]`` settings with this segment's budget and the run's options."""
    from flowloop.train.api import train_settings

    settings = train_settings(repo, max_minutes=segment, epochs=args.epochs, batching=args.batching)
    if args.learning_rate:
        settings = settings.model_copy(update={"sft": settings.sft.model_copy(update={"learning_rate": args.learning_rate})})
    return settings


def row_of(repo: Any, model: str, base: Any, data: Any, minutes: float, steps: int, seen: float,
           chance: float) -> dict[str, Any]:
    from flowloop.evaluate.gate import paired_diff
    from flowloop.evaluate.runner import evaluate_model

    s = repo.settings.eval
    result = evaluate_model(repo, model, SUITES, data=data)
    knowledge, general = result.suites["knowledge"], result.suites["general"]
    diff, diff_ci, _ = paired_diff("knowledge", "accuracy", result, base or result, s.bootstrap_samples, s.seed)
    lo, hi = knowledge.ci["accuracy"]
    return {
        "model": model, "minutes": round(minutes, 2), "steps": steps, "examples_seen": round(seen),
        "knowledge_accuracy": round(knowledge.metrics["accuracy"], 4), "knowledge_ci": [round(lo, 4), round(hi, 4)],
        "knowledge_n": knowledge.n, "chance": chance, "clear_of_chance": lo > chance,
        "knowledge_vs_base": round(diff, 4), "knowledge_vs_base_ci": [round(x, 4) for x in diff_ci],
        "general_accuracy": round(general.metrics["accuracy"], 4),
        "general_ci": [round(x, 4) for x in general.ci["accuracy"]], "general_n": general.n,
    }


def print_table(rows: list[dict[str, Any]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in ("minutes", "model", "steps", "examples seen", "knowledge accuracy [95% CI] n", "clear of chance",
                   "vs base (paired)", "general check [95% CI] n"):
        table.add_column(column)
    for r in rows:
        table.add_row(f"{r['minutes']:.1f}", r["model"], str(r["steps"]), f"{r['examples_seen']}",
                      f"{r['knowledge_accuracy']:.3f} [{r['knowledge_ci'][0]:.3f}, {r['knowledge_ci'][1]:.3f}] n={r['knowledge_n']}",
                      f"{'yes' if r['clear_of_chance'] else 'no'} (chance {r['chance']:.2f})",
                      f"{r['knowledge_vs_base']:+.3f} [{r['knowledge_vs_base_ci'][0]:+.3f}, {r['knowledge_vs_base_ci'][1]:+.3f}]",
                      f"{r['general_accuracy']:.3f} [{r['general_ci'][0]:.3f}, {r['general_ci'][1]:.3f}] n={r['general_n']}")
    Console(width=200).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="Training minutes in all (default 60).")
    parser.add_argument("--every", type=float, default=10.0, help="Minutes between checkpoints (default 10).")
    parser.add_argument("--batching", choices=("padded", "packed", "grouped"), default=None)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-examples", type=int, default=0, help="Knowledge questions per checkpoint (0: all).")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--report", type=Path, default=None, help="Copy the scratch project's report page here.")
    args = parser.parse_args()
    if args.every <= 0 or args.minutes <= 0:
        parser.error("--minutes and --every must be positive")
    warnings.filterwarnings("ignore")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from transformers.utils import logging as hf_logging

    from flowloop.evaluate import data as eval_data
    from flowloop.evaluate.runner import EvalData, evaluate_model
    from flowloop.report import build_report
    from flowloop.train.api import train
    from training import example_repo, load_average

    hf_logging.set_verbosity_error()
    started, load_before = time.perf_counter(), load_average()
    with tempfile.TemporaryDirectory() as tmp:
        repo = example_repo(Path(tmp) / "ledgerline")
        data = EvalData(repo, eval_data.resolve_dataset(repo, "latest"), max_examples=args.max_examples or 100_000)
        chance = 1.0 / repo.settings.eval.knowledge_options
        base = evaluate_model(repo, "base", SUITES, data=data)
        rows = [row_of(repo, "base", None, data, 0.0, 0, 0, chance)]
        trained, settings = 0.0, None
        for k in range(1, math.ceil(args.minutes / args.every - 1e-9) + 1):
            segment = min(k * args.every, args.minutes) - trained  # checkpoints stay on the K-minute grid
            settings = settings_for(repo, segment, args)
            result = train(repo, "sft", settings=settings, resume="auto")
            m = result.metrics
            trained += float(m["seconds"]) / 60.0
            planned = int(m.get("planned_steps") or m["steps"])  # a finished run trained all it planned
            seen = m["steps"] * m["examples"] * args.epochs / max(planned, 1)
            rows.append(row_of(repo, str(result.version), base, data, trained, int(m["steps"]), seen, chance))
            print_table(rows[-1:], f"checkpoint {k}")
            if m.get("stopped_by") != "time budget":
                break  # the planned epochs ended before the budget
        if args.report:
            args.report.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(build_report(repo), args.report)
    train_settings = settings.model_dump(include={"batching", "batch_size", "max_length", "epochs"}) if settings else {}
    report = {
        "benchmark": "learning_curve",
        "data": "examples/ledgerline dataset v1 (real), SFT",
        "model": "SmolLM2-135M-Instruct (packaged GGUF, converted), LoRA on q/k/v/o",
        "minutes_budget": args.minutes, "every": args.every,
        "learning_rate": settings.sft.learning_rate if settings else None, "settings": train_settings,
        "wall_minutes": round((time.perf_counter() - started) / 60.0, 1),
        "machine": {"cpus": os.cpu_count(), "load_average_before": load_before, "load_average_after": load_average()},
        "note": "minutes are training time; examples seen = steps x examples x epochs / planned steps",
        "rows": rows,
    }
    print_table(rows, f"learning curve: SFT on the example, {args.minutes:g} minutes, checkpoint every {args.every:g}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

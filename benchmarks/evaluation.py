"""Evaluation speed: what one model's held-out suites cost on this machine, per inference setting.

The eval stage of ``flow loop`` scores base, current and the candidate, so its cost is paid
three times per run. This script builds the example's dataset in a scratch copy (signals
imported, index built, ``flow dataset build``), loads the base model and times, in one process
and one run, the two kinds of work every suite is made of:

- **generation**: ``N`` held-out planning prompts answered greedily (``eval.planning_max_new_tokens``);
- **scoring**: the log-likelihood of ``N`` preference pairs (chosen and rejected).

Configurations, each on the same prompts:

- ``fp32, one at a time, full prompt``: the baseline (how evaluation ran before batching);
- ``fp32, batch 8, full prompt``; ``bf16, batch 8, full prompt``: one change at a time;
- ``bf16, batch 8, fitted prompt``: prompts trimmed to the trained ``train.max_length`` as
  training trimmed them;
- ``default: auto, batch 8, fitted prompt``: fp32 on a CPU (bf16 on a bf16 GPU), 8 prompts per
  forward pass, fitted prompts.

It also reports how many answers match the baseline's word for word (bf16 rounding can flip a
near-tie of greedy decoding) and the planning F1 of each setting's answers, which is what the
gate reads. The 1-minute load average is recorded before and after.

    .venv/bin/python benchmarks/evaluation.py [--n 16]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "evaluation.json"
EXAMPLE = ROOT / "examples" / "ledgerline"
FLOW = Path(sys.executable).parent / "flow"


def prepare(work: Path) -> Path:
    repo = work / "ledgerline"
    shutil.copytree(EXAMPLE, repo)
    for args in (["signal", "import", ".flow/signals/events.jsonl"], ["index"], ["dataset", "build"]):
        subprocess.run([str(FLOW), *args], cwd=repo, check=True, capture_output=True)
    return repo


def measure(loaded: Any, conversations: list[Any], pairs: list[Any], max_new_tokens: int) -> dict[str, Any]:
    started = time.perf_counter()
    answers = loaded.generate_many(conversations, max_new_tokens)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    loaded.loglikelihood_many(pairs)
    scored = time.perf_counter() - started
    return {"generate_s": generated, "score_s": scored, "answers": answers}


def planning_f1(items: list[Any], answers: list[str]) -> float:
    """Mean F1 of the files parsed from ``answers``: does a faster setting change the measurement?"""
    from flowloop.evaluate.stats import set_score
    from flowloop.evaluate.suites.planning import normalise_path
    from flowloop.pipeline.prompts import parse_files_answer

    scores = [set_score([normalise_path(f) for f in parse_files_answer(a)], [normalise_path(f) for f in i.files]).f1
              for i, a in zip(items, answers)]
    return sum(scores) / max(len(scores), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=16, help="planning prompts and preference pairs")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    from flowloop.evaluate import data as eval_data
    from flowloop.evaluate.runner import EvalData
    from flowloop.models.loader import load_specialist
    from flowloop.pipeline.prompts import planning_messages
    from flowloop.repo import find_repo

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        repo = find_repo(prepare(Path(tmp)))
        data = EvalData(repo, eval_data.resolve_dataset(repo, "latest"), None, args.n)
        conversations = [planning_messages(repo.settings, i.description, i.context_text) for i in data.items("planning")]
        pairs = [pair for item in data.items("preference") for pair in ((item.prompt, item.chosen), (item.prompt, item.rejected))]
        max_new = repo.settings.eval.planning_max_new_tokens
        configs = [
            ("fp32, one at a time, full prompt", "fp32", 1, False),
            ("fp32, batch 8, full prompt", "fp32", 8, False),
            ("bf16, batch 8, full prompt", "bf16", 8, False),
            ("bf16, batch 8, fitted prompt", "bf16", 8, True),
            ("default: auto, batch 8, fitted prompt", "auto", 8, True),
        ]
        rows, baseline = [], None
        for name, precision, batch, fitted in configs:
            os.environ["FLOW_INFERENCE__PRECISION"] = precision
            os.environ["FLOW_INFERENCE__BATCH_SIZE"] = str(batch)
            loaded = load_specialist(find_repo(repo.root), "base", cached=False)
            if not fitted:
                loaded.max_length = None
            result = measure(loaded, conversations, pairs, max_new)
            baseline = baseline or result
            same = sum(a == b for a, b in zip(result["answers"], baseline["answers"]))
            f1 = planning_f1(data.items("planning"), result["answers"])
            rows.append({
                "configuration": name,
                "precision": loaded.precision,
                "generate_s": round(result["generate_s"], 1),
                "per_prompt_s": round(result["generate_s"] / len(conversations), 2),
                "score_s": round(result["score_s"], 1),
                "speedup": round((baseline["generate_s"] + baseline["score_s"]) / (result["generate_s"] + result["score_s"]), 2),
                "answers_as_baseline": f"{same}/{len(conversations)}",
                "planning_f1": round(f1, 3),
            })
            del loaded
    load_after = os.getloadavg()[0]

    print(f"\nEvaluation inference, base model, {len(conversations)} planning prompts + {len(pairs)} scored completions")
    print("| configuration | weights | generate (s) | s/prompt | score (s) | speed-up | answers as baseline | planning F1 |")
    print("|---|---|---:|---:|---:|---:|---|---:|")
    for r in rows:
        print(f"| {r['configuration']} | {r['precision']} | {r['generate_s']} | {r['per_prompt_s']} | {r['score_s']} | "
              f"{r['speedup']}x | {r['answers_as_baseline']} | {r['planning_f1']} |")
    print(f"\nload average (1 min) at start / end: {load_before:.1f} / {load_after:.1f} on {os.cpu_count()} cores")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "rows": rows,
        "prompts": len(conversations),
        "scored": len(pairs),
        "max_new_tokens": max_new,
        "load_average": [load_before, load_after],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

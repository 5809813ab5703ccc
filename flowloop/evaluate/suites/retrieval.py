"""Retrieval suite: documents and code files a held-out future task changed, found or not.

Not a model's suite: it scores retrieval *systems* (BM25 alone, the stock hybrid, the tuned
embedder, each with and without the tuned reranker, and what serves now) on the same held-out
queries (``flowloop.evaluate.retrieval``). Per query: recall@5, nDCG@10 and reciprocal rank of
the documents its commit changed; and, for a query whose commit touched source files, recall@10
of those files from the file index as the code stood before the held-out tasks. Means over
queries, with the same percentile bootstrap as every suite, and a paired difference of each
system against the stock hybrid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flowloop.evaluate.retrieval import FILES_METRIC, METRICS
from flowloop.evaluate.stats import mean, paired_difference


def statistic(details: list[dict[str, Any]], idx: Sequence[int]) -> dict[str, float]:
    picked = [details[i] for i in idx]
    return {m: mean([d[m] for d in picked]) for m in METRICS}


def files_statistic(details: list[dict[str, Any]], idx: Sequence[int]) -> dict[str, float]:
    return {FILES_METRIC: mean([details[i][FILES_METRIC] for i in idx])}


def file_recall(found: list[str], touched: Sequence[str]) -> float:
    """Share of the touched files among the ten found."""
    wanted = set(touched)
    return len(wanted & set(found[:10])) / len(wanted) if wanted else 0.0


def versus(candidate: list[dict[str, Any]], reference: list[dict[str, Any]], metrics: Sequence[str],
           samples: int, seed: int) -> dict[str, dict[str, Any]]:
    """Paired difference (candidate - reference) of each metric over the queries both scored."""
    by_id = {d["id"]: d for d in reference}
    shared = [d for d in candidate if d["id"] in by_id]
    out: dict[str, dict[str, Any]] = {}
    for metric in metrics:
        diff, ci = paired_difference([d[metric] for d in shared], [by_id[d["id"]][metric] for d in shared], samples, seed)
        out[metric] = {"diff": round(diff, 4), "ci": [round(ci[0], 4), round(ci[1], 4)], "n": len(shared)}
    return out

"""The report's retrieval table: the retrieval suite's systems side by side (issue 16).

Rows are the newest stored retrieval suite result (``flow eval --suite retrieval``, or a
retrieval gate in ``flow loop``): each system's recall@5, nDCG@10 and MRR of the documents a
held-out future task changed, recall@10 of the code files it touched from the file index, their
95% intervals and n, and the paired difference in recall@5 against the stock hybrid. A line
under it says which fusion ranks now.
"""

from __future__ import annotations

from html import escape
from typing import Any

from flowloop.evaluate.results import RetrievalResult, SuiteResult


def _cell(suite: SuiteResult | None, metric: str) -> str:
    if suite is None or metric not in suite.metrics:
        return "–"
    lo, hi = suite.ci.get(metric, (suite.metrics[metric],) * 2)
    return f"{suite.metrics[metric]:.3f} [{lo:.3f}, {hi:.3f}]"


def retrieval_table(result: RetrievalResult | None, fusion: dict[str, Any] | None = None) -> str:
    """The table (empty string when the suite never ran) and the fusion line."""
    if result is None:
        return ""
    rows = []
    for name, suite in result.systems.items():
        files = result.files.get(name)
        vs = result.versus.get(name, {}).get("recall@5")
        label = result.specs.get(name, {}).get("label", name) + (" (serving)" if name == result.serving else "")
        cells = [label, _cell(suite, "recall@5"), _cell(suite, "ndcg@10"), _cell(suite, "mrr"),
                 f"{_cell(files, 'recall@10')} n={files.n}" if files else "–", str(suite.n),
                 f"{vs['diff']:+.3f} [{vs['ci'][0]:+.3f}, {vs['ci'][1]:+.3f}]" if vs else "–"]
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    head = ("<tr><th>system</th><th>recall@5</th><th>nDCG@10</th><th>MRR</th><th>files recall@10</th><th>n</th>"
            "<th>recall@5 vs stock hybrid (paired)</th></tr>")
    if fusion:
        weights = ", ".join(f"{k} {v}" for k, v in fusion.get("settings", {}).items())
        line = f"Fusion: {fusion.get('version')} ({weights}), fitted for embedder {fusion.get('for_embedder')}."
    else:
        line = "Fusion: the [index] weights (no fitted fusion promoted)."
    return (f"<table id=\"retrieval\"><caption>Retrieval on held-out future queries, dataset {escape(result.dataset)} "
            f"(95% CI)</caption>{head}{''.join(rows)}</table><p>{escape(line)}</p>")

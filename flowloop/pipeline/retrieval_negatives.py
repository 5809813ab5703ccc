"""Hard negatives for retrieval pairs: what BM25 and the stock embedder ranked high but was wrong.

In-batch negatives teach a contrastive model little about the near misses that hurt retrieval;
the passages the current retrievers would have put first for a query, from documents that were
not its answer, do. Both retrievers run over the corpus as of the pairs' cut, so a negative is
never a passage that did not exist yet. They alternate (dense first) until each pair has
``n`` negatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flowloop.pipeline.retrieval_corpus import Section

POOL = 20


class NegativeMiner:
    """BM25 (bm25s) and dense (the configured embedder) over one corpus's sections."""

    def __init__(self, sections: Sequence[Section], model_dir: Path | None, passage_chars: int) -> None:
        import bm25s

        self.sections = list(sections)
        self.texts = [s.text(passage_chars) for s in self.sections]
        self._bm25: Any = None
        self._vectors: Any = None
        self._embedder: Any = None
        if not self.sections:
            return
        self._bm25 = bm25s.BM25()
        self._bm25.index(bm25s.tokenize(self.texts, stopwords="en", show_progress=False), show_progress=False)
        if model_dir is not None:
            from flowloop.index.embedder import bulk_embedder

            self._embedder = bulk_embedder(model_dir, len(self.texts))
            self._vectors = self._embedder.encode(self.texts)

    def _lexical(self, queries: list[str]) -> list[list[int]]:
        import bm25s

        k = min(POOL, len(self.texts))
        tokens = bm25s.tokenize(queries, stopwords="en", show_progress=False)
        ids, scores = self._bm25.retrieve(tokens, k=k, show_progress=False)
        return [[int(i) for i, s in zip(row, vals) if s > 0] for row, vals in zip(ids, scores)]

    def _dense(self, queries: list[str]) -> list[list[int]]:
        import numpy as np

        if self._vectors is None:
            return [[] for _ in queries]
        sims = self._embedder.encode(queries) @ self._vectors.T
        k = min(POOL, sims.shape[1])
        top = np.argsort(-sims, axis=1)[:, :k]
        return [row.tolist() for row in top]

    def mine(self, queries: list[str], exclude: list[set[str]], n: int) -> list[list[Section]]:
        """``n`` hard negatives per query, none from the documents in its ``exclude`` set."""
        if n <= 0 or not self.sections or not queries:
            return [[] for _ in queries]
        lexical, dense = self._lexical(queries), self._dense(queries)
        out = []
        for lex, den, banned in zip(lexical, dense, exclude):
            picked: list[int] = []
            streams = [iter(den), iter(lex)]
            turn = 0
            while len(picked) < n and streams:
                stream = streams[turn % len(streams)]
                found = next((i for i in stream if i not in picked and self.sections[i].doc not in banned), None)
                if found is None:
                    streams.remove(stream)
                    continue
                picked.append(found)
                turn += 1
            out.append([self.sections[i] for i in picked])
        return out

"""What the work history says about each file, as of any moment.

The localizer's file features (how often a file changed, how recently, what changes with it)
must come from work that had finished before the task was planned. Like
:class:`flowloop.pipeline.similar.TaskHistory`, this keeps the records in finish-time order and
per-file postings of record indices, so "as of ``before``" is one bisect: the prefix of
history that had finished, and nothing later.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Sequence

from flowloop.pipeline.records import WorkRecord

# A commit touching more files than this (a rename sweep, a reformat) says little about which
# files belong together; it still counts for frequency and recency.
MAX_COCHANGE_FILES = 40
# Co-change is counted over the most recent changes of a file only: old couplings fade, and it
# keeps a query cheap on a hot file with thousands of changes.
COCHANGE_WINDOW = 50


class FileHistory:
    """Per-file postings over finished work records, searchable as of any moment."""

    def __init__(self, records: Sequence[WorkRecord]) -> None:
        self.records = sorted((r for r in records if r.files), key=lambda r: (r.time, r.task))
        self.times = [r.time for r in self.records]
        self.postings: dict[str, list[int]] = {}
        for index, record in enumerate(self.records):
            for path in dict.fromkeys(record.files):
                self.postings.setdefault(path, []).append(index)

    def cutoff(self, before: dt.datetime) -> int:
        """How many records finished strictly before ``before``."""
        return bisect.bisect_left(self.times, before)

    def seen(self, path: str, n: int) -> list[int]:
        """Indices of the records among the first ``n`` that touched ``path``, oldest first."""
        posting = self.postings.get(path, [])
        return posting[: bisect.bisect_left(posting, n)]

    def frequency(self, path: str, n: int) -> int:
        """Records among the first ``n`` that touched ``path``."""
        return len(self.seen(path, n))

    def age(self, path: str, n: int) -> int | None:
        """Records finished since ``path`` last changed (None: never changed before)."""
        seen = self.seen(path, n)
        return n - 1 - seen[-1] if seen else None

    def cochanged(self, path: str, n: int) -> Counter[str]:
        """Files changed together with ``path`` in its last ``COCHANGE_WINDOW`` changes before ``n``."""
        out: Counter[str] = Counter()
        for index in self.seen(path, n)[-COCHANGE_WINDOW:]:
            files = self.records[index].files
            if len(files) <= MAX_COCHANGE_FILES:
                out.update(f for f in files if f != path)
        return out

    def known_files(self, n: int) -> list[str]:
        """Every file changed by the first ``n`` records."""
        return [p for p, posting in self.postings.items() if posting[0] < n]

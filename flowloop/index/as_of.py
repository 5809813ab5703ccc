"""When a document counts as known: one rule for every ``as_of`` filter of the index.

PILRs carry a creation *date* (front matter); ``[[sources]]`` docs carry the *moment* git first
saw them (or their file time when not committed yet). Both are stored as sortable strings: a
date as ``YYYY-MM-DD``, a moment in UTC as ``YYYY-MM-DDTHH:MM:SS+00:00``. A cutoff is a moment
too; a date given as ``as_of`` means the end of that day. A date-only document created on the
cutoff's day counts as known (it sorts before any moment of that day), which is what dates in
front matter have always meant; a doc committed later the same day than a task's planning
moment does not, so a commit's own docs never leak into its planning context.
"""

from __future__ import annotations

import datetime as dt

UTC = dt.timezone.utc


def created_key(value: dt.date | dt.datetime | None) -> str | None:
    """How a document's creation is stored in the index."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="seconds")
    return value.isoformat()


def cutoff_key(as_of: dt.date | dt.datetime) -> str:
    """The cutoff of ``as_of`` in the same sortable form (a date: the end of that day)."""
    if isinstance(as_of, dt.datetime):
        return created_key(as_of) or ""
    return f"{as_of.isoformat()}T23:59:59+00:00"


def created_after(created: str | None, cutoff: str) -> bool:
    """Whether a document created at ``created`` (stored form) came after ``cutoff``.
    Documents with no date count as always known."""
    return created is not None and created > cutoff

"""No collapse: the upward flow never swaps knowledge for much less of it without a yes.

ACE (arXiv 2510.04618) saw a rewrite shrink a playbook from 18,282 tokens to 122 and accuracy
fall below having no context at all. Here the moves that replace what retrieval serves are
checked before they write:

- ``supersede``: the replacement's body against the old body (``[pilr] collapse_ratio``);
- ``archive`` / ``extract`` / ``promote``: what the move carries upward (the decision, or what
  worked) against the source documents' bodies (``[pilr] upward_collapse_ratio``). A task note's
  decision is normally a fifth of it (5-27% on the example's 29 task notes), so this bound is
  lower: it catches a move that keeps almost nothing, not every move.

Below its bound a move is refused unless confirmed (``--allow-shorter``); ``flow pilr review``
shows the size change of every pending move, so the reviewer sees it before running it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from flowloop.errors import LifecycleError
from flowloop.pilr.model import Pilr
from flowloop.pilr.sections import find_section

ARCHIVE_SECTIONS = ("decision",)
EXTRACT_SECTIONS = ("lesson", "what worked", "solution", "problem", "decision")
PROMOTE_SECTIONS = ("what worked", "solution")
# Below this many words there is no playbook to collapse (an unfilled template is ~10 words).
MIN_GUARDED_WORDS = 50


def words(text: str) -> int:
    return len(text.split())


@dataclass(frozen=True)
class SizeChange:
    old_words: int
    new_words: int

    @property
    def ratio(self) -> float:
        return self.new_words / self.old_words if self.old_words else 1.0

    def render(self) -> str:
        change = (self.ratio - 1.0) * 100
        return f"{self.old_words} -> {self.new_words} words ({change:+.0f}%)"

    def to_dict(self) -> dict[str, object]:
        return {"old_words": self.old_words, "new_words": self.new_words, "ratio": round(self.ratio, 3)}


def carried(source: Pilr, sections: tuple[str, ...]) -> str:
    """What a move takes from ``source``: the named section, else the whole body (as the moves do)."""
    return find_section(source.body, *sections) or source.body.strip()


def upward_change(sources: Iterable[Pilr], sections: tuple[str, ...]) -> SizeChange:
    docs = list(sources)
    return SizeChange(sum(words(d.body) for d in docs), sum(words(carried(d, sections)) for d in docs))


def replacement_change(old: Pilr, new: Pilr) -> SizeChange:
    return SizeChange(words(old.body), words(new.body))


def guard(change: SizeChange, min_ratio: float, confirmed: bool, what: str, path: Path | None = None) -> None:
    """Refuse a move that keeps less than ``min_ratio`` of what it replaces, unless confirmed."""
    if confirmed or change.ratio >= min_ratio or change.old_words < MIN_GUARDED_WORDS:
        return
    raise LifecycleError(
        f"{what} would replace {change.old_words} words with {change.new_words} "
        f"({change.ratio:.0%}, under the {min_ratio:.0%} bound): knowledge would collapse",
        path=path,
        hint="check nothing durable is lost, then confirm with --allow-shorter",
    )

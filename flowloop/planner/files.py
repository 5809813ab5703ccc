"""Which files a plan says the task touches: one definition for the product and its evaluation.

The localizer's ranked files come first, in its order: on held-out tasks it is far more precise
than anything a small generative model writes. Then the files the specialist's plan names that
are real candidates (the localizer's candidate pool as of the task, or, in a live repository,
files that exist), so a path the model invents never reaches a plan, and a file the plan names
for a reason the ranker missed still does. ``flow plan`` and the planning suite's full-planner
row both call :func:`planned_files`, so what is measured is what a developer is shown.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from pathlib import Path, PurePosixPath


def normalise(path: str) -> str:
    """A path as the work history writes it: no backticks, no leading ``./`` or ``/``."""
    path = path.strip().strip("`").strip()
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def planned_files(ranked: Sequence[str], named: Sequence[str], candidates: Container[str]) -> list[str]:
    """The localizer's ``ranked`` files, then each file ``named`` by the plan that is in
    ``candidates``, without duplicates and in that order."""
    out = list(dict.fromkeys(normalise(p) for p in ranked if normalise(p)))
    seen = set(out)
    for raw in named:
        path = normalise(raw)
        if path and path not in seen and path in candidates:
            out.append(path)
            seen.add(path)
    return out


class RepoFiles:
    """The candidates of a live repository: the localizer's pool, or a file that exists under
    ``root`` (a relative path that stays inside it)."""

    def __init__(self, root: Path, pool: Sequence[str] = ()) -> None:
        self.root = root.resolve()
        self.pool = {normalise(p) for p in pool}

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str) or not path:
            return False
        if path in self.pool:
            return True
        parts = PurePosixPath(path).parts
        if ".." in parts or path.startswith("/"):
            return False
        target = self.root.joinpath(*parts)
        try:
            return target.resolve().is_relative_to(self.root) and target.is_file()
        except OSError:
            return False

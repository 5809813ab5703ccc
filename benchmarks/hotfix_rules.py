"""Hotfix outcomes on real histories under each rule of ``flow collect git``.

Usage: ``python benchmarks/hotfix_rules.py REPO [REPO...]`` (clones of real projects, e.g. the
click and httpx histories). For each repository it mines the history four ways (the issue-
reference rule on/off, the changelog/docs exclude globs on/off) without touching any store, and
prints the hotfix count and share of work records; JSON goes to
``benchmarks/results/hotfix_rules.json``. "before" is the rule as it was: any ``Fixes/Closes
#N`` line is a fix and every file overlaps.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

from flowloop.config import DEFAULT_HOTFIX_EXCLUDE
from flowloop.signals import collect_git as cg
from flowloop.signals.gitlog import iter_commits

_OLD_FIX = re.compile(
    r"^(fix|hotfix|bugfix)(\([^)]*\))?!?:|\b(fix(es|ed|ing)?|hot-?fix(es)?|bug(s|fix)?|patch(es|ed)?|regression|broken|typo)\b",
    re.IGNORECASE,
)


def old_is_fix(commit: cg.Commit) -> bool:
    if commit.subject.startswith(("Revert ", "Reapply ")):
        return False
    if _OLD_FIX.search(commit.subject):
        return True
    return bool(re.search(r"^\s*(fix(es|ed)?|closes|resolves)\s+#\d+", commit.message, re.IGNORECASE | re.MULTILINE))


def mine(root: Path, fix_rule: str, exclude: tuple[str, ...]) -> cg.CollectResult:
    new_rule = cg.is_fix
    cg.is_fix = new_rule if fix_rule == "subject" else old_is_fix  # a measurement script, not the library
    try:
        result = cg.CollectResult()
        miner = cg._Miner(dt.timedelta(days=7), None, result, exclude)
        for commit in iter_commits(root, ["HEAD"], None):
            miner.feed(commit)
        return result
    finally:
        cg.is_fix = new_rule


def main(paths: list[str]) -> None:
    rows = []
    variants = [
        ("before (message refs are fixes, all files)", "old", ()),
        ("issue references are not fixes", "subject", ()),
        ("changelog/docs excluded", "old", DEFAULT_HOTFIX_EXCLUDE),
        ("after (both)", "subject", DEFAULT_HOTFIX_EXCLUDE),
    ]
    print("| repository | rule | work records | hotfixes | share |\n|---|---|---:|---:|---:|")
    for path in paths:
        for name, rule, exclude in variants:
            r = mine(Path(path), rule, tuple(exclude))
            rows.append({"repo": Path(path).name, "rule": name, "work_records": r.work_records,
                         "hotfixes": r.hotfixes, "share": round(r.hotfix_share, 4)})
            print(f"| {Path(path).name} | {name} | {r.work_records} | {r.hotfixes} | {r.hotfix_share:.1%} |")
    out = Path(__file__).parent / "results" / "hotfix_rules.json"
    out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])

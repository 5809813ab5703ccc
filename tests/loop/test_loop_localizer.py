"""History alone trains the localizer: a repository with commits and no documents gets a
localizer from `flow loop` while SFT stays below its threshold."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest

from flowloop.loop import run_loop
from flowloop.models.registry import Registry
from flowloop.repo import init_repo

AREAS = {
    "parser": ["src/invoice/parser.py", "tests/test_parser.py"],
    "refunds": ["src/payments/refunds.py", "tests/test_refunds.py"],
    "webhooks": ["src/events/webhooks.py", "src/events/outbox.py"],
    "tenancy": ["src/tenancy/context.py", "tests/test_tenancy.py"],
}


def _commit(root: Path, message: str, files: list[str], day: int) -> None:
    stamp = (dt.datetime(2024, 1, 1, 9, tzinfo=dt.timezone.utc) + dt.timedelta(days=day)).isoformat()
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root), "GIT_AUTHOR_DATE": stamp,
           "GIT_COMMITTER_DATE": stamp}
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{message} {day}\n", encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, capture_output=True)
    subprocess.run(["git", "commit", "-qm", message], cwd=root, check=True, capture_output=True, env=env)


@pytest.mark.slow  # the dataset build embeds every task query with the real MiniLM
def test_history_alone_trains_the_localizer(git_repo: Path) -> None:
    repo = init_repo(git_repo).repo
    for day in range(48):
        area = list(AREAS)[day % len(AREAS)]
        _commit(git_repo, f"{area}: change number {day} of the {area} code", AREAS[area], day)
    summary = run_loop(repo)
    text = "\n".join(summary.messages)
    assert "SFT: below threshold" in text
    assert "Localizer: trained v1" in text, text
    assert Registry(repo, "localizer").get("v1").manifest["pass"] == "localizer"
    assert "no specialist version trained" in text

"""A real git history for the localizer's tests: commits with set dates."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

DAY0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.timezone.utc)


def commit(repo: Path, message: str, files: dict[str, str], day: float) -> None:
    stamp = (DAY0 + dt.timedelta(days=day)).isoformat()
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo), "GIT_AUTHOR_DATE": stamp,
           "GIT_COMMITTER_DATE": stamp}
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        subprocess.run(["git", "add", "-f", name], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, check=True, env=env)

"""Generate a large, realistic git repository fast (``git fast-import``), for the signals benchmark.

``generate_repo(path, commits=10_000)`` writes a history with task ids in messages
(``ABC-123: ...``), 1-4 files touched per commit, feature branches merged back, fix commits
shortly after the commits they repair (hotfixes) and ``git revert``-style commits whose message
names the reverted sha (``This reverts commit <sha>.``; the sha is read back from fast-import with
``get-mark``). 10,000 commits take a few seconds. ``benchmarks/signals.py`` imports it; run it
alone to time ``flow collect git`` on the result:

    python benchmarks/gen_git_repo.py /tmp/big-repo --commits 10000 --collect
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

_VERBS = ["add", "update", "refactor", "extend", "rework", "document", "speed up", "simplify", "validate", "rename"]
_NOUNS = ["ledger export", "refund flow", "invoice totals", "currency rounding", "auth middleware", "rate limiter",
          "audit log", "report builder", "webhook retries", "cache keys", "settings loader", "CSV import"]
_FIXES = ["fix crash in", "fix off-by-one in", "hotfix for", "fix regression in", "patch null check in"]


@dataclass
class GeneratedRepo:
    path: str
    commits: int
    merges: int
    reverts: int
    fixes: int
    seconds: float


def _git_env() -> dict[str, str]:
    return {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}


def generate_repo(path: Path, commits: int = 10_000, files: int = 400, seed: int = 7, checkout: bool = True) -> GeneratedRepo:
    """Create a git repository at ``path`` (must not exist or be empty) with ``commits`` commits."""
    started = time.perf_counter()
    path.mkdir(parents=True, exist_ok=True)
    env = _git_env()
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    rng = random.Random(seed)
    pool = [f"src/mod{i % 20:02d}/file{i:04d}.py" for i in range(files)]
    proc = subprocess.Popen(["git", "fast-import", "--quiet", "--done", "--cat-blob-fd=1"], cwd=path, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    out = proc.stdin
    stamp = 1_672_531_200  # 2023-01-01
    mark = 0
    main_tip = 0
    recent: list[tuple[int, str, list[str]]] = []  # (mark, subject, files) of recent main commits
    stats = {"merges": 0, "reverts": 0, "fixes": 0}
    version = 0

    def emit(ref: str, subject: str, body: str, changed: list[str], parents: list[int]) -> int:
        nonlocal mark, stamp, version
        mark += 1
        stamp += rng.randint(600, 10_800)
        who = rng.randint(1, 12)
        message = f"{subject}\n\n{body}\n".encode()
        lines = [f"commit {ref}", f"mark :{mark}",
                 f"author Dev {who} <dev{who}@example.com> {stamp} +0000",
                 f"committer Dev {who} <dev{who}@example.com> {stamp} +0000",
                 f"data {len(message)}"]
        chunks = ["\n".join(lines).encode() + b"\n" + message]
        if parents:
            chunks.append(f"from :{parents[0]}\n".encode())
            chunks.extend(f"merge :{p}\n".encode() for p in parents[1:])
        for name in changed:
            version += 1
            content = f"# {name}\nVERSION = {version}\n".encode()
            chunks.append(f"M 100644 inline {name}\ndata {len(content)}\n".encode() + content + b"\n")
        out.write(b"".join(chunks) + b"\n")
        return mark

    def sha_of(which: int) -> str:
        out.write(f"get-mark :{which}\n".encode())
        out.flush()
        return proc.stdout.readline().decode().strip()  # type: ignore[union-attr]

    task = 100
    while mark < commits:
        roll = rng.random()
        left = commits - mark
        if roll < 0.02 and recent and left >= 1:
            target, subject, changed = rng.choice(recent[-20:])
            sha = sha_of(target)
            main_tip = emit("refs/heads/main", f'Revert "{subject}"', f"This reverts commit {sha}.", changed,
                            [main_tip] if main_tip else [])
            stats["reverts"] += 1
        elif roll < 0.10 and recent:
            _, subject, changed = recent[-rng.randint(1, min(5, len(recent)))]
            fix = f"{rng.choice(_FIXES)} {rng.choice(_NOUNS)}"
            main_tip = emit("refs/heads/main", fix, "Follow-up to the previous change.", changed[:1],
                            [main_tip] if main_tip else [])
            stats["fixes"] += 1
        elif roll < 0.13 and main_tip and left >= 4:
            # A short feature branch, merged back with --no-ff.
            branch = f"refs/heads/feature/ABC-{task}"
            first = emit(branch, f"ABC-{task}: start {rng.choice(_NOUNS)}", "Branch work.", rng.sample(pool, 2), [main_tip])
            second = emit(branch, f"ABC-{task}: finish {rng.choice(_NOUNS)}", "Branch work.", rng.sample(pool, 2), [first])
            main_tip = emit("refs/heads/main", f"Merge branch 'feature/ABC-{task}'", "Merged.", rng.sample(pool, 2),
                            [main_tip, second])
            task += 1
            stats["merges"] += 1
        else:
            changed = rng.sample(pool, rng.randint(1, 4))
            subject = f"ABC-{task}: {rng.choice(_VERBS)} {rng.choice(_NOUNS)}"
            main_tip = emit("refs/heads/main", subject, "Why: keeps the ledger consistent.", changed,
                            [main_tip] if main_tip else [])
            recent.append((main_tip, subject, changed))
            recent = recent[-50:]
            task += 1
    out.write(b"done\n")
    out.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed")
    if checkout:
        subprocess.run(["git", "-C", str(path), "reset", "-q", "--hard", "main"], check=True, env=env)
    return GeneratedRepo(str(path), mark, stats["merges"], stats["reverts"], stats["fixes"], time.perf_counter() - started)


def time_collect(path: Path) -> dict[str, float | int]:
    """Run ``flow init`` and ``flow collect git`` (twice: full, then incremental) on ``path``."""
    flow = str(Path(sys.executable).with_name("flow"))
    subprocess.run([flow, "-C", str(path), "init"], check=True, capture_output=True)
    timings: dict[str, float | int] = {}
    for label in ("full_s", "incremental_s"):
        started = time.perf_counter()
        done = subprocess.run([flow, "-C", str(path), "collect", "git", "--json"], check=True, capture_output=True, text=True)
        timings[label] = round(time.perf_counter() - started, 2)
        result = json.loads(done.stdout)
        timings[label.replace("_s", "_added")] = result["added"]
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--collect", action="store_true", help="also time `flow collect git` on it")
    args = parser.parse_args()
    generated = generate_repo(args.path, commits=args.commits)
    report: dict[str, object] = asdict(generated)
    if args.collect:
        report.update(time_collect(args.path))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

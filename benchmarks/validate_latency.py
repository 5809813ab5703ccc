"""What `flow validate` costs on a 300-line diff, before and after a change, side by side.

One scratch project (a copy of ``examples/ledgerline`` with its PILRs, in a git repository, the
index built) gets a 300-line working-tree diff (``--lines``, over 6 new files) and a reward model
trained a few steps (its quality does not matter here; the default base model does). Then
``flow validate --format json`` runs as a fresh process, alternating between the source trees so
that a busy machine slows both alike:

- ``before``: ``git archive --before`` (default ``main``) unpacked into a temp folder;
- ``after``: this checkout;

each in two modes: ``--cite 0`` (scores only) and ``--threshold 1`` (every hunk flagged, so the
conventions of each are retrieved and cited). ``--warm`` adds the after tree with ``flow serve``
running (the reward model and the index kept warm). One warm-up run per variant is not counted
(the after tree's first run also writes its merged checkpoint into the user cache). p50, min and
max over ``--repeat`` runs; JSON to ``benchmarks/results/validate_latency.json``.

    .venv/bin/python benchmarks/validate_latency.py [--repeat 5] [--before main] [--warm]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ledgerline"
FLOW = Path(sys.executable).parent / "flow"
RESULTS = ROOT / "benchmarks" / "results" / "validate_latency.json"
MODES = {"score only (--cite 0)": ["--cite", "0"], "all flagged, 3 conventions cited": ["--threshold", "1"]}


def git(repo: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


def diff_repo(work: Path, lines: int, env: dict[str, str]) -> Path:
    """The example with its PILRs, committed, then ``lines`` new lines staged in 6 files."""
    repo = work / "diffrepo"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("state"))
    git(repo, "init", "-q", "-b", "main", env=env)
    git(repo, "config", "user.email", "b@example.com", env=env)
    git(repo, "config", "user.name", "Bench", env=env)
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "start", env=env)
    per_file = lines // 6
    for n in range(6):
        body = "\n".join(f"def f{n}_{i}(amount):\n    return float(amount) * {i}  # change {i}" for i in range(per_file // 2))
        (repo / f"src_change_{n}.py").write_text(body + "\n")
    git(repo, "add", "-A", env=env)  # new files are in the working tree's diff against HEAD once staged
    subprocess.run([str(FLOW), "index"], cwd=repo, check=True, capture_output=True, env=env)
    return repo


def reward_model(work: Path, target: Path, steps: int, env: dict[str, str]) -> str:
    """A reward version trained ``steps`` steps on the example's labelled outputs, promoted in ``target``."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from reward import prepare

    from flowloop.models.registry import Registry
    from flowloop.repo import FlowRepo
    from flowloop.train.api import train

    repo = prepare(work)
    version = train(repo, "reward", max_steps=steps, force=True).version
    shutil.copytree(repo.state_dir / "models" / "reward", target / ".flow" / "state" / "models" / "reward")
    Registry(FlowRepo(target), "reward").promote(version, "benchmark: validate latency")
    return version


def unpack(ref: str, into: Path) -> Path:
    """The tracked files of ``ref`` (the ``flowloop`` package is what matters) in ``into``; a
    folder holding a ``flowloop`` package is used as it is."""
    if (Path(ref) / "flowloop").is_dir():
        return Path(ref)
    data = subprocess.run(["git", "archive", ref, "flowloop"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(into, filter="data")
    return into


def run_once(repo: Path, tree: Path, args: list[str], env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    done = subprocess.run([str(FLOW), "validate", "--format", "json", *args], cwd=repo, capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(tree)})
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"flow validate failed ({tree}): {done.stderr[-2000:]}")
    return elapsed, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--before", default="main", help="git ref (or folder) of the tree to compare against")
    parser.add_argument("--warm", action="store_true", help="also time the after tree with `flow serve` running")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # each `flow` started here runs this tree's code unless run_once names the other tree
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(work), "PYTHONPATH": str(ROOT)}
        repo = diff_repo(work, args.lines, env)
        version = reward_model(work, repo, args.steps, env)
        trees = {"before": unpack(args.before, work / "before"), "after": ROOT}
        variants = [(tree, mode) for mode in MODES for tree in trees]
        times: dict[str, list[float]] = {f"{t} | {m}": [] for t, m in variants}
        units, scored = 0, {}
        for tree, mode in variants:  # warm-up, not counted
            _, out = run_once(repo, trees[tree], MODES[mode], env)
            units, scored[tree] = out["units"], [r["score"] for r in out["results"]]
        for _ in range(args.repeat):
            for tree, mode in variants:
                elapsed, _ = run_once(repo, trees[tree], MODES[mode], env)
                times[f"{tree} | {mode}"].append(elapsed)
        if args.warm:
            server = subprocess.Popen([str(FLOW), "serve"], cwd=repo, env=env, stderr=subprocess.PIPE, text=True)
            try:
                deadline = time.monotonic() + 300
                while not (repo / ".flow" / "state" / "warm.json").exists() and time.monotonic() < deadline:
                    time.sleep(0.2)
                for mode in MODES:
                    key = f"after, flow serve running | {mode}"
                    _, out = run_once(repo, ROOT, MODES[mode], env)  # the server's first request
                    assert "scored by the warm server (`flow serve`)" in out["notes"], out["notes"]
                    times[key] = [run_once(repo, ROOT, MODES[mode], env)[0] for _ in range(args.repeat)]
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=60)
    rows = {k: {"p50_s": round(statistics.median(v), 2), "min_s": round(min(v), 2), "max_s": round(max(v), 2),
                "runs": [round(x, 2) for x in v]} for k, v in times.items()}
    drift = max(abs(a - b) for a, b in zip(scored["before"], scored["after"]))
    print(f"flow validate on a {args.lines}-line diff ({units} hunks), reward {version}, fresh process each run, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    print("| tree | mode | p50 s | min s | max s |\n|---|---|---:|---:|---:|")
    for key, r in rows.items():
        tree, mode = key.split(" | ")
        print(f"| {tree} | {mode} | {r['p50_s']:.2f} | {r['min_s']:.2f} | {r['max_s']:.2f} |")
    print(f"largest score difference after vs before, same hunks: {drift:.4f}")
    RESULTS.write_text(json.dumps({"lines": args.lines, "units": units, "before": args.before, "repeat": args.repeat,
                                   "score_drift": round(drift, 5), "rows": rows}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

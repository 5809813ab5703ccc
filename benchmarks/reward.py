"""The seed's Step 3 claim on the example: a reward model catches violations the generative
reviewer waves through; and what `flow validate` costs on a 300-line diff.

In a scratch copy of ``examples/ledgerline`` (signals imported, index built, ``flow dataset
build``), the reward pass trains ``--steps`` steps on ``reward_train``; then both reviewers
score the same held-out items (``eval_validation`` = ``reward_heldout``, the labelled outputs of
the newest tasks): the reward model at the threshold it chose on those items for
``[train.reward] target_precision`` (so its precision there is optimistic: the threshold was
picked on them; AUROC is threshold-free), the generative reviewer (the base model in its review
role, as the validation suite asks it) at P(OK) = 0.5. Precision, recall, F1 and AUROC with
bootstrap 95% intervals, n, and the paired recall difference; the precision-recall curves go to
the JSON.

Latency: a 300-line diff (``--lines``) over 6 files in a git repository, ``flow validate
--format json`` as a fresh process (model load included), ``--repeat`` times; p50 and max.

    .venv/bin/python benchmarks/reward.py [--steps 120] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "reward.json"
EXAMPLE = ROOT / "examples" / "ledgerline"
FLOW = Path(sys.executable).parent / "flow"
sys.path.insert(0, str(ROOT))


def prepare(work: Path, steps: int) -> Path:
    repo = work / "ledgerline"
    shutil.copytree(EXAMPLE, repo)
    for args in (["signal", "import", ".flow/signals/events.jsonl"], ["index"], ["dataset", "build"]):
        subprocess.run([str(FLOW), *args], cwd=repo, check=True, capture_output=True)
    return repo


def paired_recall(reward: list[float], t_reward: float, reviewer: list[float], t_reviewer: float,
                  compliant: list[bool], samples: int, seed: int) -> dict[str, Any]:
    """Recall difference (reward - reviewer) over the same violations, paired bootstrap 95% CI."""
    from flowloop.evaluate.stats import paired_difference

    bad = [i for i, ok in enumerate(compliant) if not ok]
    a = [1.0 if reward[i] < t_reward else 0.0 for i in bad]
    b = [1.0 if reviewer[i] < t_reviewer else 0.0 for i in bad]
    diff, (lo, hi) = paired_difference(a, b, samples, seed)
    return {"diff": round(diff, 4), "ci": [round(lo, 4), round(hi, 4)], "n_violations": len(bad)}


def diff_repo(work: Path, lines: int) -> Path:
    repo = work / "diffrepo"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns(".flow"))
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(work)}
    run = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True, env=env)  # noqa: E731
    run("init", "-q", "-b", "main")
    run("config", "user.email", "b@example.com")
    run("config", "user.name", "Bench")
    subprocess.run([str(FLOW), "init"], cwd=repo, check=True, capture_output=True)
    run("add", "-A")
    run("commit", "-qm", "start")
    per_file = lines // 6
    for n in range(6):
        body = "\n".join(f"def f{n}_{i}(amount):\n    return float(amount) * {i}  # change {i}" for i in range(per_file // 2))
        (repo / f"src_change_{n}.py").write_text(body + "\n")
    run("add", "-A")  # new files are in the working tree's diff against HEAD once staged
    return repo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    from flowloop.evaluate.reward import compare_reviewers
    from flowloop.models.registry import Registry
    from flowloop.repo import FlowRepo
    from flowloop.train.api import train

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        repo = FlowRepo(prepare(work, args.steps))
        started = time.perf_counter()
        result = train(repo, "reward", max_steps=args.steps)
        train_s = time.perf_counter() - started
        print(f"trained reward {result.version} in {train_s:.0f} s", flush=True)
        target = diff_repo(work, args.lines)
        shutil.copytree(repo.state_dir / "models" / "reward", target / ".flow" / "state" / "models" / "reward")
        Registry(FlowRepo(target), "reward").promote(result.version, "benchmark: validate latency")
        times, units = [], 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            done = subprocess.run([str(FLOW), "validate", "--format", "json", "--cite", "0"], cwd=target,
                                  capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            assert done.returncode in (0, 1), done.stderr
            units = json.loads(done.stdout)["units"]
        print(f"validate: {[round(t, 1) for t in times]} s for {units} hunks", flush=True)

        compared = compare_reviewers(repo, reward=result.version, reviewer="base")
        per_item = compared.pop("items")
        samples, seed = repo.settings.eval.bootstrap_samples, repo.settings.eval.seed
        recall = paired_recall([r["reward_score"] for r in per_item], compared["reward_model"]["threshold"],
                               [r["reviewer_score"] for r in per_item], 0.5, [r["compliant"] for r in per_item],
                               samples, seed)

    rows = [("reward model " + result.version, compared["reward_model"]), ("generative reviewer (base)", compared["generative_reviewer"])]
    print(f"\nHeld-out labelled outputs of the example: n={compared['n']} ({compared['violating']} violating), "
          f"dataset {compared['dataset']}; reward model trained {args.steps} steps in {train_s:.0f} s")
    print("| reviewer | threshold | precision | recall | F1 | AUROC |")
    print("|---|---:|---|---|---|---|")
    for name, r in rows:
        m, ci = r["metrics"], r["ci"]
        cell = lambda k: f"{m[k]:.3f} [{ci[k][0]:.3f}, {ci[k][1]:.3f}]"  # noqa: E731
        print(f"| {name} | {r['threshold']:.3f} | {cell('precision')} | {cell('recall')} | {cell('f1')} | {cell('auroc')} |")
    print(f"\nviolation recall, reward - reviewer (paired over {recall['n_violations']} violations): "
          f"{recall['diff']:+.3f} [{recall['ci'][0]:+.3f}, {recall['ci'][1]:+.3f}]")
    p50 = statistics.median(times)
    print(f"flow validate on a {args.lines}-line diff ({units} hunks), fresh process: p50 {p50:.1f} s, "
          f"max {max(times):.1f} s over {len(times)} runs on {os.cpu_count()} cores")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"steps": args.steps, "train_s": round(train_s, 1), **compared,
                                   "recall_difference": recall, "items": per_item,
                                   "validate": {"lines": args.lines, "units": units, "seconds": [round(t, 2) for t in times],
                                                "p50_s": round(p50, 2)}}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""The seed's Step 3 claim: a reward model catches violations the generative reviewer waves
through. On the example and on real histories, both reviewers side by side on the same items.

Example (default): in a scratch copy of ``examples/ledgerline`` (signals imported, index built,
``flow dataset build``) the reward pass trains ``--steps`` steps on ``reward_train``. Its
threshold is chosen for ``[train.reward] target_precision`` on its calibration slice (the newest
training tasks, held aside from fitting), never on the items scored here: the held-out tasks
(``eval_validation`` = ``reward_heldout``). The generative reviewer is the base model in its
review role at P(OK) = 0.5.

Histories (``--history click --history httpx``): a git bundle cloned into a temp folder, labelled
by ``flow collect git`` and cut at ``--cut`` (see ``reward_history.py``): reverted or hotfixed
commits against commits that held, the reward model trained only on commits before the cut
(labels as of the cut), both reviewers scoring the commits after it.

Reported for each reviewer: precision, recall and F1 of flagging violations at its threshold,
AUROC across thresholds, each with a bootstrap 95% interval, and n; the paired differences
(reward model minus reviewer, each at its own threshold, resampled on the same items); the
precision-recall curves go to the JSON. ``flow validate``'s latency is ``validate_latency.py``.

    .venv/bin/python benchmarks/reward.py [--steps 40]
    .venv/bin/python benchmarks/reward.py --history click --history httpx [--steps 150]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
EXAMPLE = ROOT / "examples" / "ledgerline"
# where each history still has violations on both sides (httpx's hotfixes are nearly all before mid-2020)
CUTS = {"click": "2025-06-01", "httpx": "2020-01-01"}
FLOW = Path(sys.executable).parent / "flow"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def prepare(work: Path) -> Any:
    from flowloop.repo import FlowRepo

    repo = work / "ledgerline"
    shutil.copytree(EXAMPLE, repo)
    for args in (["signal", "import", ".flow/signals/events.jsonl"], ["index"], ["dataset", "build"]):
        subprocess.run([str(FLOW), *args], cwd=repo, check=True, capture_output=True)
    return FlowRepo(repo)


def train_and_compare(repo: Any, steps: int, dataset: str = "latest") -> dict[str, Any]:
    from flowloop.evaluate.reward import compare_reviewers
    from flowloop.train.api import train

    started = time.perf_counter()
    result = train(repo, "reward", dataset=dataset, max_steps=steps, force=True)
    train_s = time.perf_counter() - started
    print(f"trained reward {result.version} in {train_s:.0f} s", flush=True)
    started = time.perf_counter()
    compared = compare_reviewers(repo, reward=result.version, reviewer="base", dataset=dataset)
    from flowloop.models.reward import calibration, resolve_version

    return {"steps": steps, "train_s": round(train_s, 1), "score_s": round(time.perf_counter() - started, 1),
            "calibration": calibration(resolve_version(repo, result.version)), **compared}


def table(title: str, found: dict[str, Any]) -> str:
    lines = [f"\n{title}: n={found['n']} ({found['violating']} violating); reward model trained {found['steps']} "
             f"steps in {found['train_s']:.0f} s; threshold chosen on its calibration slice "
             f"(n={found['calibration'].get('n')}, {found['calibration'].get('from')} .. {found['calibration'].get('to')})",
             "| reviewer | threshold | precision | recall | F1 | AUROC |", "|---|---:|---|---|---|---|"]
    for name, r in (("reward model", found["reward_model"]), ("generative reviewer (base)", found["generative_reviewer"])):
        m, ci = r["metrics"], r["ci"]
        cell = lambda k: f"{m[k]:.3f} [{ci[k][0]:.3f}, {ci[k][1]:.3f}]"  # noqa: E731
        lines.append(f"| {name} | {r['threshold']:.3f} | {cell('precision')} | {cell('recall')} | {cell('f1')} | {cell('auroc')} |")
    paired = found["paired"]
    lines.append("| reward minus reviewer (paired) | | " + " | ".join(
        f"{paired[k]['diff']:+.3f} [{paired[k]['ci'][0]:+.3f}, {paired[k]['ci'][1]:+.3f}]"
        for k in ("precision", "recall", "f1", "auroc")) + " |")
    return "\n".join(lines)


def example(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    found = train_and_compare(prepare(work), args.steps)
    print(table("Held-out labelled outputs of the example", found))
    return found


def history(name: str, cut: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import reward_history as rh
    from planning import HISTORIES, git_history

    started = time.perf_counter()
    repo = git_history(work, HISTORIES / f"{name}.bundle")
    when = dt.datetime.fromisoformat(cut).replace(tzinfo=dt.timezone.utc)
    train_rows, test_rows, counts = rh.labelled(repo, when, args.max_chars, args.test_limit)
    train_rows = rh.balance(train_rows, args.train_limit)
    version = rh.write_dataset(repo, train_rows, test_rows, when)
    print(f"{name}: {counts} in {time.perf_counter() - started:.0f} s; training on the newest {len(train_rows)}",
          flush=True)
    found = train_and_compare(repo, args.steps, version)
    found = {"history": name, "cut": cut, "labels": counts, "train_rows": len(train_rows), **found}
    print(table(f"History {name}, commits after {cut}: reverted or hotfixed against held", found))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--history", action="append", default=[], help="click or httpx (repeatable); default: the example")
    parser.add_argument("--cut", action="append", default=[], help="the cut date per --history (default: CUTS)")
    parser.add_argument("--train-limit", type=int, default=800, help="newest training commits kept (0: all)")
    parser.add_argument("--max-chars", type=int, default=1500, help="characters of a commit's diff scored")
    parser.add_argument("--test-limit", type=int, default=300, help="first commits after the cut scored (0: all)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.history:
            found = example(args, Path(tmp))
            (RESULTS / "reward.json").write_text(json.dumps(found, indent=2) + "\n")
            print("wrote benchmarks/results/reward.json")
        for n, name in enumerate(args.history):
            cut = args.cut[n] if n < len(args.cut) else CUTS[name]
            found = history(name, cut, args, Path(tmp))
            out = RESULTS / f"reward_history_{name}.json"
            out.write_text(json.dumps(found, indent=2) + "\n")
            print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

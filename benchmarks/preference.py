"""Preference win rate before and after DPO on the bundled example (the preference suite's metric).

In a scratch copy of ``examples/ledgerline`` (signals imported, dataset v1 built, as ``make
demo`` does) this trains SFT, then DPO from it, with the example's own settings and the demo's
step caps by default (``[train.sft] loop_max_steps = 24``, ``[train.dpo] loop_max_steps = 4``),
and scores the base model, the SFT version and each DPO version on every held-out preference
pair (``dpo_heldout.jsonl``, no cap). For each model it prints:

- the win rate against the base model (the suite's metric: DPO's implicit reward, log pi/base of
  the chosen answer above that of the rejected one, summed over tokens), with its bootstrap 95%
  interval; the base is 0.5 by construction;
- the paired difference against the SFT version, with its interval (what the gate computes);
- for a DPO version, its win rate against its SFT parent as the reference (what DPO optimises);
- the earlier metric for comparison: the model's own per-token likelihood of chosen vs rejected
  (it measured fluency and gave the base model 0.00).

    .venv/bin/python benchmarks/preference.py [--sft-steps 24] [--dpo-steps 4,30]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "preference.json"


def per_token_win_rate(details: list[dict[str, Any]]) -> float:
    """The earlier metric, from the stored sums and token counts (a tie counted half)."""
    wins = []
    for d in details:
        chosen, rejected = d["chosen"] / max(d["tokens"][0], 1), d["rejected"] / max(d["tokens"][1], 1)
        wins.append(1.0 if chosen > rejected else 0.5 if chosen == rejected else 0.0)
    return sum(wins) / len(wins)


def _fmt(value: float, ci: tuple[float, float]) -> str:
    return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sft-steps", type=int, default=24)
    parser.add_argument("--dpo-steps", default="4", help="Comma-separated step caps, one DPO run from the SFT version each.")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from transformers.utils import logging as hf_logging

    from flowloop.evaluate.gate import paired_diff
    from flowloop.evaluate.runner import EvalData, evaluate_model
    from flowloop.evaluate import data as eval_data
    from flowloop.evaluate.suites import preference, summarise
    from flowloop.train.api import train
    from training import example_repo, load_average

    hf_logging.set_verbosity_error()
    load_before = load_average()
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        repo = example_repo(Path(tmp) / "ledgerline")
        s = repo.settings.eval
        started = time.perf_counter()
        sft = train(repo, "sft", max_steps=args.sft_steps, resume="never")
        trained = {"base": ("base model", None), sft.version: (f"SFT {args.sft_steps} steps", sft)}
        for steps in [int(n) for n in args.dpo_steps.split(",")]:
            dpo = train(repo, "dpo", max_steps=steps, parent=sft.version, resume="never")
            trained[dpo.version] = (f"DPO {steps} steps from {sft.version}", dpo)
        train_seconds = time.perf_counter() - started
        data = EvalData(repo, eval_data.resolve_dataset(repo, "latest"), max_examples=10_000)
        results = {v: evaluate_model(repo, v, ["preference"], data=data) for v in trained}
        sft_result = results[sft.version]
        for version, (label, run) in trained.items():
            suite = results[version].suites["preference"]
            diff, ci, n = paired_diff("preference", "win_rate", results[version], sft_result, s.bootstrap_samples, s.seed)
            row: dict[str, Any] = {
                "label": label, "n": suite.n,
                "win_rate_vs_base": round(suite.metrics["win_rate"], 4), "ci": [round(x, 4) for x in suite.ci["win_rate"]],
                "ties": round(suite.metrics["ties"], 4),
                "diff_vs_sft": round(diff, 4), "diff_vs_sft_ci": [round(x, 4) for x in ci],
                "per_token_own_likelihood_win_rate (old metric)": round(per_token_win_rate(suite.details), 4),
                "mean_margin_vs_base": round(sum(d["margin"] for d in suite.details) / suite.n, 3),
            }
            if run is not None:
                row.update(steps=run.metrics.get("steps"), loss=run.metrics.get("loss"),
                           seconds=run.metrics.get("seconds"))
            if run is not None and version != sft.version:
                parent = preference.against(suite.details, sft_result.suites["preference"].details)
                head = summarise("preference", parent, s.bootstrap_samples, s.seed)
                row["win_rate_vs_sft_parent"] = round(head.metrics["win_rate"], 4)
                row["win_rate_vs_sft_parent_ci"] = [round(x, 4) for x in head.ci["win_rate"]]
            rows[version] = row
    report = {"benchmark": "preference", "data": "examples/ledgerline dataset v1, every held-out pair",
              "sft_steps": args.sft_steps, "dpo_steps": args.dpo_steps, "train_seconds": round(train_seconds, 1),
              "load_average": [load_before, load_average()], "models": rows}
    for version, row in rows.items():
        line = (f"{version:>4} {row['label']:<24} vs base {_fmt(row['win_rate_vs_base'], row['ci'])} n={row['n']} "
                f"ties {row['ties']:.2f}  vs SFT {row['diff_vs_sft']:+.3f} [{row['diff_vs_sft_ci'][0]:+.3f}, "
                f"{row['diff_vs_sft_ci'][1]:+.3f}]  old metric {row['per_token_own_likelihood_win_rate (old metric)']:.3f}")
        if "win_rate_vs_sft_parent" in row:
            line += f"  vs SFT parent {_fmt(row['win_rate_vs_sft_parent'], row['win_rate_vs_sft_parent_ci'])}"
        print(line)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

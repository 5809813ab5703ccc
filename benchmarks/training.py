"""Training speed on this machine: seconds per step and tokens/s for SFT and DPO (LoRA, SmolLM2-135M).

Runs the real trainer (``flowloop.train.api.train``) on a generated dataset whose examples fill
``batch 4 x 256 tokens`` (prompts are shortened to fit, as in real runs), a few steps per
configuration, in one process and one run, so configurations compare on equal terms:

- ``sft ... (CPU default here)``: ``precision = "auto"`` (bf16 autocast on a CPU with native
  bf16, fp32 otherwise) without gradient checkpointing, all cores;
- ``sft bf16 + grad-ckpt (TRL defaults)``: TRL's own defaults, the baseline;
- ``sft fp32``: plain fp32; ``sft ..., 1 thread``: ``train.threads = 1`` (a busy shared machine);
- ``dpo ...``: DPO from the newest SFT version (policy + frozen reference adapter).

The step time is the median over the measured steps (the first step, which warms up kernels,
is excluded); tokens/s counts non-padding tokens (DPO: chosen and rejected) over the same
steps. The 1-minute load average is recorded before and after: on a shared machine other jobs
slow every figure, so read them with it.

Two suites. ``--suite batching`` (the default) trains on the bundled example's REAL dataset
(``examples/ledgerline``: signals imported and a dataset built in a scratch copy, as ``make
demo`` does; 582 SFT examples of 150-512 tokens, mean ~300) with the example's own settings
(batch 4 x 512 tokens) and compares how examples fill a batch (``train.batching``): ``padded``
(the baseline, TRL's default: pad to the longest of a random batch), ``packed`` (several
examples per row, padding-free, block-diagonal attention) and ``grouped`` (similar lengths
together); DPO compares ``padded`` with ``grouped``. ``--suite precision`` is the earlier
comparison of precision, gradient checkpointing and threads on generated rows of 256 tokens.

    .venv/bin/python benchmarks/training.py [--suite batching|precision] [--steps 5] [--only sft,dpo]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
RESULTS = ROOT / "benchmarks" / "results" / "training.json"

WORDS = ("ledger invoice refund currency rounding tenant audit webhook export settlement balance "
         "account journal posting reversal fee tax rate cents decimal").split()


def _text(n_words: int, seed: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(n_words))


def make_rows(n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """SFT and DPO rows long enough that every example is cut to exactly the 256-token budget."""
    from helpers_train import dpo_row, sft_row

    sft, dpo = [], []
    for i in range(n):
        row = sft_row(i)
        row["prompt"][1]["content"] = f"Task {i}: {_text(220, i)}\n\nWhich files and areas will this task touch?"
        row["completion"][0]["content"] = "Areas: ledger\nFiles:\n" + "\n".join(f"- src/ledger/{w}.py" for w in _text(20, i).split())
        sft.append(row)
        pair = dpo_row(i)
        pair["prompt"][1]["content"] = f"Review this:\n{_text(200, i)}"
        pair["chosen"][0]["content"] = "VIOLATION: " + _text(40, i + 1)
        pair["rejected"][0]["content"] = "OK, " + _text(40, i + 2)
        dpo.append(pair)
    return sft, dpo


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def measure(repo: Any, pass_name: str, steps: int, batch_size: int | None = 4, max_length: int | None = 256,
            **overrides: Any) -> dict[str, Any]:
    from transformers import TrainerCallback

    from flowloop.train.api import train, train_settings

    class StepClock(TrainerCallback):
        def __init__(self) -> None:
            self.times: list[float] = []
            self.tokens: list[int] = []

        def on_step_begin(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
            self._t, self._tok = time.perf_counter(), state.num_input_tokens_seen

        def on_step_end(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
            self.times.append(time.perf_counter() - self._t)
            self.tokens.append(state.num_input_tokens_seen - self._tok)

    import torch

    clock = StepClock()
    settings = train_settings(repo, batch_size=batch_size, max_length=max_length, save_steps=10_000, **overrides)
    threads = torch.get_num_threads()
    started = time.perf_counter()
    try:
        result = train(repo, pass_name, max_steps=steps, force=True, resume="never", settings=settings,
                       callbacks=[clock])
    finally:
        torch.set_num_threads(threads)  # train.threads is process-wide; the next configuration starts clean
    wall = time.perf_counter() - started
    times, tokens = clock.times[1:], clock.tokens[1:]  # the first step warms up
    if not times:  # a one-step run (DPO's starting version) measures nothing
        return {"version": result.version, "steps_measured": 0}
    rates = sorted(t / s for t, s in zip(tokens, times))
    return {
        "tokens_per_second_per_step": {"min": round(rates[0], 1), "median": round(statistics.median(rates), 1),
                                       "max": round(rates[-1], 1)},
        "version": result.version,
        "steps_measured": len(times),
        "seconds_per_step": round(statistics.median(times), 3),
        "tokens_per_step": round(statistics.mean(tokens), 1),
        "tokens_per_second": round(sum(tokens) / sum(times), 1),
        "wall_seconds_incl_load": round(wall, 1),
        "final_loss": result.metrics.get("loss"),
        "hardware": result.hardware.to_dict(),
    }


EXAMPLE = ROOT / "examples" / "ledgerline"
BATCHING_CONFIGS = [
    ("sft", "sft padded (baseline)", {"batching": "padded"}),
    ("sft", "sft packed", {"batching": "packed"}),
    ("sft", "sft grouped", {"batching": "grouped"}),
    ("dpo", "dpo padded (baseline)", {"batching": "padded"}),
    ("dpo", "dpo grouped", {"batching": "grouped"}),
]
PRECISION_CONFIGS = [
    ("sft", "sft bf16 (CPU default here)", {"precision": "auto", "gradient_checkpointing": "off"}),
    ("sft", "sft bf16 + grad-ckpt (TRL defaults)", {"precision": "bf16", "gradient_checkpointing": "on"}),
    ("sft", "sft fp32", {"precision": "fp32", "gradient_checkpointing": "off"}),
    ("sft", "sft bf16, 1 thread", {"precision": "auto", "gradient_checkpointing": "off", "threads": 1}),
    ("sft", "sft fp32, 1 thread", {"precision": "fp32", "gradient_checkpointing": "off", "threads": 1}),
    ("dpo", "dpo bf16 (CPU default here)", {"precision": "auto", "gradient_checkpointing": "off"}),
    ("dpo", "dpo bf16, 1 thread", {"precision": "auto", "gradient_checkpointing": "off", "threads": 1}),
    ("dpo", "dpo fp32, 1 thread", {"precision": "fp32", "gradient_checkpointing": "off", "threads": 1}),
]


def example_repo(root: Path) -> Any:
    """A scratch copy of the example with its signals imported and dataset v1 built (as the demo)."""
    import shutil
    import subprocess

    from flowloop.repo import FlowRepo

    shutil.copytree(EXAMPLE, root)
    flow = str(Path(sys.executable).with_name("flow"))
    for argv in (["signal", "import", ".flow/signals/events.jsonl"], ["dataset", "build"]):
        subprocess.run([flow, *argv], cwd=root, check=True, capture_output=True)
    return FlowRepo(root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=("batching", "precision"), default="batching")
    parser.add_argument("--steps", type=int, default=5, help="Steps per configuration (first is warm-up).")
    parser.add_argument("--only", default="sft,dpo", help="Comma-separated passes to run.")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from rich.console import Console
    from rich.table import Table
    from transformers.utils import logging as hf_logging

    from helpers_train import small_repo, write_dataset

    hf_logging.set_verbosity_error()
    passes = set(args.only.split(","))
    load_before = load_average()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.suite == "batching":
            repo = example_repo(Path(tmp) / "ledgerline")
            configs, shape = BATCHING_CONFIGS, {"batch_size": None, "max_length": None}  # the example's own
        else:
            repo = small_repo(Path(tmp) / "repo", sft_threshold=1, dpo_threshold=1)
            sft_rows, dpo_rows = make_rows(4 * args.steps)
            write_dataset(repo, sft=sft_rows, dpo=dpo_rows)
            configs, shape = PRECISION_CONFIGS, {"batch_size": 4, "max_length": 256}
        if "dpo" in passes and "sft" not in passes:
            measure(repo, "sft", 1, **shape)  # DPO needs an SFT version to start from
        partial = RESULTS.with_name(f"training_{args.suite}.partial.json")
        for pass_name, label, overrides in configs:
            if pass_name in passes:
                results[label] = measure(repo, pass_name, args.steps, **shape, **overrides)
                # a slow shared machine may stop the run: keep what is measured so far
                partial.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        partial.unlink(missing_ok=True)
        train = repo.settings.train
        batch, max_length = shape["batch_size"] or train.batch_size, shape["max_length"] or train.max_length
    report = {
        "benchmark": "training",
        "suite": args.suite,
        "data": "examples/ledgerline dataset v1 (real)" if args.suite == "batching" else "generated rows",
        "model": "SmolLM2-135M-Instruct (packaged GGUF, converted), LoRA on q/k/v/o",
        "batch": batch,
        "max_length": max_length,
        "steps_per_config": args.steps,
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
                    "platform": platform.platform(), "cuda": torch.cuda.is_available(),
                    "load_average_before": load_before, "load_average_after": load_average(),
                    "shared": "2 cores shared with other jobs: compare rows of one run, not runs"},
        "results": results,
    }
    table = Table(title=f"training speed ({args.suite}), batch {batch} x {max_length} tokens "
                        f"({os.cpu_count()} CPUs, load {load_before} -> {load_average()})")
    for column in ("configuration", "s/step", "tokens/step", "tokens/s", "per-step tokens/s min-max",
                   "vs baseline", "wall (incl. load)"):
        table.add_column(column)
    for label, row in results.items():
        pass_name = label.split()[0]
        baseline = next((r for k, r in results.items() if k.startswith(pass_name) and
                         ("baseline" in k or "TRL defaults" in k)), None)
        ratio = f"{row['tokens_per_second'] / baseline['tokens_per_second']:.2f}x" if baseline else "-"
        spread = row["tokens_per_second_per_step"]
        table.add_row(label, f"{row['seconds_per_step']:.2f}", f"{row['tokens_per_step']:.0f}",
                      f"{row['tokens_per_second']:.0f}", f"{spread['min']:.0f}-{spread['max']:.0f}", ratio,
                      f"{row['wall_seconds_incl_load']:.0f} s")
    Console().print(table)
    out = RESULTS if args.suite == "precision" else RESULTS.with_name("training_batching.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

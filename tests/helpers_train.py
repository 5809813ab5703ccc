"""Small repositories and contract-3 dataset folders for the training tests.

The dataset folder is written by hand in the format the dataset pipeline writes (contract 3),
so these tests exercise the trainer on known rows without building a dataset from PILRs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from flowloop.repo import FlowRepo, init_repo

SMALL_TRAIN = """
[train]
base_model = "smollm2"
lora_r = 4
lora_alpha = 8
max_length = 128
batch_size = 2
save_steps = 1
threads = 1
"""


def sft_row(i: int, weight: float = 1.0) -> dict[str, Any]:
    files = [f"src/ledger/mod{i % 5}.py", f"tests/test_mod{i % 5}.py"]
    return {
        "id": f"sft-{i}",
        "prompt": [
            {"role": "system", "content": "You are the domain specialist for ledgerline.\n\nYou plan changes."},
            {"role": "user", "content": f"Task: change {i} in ledger module {i % 5}.\n\nWhich files and areas will this task touch?"},
        ],
        "completion": [{"role": "assistant", "content": "Areas: ledger, tests\nFiles:\n" + "\n".join(f"- {f}" for f in files)}],
        "kind": "planning", "source": f"work:{i}", "task": f"T-{i}", "time": "2024-01-01T00:00:00+00:00",
        "weight": weight,
    }


def dpo_row(i: int) -> dict[str, Any]:
    return {
        "id": f"dpo-{i}",
        "prompt": [
            {"role": "system", "content": "You are the domain specialist for ledgerline.\n\nYou review work."},
            {"role": "user", "content": f"Review this:\nstore amount {i} as a float"},
        ],
        "chosen": [{"role": "assistant", "content": "VIOLATION: money is integer cents."}],
        "rejected": [{"role": "assistant", "content": "OK"}],
        "kind": "preference", "source": f"event:{i}", "task": f"T-{i}", "time": "2024-01-01T00:00:00+00:00",
        "weight": 1.0,
    }


def write_dataset(
    repo: FlowRepo,
    version: int = 1,
    sft: list[dict[str, Any]] | None = None,
    dpo: list[dict[str, Any]] | None = None,
    sft_documents: int | None = None,
    dpo_pairs: int | None = None,
) -> Path:
    """A dataset version folder: files + manifest (counts default to the row counts)."""
    sft = [sft_row(i) for i in range(8)] if sft is None else sft
    dpo = [dpo_row(i) for i in range(4)] if dpo is None else dpo
    folder = repo.state_dir / "datasets" / f"v{version}"
    folder.mkdir(parents=True, exist_ok=True)
    blobs = {
        "sft_train.jsonl": "".join(json.dumps(r) + "\n" for r in sft).encode(),
        "sft_heldout.jsonl": b"",
        "dpo_train.jsonl": "".join(json.dumps(r) + "\n" for r in dpo).encode(),
        "dpo_heldout.jsonl": b"",
        "eval_planning.jsonl": b"",
        "eval_validation.jsonl": b"",
    }
    for name, data in blobs.items():
        (folder / name).write_bytes(data)
    digest = hashlib.sha256(b"".join(k.encode() + hashlib.sha256(v).digest() for k, v in sorted(blobs.items()))).hexdigest()
    manifest = {
        "version": version,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "content_hash": digest,
        "counts": {"sft_documents": len(sft) if sft_documents is None else sft_documents,
                   "dpo_pairs": len(dpo) if dpo_pairs is None else dpo_pairs, "by_source": {}, "by_kind": {}},
        "thresholds": {"sft": 4, "dpo": 2},
        "split": {"holdout_share": 0.2, "cutoff": None, "train_tasks": [], "heldout_tasks": []},
        "files": {name.removesuffix(".jsonl"): name for name in blobs},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def small_repo(root: Path, sft_threshold: int = 4, dpo_threshold: int = 2) -> FlowRepo:
    """An initialized repo whose [train] settings keep CPU runs to seconds per step (one torch
    thread: on a 2-core machine shared with other jobs that is several times faster)."""
    root.mkdir(parents=True, exist_ok=True)
    repo = init_repo(root, name="ledgerline").repo
    text = repo.config_path.read_text(encoding="utf-8")
    text = text.replace("[train.sft]\nthreshold = 50", f"[train.sft]\nthreshold = {sft_threshold}")
    text = text.replace("[train.dpo]\nthreshold = 200", f"[train.dpo]\nthreshold = {dpo_threshold}")
    text = text.replace('[train]\nbase_model = "smollm2"\n', SMALL_TRAIN.lstrip())
    repo.config_path.write_text(text, encoding="utf-8")
    return FlowRepo(repo.root)

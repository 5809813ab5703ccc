"""Labelled outputs for the reward tests: a dataset folder as the pipeline writes it (contract 3).

The texts are the ledgerline example's one convention (money is integer cents through
``Money``) kept or broken, so a few training steps have something learnable to see.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from flowloop.repo import FlowRepo

GOOD = [
    "Store the amount as integer cents with Money.from_cents and add a test.",
    "Use Money for the fee; amounts stay integer cents end to end.",
    "Convert the refund to cents once at the boundary and keep Money inside.",
    "The invoice total sums Money values; no floats anywhere.",
]
BAD = [
    "Store the amount as a float in dollars: amount = float(value).",
    "Use a float for the fee and round it when printing.",
    "Keep the refund as float dollars to make the maths easier.",
    "The invoice total adds float prices and rounds at the end.",
]


def labelled_row(i: int, text: str, label: str, heldout: bool = False) -> dict[str, Any]:
    """Task ``T-i``, finished ``i`` hours into 2024: a higher ``i`` is newer work."""
    when = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=i)
    return {"id": f"val-{label}-{i}-{int(heldout)}", "text": text, "context": "Money is integer cents (Money type).",
            "label": label, "source": f"event:{i}", "task": f"T-{i}", "time": when.isoformat(), "weight": 1.0}


def _alternating() -> list[tuple[str, str]]:
    """Compliant and violating texts in turn, so every newest slice of tasks holds both labels."""
    return [pair for g, b in zip(GOOD, BAD) for pair in ((g, "compliant"), (b, "violating"))]


def write_reward_dataset(repo: FlowRepo, version: int = 1, copies: int = 2) -> Path:
    """A dataset version with reward_train (both labels, ``copies`` times) and a held-out set."""
    train = [labelled_row(n * 10 + i, t, label) for n in range(copies) for i, (t, label) in enumerate(_alternating())]
    heldout = [labelled_row(100 + i, t.replace("the", "this"), label, True) for i, (t, label) in enumerate(_alternating())]
    folder = repo.state_dir / "datasets" / f"v{version}"
    folder.mkdir(parents=True, exist_ok=True)
    lines = lambda rows: "".join(json.dumps(r) + "\n" for r in rows).encode()  # noqa: E731
    blobs = {"reward_train.jsonl": lines(train), "reward_heldout.jsonl": lines(heldout),
             "eval_validation.jsonl": lines(heldout)}
    for name, data in blobs.items():
        (folder / name).write_bytes(data)
    digest = hashlib.sha256(b"".join(k.encode() + hashlib.sha256(v).digest() for k, v in sorted(blobs.items()))).hexdigest()
    manifest = {
        "version": version, "created_at": dt.datetime.now(dt.timezone.utc).isoformat(), "content_hash": digest,
        "counts": {"sft_documents": 0, "dpo_pairs": 0, "reward_labels": len(train), "by_source": {}, "by_kind": {}},
        "thresholds": {"sft": 4, "dpo": 2, "reward": 4},
        "split": {"holdout_share": 0.2, "cutoff": None, "train_tasks": [], "heldout_tasks": []},
        "files": {name.removesuffix(".jsonl"): name for name in blobs},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder

"""Builders for eval tests (imported by name: a conftest cannot be imported reliably): dataset folders and registry versions written through their contracts.

A dataset version is written exactly as contract 3 lays it out (manifest + JSONL files), and
model versions go in through ``Registry.register`` (the trainer's front door) with a minimal
adapter folder, so the gate and lineage checks read them the way they read real ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from flowloop.repo import FlowRepo


def write_dataset(repo: FlowRepo, version: int = 1, **files: list[dict[str, Any]]) -> str:
    """Write ``datasets/v<version>/`` with the given JSONL rows; returns the content hash."""
    names = ("sft_train", "sft_heldout", "dpo_train", "dpo_heldout", "eval_planning", "eval_validation")
    folder = repo.state_dir / "datasets" / f"v{version}"
    folder.mkdir(parents=True, exist_ok=True)
    blobs = {}
    for name in names:
        rows = files.get(name, [])
        blobs[f"{name}.jsonl"] = "".join(json.dumps(r) + "\n" for r in rows).encode()
        (folder / f"{name}.jsonl").write_bytes(blobs[f"{name}.jsonl"])
    digest = hashlib.sha256(b"".join(k.encode() + hashlib.sha256(v).digest() for k, v in sorted(blobs.items()))).hexdigest()
    manifest = {
        "version": version,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "content_hash": digest,
        "counts": {"sft_documents": 0, "dpo_pairs": len(files.get("dpo_train", []))},
        "thresholds": {"sft": 50, "dpo": 200},
        "split": {"holdout_share": 0.2, "cutoff": None, "train_tasks": [], "heldout_tasks": []},
        "files": {name: f"{name}.jsonl" for name in names},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return digest


def register_model(repo: FlowRepo, tmp: Path, dataset_version: str, dataset_hash: str, pass_name: str = "sft") -> str:
    """A registry version through ``Registry.register``; returns its name (``v1``...)."""
    from flowloop.models.registry import Registry

    adapter = tmp / f"adapter-{len(list(tmp.glob('adapter-*')))}"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text("{}", encoding="utf-8")
    fields = {
        "pass": pass_name,
        "base_model": "smollm2",
        "dataset_version": dataset_version,
        "dataset_hash": dataset_hash,
        "settings": {},
        "metrics": {},
        "parent": None,
    }
    return Registry(repo).register(adapter, fields).version


def pair(i: int, task: str) -> dict[str, Any]:
    return {
        "id": f"pair-{i}",
        "prompt": [{"role": "user", "content": f"question {i}"}],
        "chosen": [{"role": "assistant", "content": f"good answer {i}"}],
        "rejected": [{"role": "assistant", "content": f"bad answer {i}"}],
        "kind": "preference",
        "source": "test",
        "task": task,
        "time": None,
        "weight": 1.0,
    }


def planning_details(f1s: list[float]) -> list[dict[str, Any]]:
    return [{"id": f"t{i}", "f1": v, "precision": v, "recall": v} for i, v in enumerate(f1s)]


def store_known_result(repo: FlowRepo, model: str, dataset: tuple[str, str], f1s: list[float]) -> Any:
    """A complete stored result (every suite scored or empty) with known planning scores."""
    from flowloop.evaluate.results import EvalResult, store_result
    from flowloop.evaluate.runner import eval_settings
    from flowloop.evaluate.suites import summarise

    result = EvalResult(model=model, dataset=dataset[0], dataset_hash=dataset[1], settings=eval_settings(repo))
    result.suites["planning"] = summarise("planning", planning_details(f1s), 200, 1)
    result.suites["planner"] = summarise("planner", planning_details(f1s), 200, 1)
    won = {"id": "p", "chosen": -1.0, "rejected": -2.0, "tokens": [1, 1], "ref_chosen": -1.5, "ref_rejected": -2.0,
           "margin": 0.5, "win": 1.0}
    result.suites["preference"] = summarise("preference", [won], 200, 1)
    result.suites["validation"] = summarise("validation", [{"id": "v", "violating": True, "flagged": True}], 200, 1)
    result.empty = ["knowledge", "general"]
    flat = summarise("planning", planning_details([0.25] * len(f1s)), 200, 1)
    result.baselines = {"retrieval_only": {"planning": flat}, "alone": {"planning": flat}}
    if model != "base":
        result.baselines["base"] = {"planning": flat}
    store_result(repo, result)
    return result

"""The reranker pass: a cross-encoder trained on the retrieval pairs (seed, Step 2).

Reads top to bottom: read the pairs (threshold first), pick the starting model (promoted
reranker, else ``[index] reranker``, else the packaged MiniLM weights with a fresh one-logit
head), turn every positive into a 1-labelled (query, passage) pair and each of its hard
negatives (and every known-bad injection from the usage log) into a 0-labelled one, train with
``BinaryCrossEntropyLoss``, save, and register it in the ``reranker`` family. The gate, not this
module, decides whether it serves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowloop.config import TrainSettings
from flowloop.errors import TrainingError
from flowloop.passes.registry import RerankerSettings
from flowloop.repo import FlowRepo
from flowloop.train.retrieval_data import load_pairs, newest, register, schedule_of, starting_point
from flowloop.train.runs import open_run
from flowloop.train.types import Notify, TrainResult
from flowloop.types import Progress


def labelled(rows: list[dict[str, Any]], negatives: int) -> dict[str, list[Any]]:
    queries, passages, labels = [], [], []
    for row in rows:
        good = float(row.get("label", 1.0)) > 0
        queries.append(row["query"])
        passages.append(row["passage"])
        labels.append(1.0 if good else 0.0)
        if good:
            for negative in (row.get("negatives") or [])[:negatives]:
                queries.append(row["query"])
                passages.append(negative)
                labels.append(0.0)
    return {"query": queries, "passage": passages, "label": labels}


def keep_layers(model: Any, layers: int) -> int:
    """Keep the first ``layers`` transformer layers of ``model`` (0: all); returns how many it has.

    Why: a cross-encoder reads every (query, passage) pair at query time, so its cost is paid on
    each search: 2 of MiniLM's 6 layers at 128 tokens score 50 passages in ~0.2 s on 2 CPU
    cores where all 6 at 256 take ~3 s. The kept layers start from the encoder's own weights
    and are trained as a reranker together with the new head.
    """
    encoder = getattr(getattr(model, "base_model", None), "encoder", None)
    stack = getattr(encoder, "layer", None)
    if stack is None:
        if layers:
            raise TrainingError(
                f"cannot keep {layers} layers of a {type(model).__name__}: it has no BERT-style layer stack",
                field="train.reranker.layers", hint="set [train.reranker] layers = 0 to train every layer",
            )
        return int(getattr(model.config, "num_hidden_layers", 0) or 0)
    if layers and layers < len(stack):
        encoder.layer = stack[:layers]
        model.config.num_hidden_layers = layers
    return len(encoder.layer)


def fit_reranker(base_dir: Path, rows: list[dict[str, Any]], s: RerankerSettings, out_dir: Path,
                 work_dir: Path, progress: Progress | None = None, *, epochs: float = 1.0,
                 max_steps: int = -1, seed: int = 42, threads: int = 0,
                 bf16: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train a cross-encoder from ``base_dir`` on pair ``rows`` (positives with their negatives,
    and 0-labelled rows) and save it to ``out_dir``; returns the run's figures and data counts.
    ``bf16`` autocasts the steps (weights and the optimizer stay fp32)."""
    import torch
    from datasets import Dataset
    from sentence_transformers import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
    from transformers import PrinterCallback

    from flowloop.train.callbacks import ProgressReporter

    if threads > 0:
        torch.set_num_threads(threads)
    columns = labelled(rows, s.negatives)
    model = CrossEncoder(str(base_dir), num_labels=1, max_length=s.max_length, device="cpu", local_files_only=True)
    layers = keep_layers(model.model, s.layers)
    args = CrossEncoderTrainingArguments(
        output_dir=str(work_dir), per_device_train_batch_size=s.batch_size,
        learning_rate=s.learning_rate, num_train_epochs=epochs, max_steps=max_steps, warmup_steps=0.1,
        seed=seed, data_seed=seed, logging_steps=1, save_strategy="no", report_to="none",
        disable_tqdm=True, use_cpu=True, dataloader_num_workers=0, bf16=bf16,
    )
    reporter = ProgressReporter(progress)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=Dataset.from_dict(columns),
                                  loss=BinaryCrossEntropyLoss(model), callbacks=[reporter])
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    model.save(str(out_dir))
    info = {"labelled_pairs": len(columns["label"]), "negative_labels": sum(1 for x in columns["label"] if x == 0),
            "layers": layers, "max_length": s.max_length, "precision": "bf16" if bf16 else "fp32"}
    return reporter.metrics(trainer.state), info


def train_reranker(
    repo: FlowRepo,
    *,
    settings: TrainSettings | None = None,
    dataset: str | int = "latest",
    force: bool = False,
    max_steps: int | None = None,
    progress: Progress | None = None,
    notify: Notify | None = None,
    **_unused: Any,
) -> TrainResult:
    """Train a cross-encoder on ``dataset``'s retrieval pairs; the result names the new version."""
    train = settings or repo.settings.train  # `flow train` passes a copy with its flags applied
    if max_steps is not None:
        train = train.model_copy(update={"max_steps": max_steps})
    s: RerankerSettings = train.pass_table("reranker")  # type: ignore[assignment]
    schedule = schedule_of(train)
    data = load_pairs(repo, "reranker", dataset, force)
    positives = newest(data.positives, s.max_pairs)
    bad = [r for r in data.rows if float(r.get("label", 1.0)) <= 0]
    base_name, base_dir, parent = starting_point(repo, "reranker", s.base, repo.settings.index.reranker)
    identity = {"dataset_hash": data.dataset_hash, "base_model": base_name, "parent": parent,
                "settings": {**s.model_dump(), **schedule}}
    with open_run(repo, "reranker", identity, resume="never") as run:
        metrics, trained = fit_reranker(base_dir, positives + bad, s, run.final_dir, run.checkpoints_dir, progress, **schedule)
        info = {"count": data.count, "threshold": data.threshold, "forced": data.forced,
                "positives": len(positives), **trained}
        version = register(repo, "reranker", run.final_dir, {
            "base_model": base_name, "base_model_path": str(base_dir), "parent": parent,
            "dataset_version": data.dataset_version, "dataset_hash": data.dataset_hash,
            "settings": {**s.model_dump(), **schedule}, "metrics": metrics, "data": info, "run_id": run.id,
        })
        run.mark("done", version=version.version)
        run.cleanup()
    if notify:
        notify(f"reranker {version.version}: {info['labelled_pairs']} labelled pairs, {metrics.get('steps')} steps")
    return TrainResult(version.version, version, run.id, metrics, None, None, info)  # type: ignore[arg-type]

"""The embedder pass: contrastive fine-tuning of the current embedder (seed, Step 2).

Reads top to bottom: read the pairs (threshold first, before torch loads), pick the starting
model (promoted embedder, else ``[index] embedder``), build (query, positive, hard negatives)
rows, train with sentence-transformers' ``MultipleNegativesRankingLoss`` (every other positive
in a batch is a negative too; a no-duplicates sampler keeps a batch from holding one text
twice), save, and register the model with its lineage in the ``embedder`` family. It is never
promoted here: ``flowloop.evaluate.retrieval`` scores it on held-out future queries and the gate
decides.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowloop.config import TrainSettings
from flowloop.passes.registry import EmbedderSettings
from flowloop.repo import FlowRepo
from flowloop.train.retrieval_data import load_pairs, newest, register, schedule_of, starting_point
from flowloop.train.runs import open_run
from flowloop.train.types import Notify, TrainResult
from flowloop.types import Progress


def _columns(rows: list[dict[str, Any]], negatives: int) -> dict[str, list[str]]:
    """anchor / positive / negative_i columns; every row needs the same number of negatives, so
    the number is lowered to what most rows have (rows with fewer are dropped)."""
    while negatives > 0 and sum(1 for r in rows if len(r.get("negatives") or []) >= negatives) < len(rows) / 2:
        negatives -= 1
    kept = [r for r in rows if len(r.get("negatives") or []) >= negatives]
    columns = {"anchor": [r["query"] for r in kept], "positive": [r["passage"] for r in kept]}
    for i in range(negatives):
        columns[f"negative_{i + 1}"] = [r["negatives"][i] for r in kept]
    return columns


def _freeze_token_embeddings(model: Any) -> int:
    """Stop gradients into the transformer's token-embedding table; returns the weights frozen
    (0 where the model has no such table, e.g. a static-embedding model, which then trains whole)."""
    inner = getattr(model[0], "auto_model", None)
    table = inner.get_input_embeddings() if inner is not None and hasattr(inner, "get_input_embeddings") else None
    if table is None or not hasattr(table, "weight"):
        return 0
    table.weight.requires_grad_(False)
    return int(table.weight.numel())


def fit_embedder(base_dir: Path, rows: list[dict[str, Any]], s: EmbedderSettings, out_dir: Path,
                 work_dir: Path, progress: Progress | None = None, *, epochs: float = 1.0,
                 max_steps: int = -1, seed: int = 42, threads: int = 0,
                 bf16: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fine-tune the model in ``base_dir`` on pair ``rows`` and save it to ``out_dir``; returns the
    run's figures and what was trained on. (``train_embedder`` adds the data checks and the
    registry; benchmarks call this directly.) ``bf16`` autocasts the steps (weights and the
    optimizer stay fp32): on a CPU with native bf16 a step is ~1.7x faster."""
    import torch
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from transformers import PrinterCallback

    from flowloop.train.callbacks import ProgressReporter

    if threads > 0:
        torch.set_num_threads(threads)
    columns = _columns(rows, s.negatives)
    model = SentenceTransformer(str(base_dir), device="cpu", local_files_only=True)
    # Training reads the first s.max_seq_length tokens of a text (attention is quadratic: 128
    # tokens is ~3x cheaper a step than 256); the saved model embeds at the length it came with.
    serve_length = model.max_seq_length
    model.max_seq_length = min(s.max_seq_length, serve_length or s.max_seq_length)
    frozen = _freeze_token_embeddings(model) if s.freeze_embeddings else 0
    args = SentenceTransformerTrainingArguments(
        output_dir=str(work_dir), per_device_train_batch_size=min(s.batch_size, len(columns["anchor"])),
        learning_rate=s.learning_rate, num_train_epochs=epochs, max_steps=max_steps,
        warmup_steps=0.1, seed=seed, data_seed=seed, logging_steps=1, save_strategy="no",
        report_to="none", disable_tqdm=True, use_cpu=True, dataloader_num_workers=0, bf16=bf16,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        # One fused kernel per step instead of a loop over parameter groups (~3% a step on 2 cores).
        optim="adamw_torch_fused",
    )
    reporter = ProgressReporter(progress)
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=Dataset.from_dict(columns),
        loss=MultipleNegativesRankingLoss(model), callbacks=[reporter],
    )
    trainer.remove_callback(PrinterCallback)  # with tqdm off the Trainer would print every log line
    trainer.train()
    if serve_length:
        model.max_seq_length = serve_length
    model.save(str(out_dir))
    info = {"pairs": len(columns["anchor"]), "negatives_per_pair": len(columns) - 2,
            "dim": int(model.get_embedding_dimension() or 0), "precision": "bf16" if bf16 else "fp32",
            "frozen_parameters": frozen}
    return reporter.metrics(trainer.state), info


def train_embedder(
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
    """Fine-tune the embedder on ``dataset``'s retrieval pairs; the result names the new version."""
    train = settings or repo.settings.train  # `flow train` passes a copy with its flags applied
    if max_steps is not None:
        train = train.model_copy(update={"max_steps": max_steps})
    s: EmbedderSettings = train.pass_table("embedder")  # type: ignore[assignment]
    schedule = schedule_of(train)
    data = load_pairs(repo, "embedder", dataset, force)
    rows = newest(data.positives, s.max_pairs)
    base_name, base_dir, parent = starting_point(repo, "embedder", s.base, repo.settings.index.embedder)
    identity = {"dataset_hash": data.dataset_hash, "base_model": base_name, "parent": parent,
                "settings": {**s.model_dump(), **schedule}}
    with open_run(repo, "embedder", identity, resume="never") as run:
        metrics, trained = fit_embedder(base_dir, rows, s, run.final_dir, run.checkpoints_dir, progress, **schedule)
        info = {"count": data.count, "threshold": data.threshold, "forced": data.forced, **trained}
        version = register(repo, "embedder", run.final_dir, {
            "base_model": base_name, "base_model_path": str(base_dir), "parent": parent,
            "dataset_version": data.dataset_version, "dataset_hash": data.dataset_hash,
            "settings": {**s.model_dump(), **schedule}, "metrics": metrics, "data": info, "run_id": run.id, "dim": trained["dim"],
        })
        run.mark("done", version=version.version)
        run.cleanup()
    if notify:
        notify(f"embedder {version.version}: {info['pairs']} pairs, {metrics.get('steps')} steps")
    return TrainResult(version.version, version, run.id, metrics, None, None, info)  # type: ignore[arg-type]

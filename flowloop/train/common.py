"""What the generative passes share: loading the model, LoRA, trainer arguments, running and
registering.

``skeleton.py`` runs the preamble of every pass in order with these pieces; they live here so
the two passes cannot drift apart: the same precision/QLoRA choices, the same checkpointing
(every ``save_steps`` into the run folder), the same interrupt handling (the run is marked
interrupted, the error says how to resume), the same time budget (``train.max_minutes``: a run
stopped by it registers what it has and stays open to resume) and the same registration
(adapter saved alone, copied into the registry as a new version, then the run's checkpoints
are removed).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from flowloop.config import TrainSettings
from flowloop.errors import TrainingError
from flowloop.models.registry import Registry
from flowloop.repo import FlowRepo
from flowloop.train.callbacks import ProgressReporter, TimeBudget
from flowloop.train.data import TrainingData
from flowloop.train.device import Hardware, MemoryEstimate, estimate_memory
from flowloop.train.runs import Run, checkpoint_step
from flowloop.train.types import Notify, TrainResult

__all__ = ["Notify", "TrainResult", "check_memory", "load_model", "load_tokenizer", "lora_config", "prepare_process",
           "run_and_register", "trainer_args"]


def prepare_process(hardware: Hardware) -> None:
    """Process-wide settings of a run: CPU threads, and no library progress bars (datasets
    and transformers draw their own tqdm bars; the CLI draws ours instead)."""
    import datasets
    import torch
    from transformers.utils import logging as hf_logging

    if hardware.device == "cpu" and hardware.threads > 0:
        torch.set_num_threads(hardware.threads)
    datasets.disable_progress_bars()
    hf_logging.disable_progress_bar()


def load_tokenizer(base_path: Path, adapter_dir: Path | None = None) -> Any:
    """The tokenizer a run trains with: the starting adapter's (its chat template and EOS), else the base's.

    Loaded on its own, before the run folder opens, so examples are fitted (and a
    ``max_length`` nothing fits into refused) before anything is written."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(adapter_dir or base_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        raise TrainingError("the model's tokenizer has no chat template", path=base_path,
                            hint="use an instruct/chat model as train.base_model")
    return tokenizer


def load_model(base_path: Path, hardware: Hardware, adapter_dir: Path | None = None) -> Any:
    """The base model (4-bit on QLoRA), with ``adapter_dir`` loaded trainable."""
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": torch.bfloat16 if hardware.precision == "bf16" else torch.float32}
    if hardware.qlora:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16 if hardware.precision == "bf16" else torch.float16,
        )
        # 4-bit weights load straight onto this process's GPU (its rank's under accelerate)
        kwargs["device_map"] = {"": torch.cuda.current_device()}
    model = AutoModelForCausalLM.from_pretrained(base_path, **kwargs)
    if hardware.qlora:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=hardware.gradient_checkpointing)
    if adapter_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter_dir, is_trainable=True)
    return model


def lora_config(train: TrainSettings) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=train.lora_r,
        lora_alpha=train.lora_alpha,
        lora_dropout=train.lora_dropout,
        target_modules=list(train.lora_targets),
        bias="none",
        task_type="CAUSAL_LM",
    )


def check_memory(model: Any, train: TrainSettings, hardware: Hardware, preference: bool) -> MemoryEstimate:
    """Estimate before training; LoRA parameters counted from the target modules' shapes."""
    n_params = sum(p.numel() for p in model.parameters())
    trainable = 0
    for name, module in model.named_modules():
        # nn.Linear on a bare model; PEFT's lora.Linear (same attributes) on a loaded adapter
        if name.split(".")[-1] in train.lora_targets and hasattr(module, "in_features"):
            trainable += train.lora_r * (module.in_features + module.out_features)
    return estimate_memory(model.config, n_params, trainable, train.batch_size, train.max_length, hardware, preference)


def trainer_args(train: TrainSettings, hardware: Hardware, run: Run, learning_rate: float) -> dict[str, Any]:
    """Arguments both TRL configs take (TrainingArguments fields + ``max_length``)."""
    return {
        "output_dir": str(run.checkpoints_dir),
        "per_device_train_batch_size": train.batch_size,
        "gradient_accumulation_steps": train.grad_accum,
        "learning_rate": learning_rate,
        "num_train_epochs": train.epochs,
        "max_steps": train.max_steps if train.max_steps > 0 else -1,
        "max_length": train.max_length,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": max(1, train.save_steps),
        "save_total_limit": 2,
        "report_to": "none",
        "disable_tqdm": True,
        "seed": train.seed,
        "data_seed": train.seed,
        "bf16": hardware.precision == "bf16",
        "fp16": False,
        "gradient_checkpointing": hardware.gradient_checkpointing,
        "use_cpu": hardware.device == "cpu",
        "include_num_input_tokens_seen": "non_padding",
        "dataloader_num_workers": 0,
        "optim": "paged_adamw_8bit" if hardware.qlora else "adamw_torch",
    }


def run_and_register(
    repo: FlowRepo,
    run: Run,
    trainer: Any,
    reporter: ProgressReporter,
    *,
    data: TrainingData,
    train: TrainSettings,
    hardware: Hardware,
    memory: MemoryEstimate,
    base_path: Path,
    parent: str | None,
    extra: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    family: str = "specialist",
) -> TrainResult:
    """Train (resuming from the run's checkpoint), save the adapter, register it as a version
    of the registry's ``family``."""
    import torch
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # with tqdm off the Trainer would print every log line
    budget = TimeBudget(train.max_minutes) if train.max_minutes > 0 else None
    if budget is not None:
        trainer.add_callback(budget)
    finished = False
    try:
        trainer.train(resume_from_checkpoint=str(run.resume_from) if run.resume_from else None)
        finished = True
    except KeyboardInterrupt as exc:
        kept = checkpoint_step(run.last_checkpoint())
        raise TrainingError(
            f"training interrupted at step {trainer.state.global_step}; progress is kept up to step {kept}",
            path=run.path,
            hint="run the same command again to resume from there",
        ) from exc
    except torch.OutOfMemoryError as exc:
        raise TrainingError(
            f"out of memory at step {trainer.state.global_step} ({memory.message()})",
            path=run.path,
            hint="lower train.batch_size or train.max_length (raise grad_accum to keep the effective batch), "
            "or enable QLoRA on a GPU",
        ) from exc
    finally:
        if not finished:
            run.mark("interrupted", step=trainer.state.global_step, checkpoint_step=checkpoint_step(run.last_checkpoint()))

    metrics = reporter.metrics(trainer.state)
    metrics.update(examples=len(data.rows), source_examples=data.source_rows)
    paused = budget is not None and budget.stopped
    if paused:
        metrics.update(stopped_by="time budget", max_minutes=train.max_minutes, planned_steps=trainer.state.max_steps)
    data_info = {"count": data.count, "threshold": data.threshold, "forced": data.forced,
                 "examples": len(data.rows), "source_examples": data.source_rows, **(extra or {})}
    if not trainer.accelerator.is_main_process:
        return TrainResult(None, None, run.id, metrics, hardware, memory, data_info)
    model = trainer.accelerator.unwrap_model(trainer.model)
    # Only the trained adapter: DPO also holds a frozen "ref" copy that must not ship.
    model.save_pretrained(run.final_dir, selected_adapters=["default"])
    trainer.processing_class.save_pretrained(run.final_dir)
    version = Registry(repo, family).register(
        run.final_dir,
        {
            "pass": data.pass_name,
            "base_model": train.base_model,
            "base_model_path": str(base_path),
            "dataset_version": data.dataset_version,
            "dataset_hash": data.dataset_hash,
            "settings": settings if settings is not None else train.model_dump(),
            "hardware": hardware.to_dict(),
            "metrics": metrics,
            "data": data_info,
            "parent": parent,
            "run_id": run.id,
        },
    )
    if paused:
        # Registered so tonight's progress can be evaluated, and kept open (with its checkpoints)
        # so the next run of the same job resumes at this step instead of starting over.
        run.mark("paused", version=version.version, step=trainer.state.global_step,
                 checkpoint_step=checkpoint_step(run.last_checkpoint()))
        shutil.rmtree(run.final_dir, ignore_errors=True)
    else:
        run.mark("done", version=version.version)
        run.cleanup()
    return TrainResult(version.version, version, run.id, metrics, hardware, memory, data_info)

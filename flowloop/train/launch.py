"""Multi-GPU training through ``accelerate launch``, not through anything of ours.

``flow train sft --launcher accelerate`` writes an accelerate config for this machine to
``.flow/state/runs/accelerate.yaml`` (one process per visible GPU, bf16 when supported, plain
CPU otherwise; ``num_processes`` > 1 without GPUs is DDP over gloo on CPU processes) and runs::

    accelerate launch --config_file .flow/state/runs/accelerate.yaml \\
        -m flowloop.cli.train_entry sft -C <repo> [--max-steps N] [--force] ...

Every process runs the same training function; the main one picks the run folder, saves the
adapter and registers the version. A team that outgrows that edits the YAML (DeepSpeed ZeRO,
FSDP, several machines: ``accelerate config``) and keeps the same command line.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from flowloop.atomic import atomic_write_text
from flowloop.errors import TrainingError
from flowloop.repo import FlowRepo


def write_accelerate_config(repo: FlowRepo, num_processes: int | None = None) -> Path:
    """The accelerate YAML for this machine (GPUs counted with torch)."""
    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    processes = num_processes or max(gpus, 1)
    bf16 = gpus > 0 and torch.cuda.is_bf16_supported()
    lines = [
        "# Written by `flow train --launcher accelerate`; edit freely (see `accelerate config`).",
        "compute_environment: LOCAL_MACHINE",
        f"distributed_type: {_distributed_type(gpus, processes)}",
        # quoted: a bare `no` is YAML for false, and accelerate then fails on `False.lower()`
        f"mixed_precision: {'bf16' if bf16 else repr('no')}",
        "num_machines: 1",
        "machine_rank: 0",
        f"num_processes: {processes}",
        f"use_cpu: {'false' if gpus else 'true'}",
        "gpu_ids: all",
        "rdzv_backend: static",
        "same_network: true",
        "main_training_function: main",
    ]
    path = repo.state_dir / "runs" / "accelerate.yaml"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def _distributed_type(gpus: int, processes: int) -> str:
    """DDP over NCCL on several GPUs; over gloo with several CPU processes (a check of the
    multi-process path on any machine, and what a CPU-only cluster node would run)."""
    if processes <= 1 or gpus == 1:
        return "NO"
    return "MULTI_GPU" if gpus > 1 else "MULTI_CPU"


def accelerate_command(config: Path, repo: FlowRepo, pass_name: str, extra: list[str]) -> list[str]:
    """The ``accelerate launch ... -m flowloop.cli.train_entry`` argv.

    Several CPU processes are the exception: ``accelerate launch`` starts those only through
    ``mpirun`` (without it, one process), so for a ``MULTI_CPU`` config the line is torch's own
    launcher (``torchrun --standalone``, what accelerate itself runs on GPUs) with
    ``ACCELERATE_USE_CPU`` set, and accelerate inside each process then joins them over gloo."""
    entry = ["-m", "flowloop.cli.train_entry", pass_name, "-C", str(repo.root), *extra]
    fields = _config_fields(config)
    if fields.get("distributed_type") == "MULTI_CPU":
        return ["env", "ACCELERATE_USE_CPU=true", sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc_per_node", fields.get("num_processes", "2"), *entry]
    launcher = shutil.which("accelerate") or str(Path(sys.executable).with_name("accelerate"))
    if not Path(launcher).exists():
        raise TrainingError("the `accelerate` command is not installed", hint="pip install accelerate")
    return [launcher, "launch", "--config_file", str(config), *entry]


def _config_fields(config: Path) -> dict[str, str]:
    """The top-level ``key: value`` lines of an accelerate YAML (enough to pick the launcher)."""
    try:
        lines = config.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise TrainingError(f"cannot read the accelerate config: {exc}", path=config) from exc
    fields = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and not line.startswith((" ", "#")):
            fields[key.strip()] = value.strip().strip("'\"")
    return fields

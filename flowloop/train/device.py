"""What hardware a run gets, decided once before training: device, precision, QLoRA, memory.

The same settings file serves a laptop and a GPU server, so ``auto`` values are resolved here
against what is really present: QLoRA (bitsandbytes 4-bit) and bf16 on a CUDA GPU; LoRA on a
CPU, in bf16 autocast where the CPU computes bf16 natively (AMX / AVX512-BF16, as
``flowloop.precision`` decides for the whole package: measured faster in
``benchmarks/training.py``), else fp32. Asking for a CUDA-only option where there is no CUDA is
an error, never a silent downgrade. Before a run starts, :func:`estimate_memory` adds up weights, LoRA optimizer state
and activations for ``batch x max_length`` so the CLI can warn about an out-of-memory risk
instead of letting the run die an hour in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowloop.config import TrainSettings
from flowloop.errors import TrainingError
from flowloop.precision import cpu_bf16_native, cuda_bf16


@dataclass(frozen=True)
class Hardware:
    """The resolved choices of one run (recorded in the version's manifest)."""

    device: str  # "cuda" | "cpu"
    precision: str  # "bf16" | "fp32"
    qlora: bool
    gradient_checkpointing: bool
    threads: int = 0  # CPU threads for torch; 0 = torch's default

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def resolve_hardware(train: TrainSettings) -> Hardware:
    """Turn ``auto``/``on``/``off`` settings into concrete choices, refusing impossible ones."""
    cuda = cuda_available()
    if train.qlora == "on" and not cuda:
        raise TrainingError(
            "QLoRA (bitsandbytes 4-bit) needs a CUDA GPU and this machine has none",
            field="train.qlora",
            hint="drop --qlora (plain LoRA runs on the CPU) or set train.qlora = \"auto\"",
        )
    qlora = cuda and train.qlora != "off"
    if qlora:
        try:
            import bitsandbytes  # noqa: F401
        except ImportError as exc:
            raise TrainingError(
                "QLoRA needs the bitsandbytes package",
                field="train.qlora",
                hint="pip install 'flowloop[gpu]', or set train.qlora = \"off\"",
            ) from exc
    bf16_ok = cuda_bf16() if cuda else cpu_bf16_native()
    if train.precision == "bf16" and cuda and not bf16_ok:
        raise TrainingError("this GPU does not support bf16", field="train.precision", hint="use fp32")
    if train.precision == "auto":
        precision = "bf16" if bf16_ok else "fp32"
    else:
        precision = train.precision
    checkpointing = {"on": True, "off": False, "auto": cuda}[train.gradient_checkpointing]
    if train.threads < 0:
        raise TrainingError("train.threads must be 0 (all cores) or more", field="train.threads")
    return Hardware("cuda" if cuda else "cpu", precision, qlora, checkpointing, train.threads)


def cpu_bf16(precision: str) -> bool:
    """Whether a pass that trains on the CPU (the embedder, the reranker) autocasts to bf16:
    ``train.precision`` "bf16", or "auto" on a CPU that computes bf16 natively."""
    return precision == "bf16" or (precision == "auto" and cpu_bf16_native())


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a run needs against bytes available on its device."""

    needed: int
    available: int | None
    device: str
    parts: dict[str, int]

    @property
    def at_risk(self) -> bool:
        return self.available is not None and self.needed > self.available

    def message(self) -> str:
        gib = 1024**3
        have = f"{self.available / gib:.1f} GiB available" if self.available is not None else "availability unknown"
        detail = ", ".join(f"{k} {v / gib:.2f}" for k, v in self.parts.items())
        return f"estimated {self.needed / gib:.1f} GiB on {self.device} ({detail} GiB); {have}"


def estimate_memory(
    config: Any,
    n_params: int,
    n_trainable: int,
    batch_size: int,
    max_length: int,
    hardware: Hardware,
    preference: bool = False,
) -> MemoryEstimate:
    """A rough upper bound of a LoRA run's peak memory.

    Weights: 0.5 byte/param in 4-bit, else 2 (bf16) or 4 (fp32). LoRA parameters in fp32 with
    gradients and two Adam moments (16 bytes each). Activations per layer follow Korthikanti et
    al. (2022): ``s*b*(34*h + 5*a*s)`` bytes at 16 bits, doubled for fp32; gradient
    checkpointing keeps only each layer's input plus one layer's worth. DPO runs chosen and
    rejected together, so its batch counts twice. Logits of one chunk are added on top.
    """
    act_bytes = 2 if hardware.precision == "bf16" else 4
    weight_bytes = 0.5 if hardware.qlora else act_bytes
    hidden = int(getattr(config, "hidden_size", 1024))
    layers = int(getattr(config, "num_hidden_layers", 24))
    heads = int(getattr(config, "num_attention_heads", 16))
    vocab = int(getattr(config, "vocab_size", 32000))
    rows = batch_size * (2 if preference else 1)
    per_layer = rows * max_length * (34 * hidden + 5 * heads * max_length) * act_bytes // 2
    if hardware.gradient_checkpointing:
        activations = rows * max_length * hidden * act_bytes * layers + per_layer
    else:
        activations = per_layer * layers
    parts = {
        "weights": int(n_params * weight_bytes),
        "lora+optimizer": n_trainable * 16,
        "activations": int(activations),
        "logits": rows * max_length * vocab * 4,
    }
    return MemoryEstimate(sum(parts.values()), available_memory(hardware.device), hardware.device, parts)


def available_memory(device: str) -> int | None:
    """Free VRAM on CUDA; ``MemAvailable`` from /proc/meminfo on a CPU (None elsewhere)."""
    if device == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info()
        return int(free)
    meminfo = Path("/proc/meminfo")
    if not meminfo.is_file():
        return None
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None

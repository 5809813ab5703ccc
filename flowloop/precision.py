"""Whether this machine computes bfloat16 natively: one answer for indexing, training and inference.

bf16 pays off only where the hardware has it: a CUDA GPU that supports it, or a CPU with AMX or
AVX512-BF16 (measured: ~1.8x faster bulk embedding, faster LoRA steps). oneDNN's own check also
says yes on AVX512 CPUs without bf16 instructions, where it emulates bf16 and is slower than
fp32, so the CPU flags must agree too (where ``/proc/cpuinfo`` exists; elsewhere oneDNN's answer
stands). Each caller still decides what to do with the answer: the index embeds in bf16 where it
is native, training autocasts, in-process embedding stays fp32 on a CPU for exactness, and the reranker
(whose scores only order a few dozen passages, on every search) runs in bf16.
torch is imported inside the functions.
"""

from __future__ import annotations

from pathlib import Path

CPU_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_bf16_native() -> bool:
    """Whether this CPU computes bf16 natively (oneDNN supports it and the CPU has AMX or AVX512-BF16)."""
    import torch

    try:
        supported = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return supported
    return supported and any(flag in flags for flag in CPU_BF16_FLAGS)


def cuda_bf16() -> bool:
    """Whether a CUDA GPU is present and supports bf16."""
    import torch

    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())


__all__ = ["cpu_bf16_native", "cuda_bf16"]

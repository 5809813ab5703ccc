"""One bf16 answer for the index, training and inference (flowloop.precision)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowloop.config import TrainSettings
from flowloop.precision import CPU_BF16_FLAGS, cpu_bf16_native, cuda_bf16
from flowloop.models.loader import inference_precision
from flowloop.train.device import resolve_hardware


def test_native_cpu_bf16_needs_the_instructions_not_only_onednn() -> None:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists() and cpu_bf16_native():
        assert any(flag in cpuinfo.read_text(encoding="utf-8", errors="replace") for flag in CPU_BF16_FLAGS)


def test_training_and_inference_read_the_same_answer() -> None:
    import torch

    if torch.cuda.is_available():
        assert resolve_hardware(TrainSettings()).precision == ("bf16" if cuda_bf16() else "fp32")
        assert inference_precision("auto") == ("bf16" if cuda_bf16() else "fp32")
        return
    assert not cuda_bf16()
    assert resolve_hardware(TrainSettings()).precision == ("bf16" if cpu_bf16_native() else "fp32")
    assert inference_precision("auto") == "fp32"  # a CPU scores exactly, whatever bf16 it has


@pytest.mark.parametrize("asked", ["bf16", "fp32"])
def test_an_explicit_precision_is_kept(asked: str) -> None:
    assert inference_precision(asked) == asked

"""Bad input before any training starts: missing models, CUDA-only options, memory risk."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers_train import small_repo, write_dataset
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.config import TrainSettings, load_settings
from flowloop.errors import ModelNotFoundError, TrainingError
from flowloop.models.base_model import resolve_base_model, resolve_model_name
from flowloop.train.device import Hardware, cpu_bf16_native, estimate_memory, resolve_hardware

runner = CliRunner()


def test_packaged_base_converts_once_and_keeps_chat_template(base_checkpoint: Path, model_cache: Path) -> None:
    assert (base_checkpoint / "config.json").is_file() and (base_checkpoint / "model.safetensors").is_file()
    assert (base_checkpoint / "chat_template.jinja").is_file()
    stamp = (base_checkpoint / "model.safetensors").stat().st_mtime_ns
    again = resolve_base_model(load_settings(None, cache_dir=str(model_cache)))
    assert again == base_checkpoint and (again / "model.safetensors").stat().st_mtime_ns == stamp
    assert not list(base_checkpoint.parent.glob(".tmp-*"))
    # a local checkpoint folder works the same as the packaged name
    assert resolve_model_name(str(base_checkpoint), load_settings(None)) == base_checkpoint


def test_missing_base_models_say_how_to_get_them(tmp_path: Path) -> None:
    settings = load_settings(None, cache_dir=str(tmp_path))
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model_name("some-org/not-downloaded-model", settings)
    assert "huggingface-cli download some-org/not-downloaded-model" in err.value.hint
    with pytest.raises(ModelNotFoundError, match="unknown base model"):
        resolve_model_name("no such thing", settings)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        resolve_model_name(str(tmp_path / "empty"), settings)


def test_cuda_only_options_on_a_cpu_are_refused(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(TrainingError, match="needs a CUDA GPU") as err:
        resolve_hardware(TrainSettings(qlora="on"))
    assert err.value.field == "train.qlora"
    hw = resolve_hardware(TrainSettings())
    native = "bf16" if cpu_bf16_native() else "fp32"
    assert (hw.device, hw.precision, hw.qlora, hw.gradient_checkpointing) == ("cpu", native, False, False)
    assert resolve_hardware(TrainSettings(precision="fp32")).precision == "fp32"
    repo = small_repo(tmp_path / "repo")
    write_dataset(repo)
    result = runner.invoke(app, ["-C", str(repo.root), "train", "sft", "--qlora", "--max-steps", "1"])
    assert result.exit_code == 1 and "QLoRA (bitsandbytes 4-bit) needs a CUDA GPU" in result.output
    assert not (repo.state_dir / "runs").exists()  # refused before anything was written


def test_memory_estimate_flags_a_run_that_cannot_fit() -> None:
    config = SimpleNamespace(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32, vocab_size=152064)
    hw = Hardware("cpu", "fp32", qlora=False, gradient_checkpointing=False)
    big = estimate_memory(config, 7_600_000_000, 40_000_000, batch_size=16, max_length=4096, hardware=hw)
    assert big.at_risk and big.needed > 100 * 1024**3 and "GiB" in big.message()
    small = estimate_memory(config, 135_000_000, 1_000_000, batch_size=1, max_length=64,
                            hardware=Hardware("cpu", "fp32", False, True))
    assert not small.at_risk
    ckpt = estimate_memory(config, 1, 1, 4, 1024, Hardware("cpu", "fp32", False, True))
    full = estimate_memory(config, 1, 1, 4, 1024, hw)
    assert ckpt.parts["activations"] < full.parts["activations"] / 10

"""``flow models export``: a tiny real adapter exported as hf, vllm and ollama (marked slow).

The hf export is reloaded with plain transformers and must give the adapter model's logits; the
Ollama template must render a conversation exactly as the tokenizer's chat template does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers_train import small_repo, write_dataset
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import ExportError, RegistryError
from flowloop.repo import FlowRepo
from flowloop.specialist.export import export_model
from flowloop.models.registry import Registry

pytestmark = pytest.mark.slow
runner = CliRunner()
PROMPT = [
    {"role": "system", "content": "You are the domain specialist for ledgerline.\n\nYou plan changes."},
    {"role": "user", "content": "Task: change 3 in ledger module 3.\n\nWhich files and areas will this task touch?"},
]


def flow(repo: FlowRepo, *args: str) -> Any:
    return runner.invoke(app, ["-C", str(repo.root), *args])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, base_checkpoint: Path) -> FlowRepo:
    """v1: SFT, 2 steps at a learning rate high enough that the adapter visibly moves the logits."""
    repo = small_repo(tmp_path_factory.mktemp("export") / "repo")
    text = repo.config_path.read_text(encoding="utf-8").replace("[train.sft]\n", "[train.sft]\nlearning_rate = 0.01\n")
    repo.config_path.write_text(text, encoding="utf-8")
    write_dataset(repo)
    out = flow(repo, "train", "sft", "--max-steps", "2", "--json")
    assert out.exit_code == 0, out.output
    return FlowRepo(repo.root)


def logits(model: Any, tokenizer: Any) -> Any:
    import torch

    ids = tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        return model(input_ids=ids["input_ids"]).logits[0].float()


def test_hf_export_reloads_with_the_adapter_models_logits(trained: FlowRepo, tmp_path: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    from flowloop.models.base_model import resolve_model_name

    out = flow(trained, "models", "export", "v1", "--format", "hf", "--dtype", "fp32", "-o", str(tmp_path / "hf"))
    assert out.exit_code == 0, out.output
    folder = tmp_path / "hf"
    assert "AutoModelForCausalLM.from_pretrained" in out.stdout
    assert (folder / "model.safetensors").is_file() and not list(folder.glob("*.bin"))
    assert not (folder / "adapter_config.json").exists()  # merged: a plain checkpoint
    manifest = json.loads((folder / "flowloop-export.json").read_text())
    assert manifest["version"] == "v1" and manifest["format"] == "hf" and manifest["pass"] == "sft"

    exported = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert tokenizer.chat_template and "<|im_start|>" in tokenizer.chat_template
    generation = GenerationConfig.from_pretrained(folder)
    assert generation.eos_token_id == tokenizer.eos_token_id and generation.pad_token_id is not None

    v1 = Registry(trained).get("v1")
    base_path = resolve_model_name(v1.base_model, trained.settings)
    base = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32).eval()
    base_logits = logits(base, tokenizer)
    adapter_model = PeftModel.from_pretrained(base, v1.adapter_dir).eval()  # unmerged: base + LoRA at run time
    expected = logits(adapter_model, tokenizer)
    got = logits(exported, tokenizer)
    moved = (expected - base_logits).abs().max().item()
    print(f"adapter moved the logits by up to {moved:.4f}; export differs by {(got - expected).abs().max().item():.2e}")
    assert moved > 1e-2, "the adapter must change the logits for the comparison to mean anything"
    assert torch.allclose(got, expected, atol=1e-3, rtol=1e-4), (got - expected).abs().max().item()
    assert got.argmax(-1).tolist() == expected.argmax(-1).tolist()


def render_ollama(template: str, messages: list[dict[str, str]]) -> str:
    """The subset of Go templates the Modelfile uses: ``{{- range .Messages }}``, ``{{ .Role }}``,
    ``{{ .Content }}``, ``{{ end }}`` (``{{-`` trims whitespace on its left, as in Go)."""
    template = re.sub(r"\s*\{\{-", "{{", template)
    head, rest = template.split("{{ range .Messages }}", 1)
    body, tail = rest.split("{{ end }}", 1)
    parts = [head]
    for message in messages:
        parts.append(body.replace("{{ .Role }}", message["role"]).replace("{{ .Content }}", message["content"]))
    return "".join(parts) + tail


def test_ollama_modelfile_matches_the_chat_template(trained: FlowRepo, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    result = export_model(trained, "v1", "ollama", output=tmp_path / "ollama")
    folder = result.path
    modelfile = (folder / "Modelfile").read_text()
    assert modelfile.startswith("FROM .\n") and 'PARAMETER stop "<|im_end|>"' in modelfile
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
    assert result.command == f"cd {folder} && ollama create flowloop-v1 -f Modelfile"
    template = re.search(r'TEMPLATE """(.*?)"""', modelfile, re.S).group(1)  # type: ignore[union-attr]
    system = re.search(r'SYSTEM """(.*?)"""', modelfile, re.S).group(1)  # type: ignore[union-attr]
    tokenizer = AutoTokenizer.from_pretrained(folder)
    for messages in (PROMPT, PROMPT[1:]):
        expected = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        # Ollama puts the Modelfile's SYSTEM first when a request brings no system message.
        sent = messages if messages[0]["role"] == "system" else [{"role": "system", "content": system}, *messages]
        assert render_ollama(template, sent) == expected


def test_vllm_export_is_the_adapter_and_the_command(trained: FlowRepo, tmp_path: Path) -> None:
    out = flow(trained, "models", "export", "v1", "--format", "vllm", "-o", str(tmp_path / "vllm"), "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    folder = tmp_path / "vllm"
    assert (folder / "adapter" / "adapter_model.safetensors").is_file()
    assert json.loads((folder / "adapter" / "adapter_config.json").read_text())["r"] == 4
    assert not (folder / "model.safetensors").exists()  # the adapter alone
    assert data["command"] == (f"vllm serve {data['base_path']} --enable-lora --lora-modules "
                               f"flowloop-v1={folder / 'adapter'}")
    assert data["command"] in (folder / "serve.sh").read_text()


def test_bad_input_leaves_nothing(trained: FlowRepo, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="no model version v9"):
        export_model(trained, "v9", "hf", output=tmp_path / "a")
    bad = flow(trained, "models", "export", "v9", "--format", "hf")
    assert bad.exit_code == 1 and "no model version v9" in bad.stderr and "versions: v1" in bad.stderr
    unknown = flow(trained, "models", "export", "v1", "--format", "gguf")
    assert unknown.exit_code == 1 and "unknown export format 'gguf'" in unknown.stderr and "hf, vllm, ollama" in unknown.stderr
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="exists and is not empty"):
        export_model(trained, "v1", "hf", output=occupied)
    assert [p.name for p in occupied.iterdir()] == ["keep.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

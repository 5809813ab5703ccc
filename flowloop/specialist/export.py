"""``flow models export vN --format hf|vllm|ollama``: the specialist outside flowloop.

- ``hf``: the adapter merged into its base (PEFT ``merge_and_unload``), saved as safetensors with
  the tokenizer, its chat template and a generation config whose EOS/pad are the tokenizer's:
  loads with ``AutoModelForCausalLM.from_pretrained`` anywhere.
- ``vllm``: the LoRA adapter alone (vLLM serves adapters on top of a base, several per server),
  plus the base path and the exact ``vllm serve ... --enable-lora --lora-modules`` command.
- ``ollama``: the merged weights plus a ``Modelfile`` whose ``TEMPLATE`` reproduces the chat
  template (ChatML for SmolLM2) and the ``ollama create`` command. Ollama imports safetensors
  directly for the architectures it knows (Llama, which SmolLM2 is, Mistral, Gemma, Phi3, Qwen2);
  for others the export says how to convert to GGUF with llama.cpp first.

The export is assembled in a temp folder beside the target and renamed at the end, so a failure
leaves nothing half-written; an existing non-empty folder is refused, never overwritten.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowloop.errors import ExportError
from flowloop.repo import FlowRepo
from flowloop.specialist import serving_files

FORMATS = ("hf", "vllm", "ollama")
DTYPES = ("auto", "fp32", "bf16", "fp16")
EXPORT_MANIFEST = "flowloop-export.json"
# Architectures `ollama create` imports from safetensors (docs.ollama.com/import).
OLLAMA_SAFETENSORS = frozenset({
    "LlamaForCausalLM", "MistralForCausalLM", "MixtralForCausalLM", "GemmaForCausalLM", "Gemma2ForCausalLM",
    "Gemma3ForCausalLM", "Phi3ForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM",
})


@dataclass
class ExportResult:
    version: str
    format: str
    path: Path
    base_model: str
    base_path: str
    files: list[str] = field(default_factory=list)
    command: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "format": self.format, "path": str(self.path), "base_model": self.base_model,
                "base_path": self.base_path, "files": self.files, "command": self.command, "notes": self.notes}


def default_output(repo: FlowRepo, version: str, fmt: str) -> Path:
    return repo.state_dir / "exports" / f"{version}-{fmt}"


def export_model(
    repo: FlowRepo, version: str, fmt: str, output: Path | None = None, dtype: str = "auto"
) -> ExportResult:
    """Export registered ``version`` in ``fmt`` to ``output`` (default ``.flow/state/exports/vN-FMT``)."""
    from flowloop.models.base_model import resolve_model_name
    from flowloop.models.registry import Registry

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}", field="--format", hint=f"use one of {', '.join(FORMATS)}")
    if dtype not in DTYPES:
        raise ExportError(f"unknown dtype {dtype!r}", field="--dtype", hint=f"use one of {', '.join(DTYPES)}")
    model = Registry(repo).get(version)
    target = (output or default_output(repo, model.version, fmt)).resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ExportError("the output folder exists and is not empty", path=target,
                          hint="choose another --output, or remove the folder first")
    if not (model.adapter_dir / "adapter_config.json").is_file():
        raise ExportError("the version has no adapter", path=model.adapter_dir,
                          hint="the registry entry is incomplete: retrain it (`flow train sft`)")
    base_path = resolve_model_name(model.base_model, repo.settings)
    result = ExportResult(model.version, fmt, target, model.base_model, str(base_path))
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        if fmt == "vllm":
            _write_vllm(model, base_path, work, target, result)
        else:
            chat_template = _write_merged(model.adapter_dir, base_path, work, dtype)
            if fmt == "ollama":
                _write_ollama(work, target, chat_template, result)
            else:
                result.command = f"AutoModelForCausalLM.from_pretrained({str(target)!r})"
        _write_manifest(work, model, result)
        result.files = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file())
        work.chmod(0o755)  # mkdtemp makes it private; the export is meant to be shared
        if target.exists():
            target.rmdir()  # empty (checked above)
        os.replace(work, target)
    except OSError as exc:  # disk full, permissions: nothing is left behind, and the user is told
        shutil.rmtree(work, ignore_errors=True)
        raise ExportError(f"could not write the export: {exc.strerror or exc}", path=target,
                          hint="check the free space and permissions of the output folder") from exc
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return result


def _torch_dtype(name: str, config_dtype: Any) -> Any:
    import torch

    table = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if name != "auto":
        return table[name]
    if isinstance(config_dtype, torch.dtype):
        return config_dtype
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}.get(
        str(config_dtype).replace("torch.", ""), torch.float32)


def _write_merged(adapter_dir: Path, base_path: Path, out: Path, dtype: str) -> str:
    """Merged safetensors weights, tokenizer (with chat template) and generation config in ``out``;
    returns the chat template."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(adapter_dir)
    chat_template = tokenizer.chat_template
    if not isinstance(chat_template, str) or not chat_template:
        raise ExportError("the adapter's tokenizer has no chat template", path=adapter_dir,
                          hint="train from a chat (instruct) base model, whose tokenizer carries one")
    # Merged in fp32 and cast afterwards: a small LoRA delta added to bf16 weights rounds away.
    base = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)
    config_dtype = getattr(base.config, "dtype", None) or getattr(base.config, "torch_dtype", None)
    merged = PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
    merged = merged.to(_torch_dtype(dtype, config_dtype))
    merged.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    try:
        generation = GenerationConfig.from_pretrained(base_path)
    except OSError:
        generation = GenerationConfig.from_model_config(merged.config)
    generation.eos_token_id = tokenizer.eos_token_id
    generation.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    generation.save_pretrained(out)
    return chat_template


def _write_ollama(folder: Path, target: Path, chat_template: str, result: ExportResult) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    user_only = tokenizer.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False,
                                              add_generation_prompt=True)
    system = serving_files.default_system(str(user_only))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    architecture = (config.get("architectures") or ["unknown"])[0]
    source = "."
    if architecture not in OLLAMA_SAFETENSORS:
        source = "./model.gguf"
        result.notes.append(
            f"Ollama does not import {architecture} from safetensors: convert first with llama.cpp, "
            f"`python convert_hf_to_gguf.py {target} --outfile {target / 'model.gguf'}`, then run the command")
    (folder / "Modelfile").write_text(serving_files.modelfile(chat_template, system, source), encoding="utf-8")
    name = f"flowloop-{result.version}"
    result.command = serving_files.ollama_command(name, str(target))
    result.notes.append("`ollama create` imports the weights unquantized (the export's dtype); "
                        "add `--quantize q4_K_M` to the command for a smaller model")


def _write_vllm(model: Any, base_path: Path, work: Path, target: Path, result: ExportResult) -> None:
    adapter = work / "adapter"
    shutil.copytree(model.adapter_dir, adapter)
    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    rank = int(config.get("r") or 8)
    name = f"flowloop-{model.version}"
    result.command = serving_files.vllm_command(str(base_path), name, str(target / "adapter"), rank)
    (work / "serve.sh").write_text("#!/bin/sh\n# Serve the base model with this adapter as the model "
                                   f"'{name}' (OpenAI-compatible API).\nexec {result.command}\n", encoding="utf-8")
    (work / "serve.sh").chmod(0o755)
    result.notes.append(
        f"requests name the adapter as the model: {{\"model\": \"{name}\", ...}}; the base is this machine's "
        f"checkpoint of {model.base_model}, on which the adapter was trained: copy it to the server with the adapter")


def _write_manifest(work: Path, model: Any, result: ExportResult) -> None:
    data = {
        "version": model.version, "format": result.format, "pass": model.pass_name,
        "base_model": result.base_model, "base_path": result.base_path,
        "dataset_version": model.manifest.get("dataset_version"), "command": result.command, "notes": result.notes,
    }
    (work / EXPORT_MANIFEST).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

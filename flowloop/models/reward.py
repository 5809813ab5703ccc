"""The reward model: a classification head on the base model that scores work for compliance.

The reward pass (``flowloop.train.reward``) trains LoRA plus a fresh two-class head on the
specialist's base model, from outputs labelled ``compliant`` or ``violating``; ``flow validate``
and the reward gate load a version here and ask :meth:`RewardModel.score` for the probability
that each text follows the team's conventions. What the classifier reads is written once,
:func:`reward_input`, so training and scoring cannot disagree about it.

Versions live in the registry's ``reward`` family, so promoting one never touches the
generative specialist's ``current`` pointer. The threshold chosen for the configured precision
(on the pass's calibration slice) is part of the version's manifest (``data.calibration``).

Scoring is what ``flow validate`` waits on, so a loaded version is made cheap to run (measured in
``benchmarks/validate_latency.py``):

- on a CPU each unit is its own forward pass: no padding is computed, and a unit's score
  depends on its text alone, never on which other hunks share its batch; units run side by
  side, one core each (threads over single-threaded forwards: torch's own two-thread products
  measured slower here, and several times slower when another job shares the cores); on a GPU
  units are batched, sorted by length so a batch pads little;
- weights are bf16 where the hardware computes it natively (``[inference] precision = "auto"``;
  a CUDA GPU, or a CPU with AMX/AVX512-BF16: about twice as fast, scores within 0.01 of fp32),
  which is also the precision the pass trains and calibrates in on such a machine;
- the adapter is merged into the base once and the merged classifier kept in the user cache,
  keyed by the adapter's bytes and the precision, so a later process loads one checkpoint
  instead of importing PEFT and merging again;
- on a CPU that merged checkpoint runs through :mod:`flowloop.models.llama_classifier` (torch,
  ``safetensors`` and ``tokenizers`` only) when the base model is Llama-shaped (SmolLM2 is):
  importing transformers cost a cold ``flow validate`` more than its scoring did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowloop.errors import RegistryError
from flowloop.models.base_model import resolve_model_name
from flowloop.models.registry import ModelVersion, Registry
from flowloop.repo import FlowRepo

FAMILY = "reward"
COMPLIANT = 1  # label index of a compliant output; the score is its probability
DEFAULT_THRESHOLD = 0.5


def reward_input(text: str, context: str = "") -> str:
    """The one text the classifier reads for an output in its context."""
    text = text.strip()
    context = context.strip()
    return f"Context:\n{context}\n\nWork:\n{text}" if context else f"Work:\n{text}"


def label_of(label: str) -> int:
    """``compliant`` -> 1, ``violating`` -> 0."""
    return COMPLIANT if label == "compliant" else 1 - COMPLIANT


def version_files(version: ModelVersion) -> Path:
    """The folder of a reward version's adapter (``adapter/``, or ``model/`` in a registry that
    stores every non-specialist family's files there)."""
    for name in ("adapter", "model"):
        if (version.path / name).is_dir():
            return version.path / name
    raise RegistryError("reward model version without its files", path=version.path,
                        hint="remove the version folder and retrain (`flow train reward`)")


def resolve_version(repo: FlowRepo, which: str = "current") -> ModelVersion | None:
    """``current`` (the promoted reward model), ``latest`` or ``vN``; None when ``current`` or
    ``latest`` finds nothing (callers fall back to the generative reviewer)."""
    registry = Registry(repo, FAMILY)
    if which == "current":
        return registry.current()
    if which == "latest":
        return registry.latest()
    return registry.get(which)


def calibration(version: ModelVersion) -> dict[str, Any]:
    """The threshold and how it was chosen, as recorded with the version."""
    return dict((version.manifest.get("data") or {}).get("calibration") or {})


def threshold_of(version: ModelVersion) -> float:
    return float(calibration(version).get("threshold", DEFAULT_THRESHOLD))


@dataclass
class RewardModel:
    """A loaded reward version: ``score`` gives P(compliant) per text, batched.

    ``model`` and ``tokenizer`` are a transformers classifier and its tokenizer, or a
    :class:`~flowloop.models.llama_classifier.LlamaClassifier` and None (it tokenizes itself)."""

    model: Any
    tokenizer: Any
    version: str
    threshold: float
    max_length: int
    batch_size: int = 8
    workers: int = 1  # units scored at once on a CPU, each on one core

    def score(self, texts: Sequence[str]) -> list[float]:
        """P(compliant) of each classifier input (made by :func:`reward_input`), in order."""
        import torch

        runner = self.model if self.tokenizer is None else _Transformers(self.model, self.tokenizer)
        encoded = runner.token_ids(list(texts), self.max_length)
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i]))
        out = [0.0] * len(texts)

        def probabilities(picked: list[int]) -> None:
            logits = runner.logits([encoded[i] for i in picked])
            for i, p in zip(picked, torch.softmax(logits, dim=-1)[:, COMPLIANT].tolist()):
                out[i] = p

        if runner.device.type == "cuda":  # longest first, batched
            for start in range(0, len(order), self.batch_size):
                probabilities(order[start:start + self.batch_size])
            return out
        # a CPU: one unit per forward (see the module docstring), ``workers`` units at a time
        workers = min(self.workers, len(order))
        if workers <= 1:
            for i in order:
                probabilities([i])
            return out
        from concurrent.futures import ThreadPoolExecutor

        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # read by each worker thread at its first operation
        try:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(lambda i: probabilities([i]), order))
        finally:
            torch.set_num_threads(threads)
        return out


class _Transformers:
    """A transformers classifier and tokenizer behind :class:`LlamaClassifier`'s two calls."""

    def __init__(self, model: Any, tokenizer: Any) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.device = next(model.parameters()).device

    def token_ids(self, texts: list[str], max_length: int) -> list[list[int]]:
        return [self.tokenizer(text, truncation=True, max_length=max_length)["input_ids"] for text in texts]

    def logits(self, rows: list[list[int]]) -> Any:
        import torch

        batch = self.tokenizer.pad({"input_ids": rows}, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            return self.model(**batch).logits.float()


def load_classifier(base_path: Path, adapter_dir: Path | None = None, *, trainable: bool = False,
                    dtype: Any = None) -> tuple[Any, Any]:
    """The base model with a two-class head (and ``adapter_dir`` loaded), and its tokenizer.

    A causal LM has no pad token; the classifier finds each row's last token through
    ``pad_token_id``, so the tokenizer's pad token (EOS when it has none) is set on the config.
    """
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(adapter_dir or base_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # transformers would draw a bar per load on stderr
    # the head is new by design: transformers' "newly initialized weights" report is not news
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model = AutoModelForSequenceClassification.from_pretrained(base_path, num_labels=2,
                                                                   dtype=dtype or torch.float32)
    finally:
        hf_logging.set_verbosity(level)
    model.config.pad_token_id = tokenizer.pad_token_id
    if adapter_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter_dir, is_trainable=trainable)
        if not trainable:
            model = model.merge_and_unload()
    if not trainable:
        model.eval()
    return model, tokenizer


_cache: dict[tuple[str, str, str], RewardModel] = {}


def scoring_dtype(settings: Any) -> Any:
    """The torch dtype reward scores are computed in (see the module docstring)."""
    import torch

    from flowloop.precision import cpu_bf16_native, cuda_bf16

    requested = settings.inference.precision
    if requested == "auto":
        requested = "bf16" if cuda_bf16() or (not torch.cuda.is_available() and cpu_bf16_native()) else "fp32"
    return torch.bfloat16 if requested == "bf16" else torch.float32


def cpu_workers(settings: Any) -> int:
    """Units scored at once on a CPU: ``[train] threads`` when set, else this process's cores."""
    import os

    if settings.train.threads > 0:
        return settings.train.threads
    affinity = getattr(os, "sched_getaffinity", None)  # Linux only; macOS has no affinity call
    return max(1, len(affinity(0)) if affinity else os.cpu_count() or 1)


def merged_checkpoint(repo: FlowRepo, version: ModelVersion, dtype: Any) -> Path:
    """The version's classifier with its adapter merged, in ``dtype``: made once, then reused.

    Kept under the user cache (``<cache_dir>/reward-merged/<key>/``), keyed by the adapter's
    files and the dtype, written to a temporary folder and renamed into place (a crash leaves no
    half-written checkpoint; of two processes making it at once, one rename wins)."""
    import hashlib
    import shutil
    import uuid

    from flowloop.models.base_model import cache_dir

    files = version_files(version)
    digest = hashlib.sha256(f"{version.base_model}|{dtype}".encode())
    for path in sorted(p for p in files.rglob("*") if p.is_file()):
        digest.update(path.relative_to(files).as_posix().encode() + b"\0" + path.read_bytes())
    target = cache_dir(repo.settings) / "reward-merged" / digest.hexdigest()[:24]
    if (target / "config.json").is_file():
        return target
    # merged in fp32 and cast after: a small LoRA delta merged into bf16 weights would round away
    model, tokenizer = load_classifier(resolve_model_name(version.base_model, repo.settings), files)
    model = model.to(dtype)
    tmp = target.parent / f".tmp-{target.name}-{uuid.uuid4().hex[:8]}"
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:
            tmp.rename(target)
        except OSError:
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_reward(repo: FlowRepo, version: ModelVersion) -> RewardModel:
    """A registered reward version, loaded once per process (versions never change)."""
    dtype = scoring_dtype(repo.settings)
    key = (str(repo.state_dir), version.version, str(dtype))
    if key not in _cache:
        import torch

        from flowloop.models.llama_classifier import LlamaClassifier, supports

        merged = merged_checkpoint(repo, version, dtype)
        model: Any
        tokenizer: Any = None
        if not torch.cuda.is_available() and supports(merged):
            model = LlamaClassifier(merged, dtype)  # no transformers import: seconds of a cold start
        else:
            model, tokenizer = _transformers_classifier(merged, dtype)
        max_length = int((version.manifest.get("settings") or {}).get("reward", {}).get("max_length", 384))
        _cache.clear()  # one reward model at a time: a CLI or the gate uses one or two
        _cache[key] = RewardModel(model, tokenizer, version.version, threshold_of(version), max_length,
                                  batch_size=repo.settings.inference.batch_size, workers=cpu_workers(repo.settings))
    return _cache[key]


def _transformers_classifier(merged: Path, dtype: Any) -> tuple[Any, Any]:
    """A merged checkpoint through transformers (on a GPU, or a base model not Llama-shaped)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = AutoModelForSequenceClassification.from_pretrained(merged, dtype=dtype)
    tokenizer = AutoTokenizer.from_pretrained(merged)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    model.eval()
    if torch.cuda.is_available():
        model = model.to("cuda")
    return model, tokenizer


def choose_threshold(scores: Sequence[float], compliant: Sequence[bool], target_precision: float) -> dict[str, Any]:
    """The threshold on P(compliant) that flags violations (score below it) with at least
    ``target_precision`` precision and the most recall; the most precise one when none reaches it.

    Candidates are the midpoints between sorted scores, so the choice does not depend on how
    finely a grid was drawn. Ties in recall go to the lower threshold (fewer false alarms).
    """
    pairs = sorted(zip(scores, compliant))
    violations = sum(1 for _, ok in pairs if not ok)
    if not pairs or violations == 0 or violations == len(pairs):
        return {"threshold": DEFAULT_THRESHOLD, "reached": False, "n": len(pairs),
                "note": "held-out items need both labels to choose a threshold: the default is used"}
    values = [s for s, _ in pairs]
    cuts = sorted({(a + b) / 2 for a, b in zip(values, values[1:]) if b > a} | {values[-1] + 1e-6})
    best: tuple[Any, ...] | None = None
    fallback: tuple[Any, ...] | None = None
    for cut in cuts:
        flagged = [(s, ok) for s, ok in pairs if s < cut]
        caught = sum(1 for _, ok in flagged if not ok)
        precision = caught / len(flagged) if flagged else 0.0
        recall = caught / violations
        row = (cut, precision, recall)
        if precision >= target_precision and (best is None or recall > best[2]):
            best = row
        if fallback is None or (precision, recall) > (fallback[1], fallback[2]):
            fallback = row
    chosen = best or fallback
    assert chosen is not None
    return {"threshold": round(float(chosen[0]), 6), "precision": round(chosen[1], 4), "recall": round(chosen[2], 4),
            "target_precision": target_precision, "reached": best is not None, "n": len(pairs),
            "violations": violations}

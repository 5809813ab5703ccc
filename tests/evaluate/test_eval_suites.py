"""Each suite's scoring on small known cases, with a deterministic table-driven scorer.

The fake implements the same Protocol as the real loader; each case states what the model
answers and prefers, and checks the metric it must produce, including cases where it must lose.
"""

from __future__ import annotations

import pytest

from flowloop.config import Settings
from flowloop.errors import EvaluationError
from flowloop.inference.fake import TableScorer
from flowloop.evaluate.suites import SUITES, summarise
from flowloop.evaluate.suites import general, knowledge, planning, preference, validation
from flowloop.evaluate.suites.knowledge import Section
from flowloop.evaluate.suites.planning import PlanningItem, SimilarTask
from flowloop.inference import Model

SETTINGS = Settings()


def plan_items() -> list[PlanningItem]:
    return [
        PlanningItem(
            id="p1",
            task="T-1",
            description="Add refunds endpoint",
            files=["src/app/refunds.py", "src/app/api.py"],
            context_text="## Similar past tasks\n- T-0: payments endpoint",
            similar=[
                SimilarTask("T-0", 2.0, ["src/app/api.py", "src/app/payments.py"]),
                SimilarTask("T-00", 1.0, ["src/app/refunds.py"]),
            ],
        ),
        PlanningItem(
            id="p2",
            task="T-2",
            description="Fix rounding in tax",
            files=["src/app/tax.py"],
            similar=[SimilarTask("T-9", 1.0, ["docs/readme.md"])],
        ),
    ]


def test_fake_scorer_satisfies_the_protocol() -> None:
    assert isinstance(TableScorer(), Model)


def test_planning_scores_files_per_task_and_averages() -> None:
    scorer = TableScorer(
        answers={
            "refunds": "Areas: app\nFiles:\n- src/app/refunds.py\n- ./src/app/api.py\n- src/app/extra.py",
            "rounding": "Files:\n- src/app/tax.py",
        }
    )
    details = planning.run_model(scorer, plan_items(), SETTINGS, with_context=True, max_new_tokens=64)
    assert details[0]["predicted"] == ["src/app/refunds.py", "src/app/api.py", "src/app/extra.py"]
    assert details[0]["precision"] == pytest.approx(2 / 3)
    assert details[0]["recall"] == pytest.approx(1.0)
    assert details[0]["f1"] == pytest.approx(0.8)
    assert details[1]["f1"] == pytest.approx(1.0)
    result = summarise("planning", details, samples=200, seed=1)
    assert result.n == 2
    assert result.metrics["f1"] == pytest.approx(0.9)
    assert result.metrics["precision"] == pytest.approx((2 / 3 + 1) / 2)
    lo, hi = result.ci["f1"]
    assert 0.8 <= lo <= 0.9 <= hi <= 1.0


def test_planning_model_that_names_nothing_right_scores_zero() -> None:
    scorer = TableScorer(default_answer="I would start by thinking about the problem.")
    details = planning.run_model(scorer, plan_items(), SETTINGS, with_context=False, max_new_tokens=64)
    result = summarise("planning", details, samples=100, seed=1)
    assert result.metrics == {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    assert result.ci["f1"] == (0.0, 0.0)


def test_planning_context_reaches_the_prompt_only_with_context() -> None:
    seen: list[str] = []

    class Recorder(TableScorer):
        def generate(self, messages, max_new_tokens):  # type: ignore[no-untyped-def]
            seen.append(messages[-1]["content"])
            return ""

    items = plan_items()[:1]
    planning.run_model(Recorder(), items, SETTINGS, with_context=True, max_new_tokens=8)
    planning.run_model(Recorder(), items, SETTINGS, with_context=False, max_new_tokens=8)
    assert "Similar past tasks" in seen[0]
    assert "Similar past tasks" not in seen[1]
    assert "Add refunds endpoint" in seen[1]


def test_retrieval_only_takes_the_nearest_tasks_files() -> None:
    details = planning.run_retrieval(plan_items())
    # nearest task has 2 files -> 2 predictions, ranked by summed similarity
    assert details[0]["predicted"] == ["src/app/api.py", "src/app/payments.py"]
    assert details[0]["f1"] == pytest.approx(0.5)
    assert details[1]["f1"] == 0.0  # retrieval must lose here: the precedent touched other files


def test_knowledge_accuracy_and_a_model_that_must_lose() -> None:
    sections = [
        Section("evg-money", "Money is stored as integer minor units with a currency code.", "What does our 'Money' say?"),
        Section("evg-tenancy", "Every table carries a tenant_id column used by scoped sessions.", "What does our 'Tenancy' say?"),
        Section("cum-webhooks", "Stripe webhooks are deduplicated by their event id before handling.", "What does our 'Webhooks' say?"),
    ]
    items = knowledge.build_items(sections, n_options=3, seed=3)
    assert len(items) == 3
    for item in items:
        assert len(item.options) == 3 and len(set(item.options)) == 3
    answers = {s.doc_id: knowledge.statements(s.text)[0] for s in sections}
    assert all(item.options[item.answer] == answers[item.doc_id] for item in items)

    # A model that knows each document: the right statement is likely under its own question.
    knows = TableScorer(
        scores={
            ("'Money'", "integer minor units"): -0.1,
            ("'Tenancy'", "tenant_id"): -0.1,
            ("'Webhooks'", "deduplicated"): -0.1,
        }
    )
    assert summarise("knowledge", knowledge.run(knows, items, SETTINGS), 100, 1).metrics["accuracy"] == 1.0

    # A model that always prefers one document's statement must lose two of three.
    fixated = TableScorer(scores={"integer minor units": -0.1})
    result = summarise("knowledge", knowledge.run(fixated, items, SETTINGS), 100, 1)
    assert result.metrics["accuracy"] == pytest.approx(1 / 3)


def test_knowledge_sections_from_dataset_rows_keep_the_training_prompt() -> None:
    rows = [
        {"id": "ex-1", "kind": "explain", "source": "pilr:evg-money#Rules", "prompt": [{"role": "user", "content": "Q money"}],
         "completion": [{"role": "assistant", "content": "Money is integer minor units. More text follows here."}]},
        {"id": "ex-2", "kind": "plan", "source": "git:abc", "prompt": [], "completion": [{"role": "assistant", "content": "x"}]},
    ]
    sections = knowledge.dataset_sections(rows)
    assert [(s.doc_id, s.id) for s in sections] == [("pilr:evg-money", "ex-1")]
    assert sections[0].prompt[0]["content"] == "Q money"


def test_knowledge_from_pilr_sections_never_uses_the_same_document_as_distractor() -> None:
    class Doc:
        def __init__(self, doc_id: str, body: str) -> None:
            self.id, self.title, self.body = doc_id, doc_id.upper(), body

    docs = [
        Doc("a", "## One\nAlpha rules are written in full sentences here.\n\n## Two\nAlpha second rule is also long enough."),
        Doc("b", "## One\nBravo rule number one is long enough to count."),
        Doc("c", "Charlie has a rule that is long enough to be used."),
    ]
    items = knowledge.build_items(knowledge.pilr_sections(docs), n_options=4, seed=1)
    assert len(items) == 4 and len({i.id for i in items}) == 4
    for item in items:
        wrong = [o for k, o in enumerate(item.options) if k != item.answer]
        assert not any(o.startswith(item.doc_id.capitalize()[:4]) for o in wrong), item


def test_knowledge_items_are_deterministic_for_a_seed() -> None:
    sections = [Section(f"d{i}", f"Statement number {i} is a long enough sentence here.", f"Q{i}?") for i in range(6)]
    one = knowledge.build_items(sections, seed=7)
    two = knowledge.build_items(sections, seed=7)
    assert [(i.options, i.answer) for i in one] == [(i.options, i.answer) for i in two]
    assert len(knowledge.build_items(sections, seed=7, limit=2)) == 2


PAIRS = [
    preference.PreferenceItem("a", [{"role": "user", "content": "q1"}], "good short", "bad long answer that rambles on"),
    preference.PreferenceItem("b", [{"role": "user", "content": "q2"}], "good but long answer with many words", "bad"),
]


def _win_rate(details: list) -> float:
    return summarise("preference", details, 100, 1).metrics["win_rate"]


def test_preference_scores_the_implicit_reward_against_the_reference_not_fluency() -> None:
    """A model whose own likelihood still prefers the rejected answer, but which moved towards the
    chosen one from where the reference stood, wins: the earlier per-token metric called it a loss."""
    reference = preference.run(TableScorer(scores={"good": -5.0, "bad": -1.0}), PAIRS)
    model = preference.run(TableScorer(scores={"good": -3.0, "bad": -1.0}), PAIRS)
    assert all(d["chosen"] / d["tokens"][0] < d["rejected"] / d["tokens"][1] for d in model)  # fluency says: lose
    scored = preference.against(model, reference)
    # a: chosen 2 words, (-6) - (-10) = +4; rejected moved 0: margin +4. b: chosen 7 words, +14.
    assert [d["margin"] for d in scored] == [4.0, 14.0] and [d["win"] for d in scored] == [1.0, 1.0]
    assert scored[0]["ref_chosen"] == -10.0 and scored[0]["ref_rejected"] == -6.0
    # Moving towards the rejected answers loses every pair.
    worse = preference.against(preference.run(TableScorer(scores={"good": -6.0, "bad": -1.0}), PAIRS), reference)
    assert _win_rate(worse) == 0.0


def test_the_reference_against_itself_ties_every_pair() -> None:
    own = preference.run(TableScorer(scores={"good": -1.0, "bad": -2.0}), PAIRS)
    result = summarise("preference", preference.against(own, own), 100, 1)
    assert result.metrics == {"win_rate": 0.5, "ties": 1.0} and result.ci["win_rate"] == (0.5, 0.5)


def test_the_margin_sums_token_log_probabilities() -> None:
    """Pair b: the long chosen answer gains 0.1 a word over 7 words (+0.7), the one-word rejected
    answer 0.5: the sequence margin is +0.2, a win, where per-token means (0.1 - 0.5) would lose."""
    reference = preference.run(TableScorer(scores={"good": -2.0, "bad": -2.0}), PAIRS[1:])
    model = preference.run(TableScorer(scores={"good": -1.9, "bad": -1.5}), PAIRS[1:])
    (row,) = preference.against(model, reference)
    assert row["margin"] == pytest.approx(0.2, abs=1e-3) and row["win"] == 1.0


def test_a_reference_scored_on_other_pairs_is_refused() -> None:
    own = preference.run(TableScorer(), PAIRS)
    with pytest.raises(EvaluationError, match="reference was not scored on preference pair 'b'"):
        preference.against(own, own[:1])


def test_validation_precision_recall_from_next_word_probabilities() -> None:
    items = [
        validation.ValidationItem("v1", "amount = 10.5  # float money", "", True),
        validation.ValidationItem("v2", "query without tenant filter", "", True),
        validation.ValidationItem("v3", "Money(1050, 'EUR')", "", False),
        validation.ValidationItem("v4", "retry with jitter", "", False),
    ]
    # Flags v1 (right), misses v2, wrongly flags v4.
    scorer = TableScorer(
        scores={
            ("float money", "VIOLATION"): -0.1,
            ("retry with jitter", "VIOLATION"): -0.1,
        },
        default_score=-1.0,
    )
    details = validation.run(scorer, items, SETTINGS)
    assert [d["flagged"] for d in details] == [True, False, False, True]
    result = summarise("validation", details, 200, 1)
    assert result.metrics == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "auroc": 0.5}
    assert set(result.ci) == {"precision", "recall", "f1", "auroc"}
    # AUROC reads P(OK) across thresholds: the two flagged items tie, the rest tie too
    assert [round(d["score"], 3) for d in details] == [0.289, 0.5, 0.5, 0.289]
    stored_before_scores = [{k: v for k, v in d.items() if k != "score"} for d in details]
    assert summarise("validation", stored_before_scores, 50, 1).metrics["auroc"] == 0.5  # read from the margin
    # A model that always answers OK catches nothing.
    lenient = TableScorer(scores={"OK": -0.01}, default_score=-4.0)
    assert summarise("validation", validation.run(lenient, items, SETTINGS), 50, 1).metrics["recall"] == 0.0


def test_general_check_reads_expected_words() -> None:
    scorer = TableScorer(answers={"France": "The capital of France is Paris.", "2 + 3": "5"})
    details = general.run(scorer)
    assert len(details) == len(general.ITEMS)
    result = summarise("general", details, 50, 1)
    assert result.metrics["accuracy"] == pytest.approx(2 / len(general.ITEMS))
    assert not general.answered("It is hot.", ("cold",))


def test_every_suite_is_registered_with_its_metrics() -> None:
    assert set(SUITES) == {"planning", "planner", "knowledge", "preference", "validation", "general"}
    for name, (_, reported, gated) in SUITES.items():
        assert set(gated) <= set(reported), name


def test_the_full_planner_keeps_the_localizers_files_and_adds_only_real_candidates_the_plan_names() -> None:
    from flowloop.localize.api import Localization

    seen: list[str] = []

    class Planner(TableScorer):
        def generate(self, messages, max_new_tokens):  # type: ignore[no-untyped-def]
            seen.append(messages[-1]["content"])
            return super().generate(messages, max_new_tokens)

    scorer = Planner(answers={"refunds": "1. Add the endpoint.\n\nFiles:\n- src/app/refunds.py\n- src/app/invented.py",
                              "rounding": "1. Round half even."})
    found = [Localization(["src/app/api.py"], pool=["src/app/api.py", "src/app/refunds.py"]),
             Localization(["docs/readme.md"], pool=["docs/readme.md", "src/app/tax.py"])]
    details = planning.run_planner(scorer, plan_items(), SETTINGS, found, max_new_tokens=64)
    assert details[0]["predicted"] == ["src/app/api.py", "src/app/refunds.py"]  # the invented path is dropped
    assert details[0]["f1"] == pytest.approx(1.0)
    assert details[1]["predicted"] == ["docs/readme.md"] and details[1]["f1"] == 0.0
    # the localizer's files are in the prompt, before the planning context
    assert seen[0].index("src/app/api.py") < seen[0].index("Similar past tasks")
    assert seen[0].startswith("Spec: Add refunds endpoint")

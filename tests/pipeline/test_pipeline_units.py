"""Similar tasks, outcome weights, dedup and the time split on small known cases."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from flowloop.config import Settings
from flowloop.pipeline.dedup import deduplicate
from flowloop.pipeline.records import Example, WorkRecord
from flowloop.pipeline.similar import TaskHistory, similar_files
from flowloop.pipeline.split import held_count, time_split
from flowloop.pipeline.weights import outcome_weight, task_weights
from flowloop.signals.events import OutcomeEvent


def day(n: int) -> dt.datetime:
    return dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=n)


def record(task: str, description: str, files: list[str], n: int) -> WorkRecord:
    return WorkRecord(task=task, description=description, files=files, time=day(n), as_of=day(n - 1), event_id=task)


HISTORY = [
    record("A", "Stripe webhook signature check", ["payments/webhook.py"], 1),
    record("B", "Invoice rounding for currencies", ["billing/currency.py", "core/money.py"], 2),
    record("C", "Stripe webhook dedup by event id", ["payments/webhook.py", "payments/idempotency.py"], 3),
    record("D", "Webhook retries for Stripe refunds", ["payments/refunds.py"], 10),
]


def test_similar_tasks_are_strictly_earlier() -> None:
    history = TaskHistory(HISTORY)
    found = history.similar("Stripe webhook for refunds", before=day(3))
    assert [s.task for s in found] == ["A"]  # C finished exactly at the cut: not before it
    later = history.similar("Stripe webhook for refunds", before=day(11))
    assert {s.task for s in later} == {"A", "C", "D"} and later[0].task == "D"
    assert all(s.time < day(11) for s in later)
    assert history.similar("anything", before=day(0)) == []


def test_similar_statistics_ignore_the_future() -> None:
    """Adding records after the cut changes nothing about results before it."""
    early = TaskHistory(HISTORY[:3]).similar("webhook dedup", before=day(4))
    more = HISTORY + [record(f"X{i}", "webhook dedup webhook", ["x.py"], 20 + i) for i in range(5)]
    assert TaskHistory(more).similar("webhook dedup", before=day(4)) == early


def test_similar_excludes_the_task_itself_and_ranks_files() -> None:
    found = TaskHistory(HISTORY).similar("Stripe webhook dedup", before=day(11), exclude_task="C")
    assert "C" not in [s.task for s in found]
    ranked = similar_files(TaskHistory(HISTORY).similar("Stripe webhook dedup event id", before=day(5)))
    assert ranked[0] == "payments/webhook.py"  # touched by both similar tasks


def outcome(metric: str, value: float) -> OutcomeEvent:
    return OutcomeEvent(task="T", metric=metric, value=value)


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([], 1.0),
        ([outcome("reverted", 1)], 0.0),
        ([outcome("reverted", 0)], 1.0),
        ([outcome("hotfix", 1)], 0.5),
        ([outcome("ci_passed", 0), outcome("ci_passed", 1)], 0.7),
        ([outcome("time_to_green_s", 600)], 1.1),
        ([outcome("time_to_green_s", 7200)], 1.0),
        ([outcome("error_rate", 0.2)], 0.6),
        ([outcome("hotfix", 1), outcome("ci_passed", 0), outcome("error_rate", 0.2)], 0.21),
        ([outcome("hotfix", 1), outcome("hotfix", 1), outcome("ci_passed", 0), outcome("error_rate", 0.5),
          outcome("error_rate", 0.9)], 0.21),
        ([outcome("hotfix", 1), outcome("ci_passed", 0), outcome("error_rate", 0.2), outcome("hotfix", 2)], 0.21),
        ([outcome("custom_metric", 5)], 1.0),
    ],
)
def test_outcome_weight_formula(events: list[OutcomeEvent], expected: float) -> None:
    assert outcome_weight(events, fast_green_s=3600, error_rate_threshold=0.05) == pytest.approx(expected)


def test_weights_are_clipped_and_use_settings() -> None:
    events = [outcome("hotfix", 1), outcome("ci_passed", 0), outcome("error_rate", 0.9)]
    assert outcome_weight(events + [outcome("time_to_green_s", 1)], 3600, 0.05) == pytest.approx(0.231)
    settings = Settings(dataset={"error_rate_threshold": 0.95, "fast_green_s": 10})
    assert task_weights({"T": [outcome("error_rate", 0.9), outcome("time_to_green_s", 60)]}, settings) == {"T": 1.0}
    tiny = [outcome("hotfix", 1), outcome("ci_passed", 0), outcome("error_rate", 0.9)] * 2
    assert outcome_weight(tiny, 3600, 0.05) >= 0.2


def sft(key: str, answer: str, n: int | None, kind: str = "explain") -> Example:
    return Example(pass_="sft", kind=kind, source=f"pilr:{key[:5]}", prompt=[], key=key, completion=answer,
                   time=day(n) if n is not None else None)


def test_dedup_removes_exact_and_near_duplicates_keeping_the_earliest() -> None:
    a = sft("How are amounts stored?", "Integer minor units with an ISO currency code.", 5)
    exact = sft("How are amounts  stored?", "integer minor units with an ISO currency code.", 9)
    near = sft("How are amounts stored?", "Integer minor units with an ISO currency code!", 7)
    other = sft("How are webhooks deduplicated?", "By Stripe event id, in the same transaction.", 6)
    other_kind = sft("How are amounts stored?", "Integer minor units with an ISO currency code, always.", 8, kind="qa")
    result = deduplicate([exact, other, near, a, other_kind], threshold=0.9)
    assert [e.id for e in result.kept] == [a.id, other.id, other_kind.id]
    assert (result.exact, result.near) == (1, 1)
    shuffled = [exact, other, near, a, other_kind]
    random.Random(3).shuffle(shuffled)
    assert [e.id for e in deduplicate(shuffled, 0.9).kept] == [e.id for e in result.kept]
    assert len(deduplicate([a, near], threshold=1.0).kept) == 2


def test_held_count_and_time_split() -> None:
    assert [held_count(n, 0.2) for n in (0, 1, 2, 5, 10, 12, 100)] == [0, 0, 1, 1, 2, 2, 20]
    assert held_count(3, 1.0) == 2 and held_count(10, 0.0) == 0
    times = {f"T-{i}": day(i) for i in range(10)}
    times["T-tie"] = day(8)
    split = time_split(times, 0.2)
    assert split.heldout_tasks == ["T-8", "T-9"] or split.heldout_tasks == ["T-tie", "T-9"]
    assert split.heldout_tasks == ["T-tie", "T-9"]  # ties broken by task id, deterministically
    assert split.cutoff == day(8)
    assert set(split.train_tasks) | set(split.heldout_tasks) == set(times)
    assert max(times[t] for t in split.train_tasks) <= min(times[t] for t in split.heldout_tasks)
    undated = sft("q", "a", None)
    undated.holdable = False
    late_event = sft("late", "x", 30, kind="correction")
    early_event = sft("early", "x", 1, kind="correction")
    assert not split.example_heldout(undated)
    assert split.example_heldout(late_event) and not split.example_heldout(early_event)
    assert split.task_heldout("T-9", None) and not split.task_heldout("T-1", day(99))


def test_pairs_from_one_preference_event_are_not_duplicates() -> None:
    prompt = "LED-1 Money value type with integer minor units. " * 5
    chosen = "Money(amount_minor: int, currency) with allocate() spreading the remainder. " * 3

    def pair(rejected: str, n: int) -> Example:
        return Example(pass_="dpo", kind="preference", source="event:e1", prompt=[], key=prompt, chosen=chosen,
                       rejected=rejected, time=day(n))

    a = pair("Multiply Money by a float factor and round.", 1)
    b = pair("Store amounts as Decimal in major units.", 1)
    c = pair("Multiply Money by a float factor and round!", 2)
    assert {e.id for e in deduplicate([a, b, c], 0.9).kept} == {a.id, b.id}
    violating = Example(pass_="sft", kind="review", source="event:e2", prompt=[], key=f"{prompt}\nutcnow()",
                        completion="VIOLATION: use datetime.now(timezone.utc)", time=day(1))
    compliant = Example(pass_="sft", kind="review", source="event:e2", prompt=[], key=f"{prompt}\nnow(timezone.utc)",
                        completion="OK", time=day(1))
    assert len(deduplicate([violating, compliant], 0.9).kept) == 2


def test_dpo_pairs_follow_the_shared_pair_counting_rule() -> None:
    from flowloop.pipeline.behavior import signal_examples
    from flowloop.pipeline.inputs import assemble
    from flowloop.signals.events import ApprovalEvent, CorrectionEvent, PreferenceEvent, RewriteEvent, ScopeChangeEvent
    from flowloop.signals.pairs import count_pairs

    events = [
        PreferenceEvent(task="T", prompt="p", chosen="a", rejected=["b", "c", "d"], created_at=day(1)),
        RewriteEvent(task="T", prompt="p", agent_output="x", final="y", created_at=day(2)),
        CorrectionEvent(task="T", context="c", agent="x", correction="y", created_at=day(3)),
        ApprovalEvent(task="T", prompt="p", output="o", created_at=day(4)),
        ScopeChangeEvent(task="T", plan="a", approved_plan="b", created_at=day(5)),
        outcome("hotfix", 1),
    ]
    examples, _ = signal_examples(Settings(), assemble([], [], events))
    assert sum(1 for e in examples if e.pass_ == "dpo") == count_pairs(events) == 5

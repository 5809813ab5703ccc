"""Choosing the reward model's threshold for a target precision, on held-out scores."""

from __future__ import annotations

from flowloop.models.reward import choose_threshold, reward_input


def test_the_threshold_reaches_the_target_precision_with_the_most_recall() -> None:
    # scores are P(compliant); violations (False) should score low
    scores = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9]
    compliant = [False, False, True, False, True, False, True, True]
    chosen = choose_threshold(scores, compliant, target_precision=0.75)
    assert chosen["reached"] and chosen["precision"] >= 0.75
    assert chosen["recall"] == 0.75 and 0.4 < chosen["threshold"] < 0.6  # flags 0.1, 0.2, 0.3, 0.4
    strict = choose_threshold(scores, compliant, target_precision=1.0)
    assert strict["recall"] == 0.5 and 0.2 < strict["threshold"] < 0.3


def test_without_both_labels_the_default_is_used_and_said() -> None:
    chosen = choose_threshold([0.2, 0.4], [True, True], 0.8)
    assert chosen["threshold"] == 0.5 and not chosen["reached"] and "both labels" in chosen["note"]


def test_unreachable_precision_falls_back_to_the_most_precise_threshold() -> None:
    chosen = choose_threshold([0.1, 0.2, 0.3], [True, False, False], 0.99)
    assert not chosen["reached"] and chosen["precision"] == round(2 / 3, 4)


def test_the_classifier_input_puts_context_first() -> None:
    assert reward_input(" x ", " c ") == "Context:\nc\n\nWork:\nx"
    assert reward_input("x") == "Work:\nx"

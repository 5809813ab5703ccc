"""The reward-vs-reviewer metrics: AUROC, detection at a threshold, the precision-recall curve."""

from __future__ import annotations

from flowloop.evaluate.reward import auroc, detection, measure, pr_curve


def test_auroc_counts_violations_scored_below_compliant_work() -> None:
    assert auroc([0.1, 0.2, 0.8, 0.9], [False, False, True, True]) == 1.0
    assert auroc([0.9, 0.8, 0.2, 0.1], [False, False, True, True]) == 0.0
    assert auroc([0.5, 0.5], [False, True]) == 0.5 and auroc([0.3], [True]) == 0.5


def test_detection_flags_scores_below_the_threshold() -> None:
    found = detection([0.1, 0.6, 0.4, 0.9], [False, False, True, True], 0.5)
    assert (found["precision"], found["recall"]) == (0.5, 0.5) and found["auroc"] == 0.75


def test_measure_reports_intervals_and_a_curve() -> None:
    scores, labels = [0.1, 0.3, 0.35, 0.6, 0.8, 0.9], [False, False, True, False, True, True]
    result = measure("r", scores, labels, 0.5, samples=200, seed=1).to_json()
    assert set(result["metrics"]) == {"precision", "recall", "f1", "auroc"}  # the validation suite's
    low, high = result["ci"]["auroc"]
    assert low <= result["metrics"]["auroc"] <= high
    curve = pr_curve(scores, labels)
    assert curve[0]["recall"] == 0.0 and curve[-1]["recall"] == 1.0


def test_paired_differences_resample_both_reviewers_on_the_same_items() -> None:
    from flowloop.evaluate.reward import paired_differences

    labels = [False, False, False, True, True, True]
    ours = measure("r", [0.1, 0.2, 0.3, 0.7, 0.8, 0.9], labels, 0.5, samples=200, seed=1)
    theirs = measure("g", [0.6, 0.7, 0.2, 0.8, 0.9, 0.4], labels, 0.5, samples=200, seed=1)
    found = paired_differences(ours, theirs, samples=200, seed=1)
    assert found["recall"]["diff"] == round(1 - 1 / 3, 4) and found["auroc"]["diff"] > 0
    assert all(v["ci"][0] <= v["diff"] <= v["ci"][1] for v in found.values())
    same = paired_differences(ours, ours, samples=200, seed=1)
    assert all(v == {"diff": 0.0, "ci": [0.0, 0.0]} for v in same.values())  # paired: no noise at all

"""Bootstrap intervals: seeded, containing the estimate, shrinking with n, and the paired difference."""

from __future__ import annotations

import pytest

from flowloop.evaluate.stats import (
    binary_detection,
    bootstrap_intervals,
    mean,
    mean_intervals,
    paired_difference,
    set_score,
)


def test_set_score_known_values() -> None:
    s = set_score(["a", "b", "c"], ["a", "d"])
    assert (s.precision, s.recall) == (pytest.approx(1 / 3), 0.5)
    assert s.f1 == pytest.approx(0.4)
    assert set_score([], ["a"]).f1 == 0.0
    assert set_score(["a"], ["a"]).f1 == 1.0


def test_intervals_are_seeded_and_contain_the_mean() -> None:
    values = [0.0, 1.0, 0.5, 0.25, 0.75, 1.0, 0.0, 0.5, 0.13, 0.91, 0.37]
    one = mean_intervals({"m": values}, samples=200, seed=7)["m"]
    two = mean_intervals({"m": values}, samples=200, seed=7)["m"]
    other = mean_intervals({"m": values}, samples=200, seed=8)["m"]
    assert one == two
    assert one != other
    lo, hi = one
    assert 0.0 <= lo < mean(values) < hi <= 1.0


def test_intervals_shrink_with_more_examples() -> None:
    small = mean_intervals({"m": [0.0, 1.0] * 5}, samples=1000, seed=1)["m"]
    large = mean_intervals({"m": [0.0, 1.0] * 200}, samples=1000, seed=1)["m"]
    assert (large[1] - large[0]) < (small[1] - small[0]) / 3
    # A 95% percentile interval of a fair coin's mean over 400 flips is about +-0.05.
    assert large[0] == pytest.approx(0.45, abs=0.02) and large[1] == pytest.approx(0.55, abs=0.02)


def test_constant_and_tiny_samples_give_degenerate_intervals() -> None:
    assert mean_intervals({"m": [0.7] * 10}, 200, 1)["m"] == (pytest.approx(0.7), pytest.approx(0.7))
    assert mean_intervals({"m": [0.3]}, 200, 1)["m"] == (0.3, 0.3)
    assert mean_intervals({"m": []}, 200, 1)["m"] == (0.0, 0.0)


def test_statistic_sees_consistent_resamples() -> None:
    # precision and recall of one resample come from the same indices
    flagged = [True, True, False, False]
    actual = [True, False, True, False]

    def stat(idx):  # type: ignore[no-untyped-def]
        return binary_detection([flagged[i] for i in idx], [actual[i] for i in idx])

    ci = bootstrap_intervals(4, stat, samples=300, seed=3)
    assert set(ci) == {"precision", "recall", "f1", "accuracy"}
    for lo, hi in ci.values():
        assert 0.0 <= lo <= hi <= 1.0


def test_paired_difference_detects_a_consistent_small_gain_unpaired_would_miss() -> None:
    # Tasks vary a lot in difficulty, the candidate is better by 0.05 on every one.
    reference = [0.1, 0.9, 0.3, 0.7, 0.5, 0.2, 0.8, 0.4, 0.6, 0.0] * 2
    candidate = [r + 0.05 for r in reference]
    diff, (lo, hi) = paired_difference(candidate, reference, samples=1000, seed=1)
    assert diff == pytest.approx(0.05)
    assert lo > 0
    cand_lo = mean_intervals({"m": candidate}, 1000, 1)["m"][0]
    assert cand_lo < mean(reference)  # the unpaired rule would not call this a win


def test_paired_difference_of_noise_includes_zero() -> None:
    reference = [0.5, 0.6, 0.4, 0.5, 0.7, 0.3]
    candidate = [0.6, 0.5, 0.5, 0.4, 0.6, 0.4]
    _, (lo, hi) = paired_difference(candidate, reference, samples=1000, seed=1)
    assert lo < 0 < hi
    with pytest.raises(ValueError):
        paired_difference([1.0], [1.0, 2.0], 10, 1)


def test_binary_detection_known_case() -> None:
    out = binary_detection([True, False, True, False], [True, True, False, False])
    assert out["precision"] == 0.5 and out["recall"] == 0.5 and out["accuracy"] == 0.5
    assert binary_detection([False, False], [True, False])["precision"] == 0.0

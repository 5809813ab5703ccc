"""The reward threshold's calibration slice: the newest training tasks, whole, held aside from fitting."""

from __future__ import annotations

from flowloop.train.reward import calibration_split


def _row(task: str | None, hour: int | None, label: str = "compliant", rid: str = "") -> dict:
    time = None if hour is None else f"2024-01-01T{hour:02d}:00:00+00:00"
    return {"id": rid or f"{task}-{hour}", "text": "t", "label": label, "task": task, "time": time}


def test_the_newest_tasks_move_whole_and_untimed_rows_are_fitted_on() -> None:
    rows = [_row("A", 1), _row("B", 2), _row("C", 3), _row("D", 4, "violating"), _row("E", 5),
            _row("A", 9, "violating"),  # task A's newest row makes it the newest task
            _row(None, None, rid="loose")]
    fit, held = calibration_split(rows, 0.4)
    assert {r["task"] for r in held} == {"A", "E"}  # 2 of 5 timed tasks, A with both its rows
    assert {r["task"] for r in fit} == {"B", "C", "D", None}
    assert not {id(r) for r in fit} & {id(r) for r in held} and len(fit) + len(held) == len(rows)


def test_share_zero_holds_nothing_aside() -> None:
    rows = [_row("A", 1), _row("B", 2)]
    assert calibration_split(rows, 0.0) == (rows, [])


def test_a_labelled_row_with_a_bad_time_is_named_by_file_line_and_field(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    import pytest

    from flowloop.errors import DatasetError
    from flowloop.train.data import read_examples

    path = tmp_path / "reward_train.jsonl"
    path.write_text(json.dumps(_row("A", 1)) + "\n" + json.dumps({**_row("B", 2), "time": "yesterday"}) + "\n")
    with pytest.raises(DatasetError, match=r"reward_train\.jsonl:2: field 'time': time must be an ISO 8601"):
        read_examples(path, "reward")
    path.write_text(json.dumps({**_row("A", 1), "label": "fine"}) + "\n")
    with pytest.raises(DatasetError, match=r":1: field 'label': label must be 'compliant' or 'violating'"):
        read_examples(path, "reward")

"""Training data: thresholds, row validation, weights, fitting prompts into max_length."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers_train import dpo_row, small_repo, sft_row, write_dataset
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import DatasetError
from flowloop.models.fit import MARK, fit_messages, fit_rows, system_prompt_warning
from flowloop.train.data import MAX_COPIES, expand_by_weight, load_training_data

runner = CliRunner()


def test_weights_duplicate_drop_and_are_deterministic() -> None:
    rows = [{"id": "a", "weight": 0.0}, {"id": "b", "weight": 2.0}, {"id": "c"}, {"id": "d", "weight": 9.0}]
    out = [r["id"] for r in expand_by_weight(rows, seed=1)]
    assert out.count("a") == 0 and out.count("b") == 2 and out.count("c") == 1 and out.count("d") == MAX_COPIES
    halves = [{"id": str(i), "weight": 0.5} for i in range(400)]
    first = [r["id"] for r in expand_by_weight(halves, seed=7)]
    assert first == [r["id"] for r in expand_by_weight(halves, seed=7)]
    assert 150 < len(first) < 250  # half of them in expectation


def test_below_threshold_is_refused_with_count_and_threshold(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo", sft_threshold=50)
    write_dataset(repo, sft=[sft_row(i) for i in range(6)])
    with pytest.raises(DatasetError) as err:
        load_training_data(repo, "sft")
    assert "needs 50 documents" in err.value.message and "has 6" in err.value.message
    assert "--force" in err.value.hint
    forced = load_training_data(repo, "sft", force=True)
    assert forced.forced and len(forced.rows) == 6 and set(forced.rows[0]) == {"prompt", "completion"}
    result = runner.invoke(app, ["-C", str(repo.root), "train", "sft", "--max-steps", "1"])
    assert result.exit_code == 1
    assert "needs 50 documents and dataset v1 has 6" in result.output


def test_empty_corrupt_and_missing_datasets_are_clear_errors(tmp_path: Path) -> None:
    repo = small_repo(tmp_path / "repo")
    with pytest.raises(DatasetError, match="no dataset has been built yet"):
        load_training_data(repo, "sft")
    folder = write_dataset(repo, sft=[], sft_documents=10)
    with pytest.raises(DatasetError, match="no SFT training examples"):
        load_training_data(repo, "sft")
    bad = dict(sft_row(1), completion=[{"role": "user", "content": "x"}])
    (folder / "sft_train.jsonl").write_text(json.dumps(sft_row(0)) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(DatasetError) as err:
        load_training_data(repo, "sft")
    assert (err.value.line, err.value.field) == (2, "completion")
    (folder / "dpo_train.jsonl").write_text(json.dumps(dict(dpo_row(0), weight=-1)) + "\n" + "{oops\n")
    with pytest.raises(DatasetError) as err:
        load_training_data(repo, "dpo", force=True)
    assert (err.value.line, err.value.field) == (1, "weight")
    (folder / "manifest.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(DatasetError, match="corrupt manifest"):
        load_training_data(repo, "sft")


def test_long_prompts_are_shortened_in_the_middle_never_the_completion(base_checkpoint: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_checkpoint)
    long_context = " ".join(f"context word {i}" for i in range(400))
    row = sft_row(1)
    row["prompt"][1]["content"] = f"Task: refund flow.\n\n{long_context}\n\nWhich files and areas will this task touch?"
    short = sft_row(2)
    fitted, trimmed, left_out, _ = fit_rows([row, short, row], tokenizer, max_length=128)
    assert left_out == 0 and trimmed == 1 and fitted[1] is short and fitted[0] is fitted[2]
    user = fitted[0]["prompt"][1]["content"]
    assert user.startswith("Task: refund flow.") and user.endswith("touch?") and MARK in user
    assert fitted[0]["completion"] == row["completion"] and fitted[0]["prompt"][0] == row["prompt"][0]
    ids = tokenizer.apply_chat_template(fitted[0]["prompt"] + fitted[0]["completion"], tokenize=True, return_dict=True)
    assert len(ids["input_ids"]) <= 128


def _crowded(i: int) -> dict:
    """An example whose system prompt alone takes more than 128 tokens."""
    row = sft_row(i)
    row["prompt"][0]["content"] = "Our product convention, kept whole in every prompt. " * 16
    return row


def test_rows_with_no_room_for_the_answer_are_left_out(base_checkpoint: Path) -> None:
    from transformers import AutoTokenizer

    from flowloop.models.fit import fit_for_training

    tokenizer = AutoTokenizer.from_pretrained(base_checkpoint)
    crowded, short = _crowded(1), sft_row(2)
    fitted, trimmed, left_out, need = fit_rows([crowded, short, crowded], tokenizer, max_length=128)
    assert fitted == [short] and left_out == 2 and trimmed == 1
    whole = tokenizer.apply_chat_template(crowded["prompt"] + crowded["completion"], tokenize=True, return_dict=True)
    assert 128 < need <= len(whole["input_ids"])  # the trimmed prompt and the whole answer
    notes: list[str] = []
    rows, info = fit_for_training([crowded, short], tokenizer, 128, notes.append)
    assert rows == [short] and info["left_out"] == 1
    assert any("1 of 2 examples leave no room for their answer" in n for n in notes)
    # at the length it asked for, the row fits whole
    assert fit_rows([crowded], tokenizer, max_length=need)[2] == 0


def test_a_max_length_no_example_fits_is_a_clear_error_before_anything_is_written(tmp_path: Path) -> None:
    """`flow train sft --max-length 128` on data whose system prompt fills 128 tokens: the
    trainer used to die in its sampler (`num_samples=0`) with a traceback, leaving a run folder."""
    repo = small_repo(tmp_path / "repo")
    write_dataset(repo, sft=[_crowded(i) for i in range(6)])
    result = runner.invoke(app, ["-C", str(repo.root), "train", "sft", "--max-length", "128", "--max-steps", "1"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "num_samples" not in result.output
    assert "no example fits train.max_length = 128" in result.output
    assert "each of the 6 examples" in result.output and "--max-length" in result.output
    assert not (repo.state_dir / "runs").exists()


def test_inference_prompts_are_fitted_like_training_ones(base_checkpoint: Path) -> None:
    """A prompt plus the tokens to generate fits the trained length; one that fits is untouched."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_checkpoint)
    short = sft_row(2)["prompt"]
    assert fit_messages(short, tokenizer, 512, extra=96) is short
    long_prompt = [dict(m) for m in sft_row(1)["prompt"]]
    long_prompt[1]["content"] = "Task: refund flow.\n\n" + " ".join(f"w{i}" for i in range(600)) + "\n\nWhich files?"
    fitted = fit_messages(long_prompt, tokenizer, 256, extra=96)
    ids = tokenizer.apply_chat_template(fitted, tokenize=True, return_dict=True)["input_ids"]
    assert len(ids) + 96 <= 256
    assert fitted[1]["content"].startswith("Task: refund flow.") and fitted[1]["content"].endswith("Which files?")
    assert long_prompt[1]["content"].endswith("Which files?") and MARK not in long_prompt[1]["content"]  # input untouched


def test_a_system_prompt_that_crowds_out_the_task_is_warned_about(base_checkpoint: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_checkpoint)
    row = sft_row(1)
    assert system_prompt_warning([row], tokenizer, 512) is None
    long_system = {**row, "prompt": [{"role": "system", "content": "Our product convention. " * 60}, row["prompt"][1]]}
    warning = system_prompt_warning([row, long_system], tokenizer, 384)
    assert warning is not None and "of the 384 tokens" in warning and "[project] description" in warning


def test_the_loops_step_setting_is_a_cap_not_a_count(tmp_path: Path) -> None:
    """A small dataset trains ``train.epochs`` over its rows; a large one stops at the cap."""
    from flowloop.loop.policy import epoch_steps

    repo = small_repo(tmp_path / "repo")
    batch = repo.settings.train.batch_size * repo.settings.train.grad_accum
    write_dataset(repo, 1, sft=[sft_row(i) for i in range(10)])
    assert epoch_steps(repo, "sft", "v1") == -(-10 // batch)
    write_dataset(repo, 2, sft=[sft_row(i) for i in range(400)])
    assert epoch_steps(repo, "sft", "v2") == -(-400 // batch) > repo.settings.train.sft.loop_max_steps

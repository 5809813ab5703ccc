"""Fit each example into ``max_length`` by shortening its prompt, never its completion.

TRL truncates a too-long sequence from the end (``keep_start``), which cuts the completion, the
only part SFT learns from and the part DPO compares; with a context pack in every planning
prompt that would silently empty many examples. So before training, an example whose prompt
plus (longest) completion exceeds ``max_length`` tokens loses text from the MIDDLE of its
longest user message: the task at the top and the question at the bottom stay, the tail of the
context pack goes, marked with an ellipsis line. The system prompt is never touched, so a
``max_length`` too short for it leaves some rows no room for an answer: those are left out with a
warning, and a length that no row fits into is refused before training starts.
"""

from __future__ import annotations

from typing import Any

from flowloop.errors import TrainingError

MARK = "\n…\n"
COMPLETION_FIELDS = ("completion", "chosen", "rejected")


def fit_rows(rows: list[dict[str, Any]], tokenizer: Any, max_length: int) -> tuple[list[dict[str, Any]], int, int, int]:
    """Rows that fit ``max_length`` (prompt trimmed where needed), how many were trimmed, how many
    were left out, and the fewest tokens a left-out row needs (0 when none was).

    A row is left out when even its trimmed prompt (the system prompt is never cut) fills
    ``max_length``: no token of the answer would remain, and TRL drops such a row after
    truncation anyway, so an SFT run of only such rows dies inside the trainer."""
    fitted, trimmed, dropped, need = [], 0, 0, 0
    cache: dict[int, tuple[dict[str, Any], int]] = {}  # duplicated (weighted) rows are the same object
    for row in rows:
        key = id(row)
        if key not in cache:
            cache[key] = _fit(row, tokenizer, max_length)
            trimmed += cache[key][0] is not row
        new, needed = cache[key]
        if needed:
            dropped += 1
            need = min(need or needed, needed)
        else:
            fitted.append(new)
    return fitted, trimmed, dropped, need


# Above this share of ``max_length`` the system prompt leaves too little room for the task's
# context: on the example, a 307-token description in 384 left most examples with a few words.
SYSTEM_SHARE_WARNING = 0.4


def system_prompt_warning(rows: list[dict[str, Any]], tokenizer: Any, max_length: int) -> str | None:
    """A warning when the longest system prompt takes a large share of every example's tokens."""
    systems = {m["content"] for row in rows for m in row.get("prompt", []) if m.get("role") == "system"}
    if not systems:
        return None
    longest = max(len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in systems)
    if longest < SYSTEM_SHARE_WARNING * max_length:
        return None
    return (f"the system prompt takes {longest} of the {max_length} tokens of every example, so prompts lose "
            "most of their task context; shorten [project] description (it opens every prompt) or raise "
            "train.max_length")


def fit_for_training(
    rows: list[dict[str, Any]], tokenizer: Any, max_length: int, notify: Any = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows fitted into ``max_length`` and what the manifest records about it (both passes).

    Rows with no room left for their answer are left out with a warning; when that is every
    row, a :class:`TrainingError` names ``train.max_length`` and the length that would do."""
    fitted, trimmed, dropped, need = fit_rows(rows, tokenizer, max_length)
    warning = system_prompt_warning(rows, tokenizer, max_length)
    if rows and not fitted:
        raise TrainingError(
            f"no example fits train.max_length = {max_length}: with its prompt shortened as far as it goes "
            f"(the system prompt is kept whole), each of the {len(rows)} examples still fills all "
            f"{max_length} tokens and leaves none for its answer",
            field="train.max_length",
            hint=f"raise train.max_length (--max-length) to at least {need}; "
            "a shorter [project] description (it opens every prompt) leaves more room too",
        )
    if notify and warning:
        notify(f"warning: {warning}")
    if notify and dropped:
        notify(f"warning: {dropped} of {len(rows)} examples leave no room for their answer in "
               f"train.max_length = {max_length} and are left out (the shortest of them needs {need})")
    return fitted, {"trimmed_prompts": trimmed, "left_out": dropped, "warning": warning}


def _prompt_length(tokenizer: Any, messages: list[dict[str, str]]) -> int:
    """Tokens before the answer's first one: the prompt and the assistant header."""
    encoded = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, return_dict=True)
    return len(encoded["input_ids"])


def _length(tokenizer: Any, messages: list[dict[str, str]]) -> int:
    return len(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"])


def _fit(row: dict[str, Any], tokenizer: Any, max_length: int) -> tuple[dict[str, Any], int]:
    """The row with its prompt fitted, and 0, or the tokens it needs when no answer token fits."""
    completions = [row[name] for name in COMPLETION_FIELDS if name in row]
    longest = max(completions, key=lambda msgs: sum(len(m["content"]) for m in msgs))
    prompt = [dict(m) for m in row["prompt"]]
    extra = _length(tokenizer, prompt + longest) - _length(tokenizer, prompt)
    fitted = fit_messages(prompt, tokenizer, max_length, extra)
    if fitted is prompt:
        return row, 0
    before_answer = _prompt_length(tokenizer, fitted)
    # one token of the answer at least must remain after the trainer truncates to max_length
    needed = _length(tokenizer, fitted) + extra if before_answer >= max_length else 0
    return {**row, "prompt": fitted}, needed


def fit_messages(prompt: list[dict[str, str]], tokenizer: Any, max_length: int, extra: int = 0) -> list[dict[str, str]]:
    """``prompt`` trimmed in the middle of its longest user message so that it plus ``extra`` tokens fit.

    Returns ``prompt`` itself when it already fits. Training uses it with ``extra`` = the
    completion; inference with ``extra`` = the tokens it will generate, so a model is asked with
    prompts shaped like the ones it learned from.
    """
    total = _length(tokenizer, prompt) + extra
    if total <= max_length:
        return prompt
    prompt = [dict(m) for m in prompt]
    users = [i for i, m in enumerate(prompt) if m["role"] == "user"]
    if not users:
        return prompt
    target = max(users, key=lambda i: len(prompt[i]["content"]))
    ids = tokenizer(prompt[target]["content"], add_special_tokens=False)["input_ids"]
    budget = len(ids) - (total - max_length) - 4  # tokens the user message may keep; 4 for the mark
    for _ in range(4):  # re-tokenizing the joined text can shift a few tokens; shrink until it fits
        keep = max(budget, 2)
        head = keep * 2 // 3  # keep more of the start (the task) than of the end (the question)
        tail = keep - head
        prompt[target]["content"] = (tokenizer.decode(ids[:head]).rstrip() + MARK
                                     + tokenizer.decode(ids[len(ids) - tail:]).lstrip())
        total = _length(tokenizer, prompt) + extra
        if total <= max_length or keep <= 2:
            break
        budget = keep - (total - max_length)
    return prompt

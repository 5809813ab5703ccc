"""How examples are put into batches: padded (TRL's default), packed, or grouped by length.

On the example's SFT data the examples are 150-512 tokens (mean ~300), so a random batch of
four pads to its longest member and a large share of every step is padding. Two ways out,
both measured in ``benchmarks/training.py``:

- ``packed``: TRL's best-fit-decreasing packing, padding-free. Several examples share one
  row of up to ``max_length`` tokens; there is no attention mask, and the position ids restart
  at 0 at each example. transformers reads the restarts as sequence boundaries and builds a
  block-diagonal causal mask for SDPA/eager attention (``masking_utils.find_packed_sequence_indices``),
  so a packed example never attends to its neighbours (the test compares logits). Labels are
  built before packing, so the prompt tokens stay at -100 (completion-only loss), and the
  collator also masks each example's first token so no example is trained to follow the
  previous one. A step then holds more examples than ``batch_size``.
- ``grouped``: batches of similar lengths, little padding, still ``batch_size`` examples a
  step (SFT: the Trainer's ``LengthGroupedSampler``; DPO: rows pre-ordered by
  :func:`group_pairs`). DPO supports only this one: TRL 1.16 turns DPO's ``padding_free`` off
  ("temporarily unavailable"), so ``packed`` means ``grouped`` there.
"""

from __future__ import annotations

from typing import Any, Literal

Batching = Literal["padded", "packed", "grouped"]


def sft_batching_args(batching: Batching) -> dict[str, Any]:
    """``SFTConfig`` arguments for ``batching``."""
    if batching == "packed":
        # No padding at all, and no attention mask for the Trainer's non-padding count (it would
        # fall back to `input_ids != pad`, and SmolLM2's pad is its end-of-turn token): count all.
        return {"packing": True, "packing_strategy": "bfd", "padding_free": True,
                "include_num_input_tokens_seen": "all"}
    if batching == "grouped":
        return {"train_sampling_strategy": "group_by_length"}
    return {}


def dpo_batching_args(batching: Batching) -> dict[str, Any]:
    """``DPOConfig`` arguments for ``batching`` (``packed`` falls back to ``grouped``, see above).

    Grouped DPO rows come already in batch order (:func:`group_pairs`), so the sampler must
    keep that order: the Trainer's own grouping reads ``input_ids`` (DPO rows have
    ``prompt_ids``/``chosen_ids``) and drops extra columns such as a ``length``."""
    if batching == "padded":
        return {}
    return {"train_sampling_strategy": "sequential"}


def group_pairs(rows: list[dict[str, Any]], tokenizer: Any, batch_size: int, seed: int) -> list[dict[str, Any]]:
    """Preference rows reordered so each run of ``batch_size`` has similar lengths, batches shuffled.

    The length of a pair is its prompt plus the longer answer, in tokens: DPO pads chosen and
    rejected to the longest of the batch. Sorting all rows and then shuffling whole batches (with
    ``seed``) keeps padding low without feeding the model short-to-long in order."""
    import random

    lengths: dict[int, int] = {}
    for row in rows:
        if id(row) not in lengths:  # weighted rows are the same object repeated
            lengths[id(row)] = max(
                len(tokenizer.apply_chat_template(row["prompt"] + row[side], tokenize=True, return_dict=True)["input_ids"])
                for side in ("chosen", "rejected")
            )
    ordered = sorted(rows, key=lambda row: lengths[id(row)])
    batches = [ordered[i:i + batch_size] for i in range(0, len(ordered), batch_size)]
    random.Random(seed).shuffle(batches)
    return [row for batch in batches for row in batch]

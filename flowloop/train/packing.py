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
- ``grouped``: the Trainer's ``LengthGroupedSampler``; batches of similar lengths, little
  padding, still ``batch_size`` examples a step. DPO supports only this one: TRL 1.16 turns
  DPO's ``padding_free`` off ("temporarily unavailable"), so ``packed`` means ``grouped`` there.
"""

from __future__ import annotations

from typing import Any, Literal

Batching = Literal["padded", "packed", "grouped"]
LENGTH_COLUMN = "length"


def sft_batching_args(batching: Batching) -> dict[str, Any]:
    """``SFTConfig`` arguments for ``batching``."""
    if batching == "packed":
        return {"packing": True, "packing_strategy": "bfd", "padding_free": True}
    if batching == "grouped":
        return {"train_sampling_strategy": "group_by_length"}
    return {}


def dpo_batching_args(batching: Batching) -> dict[str, Any]:
    """``DPOConfig`` arguments for ``batching`` (``packed`` falls back to ``grouped``, see above);
    the rows need a ``length`` column (:func:`with_pair_lengths`)."""
    if batching == "padded":
        return {}
    return {"train_sampling_strategy": "group_by_length", "length_column_name": LENGTH_COLUMN}


def with_pair_lengths(rows: list[dict[str, Any]], tokenizer: Any) -> list[dict[str, Any]]:
    """Preference rows with a ``length`` column: prompt plus the longer answer, in tokens.

    The Trainer infers lengths from ``input_ids``, which DPO rows do not have; DPO pads chosen
    and rejected to the longest of the batch, so the longer answer is the one that counts."""
    out, cache = [], {}
    for row in rows:
        key = id(row)  # weighted rows are the same object repeated
        if key not in cache:
            lengths = [
                len(tokenizer.apply_chat_template(row["prompt"] + row[side], tokenize=True, return_dict=True)["input_ids"])
                for side in ("chosen", "rejected")
            ]
            cache[key] = {**row, LENGTH_COLUMN: max(lengths)}
        out.append(cache[key])
    return out

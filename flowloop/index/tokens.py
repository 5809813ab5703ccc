"""Counting tokens with the embedder's own tokenizer, locally (``tokenizers`` + tokenizer.json).

Budgets (context packs) and chunk sizes are measured in the tokens of the model that reads them,
without truncation and without the special tokens, and with no download: the tokenizer file sits
in the model folder. One instance is cached per file, so repeated calls cost nothing to load.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from flowloop.errors import ModelNotFoundError

if TYPE_CHECKING:
    from tokenizers import Tokenizer


class TokenCounter:
    """``count`` and ``spans`` of a text, in model tokens."""

    def __init__(self, tokenizer: "Tokenizer") -> None:
        self._tok = tokenizer
        self._tok.no_truncation()
        self._tok.no_padding()

    def count(self, text: str) -> int:
        return len(self._tok.encode(text, add_special_tokens=False).ids) if text else 0

    def count_many(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._tok.encode_batch(texts, add_special_tokens=False)]

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character (start, end) of every token, for cutting a text at a token count."""
        return list(self._tok.encode(text, add_special_tokens=False).offsets)


@lru_cache(maxsize=4)
def counter_for(model_dir: Path) -> TokenCounter:
    """The token counter of a model folder (its tokenizer.json)."""
    from tokenizers import Tokenizer

    path = model_dir / "tokenizer.json"
    if not path.is_file():
        raise ModelNotFoundError(
            "the model folder has no tokenizer.json, needed to count tokens locally",
            path=model_dir,
            hint="use a sentence-transformers model saved with a fast tokenizer (tokenizer.json)",
        )
    return TokenCounter(Tokenizer.from_file(str(path)))

"""Counts in messages: "1 document", "2 documents" (every message that says how many uses it)."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``count`` and the noun in the right number: ``plural(1, "document")`` -> ``"1 document"``."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"

"""The three tokenizers keep exactly the outputs their callers had before they shared a module."""

from __future__ import annotations

from flowloop.index.ranking import fts_query
from flowloop.pipeline.similar import tokens
from flowloop.text import QUERY, REVIEW, TASK

TEXT = ("How do we store Money? Use integer minor_units in src/app/money.py; the CI is green. "
        "Añadir café, 2 X-ray tests at v1.2 with tenant_id.")


def test_query_words_keep_unicode_and_snake_case_whole_once_each() -> None:
    expected = ["store", "money", "use", "integer", "minor_units", "src", "app", "py", "ci", "green", "añadir",
                "café", "2", "x", "ray", "tests", "v1", "tenant_id"]
    assert QUERY.distinct(TEXT) == expected
    assert fts_query(TEXT) == " OR ".join(f'"{w}"' for w in expected)


def test_task_tokens_split_snake_case_and_drop_commit_verbs() -> None:
    assert tokens(TEXT) == TASK.tokens(TEXT) == [
        "how", "store", "money", "integer", "minor", "units", "src", "app", "money", "py", "ci", "green", "adir",
        "caf", "ray", "tests", "v1", "tenant", "id",
    ]
    assert TASK.tokens("Add refunds endpoint using the ledger") == ["refunds", "endpoint", "ledger"]


def test_review_words_are_three_letters_or_more_with_underscores() -> None:
    assert REVIEW.tokens(TEXT) == ["store", "money", "integer", "minor_units", "src", "app", "money", "green", "adir",
                                   "caf", "ray", "tests", "tenant_id"]

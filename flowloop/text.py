"""Text tokenizing for lexical matching: one module, one tokenizer per use, each with its stop words.

Three places compare texts by their words, and each was tuned on its own data, so each keeps its
own rules here rather than a compromise that would move their numbers:

- :data:`QUERY`: the words of a search query sent to SQLite FTS5 (``\\w+``, so non-ASCII words
  and ``snake_case`` names stay whole, as the FTS5 tokenizer indexed them); only the words that
  match nearly every chunk are dropped, since BM25 gives them ~0 and they cost time;
- :data:`TASK`: task descriptions compared by the as-of BM25 of similar past tasks
  (``pipeline/similar.py``): ASCII letters and digits, ``snake_case`` and paths split apart, and
  the verbs every commit message starts with (``add``, ``use``) dropped;
- :data:`REVIEW`: the TF-IDF of the upward-flow review (``pilr/review.py``), which looks for
  recurring patterns in prose: words of three or more characters starting with a letter, with a
  longer list of function words.

This module imports nothing from flowloop, so every layer may use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


QUERY_STOPWORDS = _words(
    "a an and are as at be but by can do does for from has have how i if in into is it its me my not of on or"
    " our should so that the their them then there these this to was we what when where which who why will"
    " with would you your"
)
TASK_STOPWORDS = _words(
    "a an and are as at be by for from has have in into is it its of on or that the this to was "
    "were will with when without not no do does via per we our use using add adds added"
)
REVIEW_STOPWORDS = _words(
    """the and for with that this from into was were are not but have has had when then than
    what which who how our their there they them its also been being after before because
    while where can could would should will just only more most some such each other over
    under again did does done use used using any all one two per via out off yet"""
)


@dataclass(frozen=True)
class Tokenizer:
    """Lowercases, optionally splits ``snake_case``, finds ``pattern``, drops short and stop words."""

    pattern: re.Pattern[str]
    stopwords: frozenset[str]
    min_chars: int = 1
    split_underscores: bool = False

    def tokens(self, text: str) -> list[str]:
        """Every token of ``text`` in order, repeats kept (term frequencies count them)."""
        text = text.lower()
        if self.split_underscores:
            text = text.replace("_", " ")
        return [t for t in self.pattern.findall(text) if len(t) >= self.min_chars and t not in self.stopwords]

    def distinct(self, text: str) -> list[str]:
        """The tokens of ``text`` once each, in order of first appearance."""
        return list(dict.fromkeys(self.tokens(text)))


QUERY = Tokenizer(re.compile(r"\w+"), QUERY_STOPWORDS)
TASK = Tokenizer(re.compile(r"[a-z0-9]+"), TASK_STOPWORDS, min_chars=2, split_underscores=True)
REVIEW = Tokenizer(re.compile(r"[a-z][a-z0-9_]{2,}"), REVIEW_STOPWORDS)


__all__ = ["QUERY", "QUERY_STOPWORDS", "REVIEW", "REVIEW_STOPWORDS", "TASK", "TASK_STOPWORDS", "Tokenizer"]

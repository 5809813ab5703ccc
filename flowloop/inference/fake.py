"""A deterministic model driven by tables: the fake for metric tests and dry runs.

It implements :class:`flowloop.inference.Model` like every real backend and is registered in
the same registry, as ``fake`` (``[eval] backend = "fake"`` evaluates without loading a model).
A test can state "this model answers X to task Y and prefers completion Z" and check that the
suites turn that into the right precision, accuracy or win rate, including cases where it must
lose; a test that needs its own tables registers a factory of its own the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flowloop.inference.model import Scored
from flowloop.types import Message

if TYPE_CHECKING:
    from flowloop.repo import FlowRepo

ScoreKey = str | tuple[str, str]


def _last_user(messages: list[Message]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return message.get("content", "")
    return ""


def _prompt_text(messages: list[Message]) -> str:
    return "\n".join(m.get("content", "") for m in messages)


@dataclass
class TableScorer:
    """Answers and log-likelihoods looked up by substring.

    ``answers``: a key found in the last user message -> the generated text (first match wins).
    ``samples``: a key found in the last user message -> the drafts ``sample`` draws from.
    ``scores``: per-token log-probability of a completion; a key is either a substring of the
    completion, or ``(prompt_substring, completion_substring)`` to depend on the prompt too.
    Tokens are whitespace-separated words, so length normalisation is observable. The batched
    calls ask the single ones, so a subclass that overrides ``generate`` sees every prompt.
    """

    version: str = "fake"
    answers: Mapping[str, str] = field(default_factory=dict)
    scores: Mapping[ScoreKey, float] = field(default_factory=dict)
    samples: Mapping[str, Sequence[str]] = field(default_factory=dict)
    default_answer: str = ""
    default_score: float = -5.0
    calls: int = 0
    name: str = "fake"

    def generate(self, messages: list[Message], max_new_tokens: int) -> str:
        self.calls += 1
        question = _last_user(messages)
        for key, answer in self.answers.items():
            if key in question:
                return answer
        return self.default_answer

    def generate_many(self, conversations: Sequence[list[Message]], max_new_tokens: int) -> list[str]:
        return [self.generate(messages, max_new_tokens) for messages in conversations]

    def sample(self, messages: list[Message], max_new_tokens: int, n: int, *, seed: int = 0,
               temperature: float = 0.8, top_p: float = 0.95) -> list[str]:
        """``samples[key]`` (a key found in the last user message) cycled from ``seed``; the
        table answer repeated when no key matches, so a caller's dedup is observable."""
        question = _last_user(messages)
        for key, drafts in self.samples.items():
            if key in question and drafts:
                self.calls += 1
                return [drafts[(seed + i) % len(drafts)] for i in range(n)]
        return [self.generate(messages, max_new_tokens) for _ in range(n)]

    def loglikelihood(self, prompt_messages: list[Message], completion_text: str, *, end_of_turn: bool = True) -> Scored:
        self.calls += 1
        n_tokens = max(1, len(completion_text.split()))
        prompt = _prompt_text(prompt_messages)
        per_token = self.default_score
        for key, value in self.scores.items():
            if isinstance(key, tuple):
                if key[0] in prompt and key[1] in completion_text:
                    per_token = value
                    break
            elif key in completion_text:
                per_token = value
                break
        return per_token * n_tokens, n_tokens

    def loglikelihood_many(self, pairs: Sequence[tuple[list[Message], str]], *, end_of_turn: bool = True) -> list[Scored]:
        return [self.loglikelihood(prompt, text, end_of_turn=end_of_turn) for prompt, text in pairs]


def create(repo: "FlowRepo", which: str) -> TableScorer:
    """The registered ``fake`` backend: empty tables, named after the model asked for."""
    return TableScorer(version=which)

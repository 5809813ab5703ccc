"""OpenAI-compatible backend: any server with ``POST {url}/chat/completions`` (vLLM, Ollama,
llama.cpp, ``flow serve-model``), through :class:`flowloop.inference.openai_client.OpenAIClient`.

``[inference] url`` is the base URL as the OpenAI SDK takes it (``http://host:8000/v1``);
``model`` is the served model's name (default: the ``--model`` asked for, so a vLLM server with
one LoRA adapter per version can route ``v3``); ``api_key`` is sent as a bearer token.
Decoding is greedy (``temperature`` 0) like the in-process backend, except in ``sample``.

Scoring (what the evaluation suites need) asks ``/v1/completions`` for the log-probabilities of
the prompt itself (``echo``), so the chat must be rendered to text the way the model saw it in
training: with the chat template of ``[train] base_model``'s tokenizer (loaded, alone, on the
first score), or a ``render`` function given by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flowloop.errors import InferenceError
from flowloop.inference.model import Scored
from flowloop.inference.openai_client import OpenAIClient
from flowloop.repo import FlowRepo
from flowloop.types import Message

# render(messages, add_generation_prompt) -> the chat as the model's prompt text.
Render = Callable[[list[Message], bool], str]


class OpenAIBackend:
    """A served model behind the model protocol."""

    name = "openai"

    def __init__(
        self,
        url: str,
        model: str,
        api_key: str = "",
        timeout_s: float = 120.0,
        transport: Any = None,
        render: Render | None = None,
    ) -> None:
        if not url.strip():
            raise InferenceError("the openai backend needs a server URL", field="inference.url",
                                 hint="set [inference] url, e.g. http://127.0.0.1:8766/v1 (`flow serve-model`)")
        self.client = OpenAIClient(url, api_key, timeout_s, transport=transport)
        self.version = model
        self._render = render

    @property
    def url(self) -> str:
        return self.client.base

    def generate(self, messages: list[Message], max_new_tokens: int) -> str:
        return self.client.chat(self.version, messages, max_new_tokens).strip()

    def generate_many(self, conversations: Sequence[list[Message]], max_new_tokens: int) -> list[str]:
        return [self.generate(messages, max_new_tokens) for messages in conversations]

    def sample(self, messages: list[Message], max_new_tokens: int, n: int, *, seed: int = 0,
               temperature: float = 0.8, top_p: float = 0.95) -> list[str]:
        # One request per draft, each with its own seed: ``n`` > 1 in one request is not served
        # by every OpenAI-compatible server (llama.cpp, Ollama), a seed per request is.
        return [self.client.chat(self.version, messages, max_new_tokens, temperature=temperature, top_p=top_p,
                                 seed=seed + i).strip() for i in range(n)]

    def render(self, messages: list[Message], add_generation_prompt: bool) -> str:
        if self._render is None:
            raise InferenceError("the openai backend cannot score without the model's chat template",
                                 field="train.base_model",
                                 hint="set [train] base_model to the served model's family (its tokenizer renders the chat)")
        return self._render(messages, add_generation_prompt)

    def loglikelihood(self, prompt_messages: list[Message], completion_text: str, *, end_of_turn: bool = True) -> Scored:
        prompt = self.render(prompt_messages, True)
        if not end_of_turn:
            return self.client.score(self.version, prompt + completion_text, len(prompt))
        full = self.render([*prompt_messages, {"role": "assistant", "content": completion_text}], False)
        return self.client.score(self.version, full, _common_prefix(prompt, full))

    def loglikelihood_many(self, pairs: Sequence[tuple[list[Message], str]], *, end_of_turn: bool = True) -> list[Scored]:
        return [self.loglikelihood(prompt, text, end_of_turn=end_of_turn) for prompt, text in pairs]


def _common_prefix(a: str, b: str) -> int:
    """Where ``b`` leaves ``a``: the assistant turn starts there (a template may render the
    generation prompt slightly differently from the start of a written turn)."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def template_render(repo: FlowRepo) -> Render:
    """Renders with the chat template of ``[train] base_model``'s tokenizer, loaded on first use."""
    tokenizer: list[Any] = []

    def render(messages: list[Message], add_generation_prompt: bool) -> str:
        if not tokenizer:
            from transformers import AutoTokenizer

            from flowloop.models.base_model import resolve_model_name

            tokenizer.append(AutoTokenizer.from_pretrained(resolve_model_name(repo.settings.train.base_model, repo.settings)))
        return str(tokenizer[0].apply_chat_template(messages, add_generation_prompt=add_generation_prompt, tokenize=False))

    return render


def create(repo: FlowRepo, which: str) -> OpenAIBackend:
    inference = repo.settings.inference
    return OpenAIBackend(inference.url, inference.model or which, inference.api_key, inference.timeout_s,
                         render=template_render(repo))

"""OpenAI-compatible backend: any server with ``POST {url}/chat/completions`` (vLLM, Ollama,
llama.cpp, ``flow serve-model``).

``[inference] url`` is the base URL as the OpenAI SDK takes it (``http://host:8000/v1``);
``model`` is the served model's name (default: the ``--model`` asked for, so a vLLM server with
one LoRA adapter per version can route ``v3``); ``api_key`` is sent as a bearer token.
Decoding is greedy (``temperature`` 0) like the in-process backend.
"""

from __future__ import annotations

from typing import Any

from flowloop.errors import InferenceError
from flowloop.repo import FlowRepo

Message = dict[str, str]


class OpenAIBackend:
    """A chat-completions client over httpx."""

    name = "openai"

    def __init__(self, url: str, model: str, api_key: str = "", timeout_s: float = 120.0, transport: Any = None) -> None:
        if not url.strip():
            raise InferenceError("the openai backend needs a server URL", field="inference.url",
                                 hint="set [inference] url, e.g. http://127.0.0.1:8766/v1 (`flow serve-model`)")
        self.url = url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.transport = transport

    def chat(self, messages: list[Message], max_new_tokens: int) -> str:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        body = {"model": self.model, "messages": messages, "max_tokens": max_new_tokens, "temperature": 0}
        endpoint = f"{self.url}/chat/completions"
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self.transport) as client:
                response = client.post(endpoint, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise InferenceError(f"cannot reach {endpoint}: {exc}", field="inference.url",
                                 hint="is the server running? check [inference] url") from exc
        if response.status_code != 200:
            raise InferenceError(f"{endpoint} answered HTTP {response.status_code}: {response.text[:300]}",
                                 field="inference.url", hint="check [inference] model and api_key")
        try:
            return str(response.json()["choices"][0]["message"]["content"]).strip()
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise InferenceError(f"{endpoint} sent a reply that is not a chat completion: {response.text[:300]}",
                                 field="inference.url") from exc


def create(repo: FlowRepo, which: str) -> OpenAIBackend:
    inference = repo.settings.inference
    return OpenAIBackend(inference.url, inference.model or which, inference.api_key, inference.timeout_s)

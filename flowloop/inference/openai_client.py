"""The one client of OpenAI-compatible servers (vLLM, Ollama, llama.cpp, ``flow serve-model``).

Used by the ``openai`` inference backend and by agentic curation (``[dataset] curate_url``), so
both build the endpoint the same way and report a server that does not answer in the same
words. Two calls: a chat completion (generation) and a text completion with ``echo`` and
``logprobs`` (the prompt's own token log-probabilities, which is how a served model is scored
without generating, as lm-evaluation-harness does against such servers).

The URL is the base the OpenAI SDK takes (``http://host:8000/v1``); a bare host gets ``/v1``
and a full ``.../chat/completions`` endpoint is accepted too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from flowloop.errors import FlowError, InferenceError
from flowloop.types import Message

ENDPOINT_SUFFIXES = ("/chat/completions", "/completions")


def base_url(url: str) -> str:
    """The API base of ``url``: a known endpoint suffix dropped, ``/v1`` added to a bare host."""
    base = url.strip().rstrip("/")
    for suffix in ENDPOINT_SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    if urlsplit(base).path in ("", "/"):
        base = f"{base}/v1"
    return base


def chat_url(url: str) -> str:
    """The chat-completions endpoint of an OpenAI-compatible base URL."""
    return f"{base_url(url)}/chat/completions"


def completions_url(url: str) -> str:
    """The (text) completions endpoint of an OpenAI-compatible base URL."""
    return f"{base_url(url)}/completions"


class OpenAIClient:
    """POSTs to one server. Failures raise ``error`` (an :class:`InferenceError` unless a caller
    reports in its own terms, e.g. curation's ``DatasetError``) naming ``field``, the setting
    that holds the URL; the hints point at ``url_setting`` when the server is silent and at
    ``settings`` when it refuses."""

    def __init__(
        self,
        url: str,
        api_key: str = "",
        timeout_s: float = 120.0,
        *,
        transport: Any = None,
        label: str = "inference server",
        field: str = "inference.url",
        url_setting: str = "[inference] url",
        settings: str = "[inference] url, model and api_key",
        error: type[FlowError] = InferenceError,
    ) -> None:
        self.base = base_url(url)
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.transport = transport
        self.label, self.field, self.error = label, field, error
        self.url_setting, self.settings = url_setting, settings

    def _post(self, endpoint: str, body: dict[str, Any], kind: str) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self.transport) as client:
                response = client.post(endpoint, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise self.error(f"cannot reach the {self.label} at {endpoint} (unreachable: {exc})", field=self.field,
                             hint=f"is the server running? check {self.url_setting}") from exc
        if response.status_code != 200:
            raise self.error(f"the {self.label} at {endpoint} answered HTTP {response.status_code}: {response.text[:300]}",
                             field=self.field, hint=f"check {self.settings}")
        try:
            return response.json()
        except ValueError as exc:
            raise self.error(f"the {self.label} at {endpoint} sent a reply that is not a {kind}: {response.text[:300]}",
                             field=self.field, hint="the server must speak the OpenAI API") from exc

    def chat(self, model: str, messages: Sequence[Message], max_tokens: int, *, temperature: float = 0.0,
             top_p: float | None = None, seed: int | None = None) -> str:
        """The reply text of a chat completion: greedy (``temperature`` 0) unless asked to sample."""
        endpoint = f"{self.base}/chat/completions"
        body: dict[str, Any] = {"model": model, "messages": list(messages), "max_tokens": max_tokens,
                                "temperature": temperature}
        if top_p is not None:
            body["top_p"] = top_p
        if seed is not None:
            body["seed"] = seed
        data = self._post(endpoint, body, "chat completion")
        try:
            return str(data["choices"][0]["message"]["content"])
        except (KeyError, IndexError, TypeError) as exc:
            raise self.error(f"the {self.label} at {endpoint} sent a reply that is not a chat completion: {str(data)[:300]}",
                             field=self.field, hint="the server must speak the OpenAI chat-completions API") from exc

    def prompt_logprobs(self, model: str, prompt: str) -> list[tuple[int, float | None]]:
        """``(character offset, log-probability)`` of every token of ``prompt``, as the server
        tokenizes it (the first token has none: nothing precedes it)."""
        endpoint = f"{self.base}/completions"
        body = {"model": model, "prompt": prompt, "max_tokens": 1, "temperature": 0, "echo": True, "logprobs": 1}
        data = self._post(endpoint, body, "completion")
        try:
            logprobs = data["choices"][0]["logprobs"]
            offsets, values = list(logprobs["text_offset"]), list(logprobs["token_logprobs"])
        except (KeyError, IndexError, TypeError) as exc:
            raise self.error(f"the {self.label} at {endpoint} sent no prompt log-probabilities: {str(data)[:300]}",
                             field=self.field,
                             hint="scoring needs a server that answers /v1/completions with echo and logprobs (vLLM does)") from exc
        if len(offsets) != len(values):
            raise self.error(f"the {self.label} at {endpoint} sent {len(offsets)} offsets for {len(values)} log-probabilities",
                             field=self.field)
        return [(int(o), None if v is None else float(v)) for o, v in zip(offsets, values)]

    def score(self, model: str, text: str, start: int) -> tuple[float, int]:
        """Sum of log-probabilities of the tokens of ``text`` from character ``start`` on, and
        their count (the token the server generated after ``text`` is not counted)."""
        total, count = 0.0, 0
        for offset, value in self.prompt_logprobs(model, text):
            if start <= offset < len(text):
                if value is None:
                    raise self.error(f"the {self.label} sent no log-probability for the token at character {offset}",
                                     field=self.field)
                total += value
                count += 1
        return total, count


__all__ = ["OpenAIClient", "base_url", "chat_url", "completions_url"]

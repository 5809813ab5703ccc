"""An OpenAI-compatible endpoint serving the specialist (``flow serve-model``).

``POST /v1/chat/completions``, ``POST /v1/completions`` (with ``echo`` and ``logprobs``, what the
``openai`` backend scores with; see ``completions``) and ``GET /v1/models``: enough for the
``openai`` backend, the OpenAI SDKs and tools that speak that API, so a team can put the
specialist on one machine and point everyone's ``[inference] url`` at it. Generation is greedy and serialised by a lock (one
model, one request at a time); a configured API key is required as a bearer token, compared in
constant time (``flowloop.bearer``).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flowloop.bearer import bearer_matches
from flowloop.types import Message


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str


class ChatRequest(BaseModel):
    """The fields we use; sampling options are accepted and ignored (decoding is greedy)."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)


class CompletionRequest(BaseModel):
    """A text completion; ``echo`` + ``logprobs`` is how a client scores a prompt's own tokens."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    prompt: str = Field(min_length=1)
    max_tokens: int = Field(default=16, ge=0)
    echo: bool = False
    logprobs: int | None = Field(default=None, ge=0, le=5)


def create_app(loaded: Any, name: str | None = None, api_key: str = "", max_new_tokens: int = 256) -> Any:
    """A FastAPI app answering with ``loaded.generate`` (a :class:`LoadedModel`, or any
    :class:`flowloop.inference.Model`)."""
    from fastapi import FastAPI, Header, HTTPException

    app = FastAPI(title="flowloop specialist", docs_url=None, redoc_url=None)
    served = name or loaded.version
    lock = threading.Lock()

    def check(authorization: str | None) -> None:
        if api_key and not bearer_matches(authorization, api_key):
            raise HTTPException(status_code=401, detail="missing or wrong bearer token",
                                headers={"WWW-Authenticate": "Bearer"})

    @app.get("/v1/models")
    def models(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        check(authorization)
        return {"object": "list", "data": [{"id": served, "object": "model", "owned_by": "flowloop"}]}

    @app.post("/v1/chat/completions")
    def chat(request: ChatRequest, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        check(authorization)
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        limit = request.max_completion_tokens or request.max_tokens or max_new_tokens
        with lock:
            text = loaded.generate(messages, limit)
            prompt_tokens, completion_tokens = _count(loaded, messages, text)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": served,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }

    @app.post("/v1/completions")
    def completions(request: CompletionRequest, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        check(authorization)
        from flowloop.specialist.completions import CompletionRefused, complete_text

        if getattr(loaded, "tokenizer", None) is None:
            raise HTTPException(status_code=501, detail="this model serves chat completions only")
        try:
            with lock:
                done = complete_text(loaded, request.prompt, request.max_tokens, echo=request.echo,
                                     top=request.logprobs or 0)
        except CompletionRefused as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        return {
            "id": f"cmpl-{uuid.uuid4().hex}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": served,
            "choices": [{"index": 0, "text": done.text, "finish_reason": done.finish_reason,
                         "logprobs": done.logprobs() if request.logprobs is not None else None}],
            "usage": {"prompt_tokens": done.prompt_tokens, "completion_tokens": done.completion_tokens,
                      "total_tokens": done.prompt_tokens + done.completion_tokens},
        }

    return app


def _count(loaded: Any, messages: list[Message], text: str) -> tuple[int, int]:
    tokenizer = getattr(loaded, "tokenizer", None)
    if tokenizer is None:
        return 0, 0
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True)
    return len(prompt["input_ids"]), len(tokenizer(text, add_special_tokens=False)["input_ids"])

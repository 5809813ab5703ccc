"""The one OpenAI-compatible client, against a real HTTP server on 127.0.0.1 (stdlib http.server).

The server answers ``/v1/chat/completions`` with a reply built from the request, and
``/v1/completions`` (``echo`` + ``logprobs``) with one token per word, each token's
log-probability minus its length, so a score can be checked by hand.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from flowloop.errors import DatasetError, InferenceError
from flowloop.inference.openai_client import OpenAIClient, base_url, chat_url, completions_url
from flowloop.pipeline.curate import url_generator
from flowloop.inference.openai_backend import OpenAIBackend

KEY = "sk-test-0123456789"
GENERATED = -0.5  # log-probability of the one token the server generates after an echoed prompt


def tokens(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group()) for m in re.finditer(r"\S+\s*|\s+", text)]


class Server(ThreadingHTTPServer):
    requests: list[dict[str, Any]]
    logprobs: bool = True


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *args: Any) -> None:  # keep the test output clean
        pass

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        if self.headers.get("Authorization") != f"Bearer {KEY}":
            return self._send(401, {"error": "bad key"})
        if self.path == "/v1/chat/completions":
            question = body["messages"][-1]["content"]
            return self._send(200, {"choices": [{"message": {"role": "assistant",
                                                             "content": f"  {body['model']} says: {question}\n"}}]})
        if self.path == "/v1/completions" and self.server.logprobs:
            prompt = body["prompt"]
            toks = tokens(prompt)
            offsets = [o for o, _ in toks] + [len(prompt)]
            values = [None] + [-float(len(t)) for _, t in toks[1:]] + [GENERATED]
            return self._send(200, {"choices": [{"text": prompt + " x", "logprobs": {
                "tokens": [t for _, t in toks] + [" x"], "token_logprobs": values, "text_offset": offsets}}]})
        if self.path == "/v1/completions":
            return self._send(200, {"choices": [{"text": "x"}]})
        return self._send(404, {"error": "no such route"})


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url(server: Server, path: str = "") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def render(messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
    """A chat template shaped like SmolLM2's (a header line per turn, an end-of-turn marker)."""
    text = "".join(f"<{m['role']}>\n{m['content']}<end>\n" for m in messages)
    return text + ("<assistant>\n" if add_generation_prompt else "")


def test_urls_are_built_one_way() -> None:
    assert base_url("http://h:1") == "http://h:1/v1"
    assert base_url("http://h:1/v1/") == "http://h:1/v1"
    assert chat_url("http://h:1/v1/chat/completions") == "http://h:1/v1/chat/completions"
    assert completions_url("http://h:1/v1/completions") == "http://h:1/v1/completions"
    assert chat_url("https://proxy.example/openai/v1") == "https://proxy.example/openai/v1/chat/completions"


def test_chat_against_a_real_server(server: Server) -> None:
    client = OpenAIClient(url(server), KEY)  # a bare host: /v1 is added
    messages = [{"role": "user", "content": "Where is money stored?"}]
    assert client.chat("v3", messages, 12) == "  v3 says: Where is money stored?\n"
    sent = server.requests[-1]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == f"Bearer {KEY}"
    assert sent["body"] == {"model": "v3", "messages": messages, "max_tokens": 12, "temperature": 0}


def test_the_backend_generates_through_the_client(server: Server) -> None:
    backend = OpenAIBackend(url(server, "/v1"), "v3", api_key=KEY)
    chats = [[{"role": "user", "content": f"q{i}"}] for i in range(3)]
    assert backend.generate(chats[0], 5) == "v3 says: q0"  # stripped, as before
    assert backend.generate_many(chats, 5) == ["v3 says: q0", "v3 says: q1", "v3 says: q2"]


def test_the_backend_samples_one_seeded_request_per_draft(server: Server) -> None:
    backend = OpenAIBackend(url(server, "/v1"), "v3", api_key=KEY)
    drafts = backend.sample([{"role": "user", "content": "plan it"}], 9, 2, seed=5, temperature=0.7, top_p=0.9)
    assert drafts == ["v3 says: plan it", "v3 says: plan it"]
    bodies = [r["body"] for r in server.requests[-2:]]
    assert [(b["temperature"], b["top_p"], b["seed"], b["max_tokens"]) for b in bodies] == [(0.7, 0.9, 5, 9), (0.7, 0.9, 6, 9)]


def test_scoring_sums_the_completion_tokens_from_the_echoed_prompt(server: Server) -> None:
    backend = OpenAIBackend(url(server, "/v1"), "v3", api_key=KEY, render=render)
    prompt = [{"role": "system", "content": "You explain."}, {"role": "user", "content": "Where is money?"}]
    reply = "Integer minor units."
    # A complete reply: its tokens and the end-of-turn marker, not the prompt, not the generated token.
    full = render([*prompt, {"role": "assistant", "content": reply}], False)
    start = len(render(prompt, True))
    assert full.startswith(render(prompt, True))
    assert backend.loglikelihood(prompt, reply) == (-float(len(full) - start), 3)
    sent = server.requests[-1]
    assert sent["path"] == "/v1/completions" and sent["body"]["echo"] is True and sent["body"]["prompt"] == full
    # A prefix of a reply: only its own tokens.
    assert backend.loglikelihood(prompt, reply, end_of_turn=False) == (-float(len(reply)), 3)
    batched = backend.loglikelihood_many([(prompt, reply), (prompt, "Floats.")], end_of_turn=False)
    assert batched == [(-float(len(reply)), 3), (-7.0, 1)]


def test_a_server_without_prompt_logprobs_is_a_clear_error(server: Server) -> None:
    server.logprobs = False
    backend = OpenAIBackend(url(server, "/v1"), "v3", api_key=KEY, render=render)
    with pytest.raises(InferenceError, match="no prompt log-probabilities") as info:
        backend.loglikelihood([{"role": "user", "content": "q"}], "a")
    assert info.value.field == "inference.url" and "echo" in (info.value.hint or "")


def test_scoring_without_a_chat_template_is_a_clear_error(server: Server) -> None:
    backend = OpenAIBackend(url(server, "/v1"), "v3", api_key=KEY)
    with pytest.raises(InferenceError, match="chat template") as info:
        backend.loglikelihood([{"role": "user", "content": "q"}], "a")
    assert info.value.field == "train.base_model"


def test_refusals_and_silence_name_the_setting(server: Server) -> None:
    with pytest.raises(InferenceError, match="HTTP 401") as refused:
        OpenAIBackend(url(server, "/v1"), "v3", api_key="wrong").generate([{"role": "user", "content": "q"}], 4)
    assert refused.value.field == "inference.url" and "api_key" in (refused.value.hint or "")
    with pytest.raises(InferenceError, match="cannot reach"):
        OpenAIBackend(f"http://127.0.0.1:{free_port()}/v1", "v3", timeout_s=2).generate([{"role": "user", "content": "q"}], 4)
    with pytest.raises(InferenceError, match="needs a server URL"):
        OpenAIBackend("  ", "v3")


def test_curation_uses_the_same_client_and_reports_in_its_own_terms(server: Server) -> None:
    generate = url_generator(url(server), "", KEY)
    assert generate([{"role": "user", "content": "doc"}]) == "  default says: doc\n"  # unstripped, as before
    assert server.requests[-1]["body"]["max_tokens"] == 400
    with pytest.raises(DatasetError, match="HTTP 401") as refused:
        url_generator(url(server), "m", "wrong")([{"role": "user", "content": "doc"}])
    assert refused.value.field == "dataset.curate_url" and "curate_api_key" in (refused.value.hint or "")
    with pytest.raises(DatasetError, match="unreachable") as silent:
        url_generator(f"http://127.0.0.1:{free_port()}", "m", timeout_s=2)([{"role": "user", "content": "doc"}])
    assert silent.value.field == "dataset.curate_url" and "curate_url" in (silent.value.hint or "")

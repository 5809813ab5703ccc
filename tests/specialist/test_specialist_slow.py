"""The specialist answering on the real SmolLM2 versions of the session's ``trained`` repository
(v1 SFT, v2 DPO; marked slow): `flow ask` and ``ask()`` with context, and the OpenAI-compatible
server of `flow serve-model` asked through the ``openai`` backend.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
from typer.testing import CliRunner

from flowloop.cli.main import app
from flowloop.errors import InferenceError
from flowloop.repo import FlowRepo
from helpers_serving import free_port, serving

pytestmark = pytest.mark.slow
runner = CliRunner()
EXAMPLE_PILR = Path(__file__).resolve().parents[2] / "examples/ledgerline/.flow/pilrs/evergreen"


def flow(repo: FlowRepo, *args: str) -> Any:
    return runner.invoke(app, ["-C", str(repo.root), *args])


def test_ask_base_and_v2_through_cli_and_api(trained: FlowRepo) -> None:
    from flowloop.index.api import build_index
    from flowloop.specialist.ask import ask

    for name in ("evg-api-authentication-and-rate-limits.md",):
        shutil.copy(EXAMPLE_PILR / name, trained.pilr_dir("evergreen") / name)
    build_index(trained)
    base = flow(trained, "ask", "--model", "base", "--max-new-tokens", "12", "How are API keys stored?")
    assert base.exit_code == 0, base.output
    assert base.stdout.strip()
    assert "evg-api-authentication-and-rate-limits" in base.output  # cited context
    v2 = flow(trained, "ask", "--model", "v2", "--role", "plan", "--max-new-tokens", "12", "--json",
              "Add a refund endpoint")
    assert v2.exit_code == 0, v2.output
    answer = json.loads(v2.stdout)
    assert answer["model"] == "v2" and answer["role"] == "plan" and answer["text"]
    assert answer["messages"][0]["content"].startswith("You are the domain specialist for ledgerline")
    api = ask(trained, "Review: amounts are floats", role="review", model="base", max_new_tokens=8)
    assert api.model == "base" and api.backend == "transformers" and "Review this" in api.messages[-1]["content"]
    missing = flow(trained, "ask", "--model", "v9", "hi")
    assert missing.exit_code == 1 and "no model version v9" in missing.output


@pytest.fixture
def served(trained: FlowRepo) -> Iterator[tuple[str, Any]]:
    """`flow serve-model`'s app on a real local HTTP server, serving v2 with an API key."""
    from flowloop.models.loader import load_specialist
    from flowloop.specialist.server import create_app

    loaded = load_specialist(trained, "v2")
    with serving(create_app(loaded, api_key="s3cret")) as url:
        yield url, loaded


def test_openai_backend_against_a_real_server(served: tuple[str, Any], trained: FlowRepo,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from flowloop.inference.openai_backend import OpenAIBackend

    url, loaded = served
    messages = [{"role": "user", "content": "Name one file in a ledger project."}]
    remote = OpenAIBackend(url, "v2", api_key="s3cret").generate(messages, 10)
    assert remote == loaded.generate(messages, 10)
    with pytest.raises(InferenceError, match="HTTP 401"):
        OpenAIBackend(url, "v2", api_key="wrong").generate(messages, 4)
    with pytest.raises(InferenceError, match="cannot reach"):
        OpenAIBackend(f"http://127.0.0.1:{free_port()}/v1", "v2", timeout_s=2).generate(messages, 4)
    # `flow ask` through the configured openai backend
    monkeypatch.setenv("FLOW_INFERENCE__BACKEND", "openai")
    monkeypatch.setenv("FLOW_INFERENCE__URL", url)
    monkeypatch.setenv("FLOW_INFERENCE__API_KEY", "s3cret")
    result = flow(trained, "ask", "--no-context", "--max-new-tokens", "6", "--json", "Where is money stored?")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["backend"] == "openai" and data["text"]

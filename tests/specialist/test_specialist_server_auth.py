"""``flow serve-model``'s bearer-token check (constant time, through flowloop.bearer)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from flowloop.bearer import bearer_header, bearer_matches
from flowloop.inference.fake import TableScorer
from flowloop.specialist.server import create_app

TOKEN = "s3cret-token-0123456789"
CHAT = {"messages": [{"role": "user", "content": "Where is money stored?"}], "max_tokens": 8}


def test_bearer_matches_only_the_exact_header() -> None:
    assert bearer_matches(f"Bearer {TOKEN}", TOKEN)
    assert bearer_header(TOKEN) == f"Bearer {TOKEN}"
    for wrong in (None, "", TOKEN, f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"bearer {TOKEN}", "Bearer café"):
        assert not bearer_matches(wrong, TOKEN), wrong
    assert not bearer_matches("Bearer ", "")  # no token configured never matches


@pytest.fixture
def client() -> TestClient:
    model = TableScorer("v2", answers={"money": "Integer minor units."})
    return TestClient(create_app(model, api_key=TOKEN))


def test_the_served_model_answers_only_with_the_token(client: TestClient) -> None:
    ok = client.post("/v1/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    assert ok.json()["choices"][0]["message"]["content"] == "Integer minor units." and ok.json()["model"] == "v2"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {TOKEN[:-1]}"},
                    {"Authorization": TOKEN}):
        refused = client.post("/v1/chat/completions", json=CHAT, headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers.get("www-authenticate") == "Bearer"
    assert client.get("/v1/models").status_code == 401
    assert client.get("/v1/models", headers={"Authorization": f"Bearer {TOKEN}"}).json()["data"][0]["id"] == "v2"


def test_without_a_configured_key_the_server_is_open() -> None:
    open_client = TestClient(create_app(TableScorer("base"), api_key=""))
    assert open_client.post("/v1/chat/completions", json=CHAT).status_code == 200

"""``flow mcp`` through the MCP SDK's own stdio client, the server running as a real subprocess."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from flowloop.index.api import build_index
from flowloop.repo import FlowRepo

FLOW = str(Path(sys.executable).with_name("flow"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _params(repo: FlowRepo) -> StdioServerParameters:
    # The SDK passes only an allow-listed environment to the child: hand over what the tests set.
    env = {k: v for k, v in os.environ.items() if k.startswith(("FLOW_", "HF_", "TRANSFORMERS_", "TOKENIZERS_"))}
    return StdioServerParameters(command=FLOW, args=["-C", str(repo.root), "mcp"], env=env)


def _data(result: Any) -> Any:
    assert not result.is_error, result.content
    data = result.structured_content
    return data["result"] if isinstance(data, dict) and set(data) == {"result"} else data


@pytest.mark.anyio
async def test_mcp_tools_over_stdio(kb_repo: FlowRepo) -> None:
    build_index(kb_repo)
    async with stdio_client(_params(kb_repo)) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = {t.name for t in (await session.list_tools()).tools}
            assert tools >= {"search_knowledge", "get_context", "get_document", "list_documents"}

            hits = _data(await session.call_tool("search_knowledge", {"query": "duplicate stripe webhooks", "k": 3}))
            assert hits[0]["id"] == "cum-duplicate-webhooks"
            assert {"id", "type", "path", "title", "score", "snippet"} <= set(hits[0])
            only = _data(await session.call_tool("search_knowledge", {"query": "payments", "type": "cumulative"}))
            assert {h["type"] for h in only} == {"cumulative"}

            pack = _data(await session.call_tool("get_context", {"task": "retry failed card payments", "budget": 300}))
            assert pack["tokens"] <= 300 and pack["budget"] == 300
            assert "evg-payment-retries" in {d["id"] for d in pack["documents"]}
            assert "id: evg-payment-retries" in pack["text"]

            doc = _data(await session.call_tool("get_document", {"id": "docs/workers.rst"}))
            assert doc["title"] == "Worker runbook" and "celery control shutdown" in doc["text"]

            listed = _data(await session.call_tool("list_documents", {"status": "superseded"}))
            assert [d["id"] for d in listed] == ["evg-old-retries"]
            assert len(_data(await session.call_tool("list_documents", {}))) == 7

            missing = await session.call_tool("get_document", {"id": "no-such-doc"})
            assert missing.is_error and "no indexed document" in missing.content[0].text
            empty = await session.call_tool("search_knowledge", {"query": "  "})
            assert empty.is_error and "empty" in empty.content[0].text

    # The server wrote its usage events (background log, flushed when it stopped).
    from flowloop.signals.store import open_store

    with open_store(FlowRepo(kb_repo.root)) as store:
        queries = [e.query for e in store.query("retrieval")]  # type: ignore[attr-defined]
    assert "duplicate stripe webhooks" in queries and "retry failed card payments" in queries

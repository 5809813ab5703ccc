"""``flow mcp`` through the MCP SDK's own stdio client, the server running as a real subprocess."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from flowloop import __version__
from flowloop.index.api import Retriever, build_index
from flowloop.repo import FlowRepo

FLOW = str(Path(sys.executable).with_name("flow"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _params(repo: FlowRepo) -> StdioServerParameters:
    # The SDK passes only an allow-listed environment to the child: hand over what the tests set.
    # PYTHONPATH too: the child must run this checkout's code, not whichever the venv installed.
    env = {k: v for k, v in os.environ.items()
           if k.startswith(("FLOW_", "HF_", "TRANSFORMERS_", "TOKENIZERS_")) or k == "PYTHONPATH"}
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
            init = await session.initialize()
            assert init.server_info.name == "flowloop" and init.server_info.version == __version__
            caps = init.capabilities
            assert caps.tools is not None and caps.prompts is None and caps.resources is None  # only what is served
            listed_tools = (await session.list_tools()).tools
            tools = {t.name for t in listed_tools}
            assert tools == {"search_knowledge", "get_context", "get_document", "list_documents", "propose_document",
                             "plan_task", "choose_plan"}
            for tool in listed_tools:
                assert "``" not in (tool.description or ""), tool.name  # plain text, no RST markup
            search_schema = next(t for t in listed_tools if t.name == "search_knowledge").input_schema
            assert search_schema["required"] == ["query"]

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

            # Bad arguments: a tool error naming the argument, never a pydantic dump.
            no_query = await session.call_tool("search_knowledge", {})
            assert no_query.is_error
            assert no_query.content[0].text == "search_knowledge: missing required argument 'query' (what to look for)"
            no_task = await session.call_tool("get_context", {"budget": 100})
            assert no_task.is_error and "missing required argument 'task'" in no_task.content[0].text
            wrong = await session.call_tool("search_knowledge", {"query": "x", "k": "five"})
            assert wrong.is_error and "'k' must be an integer" in wrong.content[0].text
            bogus = await session.call_tool("list_documents", {"type": "bogus"})
            assert bogus.is_error and "use one of: ephemeral, evergreen, cumulative" in bogus.content[0].text
            for result in (no_query, no_task, wrong, bogus):
                assert "pydantic" not in result.content[0].text and "validation error" not in result.content[0].text

    # The server wrote its usage events (background log, flushed when it stopped).
    from flowloop.signals.store import open_store

    with open_store(FlowRepo(kb_repo.root)) as store:
        queries = [e.query for e in store.query("retrieval")]  # type: ignore[attr-defined]
    assert "duplicate stripe webhooks" in queries and "retry failed card payments" in queries


def test_an_unparseable_line_gets_a_parse_error_reply(kb_repo: FlowRepo) -> None:
    """JSON-RPC 2.0: a message that is not JSON gets error -32700 with id null; the server goes on."""
    import json
    import subprocess

    build_index(kb_repo)
    params = _params(kb_repo)
    proc = subprocess.Popen([params.command, *params.args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env={**os.environ, **(params.env or {})})
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("{this is not json\n")
        proc.stdin.flush()
        reply = json.loads(proc.stdout.readline())
        assert reply["jsonrpc"] == "2.0" and reply["id"] is None and reply["error"]["code"] == -32700
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
        proc.stdin.write(json.dumps(init) + "\n")
        proc.stdin.flush()
        answer = json.loads(proc.stdout.readline())
        assert answer["id"] == 1 and answer["result"]["serverInfo"]["version"] == __version__
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_list_documents_refuses_an_unknown_type_or_status(kb_repo: FlowRepo) -> None:
    from flowloop.errors import QueryError

    build_index(kb_repo)
    retriever = Retriever(kb_repo)
    try:
        with pytest.raises(QueryError, match="unknown type 'bogus'"):
            retriever.list_documents(type="bogus")
        with pytest.raises(QueryError, match="unknown status"):
            retriever.list_documents(status="deleted")
    finally:
        retriever.close()

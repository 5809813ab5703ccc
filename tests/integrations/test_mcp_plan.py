"""``plan_task`` and ``choose_plan`` through the MCP SDK's own stdio client, ``flow mcp`` running
as a real subprocess on the example (drafts by the registered ``fake`` backend: the model is
not what is tested here, the tools are)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from flowloop.index.api import build_index
from flowloop.pilr.store import PilrStore
from flowloop.repo import FlowRepo
from flowloop.signals.api import list_events
from helpers_planner import TASK, example_repo

FLOW = str(Path(sys.executable).with_name("flow"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _data(result: Any) -> Any:
    assert not result.is_error, result.content
    return result.structured_content


@pytest.mark.anyio
async def test_an_agent_drafts_plans_and_records_the_pick(tmp_path: Path) -> None:
    repo: FlowRepo = example_repo(tmp_path)
    build_index(repo)
    env = {k: v for k, v in os.environ.items()
           if k.startswith(("FLOW_", "HF_", "TRANSFORMERS_", "TOKENIZERS_")) or k == "PYTHONPATH"}
    env["FLOW_INFERENCE__BACKEND"] = "fake"
    params = StdioServerParameters(command=FLOW, args=["-C", str(repo.root), "mcp"], env=env)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = {t.name: t for t in (await session.list_tools()).tools}
            assert tools["plan_task"].input_schema["required"] == ["task"]
            assert tools["choose_plan"].input_schema["required"] == ["plan_set_id", "k"]

            plan_set = _data(await session.call_tool("plan_task", {"task": TASK, "n": 2, "task_id": "LED-960"}))
            assert plan_set["task"] == "LED-960" and plan_set["plans"][0]["k"] == 1
            assert plan_set["plans"][0]["files"] and "## Files" in plan_set["plans"][0]["markdown"]
            # the warm index gave the planner its context: the pack's documents are the conventions
            assert plan_set["plans"][0]["conventions"]

            edited = plan_set["plans"][0]["markdown"] + "\n## Decisions\n\nOne row per refund.\n"
            choice = _data(await session.call_tool("choose_plan", {"plan_set_id": plan_set["id"], "k": 1,
                                                                   "edited_text": edited}))
            assert [e["kind"] for e in choice["events"]] == ["rewrite"]

            again = await session.call_tool("choose_plan", {"plan_set_id": plan_set["id"], "k": 1})
            assert again.is_error and "already chosen" in again.content[0].text
            missing = await session.call_tool("choose_plan", {"plan_set_id": "0123456789", "k": 1})
            assert missing.is_error and "no plan set" in missing.content[0].text
            too_many = await session.call_tool("plan_task", {"task": TASK, "n": 9})
            assert too_many.is_error and "'n' must be at most 8" in too_many.content[0].text
            empty = await session.call_tool("plan_task", {"task": "  "})
            assert empty.is_error and "empty" in empty.content[0].text

    (rewrite,) = list_events(repo, task="LED-960")
    assert rewrite.kind == "rewrite" and rewrite.source == "mcp" and rewrite.final.endswith("One row per refund.")
    (note,) = [d for d in PilrStore(repo).load() if d.meta.task == "LED-960"]
    assert note.meta.title.startswith("LED-960 plan:") and "One row per refund." in note.body

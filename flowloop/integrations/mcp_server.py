"""``flow mcp``: the PILR knowledge as an MCP server (official ``mcp`` SDK v2, low-level ``Server``, stdio).

An agent (Claude Code, Codex, Cursor, Gemini CLI) launches it once per session and calls its
tools as often as it likes; the index, the query embedder and any reranker stay loaded between
calls, and the index reopens itself after ``flow index``. Tools:

- ``search_knowledge(query, k, type)``: ranked documents (hybrid BM25 + dense).
- ``get_context(task, budget)``: the context pack for a task (markdown citing ids and paths).
- ``get_document(id)``: one document's metadata and full text.
- ``list_documents(type, status)``: what the index holds.
- ``propose_document(type, title, body, tags, task)``: a new document, quarantined until accepted.
- ``plan_task(task, n, task_id)``: N plans by the specialist around the localizer's files, ranked,
  with the plan set's id (``flow plan "TASK"``).
- ``choose_plan(plan_set_id, k, edited_text)``: the pick, recorded as a preference and an
  approval or rewrite, and the task's Type 1 note (``flow plan choose``).

Built on the SDK's low-level ``Server`` rather than ``MCPServer``, which advertises prompts and
resources on every ``initialize`` whether or not any are served (python-sdk issue #2473): here
the capabilities are exactly the tools. Arguments are checked against the same table the input
schemas come from, so a missing or mistyped argument is a tool error that names it and says
what it is, not a pydantic dump. Library errors come back as tool errors (``is_error``) carrying
the message the CLI prints. An unparseable line on stdin gets a JSON-RPC ``-32700`` reply (the
SDK's stdio transport drops it silently).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flowloop.errors import FlowError
from flowloop.repo import PILR_TYPES, FlowRepo

INSTRUCTIONS = (
    "Project knowledge (PILRs: evergreen architecture/ADRs, cumulative solved problems, ephemeral task "
    "notes) of this repository. Call get_context with the task before planning a change; cite document ids."
)
STATUSES = ("active", "archived", "superseded")


class ArgumentError(ValueError):
    """A tool call's arguments do not match the tool's input schema."""


@dataclass(frozen=True)
class Param:
    type: str  # JSON Schema type: "string" or "integer"
    description: str
    required: bool = False
    default: Any = None
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.type if self.required else [self.type, "null"],
                                  "description": self.description}
        if self.default is not None:
            schema["default"] = self.default
        if self.enum:
            schema["enum"] = [*self.enum] if self.required else [*self.enum, None]
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    params: dict[str, Param]
    run: Callable[..., Any] = field(compare=False)

    def input_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {n: p.schema() for n, p in self.params.items()},
                "required": [n for n, p in self.params.items() if p.required], "additionalProperties": False}

    def arguments(self, given: dict[str, Any] | None) -> dict[str, Any]:
        """The call's arguments checked against the schema, defaults filled in."""
        given = dict(given or {})
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            raise ArgumentError(f"{self.name}: unknown argument {unknown[0]!r}; it takes {', '.join(self.params)}")
        out: dict[str, Any] = {}
        for name, param in self.params.items():
            value = given.get(name)
            if value is None:
                if param.required:
                    raise ArgumentError(f"{self.name}: missing required argument {name!r} ({param.description})")
                out[name] = param.default
                continue
            if param.type == "string" and not isinstance(value, str):
                raise ArgumentError(f"{self.name}: argument {name!r} must be a string, not {type(value).__name__}")
            if param.type == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
                raise ArgumentError(f"{self.name}: argument {name!r} must be an integer, not {json.dumps(value)}")
            if param.enum and value not in param.enum:
                raise ArgumentError(f"{self.name}: argument {name!r} is {value!r}; use one of: {', '.join(param.enum)}")
            if param.minimum is not None and value < param.minimum:
                raise ArgumentError(f"{self.name}: argument {name!r} must be at least {param.minimum}")
            if param.maximum is not None and value > param.maximum:
                raise ArgumentError(f"{self.name}: argument {name!r} must be at most {param.maximum}")
            out[name] = value
        return out


def _propose(retriever: Any, type: str, title: str, body: str, tags: str | None, task: str | None) -> Any:
    from flowloop.integrations.ingest_pilrs import propose_from_json

    data = {"type": type, "title": title, "body": body, "tags": [t.strip() for t in (tags or "").split(",") if t.strip()],
            "task": task}
    return propose_from_json(retriever.repo, data, "mcp")


def _plan_task(retriever: Any, task: str, n: int | None, task_id: str | None) -> dict[str, Any]:
    from flowloop.planner.draft import draft_plans

    return draft_plans(retriever.repo, task, n, task=task_id, retriever=retriever).to_dict()


def _choose_plan(retriever: Any, plan_set_id: str, k: int, edited_text: str | None) -> dict[str, Any]:
    from flowloop.planner.choose import choose_plan

    return choose_plan(retriever.repo, plan_set_id, k, edited_text, source="mcp").to_dict()


def tool_specs(retriever: Any) -> list[ToolSpec]:
    """The tools, over one warm retriever: four that read, one that proposes (quarantined), and
    the planner's two (draft ranked plans; record the pick)."""
    from flowloop.planner.draft import MAX_PLANS

    type_param = Param("string", "Only documents of this PILR type.", enum=PILR_TYPES)
    return [
        ToolSpec(
            "search_knowledge",
            "Search the project's knowledge: one result per document (id, type, path, title, score, snippet), best first.",
            {"query": Param("string", "what to look for", required=True),
             "k": Param("integer", "How many documents.", default=8, minimum=1, maximum=200),
             "type": type_param},
            lambda query, k, type: [h.to_dict() for h in retriever.search(query, k=k, types=[type] if type else None)],
        ),
        ToolSpec(
            "get_context",
            "The knowledge relevant to a task within a token budget: text (markdown citing ids and paths), "
            "documents, tokens and budget. An empty pack means nothing is relevant enough.",
            {"task": Param("string", "the task about to be done", required=True),
             "budget": Param("integer", "Token budget (default: the project's [index] budget).", minimum=1)},
            lambda task, budget: retriever.context_pack(task, budget=budget).to_dict(),
        ),
        ToolSpec(
            "get_document",
            "One document by id (a PILR id, or a docs path): its metadata and full text.",
            {"id": Param("string", "a document id from search_knowledge or list_documents", required=True)},
            lambda id: retriever.get_document(id),
        ),
        ToolSpec(
            "list_documents",
            "The indexed documents (id, type, status, title, path, created), optionally of one type or status.",
            {"type": type_param, "status": Param("string", "Only documents in this lifecycle status.", enum=STATUSES)},
            lambda type, status: retriever.list_documents(type=type, status=status),
        ),
        ToolSpec(
            "propose_document",
            "Propose a new knowledge document (a lesson learned, a decision). It is screened and waits as "
            "'proposed' until a human accepts it; it is not searchable before that.",
            {"type": Param("string", "The PILR type.", required=True, enum=PILR_TYPES),
             "title": Param("string", "One-line title.", required=True),
             "body": Param("string", "Markdown body.", required=True),
             "tags": Param("string", "Comma-separated tags."),
             "task": Param("string", "The task id it comes from.")},
            lambda type, title, body, tags, task: _propose(retriever, type, title, body, tags, task),
        ),
        ToolSpec(
            "plan_task",
            "Draft N different plans for a task (approach, steps, files, risks, conventions citing document ids), "
            "ranked best first with their scores and what scored them, and the plan set's id. Show them to the "
            "human, then record the pick with choose_plan.",
            {"task": Param("string", "the task description", required=True),
             "n": Param("integer", "How many plans (default: the project's [plan] n).", minimum=1, maximum=MAX_PLANS),
             "task_id": Param("string", "The task's id (e.g. an issue key) the pick is recorded under.")},
            lambda task, n, task_id: _plan_task(retriever, task, n, task_id),
        ),
        ToolSpec(
            "choose_plan",
            "Record the human's pick of plan k (1 = best ranked) of a plan set: a preference over the other plans, "
            "an approval (or a rewrite when edited_text is given), and the task's plan note. A set is chosen once.",
            {"plan_set_id": Param("string", "the id plan_task returned", required=True),
             "k": Param("integer", "which plan, 1-based as ranked", required=True, minimum=1, maximum=MAX_PLANS),
             "edited_text": Param("string", "The plan as the human edited it (markdown); omit when taken as is.")},
            lambda plan_set_id, k, edited_text: _choose_plan(retriever, plan_set_id, k, edited_text),
        ),
    ]


def build_server(repo: FlowRepo) -> Any:
    """A low-level MCP ``Server`` whose tools share one warm :class:`Retriever`."""
    import anyio
    import mcp.types as types
    from mcp.server.lowlevel import Server

    from flowloop import __version__
    from flowloop.index.api import Retriever

    retriever = Retriever(repo, log_mode="background").warm_up()
    specs = {spec.name: spec for spec in tool_specs(retriever)}
    lock = threading.Lock()  # one retrieval at a time: the SQLite connection and model are shared

    def error(text: str) -> Any:
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)

    async def list_tools(ctx: Any, params: Any) -> Any:
        return types.ListToolsResult(tools=[
            types.Tool(name=s.name, description=s.description, input_schema=s.input_schema()) for s in specs.values()
        ])

    async def call_tool(ctx: Any, params: Any) -> Any:
        spec = specs.get(params.name)
        if spec is None:
            return error(f"unknown tool {params.name!r}; the tools are {', '.join(specs)}")
        try:
            arguments = spec.arguments(params.arguments)
        except ArgumentError as exc:
            return error(str(exc))

        def work() -> Any:
            with lock:
                return spec.run(**arguments)

        try:
            data = await anyio.to_thread.run_sync(work)  # the event loop keeps answering pings
        except FlowError as exc:
            return error(exc.render())
        structured = data if isinstance(data, dict) else {"result": data}
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(data, ensure_ascii=False, default=str))],
            structured_content=json.loads(json.dumps(structured, default=str)),
        )

    server = Server("flowloop", version=__version__, title="flowloop project knowledge", instructions=INSTRUCTIONS,
                    on_list_tools=list_tools, on_call_tool=call_tool)
    server.retriever = retriever  # type: ignore[attr-defined]  # so the runner can flush the usage log
    return server


async def serve_stdio(server: Any) -> None:
    """Serve ``server`` over stdin/stdout; an unparseable line gets a -32700 reply, then reading goes on."""
    import anyio
    import mcp.types as types
    from mcp.server.stdio import stdio_server
    from mcp.shared.message import SessionMessage

    async with stdio_server() as (read_stream, write_stream):
        send, receive = anyio.create_memory_object_stream[Any](0)

        async def pump() -> None:
            async with send:
                async for item in read_stream:
                    if isinstance(item, Exception):
                        reply = types.JSONRPCError(jsonrpc="2.0", id=None, error=types.ErrorData(
                            code=types.PARSE_ERROR, message=f"Parse error: not a JSON-RPC message ({type(item).__name__})"))
                        await write_stream.send(SessionMessage(reply))
                        continue
                    await send.send(item)

        async with anyio.create_task_group() as tg:
            tg.start_soon(pump)
            await server.run(receive, write_stream, server.create_initialization_options())
            tg.cancel_scope.cancel()


def run_stdio(repo: FlowRepo) -> None:
    """Serve over stdin/stdout until the client disconnects."""
    import anyio

    server = build_server(repo)
    try:
        anyio.run(serve_stdio, server)
    finally:
        server.retriever.close()

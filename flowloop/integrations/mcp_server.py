"""``flow mcp``: the PILR knowledge as an MCP server (official ``mcp`` SDK, v2 ``MCPServer``, stdio).

An agent (Claude Code, Codex, Cursor, Gemini CLI) launches it once per session and calls its
tools as often as it likes; the index, the query embedder and any reranker stay loaded between
calls, and the index reopens itself after ``flow index``. Tools:

- ``search_knowledge(query, k, type)``: ranked documents (hybrid BM25 + dense).
- ``get_context(task, budget)``: the context pack for a task (markdown citing ids and paths).
- ``get_document(id)``: one document's metadata and full text.
- ``list_documents(type, status)``: what the index holds.

Library errors come back as tool errors (``is_error``) carrying the same message the CLI prints.
"""

from __future__ import annotations

import threading
from typing import Any

from flowloop.errors import FlowError
from flowloop.repo import FlowRepo

INSTRUCTIONS = (
    "Project knowledge (PILRs: evergreen architecture/ADRs, cumulative solved problems, ephemeral task "
    "notes) of this repository. Call get_context with the task before planning a change; cite document ids."
)


def build_server(repo: FlowRepo) -> Any:
    """An ``MCPServer`` whose tools share one warm :class:`Retriever`."""
    from mcp.server import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    from flowloop.index.api import Retriever

    retriever = Retriever(repo, log_mode="background").warm_up()
    lock = threading.Lock()
    server = MCPServer("flowloop", instructions=INSTRUCTIONS)

    def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            with lock:
                return fn(*args, **kwargs)
        except FlowError as exc:
            raise ToolError(exc.render()) from exc

    @server.tool()
    def search_knowledge(query: str, k: int = 8, type: str | None = None) -> list[dict[str, Any]]:
        """Search the project's knowledge; one result per document with id, type, path, title, score, snippet.
        ``type`` is ephemeral, evergreen or cumulative (optional)."""
        hits = call(retriever.search, query, k=k, types=[type] if type else None)
        return [h.to_dict() for h in hits]

    @server.tool()
    def get_context(task: str, budget: int | None = None) -> dict[str, Any]:
        """The knowledge relevant to a task, within a token budget: ``text`` (markdown citing ids and paths),
        ``documents``, ``tokens``, ``budget``. An empty pack means nothing is relevant enough."""
        return call(retriever.context_pack, task, budget=budget).to_dict()

    @server.tool()
    def get_document(id: str) -> dict[str, Any]:
        """One document by id (a PILR id, or a docs path): metadata and full text."""
        return call(retriever.get_document, id)

    @server.tool()
    def list_documents(type: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Indexed documents (id, type, status, title, path, created), optionally of one type or status."""
        return call(retriever.list_documents, type=type, status=status)

    server.retriever = retriever  # type: ignore[attr-defined]  # so the runner can flush the usage log
    return server


def run_stdio(repo: FlowRepo) -> None:
    """Serve over stdin/stdout until the client disconnects."""
    server = build_server(repo)
    try:
        server.run("stdio")
    finally:
        server.retriever.close()

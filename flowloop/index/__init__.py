"""The PILR index: chunking, hybrid retrieval (SQLite FTS5 + dense), context packs, warm path.

The public API is ``flowloop.index.api`` (``build_index``, ``search``, ``context_pack``,
``Retriever``) and ``flowloop.index.warm`` (``warm_context``, the ``flow serve`` server). Nothing is
re-exported here, so that a hook importing ``flowloop.index.warm`` pays for nothing else.
"""

"""Alembic migrations of the signals store, run programmatically by ``flowloop.signals.migrate``.

``HEAD`` must name the newest revision in ``versions/``; opening a store compares the database
against it with one cheap query and runs Alembic only when the database is behind (a test checks
that ``HEAD`` matches Alembic's own view of the head).
"""

HEAD = "0001"

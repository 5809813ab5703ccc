"""Tenant-scoped sessions: the only way application code reaches the database (LED-121).

``tenant_session()`` adds ``WHERE tenant_id = :current`` to every SELECT of a TenantScoped
model through a ``do_orm_execute`` hook, and stamps ``tenant_id`` on new rows. Raw
``SessionLocal()`` bypasses this; it caused the CSV export leak (LED-170) and the invoice
number sequence bug (LED-182), so it is allowed only for work that is cross-tenant by nature:
db/, migrations, events/publisher.py, the API key lookup and the beat scans in workers/tasks.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from ledgerline.db.models import TenantScoped
from ledgerline.db.session import SessionLocal
from ledgerline.tenancy.context import current_tenant


def _scope_selects(state: ORMExecuteState) -> None:
    if state.is_select and not state.execution_options.get("cross_tenant", False):
        tenant_id = state.session.info["tenant_id"]
        state.statement = state.statement.options(
            with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)
        )


def _stamp_new_rows(session: Session, _flush_context: object, _instances: object) -> None:
    for obj in session.new:
        if isinstance(obj, TenantScoped):
            if obj.tenant_id is None:
                obj.tenant_id = session.info["tenant_id"]
            elif obj.tenant_id != session.info["tenant_id"]:
                raise PermissionError("refusing to write a row of another tenant")


@contextmanager
def tenant_session() -> Iterator[Session]:
    """A session bound to the current TenantContext; raises MissingTenantContext without one."""
    ctx = current_tenant()
    session = SessionLocal(info={"tenant_id": ctx.tenant_id})
    event.listen(session, "do_orm_execute", _scope_selects)
    event.listen(session, "before_flush", _stamp_new_rows)
    try:
        yield session
    finally:
        session.close()

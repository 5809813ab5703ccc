"""The current tenant, carried in a contextvar (LED-122).

Set by ``TenantMiddleware`` for HTTP requests and by ``workers.celery_app.TenantTask`` for
Celery tasks; reset when the request or task ends so a worker process never carries one
tenant's context into the next task (LED-177). There is deliberately no process-level cache of
tenant settings (LED-178 was reverted by LED-179: settings went stale after plan changes).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


class MissingTenantContext(RuntimeError):
    """Tenant-scoped code ran without a TenantContext. Always a bug, never a fallback."""


@dataclass(frozen=True, slots=True)
class TenantContext:
    tenant_id: uuid.UUID
    default_currency: str = "EUR"
    invoice_prefix: str = "INV"
    api_key_id: uuid.UUID | None = None


_current: ContextVar[TenantContext | None] = ContextVar("tenant_context", default=None)


def current_tenant() -> TenantContext:
    ctx = _current.get()
    if ctx is None:
        raise MissingTenantContext("no TenantContext is set for this request or task")
    return ctx


def current_tenant_or_none() -> TenantContext | None:
    return _current.get()


@contextmanager
def tenant_scope(ctx: TenantContext) -> Iterator[TenantContext]:
    """Set the tenant for the duration of a block and always restore the previous value."""
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)

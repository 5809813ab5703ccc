"""Celery application (LED-113) on Redis, JSON serializer only (LED-173).

``TenantTask`` sets TenantContext from the task's ``tenant_id`` kwarg and resets it when the
task ends, so no task inherits the previous task's tenant. It replaced the ``@tenant_task``
decorator of LED-177 in LED-202. Dunning does not
use ETA/countdown tasks: Redis redelivers them after the visibility timeout (LED-176).
"""

from __future__ import annotations

import uuid

from celery import Celery, Task

from ledgerline.core.config import get_settings
from ledgerline.tenancy.context import TenantContext, tenant_scope

settings = get_settings()
app = Celery("ledgerline", broker=settings.redis_url, backend=None)
app.conf.update(
    task_serializer=settings.celery_serializer,
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_transport_options={"visibility_timeout": 3600},
    timezone="UTC",
    enable_utc=True,
    beat_schedule={
        "publish-outbox": {"task": "ledgerline.outbox.publish", "schedule": settings.outbox_publish_interval_s},
        "run-dunning": {"task": "ledgerline.dunning.run_due", "schedule": 60.0},
        "reconcile-stripe": {"task": "ledgerline.reconciliation.nightly", "schedule": 24 * 3600.0},
        "purge-outbox": {"task": "ledgerline.outbox.purge", "schedule": 3600.0},
        "purge-idempotency-keys": {"task": "ledgerline.idempotency.purge", "schedule": 3600.0},
    },
)


class TenantTask(Task):
    """Base class for tenant-scoped tasks: pass ``tenant_id=`` as a keyword argument."""

    def __call__(self, *args, **kwargs):
        tenant_id = kwargs.get("tenant_id")
        if tenant_id is None:
            raise ValueError(f"{self.name} is tenant-scoped and needs tenant_id=")
        with tenant_scope(TenantContext(tenant_id=uuid.UUID(str(tenant_id)))):
            return super().__call__(*args, **kwargs)

"""Idempotency-Key support for POST endpoints (LED-112, LED-161, LED-186).

The key is scoped to the tenant and stored for 24 hours with a hash of the request. A retry
with the same key and body replays the stored response; the same key with a different body is
422 ``idempotency.key_reused``; a retry while the first request still runs is 409
``idempotency.in_progress``. Expired keys are deleted by ``workers.tasks.purge_idempotency_keys``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ledgerline.api.errors import ProblemError
from ledgerline.core import clock
from ledgerline.core.config import get_settings
from ledgerline.db.models import IdempotencyKey
from ledgerline.tenancy.isolation import tenant_session


def request_hash(kwargs: dict[str, Any]) -> str:
    body = {k: v for k, v in kwargs.items() if k != "idempotency_key"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def idempotent(endpoint: Callable[..., dict]) -> Callable[..., dict]:
    @functools.wraps(endpoint)
    def wrapper(*args: Any, **kwargs: Any) -> dict:
        key = kwargs.get("idempotency_key")
        if not key:
            return endpoint(*args, **kwargs)
        digest = request_hash(kwargs)
        ttl = dt.timedelta(hours=get_settings().idempotency_ttl_hours)
        with tenant_session() as session:
            existing = session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == key, IdempotencyKey.expires_at > clock.now())).one_or_none()
            if existing is not None:
                if existing.request_hash != digest:
                    raise ProblemError("idempotency.key_reused", detail="use a new key for a new request")
                if existing.response_status is None:
                    raise ProblemError("idempotency.in_progress")
                return existing.response_body
            try:
                session.add(IdempotencyKey(key=key, request_hash=digest, created_at=clock.now(), expires_at=clock.now() + ttl))
                session.commit()
            except IntegrityError as exc:
                raise ProblemError("idempotency.in_progress") from exc
        try:
            result = endpoint(*args, **kwargs)
        except ProblemError:
            _forget(key)  # a failed request may be retried with the same key
            raise
        _remember(key, 200, result)
        return result

    return wrapper


def _remember(key: str, status: int, body: dict) -> None:
    with tenant_session() as session:
        row = session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == key)).one()
        row.response_status, row.response_body = status, body
        session.commit()


def _forget(key: str) -> None:
    with tenant_session() as session:
        session.query(IdempotencyKey).filter(IdempotencyKey.key == key).delete()
        session.commit()

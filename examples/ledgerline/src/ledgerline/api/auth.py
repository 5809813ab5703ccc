"""API key authentication (LED-110) and per-key rate limiting (LED-145).

Keys look like ``ll_live_<32 chars>``; only their SHA-256 is stored. A key maps to exactly one
tenant, which becomes the request's TenantContext.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict

from sqlalchemy import select
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from ledgerline.api.errors import ProblemError, problem_response
from ledgerline.db.models import ApiKey, Tenant
from ledgerline.db.session import SessionLocal
from ledgerline.tenancy.context import TenantContext, current_tenant_or_none


async def resolve_api_key(authorization: str) -> TenantContext:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.startswith("ll_"):
        raise ProblemError("auth.invalid_api_key", detail="send 'Authorization: Bearer ll_live_...'")
    digest = hashlib.sha256(token.encode()).hexdigest()
    # Cross-tenant by nature: we do not know the tenant yet. Read-only, one row.
    with SessionLocal() as session:
        row = session.execute(
            select(ApiKey, Tenant).join(Tenant, Tenant.id == ApiKey.tenant_id).where(ApiKey.key_hash == digest)
        ).first()
    if row is None or row.ApiKey.revoked_at is not None:
        raise ProblemError("auth.invalid_api_key", detail="the API key is unknown or revoked")
    return TenantContext(
        tenant_id=row.Tenant.id,
        default_currency=row.Tenant.default_currency,
        invoice_prefix=row.Tenant.invoice_prefix,
        api_key_id=row.ApiKey.id,
    )


class RateLimitMiddleware(BaseHTTPMiddleware):
    """Fixed one-minute window per API key; 429 ``auth.rate_limited`` with Retry-After."""

    def __init__(self, app: object, per_minute: int) -> None:
        super().__init__(app)
        self.per_minute = per_minute
        self._hits: dict[tuple[str, int], int] = defaultdict(int)

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        ctx = current_tenant_or_none()
        if ctx is not None and ctx.api_key_id is not None:
            window = int(time.monotonic() // 60)
            self._hits[(str(ctx.api_key_id), window)] += 1
            if self._hits[(str(ctx.api_key_id), window)] > self.per_minute:
                problem = ProblemError("auth.rate_limited", detail=f"limit is {self.per_minute} requests per minute")
                response = problem_response(problem, instance=request.url.path)
                response.headers["Retry-After"] = str(60 - int(time.monotonic() % 60))
                return response
        return await call_next(request)

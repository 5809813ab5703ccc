"""ASGI middleware that resolves the tenant from the API key and sets TenantContext (LED-121).

Public paths (health check, inbound webhooks) skip tenant resolution; webhooks find their
tenant from the event payload instead (LED-166, LED-191).
"""

from __future__ import annotations

import uuid

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from ledgerline.api.auth import resolve_api_key
from ledgerline.api.errors import ProblemError, problem_response
from ledgerline.core.logging import request_id_var, tenant_id_var
from ledgerline.tenancy.context import tenant_scope

PUBLIC_PREFIXES = ("/healthz", "/webhooks/")


class TenantMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        rid_token = request_id_var.set(request_id)
        try:
            if request.url.path.startswith(PUBLIC_PREFIXES):
                return await call_next(request)
            try:
                ctx = await resolve_api_key(request.headers.get("Authorization", ""))
            except ProblemError as problem:
                return problem_response(problem, instance=request.url.path)
            tid_token = tenant_id_var.set(str(ctx.tenant_id))
            try:
                with tenant_scope(ctx):
                    response = await call_next(request)
            finally:
                tenant_id_var.reset(tid_token)
            response.headers["X-Request-Id"] = request_id
            return response
        finally:
            request_id_var.reset(rid_token)

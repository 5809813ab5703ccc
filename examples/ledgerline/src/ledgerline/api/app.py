"""FastAPI application factory: routers, middleware and the problem+json handlers."""

from __future__ import annotations

from fastapi import FastAPI

from ledgerline.api import credit_notes, customers, invoices, payments, reports, webhooks
from ledgerline.api.auth import RateLimitMiddleware
from ledgerline.api.errors import install_error_handlers
from ledgerline.core.config import get_settings
from ledgerline.core.logging import configure_logging
from ledgerline.tenancy.middleware import TenantMiddleware


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging("DEBUG" if settings.environment == "dev" else "INFO")
    app = FastAPI(title="Ledgerline API", version="1", docs_url="/docs" if settings.environment == "dev" else None)

    # Starlette runs the last-added middleware first: tenant resolution, then rate limits.
    app.add_middleware(RateLimitMiddleware, per_minute=settings.rate_limit_per_minute)
    app.add_middleware(TenantMiddleware)
    install_error_handlers(app)

    for module in (invoices, customers, payments, credit_notes, reports, webhooks):
        app.include_router(module.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        # Public and tenant-free on purpose: the load balancer has no API key (LED-166).
        return {"status": "ok"}

    return app

"""RFC 9457 problem+json errors (LED-106, ADR 0004).

Raise ``ProblemError("<code>", detail=...)``; the code decides status and title from ERRORS.
Unexpected exceptions become a generic 500 ``internal.unexpected`` with the request id and no
stack trace in the body (the trace goes to the logs).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ledgerline.core.logging import request_id_var

TYPE_BASE = "https://docs.ledgerline.io/errors/"
MEDIA_TYPE = "application/problem+json"

# code -> (status, title). Adding a code: add it here and to the error-codes table in the
# API errors evergreen doc; tests/test_api_errors.py checks every code renders.
ERRORS: dict[str, tuple[int, str]] = {
    "request.validation_failed": (422, "Request body or parameters are invalid"),
    "auth.invalid_api_key": (401, "Missing or invalid API key"),
    "auth.rate_limited": (429, "Too many requests"),
    "pagination.invalid_cursor": (400, "The cursor is malformed or expired"),
    "pagination.limit_out_of_range": (400, "limit must be between 1 and 200"),
    "idempotency.key_reused": (422, "Idempotency-Key was used with a different request"),
    "idempotency.in_progress": (409, "A request with this Idempotency-Key is still running"),
    "customer.not_found": (404, "Customer not found"),
    "invoice.not_found": (404, "Invoice not found"),
    "invoice.empty": (422, "An invoice needs at least one line item to be finalized"),
    "invoice.already_finalized": (409, "Finalized invoices are immutable; issue a credit note"),
    "invoice.invalid_transition": (409, "The invoice cannot move to that status"),
    "credit_note.exceeds_balance": (422, "Credit note exceeds the invoice's remaining balance"),
    "credit_note.invoice_not_creditable": (409, "Only finalized or paid invoices can be credited"),
    "payment.card_declined": (402, "The card was declined"),
    "payment.provider_unavailable": (503, "The payment provider did not answer in time"),
    "refund.exceeds_refundable": (422, "Refund exceeds the refundable amount"),
    "webhook.invalid_signature": (400, "Webhook signature verification failed"),
    "internal.unexpected": (500, "Unexpected error"),
}

log = logging.getLogger(__name__)


class ProblemError(Exception):
    def __init__(self, code: str, detail: str = "", **extensions: object) -> None:
        self.code = code
        self.status, self.title = ERRORS[code]
        self.type = TYPE_BASE + code
        self.detail = detail
        self.extensions = extensions
        super().__init__(f"{code}: {detail}")

    def body(self, instance: str | None = None) -> dict[str, object]:
        body: dict[str, object] = {
            "type": self.type, "title": self.title, "status": self.status,
            "detail": self.detail, "code": self.code, "request_id": request_id_var.get(),
        }
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


def problem_response(problem: ProblemError, instance: str | None = None) -> JSONResponse:
    return JSONResponse(problem.body(instance), status_code=problem.status, media_type=MEDIA_TYPE)


def stripe_problem(stripe_code: str | None) -> ProblemError:
    """Map Stripe error codes to ours in one place (LED-162)."""
    if stripe_code in {"card_declined", "expired_card", "insufficient_funds"}:
        return ProblemError("payment.card_declined", detail=f"stripe: {stripe_code}")
    return ProblemError("payment.provider_unavailable", detail="try again with the same Idempotency-Key")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc, instance=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problem = ProblemError("request.validation_failed", detail="see errors", errors=exc.errors())
        return problem_response(problem, instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"fields": {"path": request.url.path}})
        return problem_response(ProblemError("internal.unexpected"), instance=request.url.path)

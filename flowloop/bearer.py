"""The bearer-token check of flowloop's HTTP endpoints, in constant time.

``flow serve-model`` and ``flow ingest serve`` both require ``Authorization: Bearer <token>``.
A plain ``!=`` returns as soon as a byte differs, so the time it takes tells an attacker how much
of a guess was right; :func:`hmac.compare_digest` takes the same time whatever matches. Both
servers check through :func:`bearer_matches` so neither can drift back to a plain comparison.
"""

from __future__ import annotations

import hmac


def bearer_header(token: str) -> str:
    """The ``Authorization`` value a client sends for ``token``."""
    return f"Bearer {token}"


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether the ``Authorization`` header value carries exactly ``token``.

    No header, or no token configured, never matches: a server that wants to run open decides
    that itself, before asking."""
    if not authorization or not token:
        return False
    return hmac.compare_digest(authorization.encode("utf-8"), bearer_header(token).encode("utf-8"))


__all__ = ["bearer_header", "bearer_matches"]

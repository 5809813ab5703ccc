"""Cursor (keyset) pagination for every list endpoint (LED-104, ADR 0006).

The cursor is opaque base64url JSON of the last row's ``(created_at, id)``; ordering is
``created_at DESC, id DESC`` so rows sharing a timestamp are never skipped (LED-157).
``limit`` defaults to 50 and may not exceed 200 (LED-159). A malformed cursor is a 400
``pagination.invalid_cursor``, never a 500 (LED-200).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, or_

from ledgerline.api.errors import ProblemError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass
class Page:
    data: list[Any]
    next_cursor: str | None

    def as_json(self) -> dict[str, Any]:
        return {"data": self.data, "next_cursor": self.next_cursor, "has_more": self.next_cursor is not None}


def encode_cursor(created_at: dt.datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps({"t": created_at.isoformat(), "i": str(row_id)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        return dt.datetime.fromisoformat(data["t"]), uuid.UUID(data["i"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ProblemError("pagination.invalid_cursor", detail="start again without a cursor") from exc


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise ProblemError("pagination.limit_out_of_range", detail=f"got {limit}")
    return limit


def paginate(session: Any, stmt: Select, model: Any, cursor: str | None, limit: int | None) -> Page:
    limit = check_limit(limit)
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        stmt = stmt.where(
            or_(model.created_at < created_at, and_(model.created_at == created_at, model.id < row_id))
        )
    rows = session.scalars(stmt.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return Page(data=list(rows), next_cursor=next_cursor)

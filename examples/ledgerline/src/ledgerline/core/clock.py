"""The one place that knows the current time. Always timezone-aware UTC.

Domain code calls ``now()``; tests install a ``FrozenClock`` through the ``clock`` fixture.
``datetime.now()`` / ``date.today()`` elsewhere are review blockers: they produced the naive
local-time bugs of LED-160 and LED-185.
"""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FrozenClock:
    """A clock for tests: stands still until ``advance`` is called."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime (UTC)")
        self._at = at.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._at

    def advance(self, **delta: float) -> None:
        self._at += dt.timedelta(**delta)


_clock: ContextVar[Clock] = ContextVar("ledgerline_clock", default=SystemClock())


def now() -> dt.datetime:
    return _clock.get().now()


def today_utc() -> dt.date:
    return now().date()


def start_of_day_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def use_clock(clock: Clock) -> object:
    """Install a clock; returns the token for ``reset_clock``."""
    return _clock.set(clock)


def reset_clock(token: object) -> None:
    _clock.reset(token)  # type: ignore[arg-type]

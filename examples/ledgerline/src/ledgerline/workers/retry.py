"""Bounded retries with full-jitter exponential backoff (LED-115, LED-175).

Policies are data; callers pick one. Only transient failures retry (timeouts, connection
errors, 429, 5xx). POSTs must carry an idempotency key before they may be retried. Never call
``retry_call`` while holding a DB transaction (ADR 0007).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_delay_s: float
    max_delay_s: float
    retry_on: tuple[type[BaseException], ...] = (TimeoutError, ConnectionError)

    def delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**attempt)]."""
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt))


STRIPE_POLICY = RetryPolicy(max_attempts=3, base_delay_s=0.5, max_delay_s=4.0)
EMAIL_POLICY = RetryPolicy(max_attempts=5, base_delay_s=1.0, max_delay_s=30.0)
# Celery-level retries of whole tasks (countdown), e.g. a dunning charge after a 503.
TASK_POLICY = RetryPolicy(max_attempts=4, base_delay_s=30.0, max_delay_s=600.0)


def retry_call(fn: Callable[[], T], policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep) -> T:
    for attempt in range(policy.max_attempts):
        try:
            return fn()
        except policy.retry_on:
            if attempt == policy.max_attempts - 1:
                raise
            sleep(policy.delay(attempt))
    raise AssertionError("unreachable")

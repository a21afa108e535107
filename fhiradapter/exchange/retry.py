"""When to retry a request and how long to wait.

Retried: connection errors, timeouts, 408, 429 (honouring Retry-After) and 5xx. Not retried: every
other 4xx (the server has judged the content; resending it unchanged cannot help). Backoff is
exponential with full jitter, capped, so many senders hitting one recovering server spread out.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import Callable

RETRYABLE_STATUS = frozenset({408, 429})


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUS or 500 <= status <= 599


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP-date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


@dataclass(slots=True)
class RetryPolicy:
    max_attempts: int = 6          # total tries per Bundle in one run, the first included
    base_delay: float = 0.5        # seconds; doubled each retry
    max_delay: float = 30.0        # cap for one computed backoff
    max_retry_after: float = 300.0  # a Retry-After longer than this ends the run's tries for the Bundle
    rng: random.Random = field(default_factory=random.Random)
    sleep: Callable[[float], None] = time.sleep

    def backoff(self, attempt: int) -> float:
        """Full-jitter delay before try `attempt + 1` (attempt counts from 1)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return self.rng.uniform(0, ceiling)

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before the next try, or None when no further try should be made."""
        if attempt >= self.max_attempts:
            return None
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            # Never earlier than the server asked; a little jitter after it avoids a thundering herd.
            return retry_after + self.rng.uniform(0, min(1.0, self.base_delay))
        return self.backoff(attempt)

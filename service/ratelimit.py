"""Per-key request rate limits: one token bucket per API key, held in this process.

A key may send ``per_minute`` requests in a burst and then ``per_minute / 60`` per second. The
buckets live in the service process: several processes behind one balancer each allow the
limit (docs/service.md says so); a shared store (Redis) is the step for that setup.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # key id → (tokens, at)
        self._lock = threading.Lock()

    def take(self, key_id: int, per_minute: int) -> float:
        """Spend one request of ``key_id``'s allowance: 0 if allowed, else the seconds until
        one is."""
        rate = per_minute / 60.0
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key_id, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - at) * rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / rate

"""Per-key request limits, held in this process: a token bucket per API key (requests a
minute) and a count of heavy requests in flight per key and in all (``InFlight``).

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


class InFlight:
    """Heavy requests in progress (exports, imports, catalogue uploads, large searches): at
    most ``per_key`` for one API key and ``total`` in all. A token bucket bounds how many
    requests a key sends, not how many run at once; a few slow ones at a time (a 50 MB
    import, a large export) can hold every worker thread and the GIL."""

    def __init__(self, per_key: int, total: int) -> None:
        self.per_key = per_key
        self.total = total
        self._by_key: dict[int, int] = {}
        self._all = 0
        self._lock = threading.Lock()

    def enter(self, key_id: int) -> str | None:
        """Take a slot for ``key_id``: None if taken, else which cap is full (``"key"`` or
        ``"total"``)."""
        with self._lock:
            if self._by_key.get(key_id, 0) >= self.per_key:
                return "key"
            if self._all >= self.total:
                return "total"
            self._by_key[key_id] = self._by_key.get(key_id, 0) + 1
            self._all += 1
            return None

    def leave(self, key_id: int) -> None:
        with self._lock:
            left = self._by_key.get(key_id, 0) - 1
            if left > 0:
                self._by_key[key_id] = left
            else:
                self._by_key.pop(key_id, None)
            self._all = max(self._all - 1, 0)

    def running(self, key_id: int | None = None) -> int:
        """Heavy requests in progress for ``key_id`` (all keys when None)."""
        with self._lock:
            return self._all if key_id is None else self._by_key.get(key_id, 0)

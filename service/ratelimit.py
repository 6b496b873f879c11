"""Per-key request limits (requests a minute) and a count of heavy requests in flight per key
and in all (``InFlight``).

Two backends behind one ``take``: ``RateLimiter``, a token bucket per key held in this
process (a key may send ``per_minute`` requests in a burst, then ``per_minute / 60`` a
second), and ``RedisRateLimiter``, a moving window per key in Redis (the ``limits`` library),
shared by every service process and machine that uses the same Redis. With Redis configured
but unreachable, requests are counted in the process's own buckets (each process then allows
the limit) and ``/health`` says so; Redis is tried again after a pause.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class Limiter(Protocol):
    def take(self, key_id: int, per_minute: int) -> float:
        """Spend one request of the key's allowance: 0 if allowed, else seconds to wait."""
        ...

    @property
    def state(self) -> str:
        """``process``, ``redis`` or ``process (redis unreachable: …)``, for /health."""
        ...


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

    @property
    def state(self) -> str:
        return "process"


class RedisRateLimiter:
    """A moving window per key in Redis, shared by every process that uses ``url``. A Redis
    error falls back to ``fallback`` (this process's buckets) for ``retry_s`` seconds, so an
    outage costs one short timeout, not one per request."""

    def __init__(
        self,
        url: str,
        prefix: str = "matcher",
        fallback: RateLimiter | None = None,
        timeout_s: float = 0.25,
        retry_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        self._storage: Any = storage_from_string(
            url, key_prefix=prefix, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._window = MovingWindowRateLimiter(self._storage)
        self._fallback = fallback or RateLimiter()
        self._retry_s, self._clock = retry_s, clock
        self._down_until = 0.0
        self.error: str | None = None

    def take(self, key_id: int, per_minute: int) -> float:
        from limits import RateLimitItemPerMinute

        if self._clock() < self._down_until:
            return self._fallback.take(key_id, per_minute)
        item = RateLimitItemPerMinute(per_minute)
        try:
            if self._window.hit(item, "matcher-key", str(key_id)):
                wait = 0.0
            else:
                reset, _ = self._window.get_window_stats(item, "matcher-key", str(key_id))
                wait = max(1.0, reset - time.time())
        except Exception as exc:  # noqa: BLE001 - any storage failure: count here instead
            if self.error is None:
                logger.warning("Redis rate limits unreachable (%s); counting per process", exc)
            self.error = f"{exc.__class__.__name__}: {exc}"[:200]
            self._down_until = self._clock() + self._retry_s
            return self._fallback.take(key_id, per_minute)
        if self.error is not None:
            logger.info("Redis rate limits reachable again")
            self.error = None
        return wait

    @property
    def state(self) -> str:
        return "redis" if self.error is None else f"process (redis unreachable: {self.error})"


def make_limiter(redis_url: str | None, prefix: str = "matcher") -> Limiter:
    """The shared limiter when a Redis URL is set, else this process's buckets."""
    return RedisRateLimiter(redis_url, prefix) if redis_url else RateLimiter()


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

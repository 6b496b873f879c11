"""Latency summaries shared by the benchmarks: median and 99th percentile in milliseconds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def p50_p99_ms(seconds: Sequence[float], digits: int = 2) -> dict[str, float]:
    """``{"p50_ms", "p99_ms"}`` of per-call times given in seconds."""
    return {
        "p50_ms": round(1000 * statistics.median(seconds), digits),
        "p99_ms": round(1000 * float(np.percentile(seconds, 99)), digits),
    }


def median_seconds(fn: Callable[[], Any], repeats: int) -> float:
    """Median wall time of ``repeats`` calls of ``fn`` (seconds)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)

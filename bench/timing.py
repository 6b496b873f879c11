"""Latency summaries shared by the benchmarks: median and 99th percentile in milliseconds."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import numpy as np


def p50_p99_ms(seconds: Sequence[float], digits: int = 2) -> dict[str, float]:
    """``{"p50_ms", "p99_ms"}`` of per-call times given in seconds."""
    return {
        "p50_ms": round(1000 * statistics.median(seconds), digits),
        "p99_ms": round(1000 * float(np.percentile(seconds, 99)), digits),
    }

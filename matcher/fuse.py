"""Fusion of score parts into one score.

``convex``: similarity parts whose scale depends on the query (dense, lexical) are min-max
normalised over the candidate set; bounded parts (keyword coverage, industry relation,
structured fit) are used as they are; the score is the weighted sum. ``rrf``: reciprocal-rank
fusion, sum of ``w / (k + rank)`` over the parts, rescaled to [0, 1].
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["fuse", "minmax", "QUERY_SCALED"]

QUERY_SCALED = ("dense", "lexical")


def minmax(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return v
    lo, hi = float(v.min()), float(v.max())
    if hi - lo < 1e-12:
        return np.zeros_like(v) if hi <= 0 else np.ones_like(v)
    return (v - lo) / (hi - lo)


def fuse(
    raw: Mapping[str, np.ndarray],
    weights: Mapping[str, float],
    method: str = "convex",
    rrf_k: int = 60,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Return ``(score, parts, contributions)`` for candidates; arrays aligned with ``raw``'s."""
    n = len(next(iter(raw.values()))) if raw else 0
    parts: dict[str, np.ndarray] = {}
    for name, values in raw.items():
        parts[name] = minmax(values) if name in QUERY_SCALED else np.asarray(values, np.float64)
    total_w = sum(w for name, w in weights.items() if name in raw and w > 0) or 1.0
    contributions: dict[str, np.ndarray] = {}
    if method == "convex":
        for name in raw:
            contributions[name] = parts[name] * (max(weights.get(name, 0.0), 0.0) / total_w)
    elif method == "rrf":
        for name in raw:
            w = max(weights.get(name, 0.0), 0.0) / total_w
            order = np.argsort(-np.asarray(raw[name], np.float64), kind="stable")
            ranks = np.empty(n, dtype=np.float64)
            ranks[order] = np.arange(1, n + 1)
            contributions[name] = w * (rrf_k + 1) / (rrf_k + ranks)
    else:
        raise ValueError(f"unknown fusion method {method!r}; choose 'convex' or 'rrf'")
    score = np.zeros(n, dtype=np.float64)
    for c in contributions.values():
        score += c
    return score, parts, contributions

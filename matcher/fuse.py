"""Fusion of score parts into one score.

``convex``: similarity parts whose scale depends on the query (dense, lexical) are scaled
from a floor to a ceiling: the floor is the query's lowest score over reference firms fixed at
fit when the caller gives one (scenario rankings: a firm added later never rescales the
others), else the candidates' own minimum (min-max); the ceiling is the highest score among the
candidates unless the caller fixes it (``absolute`` scale: the cosine's own maximum, 1, so a
pair's part depends on that pair and its scenario's floor alone). Floors may be arrays, one per
pair (a firm's suggestions span scenarios, each with its floor). Bounded parts
(keyword coverage, industry relation, structured fit) are used as they are; the score is the
weighted sum. ``rrf``: reciprocal-rank fusion, sum of ``w / (k + rank)`` over the parts,
rescaled to [0, 1]. Tied values take consecutive ranks in the candidates' order (for a
scenario, the corpus order when every firm is a candidate).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .errors import ConfigError
from .types import FUSION_METHODS, QUERY_SCALED

__all__ = ["fuse", "minmax", "scale_from", "QUERY_SCALED"]


def minmax(values: np.ndarray) -> np.ndarray:
    """``values`` mapped to [0, 1] from their own minimum to their maximum."""
    v = np.asarray(values, dtype=np.float64)
    return scale_from(v, float(v.min())) if v.size else v


def scale_from(
    values: np.ndarray, floor: float | np.ndarray, ceiling: float | None = None
) -> np.ndarray:
    """``values`` mapped to [0, 1]: ``floor`` (a number, or one per value) → 0, ``ceiling``
    (default: the highest value) → 1, clipped outside."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return v
    hi = float(v.max()) if ceiling is None else float(ceiling)
    if np.ndim(floor):
        lo = np.asarray(floor, np.float64)
        span = hi - lo
        wide = span >= 1e-12
        flat = np.zeros_like(v) if hi <= 0 else np.ones_like(v)
        return np.where(wide, np.clip((v - lo) / np.where(wide, span, 1.0), 0.0, 1.0), flat)
    lo_f = float(floor)
    if hi - lo_f < 1e-12:
        return np.zeros_like(v) if hi <= 0 else np.ones_like(v)
    return np.clip((v - lo_f) / (hi - lo_f), 0.0, 1.0)


def fuse(
    raw: Mapping[str, np.ndarray],
    weights: Mapping[str, float],
    method: str = "convex",
    rrf_k: int = 60,
    floor: Mapping[str, float | np.ndarray] | None = None,
    ceiling: Mapping[str, float] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Return ``(score, parts, contributions)`` for candidates; arrays aligned with ``raw``'s.

    ``floor``: per query-scaled part, the score that maps to 0 (see the module doc).
    ``ceiling``: the score that maps to 1, where the candidates are a part of a larger set
    whose best score is known (the nightly batch scores firms block by block); by default the
    candidates' own best.
    """
    n = len(next(iter(raw.values()))) if raw else 0
    parts: dict[str, np.ndarray] = {}
    for name, values in raw.items():
        if name not in QUERY_SCALED:
            parts[name] = np.asarray(values, np.float64)
        else:  # from the floor (default: their own minimum) to the ceiling (default: maximum)
            v = np.asarray(values, np.float64)
            lo = floor.get(name) if floor else None
            hi = ceiling.get(name) if ceiling else None
            parts[name] = scale_from(v, float(v.min()) if lo is None else lo, hi) if v.size else v
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
        raise ConfigError(f"unknown fusion method {method!r}; choose one of {list(FUSION_METHODS)}")
    score = np.zeros(n, dtype=np.float64)
    for c in contributions.values():
        score += c
    return score, parts, contributions

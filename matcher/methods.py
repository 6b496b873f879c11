"""Named ranking methods (fusion and its single-signal baselines) for ``rank`` and ``evaluate``.

``plain`` is not an engine configuration: it ranks by the encoder's cosine between the raw texts
(:mod:`matcher.plain`), so :func:`method_config` refuses it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, get_args

from .config import EngineConfig

__all__ = ["METHODS", "method_config"]

RankMethod = Literal["fusion", "dense", "lexical", "random", "plain"]
METHODS: tuple[RankMethod, ...] = get_args(RankMethod)


def method_config(base: EngineConfig, method: str, exact: bool = False) -> EngineConfig:
    """The config that ranks by ``method``: fusion as configured, or one signal alone.

    ``exact`` scores every firm instead of the dense candidates, so a lexical baseline is not
    limited to what the dense retriever found.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {list(METHODS)}")
    if method == "plain":
        raise ValueError("method 'plain' bypasses the engine; rank with matcher.plain.plain_rank")
    cfg = base
    if method == "dense":
        cfg = replace(cfg, fusion=replace(cfg.fusion, weights={"dense": 1.0}))
    elif method == "lexical":
        cfg = replace(cfg, fusion=replace(cfg.fusion, weights={"lexical": 1.0}))
    if exact or method == "lexical":
        cfg = replace(cfg, candidates=10**9)
    return cfg

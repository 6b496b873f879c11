"""Named ranking methods (fusion and its single-signal baselines) for ``rank`` and ``evaluate``."""

from __future__ import annotations

from dataclasses import replace

from .config import EngineConfig

__all__ = ["METHODS", "method_config"]

METHODS = ("fusion", "dense", "lexical", "random")


def method_config(base: EngineConfig, method: str, exact: bool = False) -> EngineConfig:
    """The config that ranks by ``method``: fusion as configured, or one signal alone.

    ``exact`` scores every firm instead of the dense candidates, so a lexical baseline is not
    limited to what the dense retriever found.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {list(METHODS)}")
    cfg = base
    if method == "dense":
        cfg = replace(cfg, fusion=replace(cfg.fusion, weights={"dense": 1.0}))
    elif method == "lexical":
        cfg = replace(cfg, fusion=replace(cfg.fusion, weights={"lexical": 1.0}))
    if exact or method == "lexical":
        cfg = replace(cfg, candidates=10**9)
    return cfg

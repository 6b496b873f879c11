"""Run named ranking methods over labelled scenarios (the engine side of ``matcher evaluate``)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace

from .config import EngineConfig
from .engine import Engine
from .evaluate import random_run
from .methods import method_config
from .types import Company, Scenario

__all__ = ["rank_methods"]

logger = logging.getLogger(__name__)


def rank_methods(
    scenarios: Sequence[Scenario],
    companies: Sequence[Company],
    qrels: Mapping[str, Mapping[str, int]],
    config: EngineConfig,
    methods: Sequence[str],
    depth: int = 50,
    cache_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
) -> dict[str, dict[str, list[str]]]:
    """Ranked company ids per labelled scenario for each method, from one fitted engine.

    Closed scenarios are ranked too (their labels still measure the ranker).
    """
    labelled = [s for s in scenarios if s.id in qrels]
    if not labelled:
        raise ValueError("no scenario in the catalogue has labels; check the labels file's ids")
    base = replace(config, constraints=replace(config.constraints, match_closed=True))
    engine: Engine | None = None
    out: dict[str, dict[str, list[str]]] = {}
    for method in methods:
        method = method.strip()
        if method == "random":
            full = random_run([s.id for s in labelled], [c.id for c in companies], seed)
            out[method] = {sid: ids[:depth] for sid, ids in full.items()}
            continue
        cfg = method_config(base, method, exact=method != "fusion")
        if engine is None:
            engine = Engine(base, cache_dir=cache_dir).fit(scenarios, companies)
        view = engine.reconfigured(cfg)
        out[method] = {
            s.id: [m.company_id for m in view.match_scenario(s.id, top_k=depth)] for s in labelled
        }
    return out

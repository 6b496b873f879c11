"""The engine's own copy of the vectors, one contiguous matrix indexed by integer id.

Candidates are re-scored exactly from this copy whatever the index approximates. One matrix
instead of an array per firm keeps a million firms' vectors in one allocation (no per-object
overhead) and lets a query gather its candidates' rows in one step; ``float16`` halves it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .config import VECTOR_DTYPES


class VectorStore:
    """Rows by integer id; grows by half its size (or to a reserved size); rows of removed ids
    are simply not asked for."""

    def __init__(self, dim: int, dtype: str = "float32") -> None:
        if dtype not in VECTOR_DTYPES:
            raise ValueError(f"unknown vector dtype {dtype!r}; choose one of {list(VECTOR_DTYPES)}")
        self.dim = dim
        self.dtype = np.dtype(dtype)
        self._rows = np.zeros((0, dim), dtype=self.dtype)

    def put(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Store ``vectors[k]`` as the row of ``ids[k]`` (replacing any earlier one)."""
        ids_ = np.asarray(ids, dtype=np.int64).reshape(-1)
        vecs = np.asarray(vectors).reshape(len(ids_), self.dim)
        if len(ids_) == 0:
            return
        if ids_.min() < 0:
            raise ValueError("vector ids must be zero or more")
        need = int(ids_.max()) + 1
        if need > len(self._rows):
            self._grow(max(need, len(self._rows) + len(self._rows) // 2, 1024))
        self._rows[ids_] = vecs

    def reserve(self, n: int) -> None:
        """Make room for ids below ``n`` at once (a bulk load): growing step by step would hold
        the old and the new matrix together at every step, and overshoot the need by up to half."""
        if n > len(self._rows):
            self._grow(n)

    def _grow(self, rows: int) -> None:
        grown = np.zeros((rows, self.dim), dtype=self.dtype)
        grown[: len(self._rows)] = self._rows
        self._rows = grown

    def rows(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The rows of ``ids`` as float32 (a copy)."""
        return self._rows[np.asarray(ids, dtype=np.int64)].astype(np.float32, copy=False)

    def row(self, i: int) -> np.ndarray:
        return self._rows[i].astype(np.float32)

    def span(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start .. stop-1`` as float32 (a view when stored as float32)."""
        return self._rows[start:stop].astype(np.float32, copy=False)

    def take(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The rows of ``ids`` in the stored dtype (a copy)."""
        return self._rows[np.asarray(ids, dtype=np.int64)]

    def head(self, n: int) -> np.ndarray:
        """Rows ``0 .. n-1`` in the stored dtype (a view), e.g. to save them as they are."""
        return self._rows[:n]

    def adopt(self, rows: np.ndarray) -> None:
        """Hold ``rows`` as rows ``0 ..`` (a saved store being loaded; converted only when it
        was saved in another dtype)."""
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[1] != self.dim:
            raise ValueError(f"rows of shape {rows.shape} for a store of dimension {self.dim}")
        self._rows = np.ascontiguousarray(rows.astype(self.dtype, copy=False))

    @property
    def nbytes(self) -> int:
        return int(self._rows.nbytes)

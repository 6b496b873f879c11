"""The engine's own copy of the vectors: one contiguous matrix indexed by integer id, plus
fixed-size chunks once that matrix is large.

Candidates are re-scored exactly from this copy whatever the index approximates. One matrix
instead of an array per firm keeps a million firms' vectors in one allocation (no per-object
overhead) and lets a query gather its candidates' rows in one step; ``float16`` halves it.
Growing a matrix means copying it: fine at zone scale, but a million firms' sentence store
(6 GB) would need 15 GB for a moment to take one more firm. Past ``COPY_GROWTH_BYTES`` the
store therefore adds chunks of ``CHUNK_ROWS`` rows instead; a save and a load make one matrix
again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .config import VECTOR_DTYPES

CHUNK_ROWS = 1 << 16
COPY_GROWTH_BYTES = 256 << 20


class VectorStore:
    """Rows by integer id; rows of removed ids are simply not asked for."""

    def __init__(self, dim: int, dtype: str = "float32") -> None:
        if dtype not in VECTOR_DTYPES:
            raise ValueError(f"unknown vector dtype {dtype!r}; choose one of {list(VECTOR_DTYPES)}")
        self.dim = dim
        self.dtype = np.dtype(dtype)
        self._rows = np.zeros((0, dim), dtype=self.dtype)
        self._chunks: list[np.ndarray] = []  # rows len(_rows) + k*CHUNK_ROWS onwards

    @property
    def capacity(self) -> int:
        return len(self._rows) + len(self._chunks) * CHUNK_ROWS

    def put(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Store ``vectors[k]`` as the row of ``ids[k]`` (replacing any earlier one)."""
        ids_ = np.asarray(ids, dtype=np.int64).reshape(-1)
        vecs = np.asarray(vectors).reshape(len(ids_), self.dim)
        if len(ids_) == 0:
            return
        if ids_.min() < 0:
            raise ValueError("vector ids must be zero or more")
        need = int(ids_.max()) + 1
        if need > self.capacity:
            self._grow(max(need, self.capacity + self.capacity // 2, 1024))
        main = ids_ < len(self._rows)
        if main.all():
            self._rows[ids_] = vecs
            return
        self._rows[ids_[main]] = vecs[main]
        rest = ids_[~main] - len(self._rows)
        for k in np.unique(rest // CHUNK_ROWS):
            sel = (rest // CHUNK_ROWS) == k
            self._chunks[int(k)][rest[sel] % CHUNK_ROWS] = vecs[~main][sel]

    def reserve(self, n: int) -> None:
        """Make room for ids below ``n`` at once (a bulk load): growing step by step would hold
        the old and the new matrix together at every step, and overshoot the need by up to half."""
        if n > self.capacity:
            self._grow(n)

    def _grow(self, rows: int) -> None:
        if not self._chunks and self._rows.nbytes < COPY_GROWTH_BYTES:
            grown = np.zeros((rows, self.dim), dtype=self.dtype)
            grown[: len(self._rows)] = self._rows
            self._rows = grown
            return
        while self.capacity < rows:
            self._chunks.append(np.zeros((CHUNK_ROWS, self.dim), dtype=self.dtype))

    def take(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The rows of ``ids`` in the stored dtype (a copy)."""
        ids_ = np.asarray(ids, dtype=np.int64).reshape(-1)
        n_main = len(self._rows)
        if not self._chunks or not len(ids_) or ids_.max() < n_main:
            return self._rows[ids_]
        out = np.empty((len(ids_), self.dim), dtype=self.dtype)
        main = ids_ < n_main
        out[main] = self._rows[ids_[main]]
        rest = ids_[~main] - n_main
        where = np.flatnonzero(~main)
        for k in np.unique(rest // CHUNK_ROWS):
            sel = (rest // CHUNK_ROWS) == k
            out[where[sel]] = self._chunks[int(k)][rest[sel] % CHUNK_ROWS]
        return out

    def rows(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The rows of ``ids`` as float32 (a copy)."""
        return self.take(ids).astype(np.float32, copy=False)

    def row(self, i: int) -> np.ndarray:
        return self.take([i])[0].astype(np.float32)

    def span(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start .. stop-1`` as float32 (a view when stored as float32 in one matrix)."""
        if stop <= len(self._rows):
            return self._rows[start:stop].astype(np.float32, copy=False)
        return self.rows(np.arange(start, stop))

    def save(self, path: Path, n: int) -> None:
        """Write rows ``0 .. n-1`` as one ``.npy`` file, chunk by chunk (no copy in memory)."""
        out = np.lib.format.open_memmap(path, mode="w+", dtype=self.dtype, shape=(n, self.dim))
        n_main = min(n, len(self._rows))
        out[:n_main] = self._rows[:n_main]
        at = n_main
        for chunk in self._chunks:
            if at >= n:
                break
            m = min(CHUNK_ROWS, n - at)
            out[at : at + m] = chunk[:m]
            at += m
        out.flush()
        del out

    def adopt(self, rows: np.ndarray) -> None:
        """Hold ``rows`` as rows ``0 ..`` (a saved store being loaded; converted only when it
        was saved in another dtype)."""
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[1] != self.dim:
            raise ValueError(f"rows of shape {rows.shape} for a store of dimension {self.dim}")
        self._rows = np.ascontiguousarray(rows.astype(self.dtype, copy=False))
        self._chunks = []

    @property
    def nbytes(self) -> int:
        return int(self._rows.nbytes) + sum(int(c.nbytes) for c in self._chunks)

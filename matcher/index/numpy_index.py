"""Brute-force numpy index: the reference the faiss backends are tested against."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .base import as_ids, as_matrix


class NumpyIndex:
    backend = "numpy"

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._ids = np.zeros(0, dtype=np.int64)
        self._vecs = np.zeros((0, dim), dtype=np.float32)

    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        ids_ = as_ids(ids)
        vecs = as_matrix(vectors, self.dim)
        if len(ids_) != len(vecs):
            raise ValueError(f"{len(ids_)} ids for {len(vecs)} vectors")
        self.remove(ids_)
        self._ids = np.concatenate([self._ids, ids_])
        self._vecs = np.vstack([self._vecs, vecs])

    def reserve(self, n: int) -> None:
        """Nothing to prepare: exact search needs no training."""

    def remove(self, ids: Sequence[int] | np.ndarray) -> int:
        keep = ~np.isin(self._ids, as_ids(ids))
        removed = int((~keep).sum())
        self._ids, self._vecs = self._ids[keep], self._vecs[keep]
        return removed

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        q = as_matrix(queries, self.dim)
        scores = np.full((len(q), k), -np.inf, dtype=np.float32)
        ids = np.full((len(q), k), -1, dtype=np.int64)
        pool_ids, pool = self._ids, self._vecs
        if allowed is not None:
            ok = np.zeros(len(pool_ids), dtype=bool)
            inside = pool_ids < len(allowed)
            ok[inside] = np.asarray(allowed, dtype=bool)[pool_ids[inside]]
            pool_ids, pool = pool_ids[ok], pool[ok]
        if len(pool_ids) == 0 or k <= 0:
            return scores, ids
        sims = q @ pool.T
        n = min(k, sims.shape[1])
        # Stable sort on (-score, position) so ties break the same way every time.
        order = np.argsort(-sims, axis=1, kind="stable")[:, :n]
        scores[:, :n] = np.take_along_axis(sims, order, axis=1)
        ids[:, :n] = pool_ids[order]
        return scores, ids

    def __len__(self) -> int:
        return len(self._ids)

    def save(self, folder: str | os.PathLike[str]) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "ids.npy", self._ids)
        np.save(folder / "vectors.npy", self._vecs)
        (folder / "index.json").write_text(json.dumps({"backend": self.backend, "dim": self.dim}))

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> NumpyIndex:
        folder = Path(folder)
        meta = json.loads((folder / "index.json").read_text())
        index = cls(int(meta["dim"]))
        index._ids = np.load(folder / "ids.npy", allow_pickle=False)
        index._vecs = np.load(folder / "vectors.npy", allow_pickle=False)
        return index

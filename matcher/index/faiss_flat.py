"""Exact inner-product search with faiss (``IndexIDMap2`` over ``IndexFlatIP``): the default."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from .base import as_ids, as_matrix, faiss_search


class FaissFlatIndex:
    backend = "flat"

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        ids_ = as_ids(ids)
        vecs = as_matrix(vectors, self.dim)
        if len(ids_) != len(vecs):
            raise ValueError(f"{len(ids_)} ids for {len(vecs)} vectors")
        if len(np.unique(ids_)) != len(ids_):
            raise ValueError("duplicate ids in one add() call")
        self.remove(ids_)
        self._index.add_with_ids(vecs, ids_)

    def reserve(self, n: int) -> None:
        """Nothing to prepare: exact search needs no training."""

    def remove(self, ids: Sequence[int] | np.ndarray) -> int:
        ids_ = as_ids(ids)
        if len(ids_) == 0 or self._index.ntotal == 0:
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids_)))

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        return faiss_search(self._index, as_matrix(queries, self.dim), k, allowed)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def save(self, folder: str | os.PathLike[str]) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._index, str(folder / "index.faiss"))
        (folder / "index.json").write_text(json.dumps({"backend": self.backend, "dim": self.dim}))

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> FaissFlatIndex:
        folder = Path(folder)
        meta = json.loads((folder / "index.json").read_text())
        index = cls(int(meta["dim"]))
        index._index = faiss.read_index(str(folder / "index.faiss"))
        return index

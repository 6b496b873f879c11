"""Approximate search with faiss IVF for large corpora.

Below ``exact_below`` vectors it searches exactly (a flat index): a small corpus gains nothing
from ANN and IVF needs enough points to train its centroids. Once the corpus grows past it, the
next search trains an ``IndexIVFFlat`` on the stored vectors and moves them over.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from ..config import IVF_STORAGES
from .base import as_ids, as_matrix, faiss_search

# k-means trains on at most this many sampled vectors per list (faiss's default is 256): at 1M
# vectors the full default took over 10 minutes on 2 cores, for no recall gain (docs/benchmarks.md)
TRAIN_POINTS_PER_LIST = 64


class FaissIVFIndex:
    backend = "ivf"

    @property
    def trained(self) -> bool:
        """Whether the IVF lists are trained (below ``exact_below`` vectors it searches exactly)."""
        return self._trained

    def __init__(
        self,
        dim: int,
        nlist: int = 0,
        nprobe: int = 16,
        exact_below: int = 20000,
        storage: str = "flat",
        filter_widening: float = 1.0,
    ):
        if storage not in IVF_STORAGES:
            raise ValueError(f"unknown IVF storage {storage!r}; choose one of {list(IVF_STORAGES)}")
        self.dim = dim
        self.nlist = nlist
        self.nprobe = nprobe
        self.exact_below = exact_below
        self.storage = storage
        self.filter_widening = filter_widening
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._trained = False
        self._expected = 0

    def reserve(self, n: int) -> None:
        """Announce that about ``n`` vectors are coming (a bulk load): train early for that size."""
        self._expected = max(self._expected, int(n))

    def _lists_for(self, n: int) -> int:
        nlist = self.nlist or max(1, int(2 * math.sqrt(n)))
        return min(nlist, max(1, n // 39))

    def _maybe_train(self) -> None:
        n = int(self._index.ntotal)
        if self._trained or n < max(self.exact_below, 1):
            return
        nlist = self._lists_for(max(n, self._expected))
        flat = self._index
        ids = faiss.vector_to_array(flat.id_map).astype(np.int64)
        vecs = flat.index.reconstruct_n(0, n)
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf: Any
        if self.storage == "sq8":
            ivf = faiss.IndexIVFScalarQuantizer(
                quantizer,
                self.dim,
                nlist,
                faiss.ScalarQuantizer.QT_8bit,
                faiss.METRIC_INNER_PRODUCT,
                False,  # by_residual: plain codes, no per-list tables
            )
        else:
            ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.max_points_per_centroid = TRAIN_POINTS_PER_LIST
        ivf.cp.seed = 1234
        ivf.train(vecs)
        ivf.add_with_ids(vecs, ids)
        ivf.nprobe = self.nprobe
        self._index = ivf
        self._trained = True

    def _ready_to_train(self) -> bool:
        """During an announced bulk load: enough vectors to train lists for the whole load."""
        if self._trained or self._expected < max(self.exact_below, 1):
            return False
        n = int(self._index.ntotal)
        need = self._lists_for(self._expected) * TRAIN_POINTS_PER_LIST
        return n >= max(self.exact_below, min(need, self._expected))

    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        ids_ = as_ids(ids)
        vecs = as_matrix(vectors, self.dim)
        if len(ids_) != len(vecs):
            raise ValueError(f"{len(ids_)} ids for {len(vecs)} vectors")
        self.remove(ids_)
        self._index.add_with_ids(vecs, ids_)
        if self._ready_to_train():
            self._maybe_train()

    def remove(self, ids: Sequence[int] | np.ndarray) -> int:
        ids_ = as_ids(ids)
        if len(ids_) == 0 or self._index.ntotal == 0:
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids_)))

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Search; with ``allowed``, the probed lists widen as the filter narrows.

        A filter passing a share ``s`` of the vectors leaves about ``s`` of each probed list, so
        ``nprobe / s`` lists (at most all) are scanned to see as many allowed vectors as an
        unfiltered search would; ``filter_widening`` ``w`` < 1 scans ``nprobe / s**w``.
        """
        q = as_matrix(queries, self.dim)
        self._maybe_train()
        params = None
        if allowed is not None and self._trained and self._index.ntotal:
            share = max(int(np.count_nonzero(allowed)), 1) / int(self._index.ntotal)
            params = faiss.SearchParametersIVF()
            widen = min(share, 1.0) ** self.filter_widening
            params.nprobe = min(int(self._index.nlist), math.ceil(self.nprobe / widen))
        return faiss_search(self._index, q, k, allowed, params)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def save(self, folder: str | os.PathLike[str]) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._index, str(folder / "index.faiss"))
        meta = {
            "backend": self.backend,
            "dim": self.dim,
            "nlist": self.nlist,
            "nprobe": self.nprobe,
            "exact_below": self.exact_below,
            "storage": self.storage,
            "filter_widening": self.filter_widening,
            "trained": self._trained,
        }
        (folder / "index.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> FaissIVFIndex:
        folder = Path(folder)
        meta = json.loads((folder / "index.json").read_text())
        index = cls(
            int(meta["dim"]),
            meta["nlist"],
            meta["nprobe"],
            meta["exact_below"],
            meta.get("storage", "flat"),
            float(meta.get("filter_widening", 1.0)),
        )
        index._index = faiss.read_index(str(folder / "index.faiss"))
        index._trained = bool(meta["trained"])
        if index._trained:
            index._index.nprobe = index.nprobe
        return index

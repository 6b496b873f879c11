"""The vector-index protocol: add, remove and search by integer id, save and load."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

import faiss
import numpy as np


@runtime_checkable
class VectorIndex(Protocol):
    """Inner-product search over L2-normalised vectors (inner product = cosine).

    ``search`` returns ``(scores, ids)`` of shape ``(nq, k)``, best first, padded with
    ``-inf``/``-1`` when fewer than ``k`` vectors are stored. ``allowed``, a boolean mask indexed
    by id (ids past its end are not allowed), restricts the search to those ids without losing
    recall to the filter. Adding an id that exists replaces its vector.
    """

    backend: str
    dim: int

    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: Sequence[int] | np.ndarray) -> int: ...

    def reserve(self, n: int) -> None:
        """A bulk load of about ``n`` vectors follows (backends that train use it; others not)."""

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def __len__(self) -> int: ...

    def save(self, folder: str | os.PathLike[str]) -> None: ...


def as_ids(ids: Sequence[int] | np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))


# A search of this many queries or fewer runs on one OpenMP thread: splitting one query's scan
# over threads costs more than it saves on small machines, and when the other cores are busy the
# threads spin-wait (bench/hybrid: 8 ms per query with faiss's default 2 threads, 0.15 ms with 1).
FEW_QUERIES = 8


@contextmanager
def threads_for(nq: int) -> Iterator[None]:
    """Run a faiss search of ``nq`` queries on one thread when ``nq`` is small.

    OpenMP's thread count is per calling thread, so concurrent callers do not disturb each other.
    """
    if nq > FEW_QUERIES:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def id_selector(allowed: np.ndarray) -> tuple[Any, np.ndarray]:
    """A faiss selector for the ids where ``allowed`` is true, and the bitmap it reads.

    The caller keeps the bitmap alive while the selector is in use (faiss holds a raw pointer).
    """
    bitmap = np.packbits(np.asarray(allowed, dtype=bool), bitorder="little")
    return faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap)), bitmap


def faiss_search(
    index: Any, q: np.ndarray, k: int, allowed: np.ndarray | None = None, params: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Search a faiss index the way every backend here does.

    Nothing stored or ``k <= 0`` gives an empty (padded) result; ``allowed`` becomes an ID
    selector on ``params`` (plain ``SearchParameters`` unless the caller passes its own, e.g.
    IVF's with a wider ``nprobe``); a few queries run on one thread; padding scores ``-inf``.
    """
    if k <= 0 or index.ntotal == 0:
        return empty_result(len(q), k)
    bitmap = None  # the selector reads it: keep it alive until the search returns
    if allowed is not None:
        params = faiss.SearchParameters() if params is None else params
        params.sel, bitmap = id_selector(allowed)
    with threads_for(len(q)):
        if params is None:
            scores, ids = index.search(q, k)
        else:
            scores, ids = index.search(q, k, params=params)
    del bitmap
    scores[ids < 0] = -np.inf
    return scores, ids


def empty_result(nq: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.full((nq, max(k, 0)), -np.inf, dtype=np.float32),
        np.full((nq, max(k, 0)), -1, dtype=np.int64),
    )


def as_matrix(vectors: np.ndarray, dim: int) -> np.ndarray:
    v = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if v.ndim == 1:
        v = v[None, :]
    if v.shape[1] != dim:
        raise ValueError(f"vectors have dimension {v.shape[1]}, the index expects {dim}")
    return v

"""The firms' TF-IDF rows, appended as firms arrive.

A CSR matrix cannot grow in place: stacking one new row onto a million copies all of them
(gigabytes, about a second). New rows go to small blocks after the main matrix instead; the
blocks are stacked together once there are many, and into the main matrix only once they
hold a share of its rows, so an addition costs about its own rows, amortised.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

# blocks are merged into the main matrix once they hold this share of its rows (or MERGE_MIN)
MERGE_SHARE = 0.05
MERGE_MIN = 1_000
MAX_BLOCKS = 32


class SparseRows:
    """Rows by position: ``append`` returns the first new position, ``take`` gathers rows."""

    def __init__(self, matrix: sp.csr_matrix | None = None) -> None:
        self._blocks: list[sp.csr_matrix] = []
        self._starts: list[int] = []
        if matrix is not None:
            self._push(sp.csr_matrix(matrix, dtype=np.float32))

    def _push(self, block: sp.csr_matrix) -> None:
        self._starts.append(self.n_rows)
        self._blocks.append(block)

    @property
    def n_rows(self) -> int:
        return self._starts[-1] + self._blocks[-1].shape[0] if self._blocks else 0

    def append(self, rows: sp.csr_matrix) -> int:
        first = self.n_rows
        self._push(sp.csr_matrix(rows, dtype=np.float32))
        tail = first + rows.shape[0] - self._blocks[0].shape[0]
        if len(self._blocks) > 1 and tail >= max(MERGE_MIN, MERGE_SHARE * self._blocks[0].shape[0]):
            self._merge(0)
        elif len(self._blocks) > MAX_BLOCKS:
            self._merge(1)
        return first

    def _merge(self, start: int) -> None:
        """Stack blocks ``start ..`` into one."""
        merged = sp.vstack(self._blocks[start:], format="csr")
        self._blocks[start:] = [merged]
        self._starts[start + 1 :] = []

    def take(self, positions: Sequence[int] | np.ndarray) -> sp.csr_matrix:
        """The rows at ``positions``, in that order (a copy)."""
        pos = np.asarray(positions, dtype=np.int64).reshape(-1)
        if not self._blocks:
            raise IndexError("no rows stored")
        if len(self._blocks) == 1:
            return self._blocks[0][pos]
        which = np.searchsorted(self._starts, pos, side="right") - 1
        if len(pos) and (which == which[0]).all():
            b = int(which[0])
            return self._blocks[b][pos - self._starts[b]]
        parts, order = [], []
        for b in np.unique(which):
            sel = np.flatnonzero(which == b)
            parts.append(self._blocks[b][pos[sel] - self._starts[b]])
            order.append(sel)
        stacked = sp.vstack(parts, format="csr")
        return stacked[np.argsort(np.concatenate(order), kind="stable")]

    def zero(self, positions: Sequence[int] | np.ndarray) -> None:
        """Empty the rows at ``positions`` (rows no firm owns any more, on an erasure)."""
        pos = np.asarray(positions, dtype=np.int64).reshape(-1)
        if not len(pos) or not self._blocks:
            return
        which = np.searchsorted(self._starts, pos, side="right") - 1
        for b in np.unique(which):
            block = self._blocks[b]
            rows = pos[which == b] - self._starts[b]
            keep = np.ones(block.shape[0], dtype=np.float32)
            keep[rows] = 0.0
            emptied = sp.diags(keep, format="csr") @ block
            emptied.eliminate_zeros()
            self._blocks[b] = sp.csr_matrix(emptied, dtype=np.float32)

    def matrix(self) -> sp.csr_matrix:
        """All rows as one matrix (stacked when several blocks are held; nothing changes)."""
        if not self._blocks:
            return sp.csr_matrix((0, 0), dtype=np.float32)
        if len(self._blocks) == 1:
            return self._blocks[0]
        return sp.vstack(self._blocks, format="csr")

    @property
    def nbytes(self) -> int:
        return sum(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes for m in self._blocks)

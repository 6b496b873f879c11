"""The lexical-scorer protocol."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import scipy.sparse as sp


@runtime_checkable
class LexicalScorer(Protocol):
    """Sparse vectors over normalised text; cosine of two rows is the lexical score."""

    backend: str

    def fit(self, texts: Sequence[str]) -> LexicalScorer: ...

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix: ...

    def fit_transform(
        self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None
    ) -> sp.csr_matrix:
        """Fit and return the rows of ``texts`` in one pass (``progress(done, total)``)."""
        ...

    def idf(self, token: str) -> float | None: ...

    def max_idf(self) -> float: ...

    @property
    def n_terms(self) -> int:
        """Columns of the vectors (the vocabulary's size)."""
        ...

    def forget_columns(self, columns: Sequence[int]) -> int:
        """Make the terms of ``columns`` unreadable (an erased firm's words) without changing
        any vector: the columns stay, their terms become placeholders no text produces.
        Returns how many terms were renamed."""
        ...

    def save(self, folder: str | os.PathLike[str]) -> None: ...

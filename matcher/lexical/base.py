"""The lexical-scorer protocol."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import scipy.sparse as sp


@runtime_checkable
class LexicalScorer(Protocol):
    """Sparse vectors over normalised text; cosine of two rows is the lexical score."""

    backend: str

    def fit(self, texts: Sequence[str]) -> LexicalScorer: ...

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix: ...

    def idf(self, token: str) -> float | None: ...

    def max_idf(self) -> float: ...

    def save(self, folder: str | os.PathLike[str]) -> None: ...

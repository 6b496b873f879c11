"""TF-IDF over mixed tokens (scikit-learn), saved without pickle (vocabulary JSON + idf array)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from ..errors import NotFittedError
from .tokens import analyser

ERASED = "\x00erased:"  # prefix of a term renamed by forget_columns


class TfidfScorer:
    backend = "tfidf"

    def __init__(
        self, ngram_range: tuple[int, int] = (1, 3), sublinear_tf: bool = True, min_df: int = 1
    ) -> None:
        self.ngram_range = tuple(ngram_range)
        self.sublinear_tf = sublinear_tf
        self.min_df = min_df
        self._vectorizer: TfidfVectorizer | None = None

    def _new(self) -> TfidfVectorizer:
        return TfidfVectorizer(
            analyzer=analyser(self.ngram_range),  # type: ignore[arg-type]
            sublinear_tf=self.sublinear_tf,
            min_df=self.min_df,
            dtype=np.float32,
        )

    def fit(self, texts: Sequence[str]) -> TfidfScorer:
        vec = self._new()
        vec.fit(list(texts))
        self._vectorizer = vec
        return self

    def fit_transform(
        self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None
    ) -> sp.csr_matrix:
        """Fit and return the rows of ``texts``: one tokenising pass instead of two.

        ``progress(done, total)`` is called every 10,000 texts (a million profiles take minutes).
        """
        texts = list(texts)
        vec = self._new()
        plain = vec.analyzer
        if progress is not None:
            count = [0]

            def counting(text: str) -> list[str]:
                count[0] += 1
                if count[0] % 10_000 == 0 or count[0] == len(texts):
                    progress(count[0], len(texts))
                return plain(text)  # type: ignore[operator,no-any-return]

            vec.analyzer = counting  # type: ignore[assignment]
        try:
            rows = vec.fit_transform(texts)
        finally:
            vec.analyzer = plain
        self._vectorizer = vec
        return sp.csr_matrix(rows, dtype=np.float32)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        if self._vectorizer is None:
            raise NotFittedError("TfidfScorer.transform called before fit")
        return sp.csr_matrix(self._vectorizer.transform(list(texts)), dtype=np.float32)

    def idf(self, token: str) -> float | None:
        """Inverse document frequency of one token, ``None`` when it is not in the vocabulary."""
        if self._vectorizer is None:
            raise NotFittedError("TfidfScorer.idf called before fit")
        pos = self._vectorizer.vocabulary_.get(token)
        return None if pos is None else float(self._vectorizer.idf_[pos])

    def max_idf(self) -> float:
        """The IDF of a token found in one text: the highest any token can have."""
        if self._vectorizer is None:
            raise NotFittedError("TfidfScorer.max_idf called before fit")
        return float(self._vectorizer.idf_.max())

    @property
    def n_terms(self) -> int:
        if self._vectorizer is None:
            raise NotFittedError("TfidfScorer.n_terms called before fit")
        return len(self._vectorizer.idf_)

    def forget_columns(self, columns: Sequence[int]) -> int:
        """Rename the terms of ``columns`` to ``ERASED + column``: normalised text holds no
        control characters, so no text maps to them again, and every column keeps its IDF."""
        if self._vectorizer is None:
            raise NotFittedError("TfidfScorer.forget_columns called before fit")
        wanted = {int(c) for c in columns}
        if not wanted:
            return 0
        vocab = self._vectorizer.vocabulary_
        gone = [t for t, j in vocab.items() if j in wanted and not t.startswith(ERASED)]
        for t in gone:
            j = vocab.pop(t)
            vocab[f"{ERASED}{j}"] = j
        return len(gone)

    def save(self, folder: str | os.PathLike[str]) -> None:
        if self._vectorizer is None:
            raise NotFittedError("TfidfScorer.save called before fit")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        vocab = {k: int(v) for k, v in self._vectorizer.vocabulary_.items()}
        meta = {
            "backend": self.backend,
            "ngram_range": list(self.ngram_range),
            "sublinear_tf": self.sublinear_tf,
            "min_df": self.min_df,
        }
        (folder / "lexical.json").write_text(json.dumps(meta))
        (folder / "vocabulary.json").write_text(json.dumps(vocab, ensure_ascii=False), "utf-8")
        np.save(folder / "idf.npy", self._vectorizer.idf_.astype(np.float64))

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> TfidfScorer:
        folder = Path(folder)
        meta = json.loads((folder / "lexical.json").read_text())
        scorer = cls(tuple(meta["ngram_range"]), meta["sublinear_tf"], meta["min_df"])  # type: ignore[arg-type]
        vec = scorer._new()
        vec.vocabulary_ = json.loads((folder / "vocabulary.json").read_text("utf-8"))
        vec.idf_ = np.load(folder / "idf.npy", allow_pickle=False)
        scorer._vectorizer = vec
        return scorer

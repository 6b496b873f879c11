"""Lexical scorers behind one protocol, chosen by name (``tfidf``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..config import LexicalConfig
from ..errors import ConfigError, DataError
from ..types import LEXICAL_BACKENDS
from .base import LexicalScorer
from .tokens import tokens

__all__ = ["LexicalScorer", "create_lexical", "load_lexical", "tokens", "LEXICAL_BACKENDS"]


def create_lexical(config: LexicalConfig) -> LexicalScorer:
    if config.backend == "tfidf":
        from .tfidf import TfidfScorer

        return TfidfScorer(config.ngram_range, config.sublinear_tf, config.min_df)
    raise ConfigError(
        f"unknown lexical backend {config.backend!r}; choose one of {list(LEXICAL_BACKENDS)}"
    )


def load_lexical(folder: str | os.PathLike[str]) -> LexicalScorer:
    meta = json.loads((Path(folder) / "lexical.json").read_text())
    if meta.get("backend") == "tfidf":
        from .tfidf import TfidfScorer

        return TfidfScorer.load(folder)
    raise DataError(f"{folder}: unknown lexical backend {meta.get('backend')!r}")

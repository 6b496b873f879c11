"""Which firms a scenario query scores: vector-index retrieval, filters, query expansion.

:class:`Retriever` finds the candidates (the nearest profiles and profile sentences, or every
firm a selective filter leaves); :func:`rocchio` moves a query towards given firms ("more like
this", pseudo-relevance feedback).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from .config import EngineConfig
from .constraints import Filters
from .corpus import Corpus, ScenarioState

__all__ = ["Retriever", "rocchio"]

SENTENCE_MASKS = 16  # filters whose sentence mask is remembered


class Retriever:
    """Candidate firms for a query over a :class:`Corpus`, with one engine's settings."""

    def __init__(self, config: EngineConfig, corpus: Corpus) -> None:
        self.config = config
        self.corpus = corpus
        self._sent_masks: dict[Filters, tuple[int, np.ndarray]] = {}

    def candidates(self, st: ScenarioState, filters: Filters | None, want: int) -> list[str]:
        """Firms to score: the nearest profiles and sentences, or every firm a filter leaves.

        A selective filter (at most ``max(candidates, exact_filtered)`` firms pass) gets exact
        scoring over every firm that passes it; a broader one restricts the vector searches to
        the firms that pass, so the filter never empties the candidate list.
        """
        corpus = self.corpus
        n = len(corpus.companies)
        c = min(n, max(self.config.candidates, want * 5))
        allowed: np.ndarray | None = None
        if filters is not None and not filters.is_empty():
            allowed = corpus.filter_mask(filters)
            rows = np.flatnonzero(allowed)
            if len(rows) <= max(c, self.config.exact_filtered):
                return [corpus.id_of[int(r)] for r in rows]
        elif c >= n:
            return list(corpus.companies)
        q = st.vector[None, :]
        _, doc_ids = corpus.doc_index.search(q, c, allowed)
        docs = doc_ids[0][doc_ids[0] >= 0]
        sent_allowed = None
        if allowed is not None and filters is not None:
            sent_allowed = self.sentence_mask(filters, allowed)
        _, sent_ids = corpus.sent_index.search(q, c * 2, sent_allowed)
        owners = corpus.sent_owner[sent_ids[0][sent_ids[0] >= 0]]
        # the profiles' firms in their order, then the sentences' new ones, 2c firms at most
        firms = list(dict.fromkeys(docs.tolist() + owners.tolist()))[: 2 * c]
        return [corpus.id_of[k] for k in firms]

    def sentence_mask(self, filters: Filters, allowed: np.ndarray) -> np.ndarray:
        """The sentences of the firms a filter leaves, remembered per filter until the firms
        change: at six million sentences the mask is a 20 ms pass a recruiter's next query with
        the same filter need not repeat."""
        generation = self.corpus.generation
        held = self._sent_masks.get(filters)
        if held is not None and held[0] == generation:
            return held[1]
        owners = self.corpus.sent_owner[: self.corpus.next_sent]
        mask = np.zeros(len(owners), dtype=bool)
        live = owners >= 0
        mask[live] = allowed[owners[live]]
        if len(self._sent_masks) >= SENTENCE_MASKS:
            self._sent_masks.pop(next(iter(self._sent_masks)))
        self._sent_masks[filters] = (generation, mask)
        return mask

    def remembered_masks(self) -> int:
        """How many filters' sentence masks are held (for tests)."""
        return len(self._sent_masks)


def rocchio(corpus: Corpus, st: ScenarioState, top: Sequence[str], w: float) -> ScenarioState:
    """Move the dense and lexical query towards the mean of the given firms' vectors."""
    centroid = corpus.doc_vectors(list(top)).mean(axis=0)
    vec = st.vector + w * centroid / (np.linalg.norm(centroid) or 1.0)
    vec = (vec / (np.linalg.norm(vec) or 1.0)).astype(np.float32)
    rows = corpus.lexical_rows(list(top))
    lex_centroid = sp.csr_matrix(rows.mean(axis=0))
    lex_norm = float(np.sqrt(lex_centroid.multiply(lex_centroid).sum())) or 1.0
    lex = st.lex + lex_centroid * (w / lex_norm)
    lex_len = float(np.sqrt(lex.multiply(lex).sum())) or 1.0
    return replace(st, vector=vec, lex=sp.csr_matrix(lex / lex_len, dtype=np.float32))

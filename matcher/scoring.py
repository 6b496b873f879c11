"""Raw score parts of scenario × firm pairs, remembered per stored scenario, and their floors.

Five parts (:data:`matcher.types.SCORE_PARTS`): ``dense`` (the profile's and its best
sentence's cosine with the query vector), ``lexical`` (TF-IDF cosine), ``keyword`` (share of the
scenario's keywords in the profile), ``industry`` (GB/T 4754 relation) and ``structured`` (firm
strength, chain position, space and investment fit), plus the hard-constraint failures. Dense
and lexical depend on the query's scale; :meth:`Scorer.floor` gives the score that maps to 0
(their lowest over reference firms fixed at fit), which :mod:`matcher.rank` scales from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .constraints import failed_conditions, structured_score
from .corpus import CompanyState, Corpus, ScenarioState
from .industry import relation, unpack
from .types import SCORE_PARTS, Reason

__all__ = ["Scorer", "Raw", "dense_combine"]

# raw parts by name, aligned with the pairs they score
Raw = dict[str, np.ndarray]

FLOOR_MEMO = 1024  # query states whose floor is remembered
MEMO_PAIRS_PER_SCENARIO = 50_000
_NO_PAIR: tuple[Any, ...] = (None,)


@dataclass(frozen=True)
class _ReferenceBlock:
    """The reference firms' vectors (float32) and lexical rows, gathered once per version."""

    version: int
    doc: np.ndarray
    sentences: np.ndarray  # the sentences of the firms in ``has``, firm after firm
    has: np.ndarray  # positions of the firms that have sentences
    starts: np.ndarray  # where each of those firms' sentences start in ``sentences``
    lex: sp.csr_matrix


class Scorer:
    """Computes raw parts over a :class:`Corpus`; a pair's parts depend only on the two states,
    so they are kept per stored scenario and a scenario asked again (other filters, controls,
    pages) re-scores only firms it has not seen."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        # scenario id → (its state, {firm id → (firm state, raw parts..., failures)})
        self._pair_memo: dict[str, tuple[ScenarioState, dict[str, tuple[Any, ...]]]] = {}
        self._floor_memo: dict[int, tuple[ScenarioState, int, dict[str, float]]] = {}
        self._reference_block: _ReferenceBlock | None = None
        # the scenarios a firm was last scored against, stacked (every suggestion, and the
        # nightly batch's firm rows, ask for the same open scenarios again)
        self._stacked: tuple[list[ScenarioState], np.ndarray, sp.csr_matrix] | None = None

    def clear(self) -> None:
        """Forget every remembered pair's parts (after an erasure: they hold firms' states).
        Floors stay: they hold no text, and follow the reference firms' version."""
        self._pair_memo.clear()

    def forget_scenario(self, scenario_id: str) -> None:
        self._pair_memo.pop(scenario_id, None)

    def remembered_pairs(self, scenario_id: str) -> int:
        """How many firms' parts are remembered for a stored scenario (for tests, benches)."""
        held = self._pair_memo.get(scenario_id)
        return len(held[1]) if held else 0

    # ------------------------------------------------------------------ one scenario, many firms
    def parts(
        self, st: ScenarioState, ids: Sequence[str]
    ) -> tuple[list[CompanyState], Raw, list[list[Reason]]]:
        """Raw parts of firms for a scenario, with the firms' states and their failures."""
        corpus = self.corpus
        states = [corpus.companies[i] for i in ids]
        memo = self._memo_for(st)
        if memo is None or len(ids) > MEMO_PAIRS_PER_SCENARIO:  # e.g. tuning over every firm
            raw, fails = self._compute(st, ids, states)
            return states, raw, fails
        entries = [memo.get(cid, _NO_PAIR) for cid in ids]
        todo = [k for k, cs in enumerate(states) if entries[k][0] is not cs]
        if todo:
            if len(memo) + len(todo) > MEMO_PAIRS_PER_SCENARIO:
                memo.clear()
            new_ids = [ids[k] for k in todo]
            raw, fails = self._compute(st, new_ids, [states[k] for k in todo])
            for j, k in enumerate(todo):
                entries[k] = memo[ids[k]] = (
                    states[k],
                    *(float(raw[part][j]) for part in SCORE_PARTS),
                    fails[j],
                )
        out: Raw = {
            part: np.fromiter((e[1 + j] for e in entries), np.float64, len(ids))
            for j, part in enumerate(SCORE_PARTS)
        }
        return states, out, [list(e[-1]) for e in entries]

    def _memo_for(self, st: ScenarioState) -> dict[str, tuple[Any, ...]] | None:
        """The per-firm memo of a stored scenario's current state (None for any other)."""
        sid = st.scenario.id
        if self.corpus.scenarios.get(sid) is not st:
            return None
        held = self._pair_memo.get(sid)
        if held is None or held[0] is not st:
            held = self._pair_memo[sid] = (st, {})
        return held[1]

    def _compute(
        self, st: ScenarioState, ids: Sequence[str], states: Sequence[CompanyState]
    ) -> tuple[Raw, list[list[Reason]]]:
        doc_sims = self.corpus.doc_vectors(ids) @ st.vector
        dense = dense_combine(doc_sims, self.best_sentence(states, st.vector, doc_sims))
        lexical = np.asarray((self.corpus.lexical_rows(ids) @ st.lex.T).todense()).ravel()
        bounded, fails = self.bounded([st] * len(states), states)
        return {"dense": dense, "lexical": lexical, **bounded}, fails

    def best_sentence(
        self, states: Sequence[CompanyState], vector: np.ndarray, doc_sims: np.ndarray
    ) -> np.ndarray:
        """Each firm's best sentence similarity (its profile's where it has no sentences).

        One gather of all the firms' sentence rows, one matrix product, a per-firm maximum.
        """
        out = np.asarray(doc_sims, dtype=np.float64).copy()
        has = [k for k, cs in enumerate(states) if cs.sentences]
        if not has:
            return out
        lens = np.array([len(states[k].sentences) for k in has], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
        if all(states[k].own_vectors is None for k in has):
            first = np.array([states[k].sent_start for k in has], dtype=np.int64)
            rows = np.arange(int(lens.sum()), dtype=np.int64) + np.repeat(first - starts, lens)
            mat = self.corpus.sent_store.rows(rows)
        else:
            mat = np.concatenate([self.corpus.sentence_vectors(states[k]) for k in has])
        out[has] = np.maximum.reduceat(mat @ vector, starts)
        return out

    @staticmethod
    def bounded(
        scen: Sequence[ScenarioState], comp: Sequence[CompanyState]
    ) -> tuple[Raw, list[list[Reason]]]:
        """Keyword, industry and structured parts and hard-constraint failures of pairs."""
        keyword = np.zeros(len(scen))
        structured = np.zeros(len(scen))
        fails: list[list[Reason]] = []
        for k, (s, c) in enumerate(zip(scen, comp, strict=True)):
            if s.keywords:
                keyword[k] = sum(map(c.has_keyword, s.keywords)) / len(s.keywords)
            structured[k] = structured_score(s.scenario, c.company, c.strength)
            fails.append(failed_conditions(s.scenario, c.company))
        industry = industry_part(scen, comp)
        return {"keyword": keyword, "industry": industry, "structured": structured}, fails

    # ------------------------------------------------------------------ one firm, many scenarios
    def for_company(
        self,
        cst: CompanyState,
        doc_vec: np.ndarray,
        lex_row: sp.csr_matrix,
        states: Sequence[ScenarioState],
    ) -> tuple[Raw, list[list[Reason]]]:
        """Raw parts of one firm (stored or transient) against scenarios."""
        svecs, lex_m = self._stack(states)
        doc_sims = svecs @ doc_vec
        sents = self.corpus.sentence_vectors(cst)
        sent_sims = (svecs @ sents.T).max(axis=1) if len(sents) else doc_sims
        dense = dense_combine(doc_sims, sent_sims)
        lexical = np.asarray((lex_m @ lex_row.T).todense()).ravel()
        bounded, fails = self.bounded(states, [cst] * len(states))
        return {"dense": dense, "lexical": lexical, **bounded}, fails

    def _stack(self, states: Sequence[ScenarioState]) -> tuple[np.ndarray, sp.csr_matrix]:
        """The scenarios' query vectors and TF-IDF rows as two matrices, kept while the same
        states are asked for (a changed scenario is a new state object)."""
        held = self._stacked
        if (
            held is not None
            and len(held[0]) == len(states)
            and all(a is b for a, b in zip(held[0], states, strict=True))
        ):
            return held[1], held[2]
        svecs = np.stack([s.vector for s in states])
        lex_m = sp.vstack([s.lex for s in states], format="csr")
        self._stacked = (list(states), svecs, lex_m)
        return svecs, lex_m

    def similarities(
        self, company_ids: Sequence[str], states: Sequence[ScenarioState]
    ) -> dict[str, np.ndarray]:
        """Raw dense and lexical similarity, firms × scenarios, vectorised (nightly batch)."""
        corpus = self.corpus
        svecs = np.stack([s.vector for s in states]).astype(np.float32)
        doc = corpus.doc_vectors(company_ids) @ svecs.T
        sent = np.array(doc, np.float64)
        for row, cid in enumerate(company_ids):
            sv = corpus.sentence_vectors(corpus.companies[cid])
            if len(sv):
                sent[row] = (sv @ svecs.T).max(axis=0)
        dense = dense_combine(doc, sent)
        rows = corpus.lexical_rows(company_ids)
        lex_s = sp.vstack([s.lex for s in states], format="csr")
        lexical = np.asarray((rows @ lex_s.T).todense(), np.float64)
        return {"dense": dense, "lexical": lexical}

    # ------------------------------------------------------------------ floors
    def floor(self, st: ScenarioState) -> dict[str, float] | None:
        """The lowest dense and lexical score of the reference firms for this query.

        Dense and lexical scores are scaled per query from this floor to the best candidate's
        score. The floor comes from firms fixed at fit, not from the candidates, so a firm
        added later (or a candidate list that changes with it) never rescales the other firms'
        parts: adding an unrelated firm cannot reorder the others. None when no reference firm
        is left.
        """
        version = self.corpus.reference_version
        held = self._floor_memo.get(id(st))
        if held is not None and held[0] is st and held[1] == version:
            return held[2]
        block = self._reference_vectors()
        if block is None:
            return None
        doc_sims = block.doc @ st.vector
        best = np.asarray(doc_sims, np.float64).copy()
        if len(block.has):
            best[block.has] = np.maximum.reduceat(block.sentences @ st.vector, block.starts)
        dense = dense_combine(doc_sims, best)
        lexical = np.asarray((block.lex @ st.lex.T).todense()).ravel()
        floor = {"dense": float(dense.min()), "lexical": float(lexical.min())}
        if len(self._floor_memo) >= FLOOR_MEMO:
            self._floor_memo.clear()
        self._floor_memo[id(st)] = (st, block.version, floor)
        return floor

    def _reference_vectors(self) -> _ReferenceBlock | None:
        corpus = self.corpus
        block = self._reference_block
        if block is not None and block.version == corpus.reference_version:
            return block
        ids = [i for i in corpus.reference if i in corpus.companies]
        if not ids:
            return None
        states = [corpus.companies[i] for i in ids]
        has = [k for k, cs in enumerate(states) if cs.sentences]
        sents = [corpus.sentence_vectors(states[k]) for k in has]
        lens = np.array([len(v) for v in sents], dtype=np.int64)
        block = _ReferenceBlock(
            version=corpus.reference_version,
            doc=corpus.doc_vectors(ids),
            sentences=(
                np.concatenate(sents) if sents else np.zeros((0, corpus.doc_store.dim), np.float32)
            ),
            has=np.array(has, dtype=np.int64),
            starts=np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64),
            lex=sp.csr_matrix(corpus.lexical_rows(ids)),
        )
        self._reference_block = block
        return block


def industry_part(scen: Sequence[ScenarioState], comp: Sequence[CompanyState]) -> np.ndarray:
    """The expected GB/T relation score of pairs (:mod:`matcher.industry`): the firm's class
    probabilities times its scenario's table, gathered in one step; pairs where one side has
    no distribution (a state made without one) fall back to the code relation."""
    out = np.zeros(len(scen))
    typed = [
        k
        for k, (s, c) in enumerate(zip(scen, comp, strict=True))
        if s.industry_table is not None and c.taxonomy
    ]
    if typed:
        entries, probs = unpack([comp[k].taxonomy for k in typed])
        first = scen[typed[0]].industry_table
        if all(scen[k].industry_table is first for k in typed):
            gathered = first[entries]  # type: ignore[index]
        else:
            gathered = np.stack(
                [
                    scen[k].industry_table[entries[j]]  # type: ignore[index]
                    for j, k in enumerate(typed)
                ]
            )
        out[typed] = (probs * gathered).sum(axis=1)
    done = set(typed)
    for k, (s, c) in enumerate(zip(scen, comp, strict=True)):
        if k not in done and s.codes and c.codes:
            out[k] = relation(c.codes, s.codes, c.inferred or s.codes_inferred)[1]
    return out


def dense_combine(doc_sims: np.ndarray, sent_sims: np.ndarray) -> np.ndarray:
    """Whole-profile similarity, lifted by the best sentence when that is higher.

    A long profile dilutes one vector; its best sentence keeps a firm whose relevant business is
    one paragraph among many from sinking.
    """
    doc = np.asarray(doc_sims, np.float64)
    return 0.5 * doc + 0.5 * np.maximum(doc, np.asarray(sent_sims, np.float64))

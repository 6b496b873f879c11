"""From raw score parts to ranked :class:`~matcher.types.Match` records: the one ranking path.

Every ranking goes through :class:`Ranker`: a scenario's firms (live queries and the nightly
batch's scenario rows), a firm's scenarios (``suggest`` and the batch's firm rows), the batch's
candidate selection and the learned ranker's training rows. The steps, once each:

1. **fuse** (:meth:`Ranker.fuse`): the parts become one score (:func:`matcher.fuse.fuse`, convex
   or rrf), dense and lexical scaled from a floor; the learned re-ranker (a :class:`Reranker`)
   adds its weighted part, scaled by the model's own fixed range so a pair's learned part does
   not depend on the other candidates; the hard-constraint penalty is subtracted; in ``filter``
   mode the failing pairs are dropped.
2. **order** (:meth:`Ranker.order`): score to 9 decimals, then firm id, then scenario id; pins
   first; near-duplicates collapsed to their best entry; the top k.
3. **build** (:meth:`Ranker.matches`): one ``Match`` per chosen pair, explained.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

import numpy as np

from .config import EngineConfig
from .corpus import CompanyState, Corpus, ScenarioState
from .explain import build_explanation, matched_terms
from .fuse import fuse
from .industry import code_level, explain_overlap, industry_table, relation
from .normalise import strip_pinyin
from .types import QUERY_SCALED, Company, Explanation, IndustryRelation, Match, Reason, Scenario

__all__ = ["Ranker", "Reranker", "Fused", "Explainer", "Pair", "unexplained"]

Pair = tuple[ScenarioState, CompanyState]
# IDF of a token found in about 8% of texts: shared terms more common than that are not evidence.
INFORMATIVE_IDF = 3.5


@runtime_checkable
class Reranker(Protocol):
    """A learned re-ranker (e.g. :class:`matcher.ltr.LearnedRanker`): features of pairs from
    their parts, a score per pair, and the weight and range its part is added with."""

    learned_weight: float

    def features(
        self,
        scenarios: Sequence[Scenario],
        companies: Sequence[Company],
        parts: Mapping[str, np.ndarray],
        raw: Mapping[str, np.ndarray],
        fails: Sequence[Sequence[Reason]],
    ) -> np.ndarray: ...

    def predict(self, x: np.ndarray) -> np.ndarray: ...

    def scale(self, predictions: np.ndarray) -> np.ndarray:
        """Predictions mapped to [0, 1] by a range fixed when the model was trained."""
        ...


# builds a pair's explanation from its states and failed conditions
Explain = Callable[[ScenarioState, CompanyState, Sequence[Reason]], Explanation]
# where the ``absolute`` scale maps dense and lexical to 1: both are cosines
ABSOLUTE_CEILING: dict[str, float] = {"dense": 1.0, "lexical": 1.0}
# what a Match carries where no explanation is built (the nightly batch's compact firm rows)
UNEXPLAINED = Explanation(matched_terms=(), evidence=None, industry=IndustryRelation("none"))


def unexplained(s: ScenarioState, c: CompanyState, fails: Sequence[Reason]) -> Explanation:
    """An ``explain`` for :meth:`Ranker.rank` that builds nothing."""
    return UNEXPLAINED


@dataclass(frozen=True)
class Fused:
    """Fused scores of pairs, aligned with them: ``final`` = ``score`` − ``penalty``;
    ``keep`` is False where ``filter`` mode drops a pair."""

    final: np.ndarray
    penalty: np.ndarray
    parts: dict[str, np.ndarray]
    contributions: dict[str, np.ndarray]
    keep: np.ndarray


class Explainer:
    """Builds a pair's :class:`Explanation`; remembers matched terms (the costly part, asked
    again whenever a scenario's top firms are shown again) and which terms are informative."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        # (scenario's sought text, its keywords, profile text) → matched terms
        self._terms: dict[tuple[str, tuple[str, ...], str], list[str]] = {}
        self._informative: dict[str, bool] = {}
        # (a query's class distribution, a firm's class entry) → the query's nearest class
        self._classes: dict[tuple[int, int], tuple[np.ndarray, int]] = {}

    def clear(self) -> None:
        self._terms.clear()
        self._informative.clear()
        self._classes.clear()

    def explain(self, s: ScenarioState, c: CompanyState, fails: Sequence[Reason]) -> Explanation:
        profile = c.company.description
        key = (s.query.matched_text, s.scenario.keywords, c.company.text())
        terms = self._terms.get(key)
        if terms is None:
            if len(self._terms) > 50_000:
                self._terms.clear()
            terms = self._terms[key] = matched_terms(
                key[0], s.scenario.keywords, key[2], is_informative=self.informative
            )
        evidence = None
        sent_vecs = self.corpus.sentence_vectors(c)
        if len(sent_vecs):
            best = int(np.argmax(sent_vecs @ s.vector))
            evidence = c.sentences[best]
        elif profile.strip():
            evidence = profile.strip()
        rel = self.industry_relation(s, c)
        return build_explanation(
            terms,
            evidence,
            rel,
            fails,
            cross_lingual=s.lang != c.lang,
            demand=s.query.demand.terms,
        )

    def industry_relation(self, s: ScenarioState, c: CompanyState) -> IndustryRelation:
        """The firm code and scenario class that contribute most to the industry part, and how
        they relate (the code relation where a side has no class distribution)."""
        inferred = c.inferred or s.codes_inferred
        if s.industry_table is not None and s.industry_q is not None and c.taxonomy:
            pair = explain_overlap(
                self.corpus.taxonomy, c.taxonomy, s.industry_q, s.industry_table, self._classes
            )
            if pair is not None:
                fcode, scode = pair
                level = code_level(fcode, scode)
                return IndustryRelation(
                    level,
                    fcode,
                    scode if level != "none" else None,  # type: ignore[arg-type]
                    industry_table().name(fcode),
                    inferred,
                )
        return relation(c.codes, s.codes, inferred)[0]

    def informative(self, term: str) -> bool:
        """A shared term counts as evidence when one of its bigrams is rare in the corpus."""
        known = self._informative.get(term)
        if known is None:
            if len(self._informative) > 200_000:  # free-text queries keep adding terms
                self._informative.clear()
            known = self._informative[term] = self._informative_uncached(term)
        return known

    def _informative_uncached(self, term: str) -> bool:
        lexical = self.corpus.lexical
        t = term.lower()
        grams = [t] if len(t) <= 2 or t.isascii() else [t[i : i + 2] for i in range(len(t) - 1)]
        idfs = [v for v in (lexical.idf(g) for g in grams) if v is not None]
        # A shared term is in at least two texts (the scenario is one of them). In a small
        # corpus, being in only those two is enough: idf(df=2) = max_idf + ln(2/3) (the idf
        # array is float32, hence the tolerance).
        return bool(idfs) and max(idfs) >= min(
            INFORMATIVE_IDF, lexical.max_idf() + math.log(2 / 3) - 1e-4
        )


class Ranker:
    """Fuses, orders and builds matches with one engine's settings (see the module doc)."""

    def __init__(
        self,
        config: EngineConfig,
        corpus: Corpus,
        explainer: Explainer,
        reranker: Reranker | None = None,
        floors: Callable[[ScenarioState], Mapping[str, float] | None] | None = None,
    ) -> None:
        """``floors``: a scenario's floor (``Scorer.floor``), which the ``absolute`` scale
        scales every pair from; by default a scorer of its own over ``corpus``."""
        self.config = config
        self.corpus = corpus
        self.explainer = explainer
        self.reranker = reranker
        if floors is None:
            from .scoring import Scorer  # scoring imports the corpus, as this module does

            floors = Scorer(corpus).floor
        self.floors = floors

    def fuse(
        self,
        pairs: Sequence[Pair],
        raw: Mapping[str, np.ndarray],
        fails: Sequence[Sequence[Reason]],
        floor: Mapping[str, float | np.ndarray] | None = None,
        ceiling: Mapping[str, float] | None = None,
    ) -> Fused:
        """Fused scores of ``pairs``. ``floor``/``ceiling``: per query-scaled part, the scores
        that map to 0 and 1 (default: the candidates' own minimum and maximum); one query's
        pairs only, when given. The ``absolute`` scale ignores both: each pair is scaled from
        its own scenario's floor to 1, so its score depends on nothing else."""
        cfg = self.config
        fusion = cfg.fusion
        if fusion.scale == "absolute":  # the same for every caller: live, suggestions, batch
            floor, ceiling = self.pair_floors(pairs), ABSOLUTE_CEILING
        score, parts, contrib = fuse(
            raw, fusion.weights, fusion.method, fusion.rrf_k, floor=floor, ceiling=ceiling
        )
        if self.reranker is not None and len(pairs):
            learned = self.learned(pairs, parts, raw, fails)
            parts["learned"] = learned
            contrib["learned"] = self.reranker.learned_weight * learned
            score = score + contrib["learned"]
        penalty = np.array([cfg.constraints.penalty if f else 0.0 for f in fails])
        keep = np.ones(len(pairs), dtype=bool)
        if cfg.constraints.mode == "filter":
            keep = np.array([not f for f in fails], dtype=bool)
        return Fused(score - penalty, penalty, parts, contrib, keep)

    def pair_floors(self, pairs: Sequence[Pair]) -> dict[str, float | np.ndarray]:
        """Each pair's scenario floor, per query-scaled part (0 where a scenario has none): one
        number when the pairs share a scenario (a ranking), else one per pair (suggestions)."""
        if not pairs:
            return {p: 0.0 for p in QUERY_SCALED}
        first = pairs[0][0]
        if all(s is first for s, _ in pairs):
            held = self.floors(first)
            return {p: float(held[p]) if held else 0.0 for p in QUERY_SCALED}
        by_state: dict[int, Mapping[str, float] | None] = {}
        rows = []
        for s, _ in pairs:
            key = id(s)
            if key not in by_state:
                by_state[key] = self.floors(s)
            rows.append(key)
        out: dict[str, float | np.ndarray] = {}
        for p in QUERY_SCALED:
            value = {k: (held[p] if held else 0.0) for k, held in by_state.items()}
            out[p] = np.fromiter((value[k] for k in rows), np.float64, len(rows))
        return out

    def learned(
        self,
        pairs: Sequence[Pair],
        parts: Mapping[str, np.ndarray],
        raw: Mapping[str, np.ndarray],
        fails: Sequence[Sequence[Reason]],
    ) -> np.ndarray:
        """The re-ranker's part for each pair, in [0, 1]."""
        assert self.reranker is not None
        x = self.reranker.features(
            [s.scenario for s, _ in pairs], [c.company for _, c in pairs], parts, raw, fails
        )
        return self.reranker.scale(self.reranker.predict(x))

    def order(
        self,
        pairs: Sequence[Pair],
        fused: Fused,
        top_k: int,
        collapse: bool,
        pinned: Sequence[str] = (),
    ) -> list[int]:
        """Positions of the chosen pairs, best first (pins first, duplicates collapsed)."""
        kept = np.flatnonzero(fused.keep).tolist()
        order: list[int] = []
        if kept:
            firm_ids = np.array([pairs[i][1].company.id for i in kept])
            scen_ids = np.array([pairs[i][0].scenario.id for i in kept])
            ranks = np.lexsort((scen_ids, firm_ids, -np.round(fused.final[kept], 9)))
            order = [kept[k] for k in ranks.tolist()]
        if pinned:
            pin_pos = {cid: k for k, cid in enumerate(pinned)}
            order.sort(key=lambda i: pin_pos.get(pairs[i][1].company.id, len(pin_pos)))
        chosen: list[int] = []
        seen_groups: set[str] = set()
        for i in order:
            if collapse:
                g = self.corpus.group_of(pairs[i][1].company.id)
                if g in seen_groups:
                    continue
                seen_groups.add(g)
            chosen.append(i)
            if len(chosen) >= top_k:
                break
        return chosen

    def matches(
        self,
        pairs: Sequence[Pair],
        fused: Fused,
        fails: Sequence[Sequence[Reason]],
        chosen: Sequence[int],
        collapse: bool,
        pinned: Sequence[str] = (),
        explain: Callable[[ScenarioState, CompanyState, Sequence[Reason]], Explanation]
        | None = None,
    ) -> list[Match]:
        """One :class:`Match` per chosen pair, ranked 1.. in the given order."""
        explain = explain or self.explainer.explain
        out = []
        pin_set = set(pinned)
        for rank, i in enumerate(chosen, start=1):
            s, c = pairs[i]
            dups: tuple[str, ...] = ()
            if collapse:
                dups = tuple(m for m in self.corpus.group(c.company.id) if m != c.company.id)
            out.append(
                Match(
                    scenario_id=s.scenario.id,
                    company_id=c.company.id,
                    score=float(fused.final[i]),
                    parts={k: float(v[i]) for k, v in fused.parts.items()},
                    contributions={k: float(v[i]) for k, v in fused.contributions.items()},
                    explanation=explain(s, c, fails[i]),
                    rank=rank,
                    penalty=float(fused.penalty[i]),
                    duplicates=dups,
                    company_name=strip_pinyin(c.company.name),
                    scenario_title=s.scenario.title_zh,
                    pinned=c.company.id in pin_set,
                )
            )
        return out

    def rank(
        self,
        pairs: Sequence[Pair],
        raw: Mapping[str, np.ndarray],
        fails: Sequence[Sequence[Reason]],
        top_k: int,
        collapse: bool,
        pinned: Sequence[str] = (),
        floor: Mapping[str, float | np.ndarray] | None = None,
        ceiling: Mapping[str, float] | None = None,
        explain: Callable[[ScenarioState, CompanyState, Sequence[Reason]], Explanation]
        | None = None,
        min_score: float | None = None,
    ) -> list[Match]:
        """Fuse, order and build: the ranked top ``top_k`` of ``pairs`` (those scoring at least
        ``min_score``, when given: a firm's suggestions stop at the fit threshold)."""
        fused = self.fuse(pairs, raw, fails, floor, ceiling)
        if min_score is not None:
            fused = replace(fused, keep=fused.keep & (fused.final >= min_score - 1e-12))
        chosen = self.order(pairs, fused, top_k, collapse, pinned)
        return self.matches(pairs, fused, fails, chosen, collapse, pinned, explain)

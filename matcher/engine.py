"""The facade: fit on scenarios and companies, match in both directions, save and load.

:class:`Engine` keeps the public API and hands each step to the module that owns it:

- :mod:`matcher.corpus` holds firms and scenarios (ids, vector stores and indexes, sentences,
  lexical rows, filter columns, duplicate groups) and adds, replaces and removes them;
- :mod:`matcher.retrieve` finds a query's candidate firms (vector indexes, filters, feedback);
- :mod:`matcher.scoring` computes the raw score parts of pairs and the floors they scale from;
- :mod:`matcher.rank` fuses, adds the learned part, applies constraints, orders, pins,
  collapses duplicates and builds the :class:`~matcher.types.Match` records, for every caller
  (live queries, suggestions, the nightly batch, learning);
- :mod:`matcher.persist` writes and reads the index folder.

A scenario query passes through each once: retrieve → score → rank.
"""

from __future__ import annotations

import copy
import datetime as _dt
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from . import persist
from .config import EngineConfig
from .constraints import Controls, Filters, passes_filters
from .corpus import CompanyState, Corpus, Progress, ScenarioState, reference_sample, stage_progress
from .encode import CachingEncoder, EmbeddingCache, create_encoder
from .errors import ConfigError, DataError, NotFittedError, ScenarioClosedError, UnknownIdError
from .folders import replace_folder
from .industry import IndustryInferrer, industry_table
from .lexical import create_lexical
from .normalise import normalise
from .query import QueryBuilder
from .rank import Explainer, Ranker, Reranker, unexplained
from .retrieve import Retriever, rocchio
from .scoring import Raw, Scorer
from .types import Company, Match, Reason, Scenario

__all__ = ["Engine", "Progress"]

logger = logging.getLogger(__name__)


class Engine:
    """Scenario ↔ company matching engine.

    >>> engine = Engine(EngineConfig()).fit(scenarios, companies)   # doctest: +SKIP
    >>> engine.match_scenario("S01", top_k=5)                        # doctest: +SKIP

    After fit or load: ``corpus`` (what is indexed), ``scoring``, ``retrieval`` and
    ``ranking`` (the stages a query passes through), ``ranker`` (the adopted learned
    re-ranker, a :class:`~matcher.rank.Reranker`, or None).
    """

    corpus: Corpus
    scoring: Scorer
    retrieval: Retriever
    ranking: Ranker
    explainer: Explainer

    def __init__(
        self,
        config: EngineConfig | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        encoder: CachingEncoder | None = None,
    ) -> None:
        """``encoder``: a ready one (a model loaded elsewhere, a benchmark's vector source);
        by default the one ``config.encoder`` names, caching in ``cache_dir``."""
        self.config = config or EngineConfig()
        self.cache_dir = cache_dir
        self._encoder: CachingEncoder | None = encoder
        self._fitted = False
        self._view_of: Engine | None = None
        self._reranker: Reranker | None = None
        self.manifest_: dict[str, Any] = {}
        self.created_at_: str | None = None

    # ------------------------------------------------------------------ setup
    @property
    def encoder(self) -> CachingEncoder:
        if self._encoder is None:
            enc = self.config.encoder
            base = create_encoder(enc.name, enc.model_path, enc.num_threads)
            self._encoder = CachingEncoder(base, EmbeddingCache(self.cache_dir), enc.batch_size)
        return self._encoder

    @property
    def encoder_loaded(self) -> bool:
        """Whether the encoding model exists yet (a loaded engine creates it only when a new
        text must be encoded)."""
        return self._encoder is not None

    def clear_memos(self) -> None:
        """Forget every remembered pair part and explanation term (as after an erasure;
        benchmarks use it to time cold queries)."""
        if hasattr(self, "corpus"):
            self.scoring.clear()
            self.explainer.clear()

    @property
    def ranker(self) -> Reranker | None:
        """The learned re-ranker whose part is added to every ranking (None: none adopted)."""
        return self._reranker

    @ranker.setter
    def ranker(self, value: Reranker | None) -> None:
        self._reranker = value
        if hasattr(self, "ranking"):
            self.ranking.reranker = value

    @property
    def companies_(self) -> dict[str, CompanyState]:
        """Firm id → its state (empty before fit)."""
        return self.corpus.companies if hasattr(self, "corpus") else {}

    @property
    def scenarios_(self) -> dict[str, ScenarioState]:
        """Scenario id → its state (empty before fit)."""
        return self.corpus.scenarios if hasattr(self, "corpus") else {}

    def _attach(self, corpus: Corpus) -> None:
        """Build the stages over ``corpus`` with this engine's settings."""
        self.corpus = corpus
        self.scoring = Scorer(corpus)
        self.explainer = Explainer(corpus)
        self.retrieval = Retriever(self.config, corpus)
        self.ranking = Ranker(
            self.config, corpus, self.explainer, self._reranker, self.scoring.floor
        )

    def _new_corpus(self, dim: int) -> Corpus:
        return Corpus(self.config, dim, lambda: self.encoder)

    def _check_fitted(self) -> None:
        if not self._fitted:
            raise NotFittedError("the engine has no index yet: call fit() or Engine.load() first")

    def _check_writable(self) -> None:
        if self._view_of is not None:
            raise ConfigError("a reconfigured() view is read-only; update the engine it came from")

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        scenarios: Iterable[Scenario],
        companies: Iterable[Company],
        progress: Progress | None = None,
    ) -> Engine:
        """Encode and index everything; replaces any earlier state only when it succeeds."""
        self._check_writable()
        scenarios = list(scenarios)
        companies = list(companies)
        _check_unique([s.id for s in scenarios], "scenario")
        _check_unique([c.id for c in companies], "company")
        if not companies:
            raise DataError("no companies to index; give at least one profile")
        if not scenarios:
            raise DataError("no scenarios to index; give at least one scenario")
        previous = dict(self.__dict__)
        try:
            self._fit(scenarios, companies, progress)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise
        return self

    def _fit(
        self, scenarios: list[Scenario], companies: list[Company], progress: Progress | None
    ) -> None:
        self._fitted = False
        corpus = self._new_corpus(self.encoder.dim)
        norm_c = [normalise(c.text()) for c in companies]
        # the scenarios' query bodies join the vocabulary, as their texts always did
        bodies = [q.body for q in map(QueryBuilder(self.config).build, scenarios)]
        lexical = create_lexical(self.config.lexical)
        try:
            lex_rows = lexical.fit_transform(norm_c + bodies, stage_progress(progress, "lexical"))
        except ValueError as exc:  # scikit-learn: "empty vocabulary"
            raise DataError(f"the texts contain no words to index ({exc})") from exc
        corpus.lexical = lexical
        corpus.inferrer = self._build_inferrer(progress)
        company_rows = lex_rows[: len(norm_c)]
        del lex_rows  # the slice is a copy: hold one matrix, not two, while loading
        self._attach(corpus)
        corpus.add(companies, norm_c, progress, company_rows)
        corpus.set_reference(reference_sample(corpus.companies))
        corpus.set_scenarios(scenarios, progress)
        self._fitted = True
        self.encoder.cache.save()
        self.created_at_ = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")

    def _build_inferrer(self, progress: Progress | None) -> IndustryInferrer | None:
        if not self.config.infer_industry:
            return None
        codes = industry_table().classes()
        texts = [normalise(t) for t in IndustryInferrer.texts(codes)]
        vecs = self.encoder.encode(texts, "query", stage_progress(progress, "industry codes"))
        return IndustryInferrer(
            codes, IndustryInferrer.class_vectors(codes, vecs), self.config.taxonomy_temperature
        )

    # ------------------------------------------------------------------ updates
    def add_companies(self, companies: Iterable[Company]) -> None:
        """Add or replace firms (re-encoded only where their text changed, via the cache)."""
        self._check_fitted()
        self._check_writable()
        companies = list(companies)
        _check_unique([c.id for c in companies], "company")
        self.corpus.add(companies, [normalise(c.text()) for c in companies], None)
        self.encoder.cache.save()

    def prepare_companies(self, companies: Iterable[Company]) -> None:
        """Encode profiles into the embedding cache without changing the index.

        A service calls this outside its write lock, so the later :meth:`add_companies` (under
        the lock) finds every vector cached and readers wait only for the index update.
        """
        companies = list(companies)
        norms = [normalise(c.text()) for c in companies]
        if hasattr(self, "corpus"):
            self.corpus.encode_companies(companies, norms, None, None)
        else:
            self._new_corpus(self.encoder.dim).encode_companies(companies, norms, None, None)

    def remove_companies(self, ids: Iterable[str]) -> int:
        self._check_fitted()
        self._check_writable()
        removed = self.corpus.remove(list(dict.fromkeys(ids)))
        self.corpus.regroup()
        return removed

    def erase_companies(self, ids: Iterable[str]) -> int:
        """Remove firms and what is left of their text in the index (a deletion under data
        protection, not an update): see :meth:`matcher.corpus.Corpus.erase`; every memo that
        may hold their text is cleared. Returns how many were removed."""
        self._check_fitted()
        self._check_writable()
        removed = self.corpus.erase(list(dict.fromkeys(ids)))
        self.clear_memos()
        return removed

    def text_keys(self, companies: Iterable[Company]) -> list[str]:
        """The embedding-cache keys the texts of ``companies`` are stored under (the whole
        profile and each of its sentences): what an erasure removes from the cache."""
        if hasattr(self, "corpus"):
            return self.corpus.text_keys(companies)
        return self._new_corpus(self.encoder.dim).text_keys(companies)

    def upsert_scenarios(self, scenarios: Iterable[Scenario]) -> None:
        self._check_fitted()
        self._check_writable()
        scenarios = list(scenarios)
        _check_unique([s.id for s in scenarios], "scenario")
        self.corpus.set_scenarios(scenarios, None)
        self.encoder.cache.save()

    def remove_scenarios(self, ids: Iterable[str]) -> int:
        self._check_fitted()
        self._check_writable()
        n = 0
        for i in ids:
            n += self.corpus.scenarios.pop(i, None) is not None
            self.scoring.forget_scenario(i)
        return n

    # ------------------------------------------------------------------ reading
    @property
    def scenarios(self) -> list[Scenario]:
        self._check_fitted()
        return [s.scenario for s in self.corpus.scenarios.values()]

    @property
    def companies(self) -> list[Company]:
        self._check_fitted()
        return [c.company for c in self.corpus.companies.values()]

    def company_codes(self, company_id: str) -> tuple[tuple[str, ...], bool]:
        """The firm's industry codes and whether they were inferred from its text."""
        st = self.corpus.companies.get(company_id) if hasattr(self, "corpus") else None
        if st is None:
            raise UnknownIdError(f"unknown company id {company_id!r}")
        return st.codes, st.inferred

    def open_scenarios(self) -> list[ScenarioState]:
        """The scenarios a firm is matched with: the open ones (all with ``match_closed``)."""
        closed_too = self.config.constraints.match_closed
        return [s for s in self.corpus.scenarios.values() if s.scenario.is_open or closed_too]

    # ------------------------------------------------------------------ scenario → firms
    def match_scenario(
        self,
        scenario_id: str,
        top_k: int = 20,
        filters: Filters | None = None,
        controls: Controls | None = None,
        candidate_ids: Sequence[str] | None = None,
    ) -> list[Match]:
        """Rank firms for a stored scenario, best first.

        ``controls`` carry a recruiter's choices for this scenario: pinned firms come first (in
        pin order, when they pass the filters), excluded firms never appear, and "more like
        this" firms move the query towards their profiles. ``candidate_ids`` replaces the
        vector-index retrieval (the nightly batch selects candidates over all firms itself).
        """
        self._check_fitted()
        st = self.corpus.scenarios.get(scenario_id)
        if st is None:
            raise UnknownIdError(
                f"unknown scenario id {scenario_id!r}; known ids start with "
                f"{', '.join(sorted(self.corpus.scenarios)[:5])}"
            )
        if not st.scenario.is_open and not self.config.constraints.match_closed:
            raise ScenarioClosedError(
                f"scenario {scenario_id} is closed, so it is no longer matched; reopen it first"
            )
        return self._rank_companies(st, top_k, filters, controls, candidate_ids)

    def match_text(
        self, text: str, top_k: int = 20, filters: Filters | None = None, query_id: str = "query"
    ) -> list[Match]:
        """Free-text search over firms (any language)."""
        self._check_fitted()
        if not text or not text.strip():
            raise DataError("empty search text; type what the firms should be able to do")
        return self.match_scenario_object(
            Scenario(id=query_id, title_zh=text, description_zh=""), top_k, filters
        )

    def match_scenario_object(
        self, scenario: Scenario, top_k: int = 20, filters: Filters | None = None
    ) -> list[Match]:
        """Rank firms for a scenario that is not stored in the engine."""
        self._check_fitted()
        return self._rank_companies(self.corpus.query_state(scenario), top_k, filters)

    def _rank_companies(
        self,
        st: ScenarioState,
        top_k: int,
        filters: Filters | None,
        controls: Controls | None = None,
        candidate_ids: Sequence[str] | None = None,
    ) -> list[Match]:
        """Controls → candidates → parts (→ feedback expansion) → ranking."""
        if top_k < 1:
            raise DataError("top_k must be at least 1")
        corpus = self.corpus
        ctl = controls or Controls()
        unknown = [i for i in (*ctl.pinned, *ctl.like) if i not in corpus.companies]
        if unknown:
            raise UnknownIdError(f"unknown company id(s) in controls: {', '.join(unknown[:5])}")
        if ctl.like:
            st = rocchio(corpus, st, list(ctl.like), self.config.feedback_weight)
        # Excluding a firm excludes its other entries (same credit code, near-identical name).
        excluded = {m for i in ctl.excluded for m in corpus.group(i)}
        pinned = [i for i in dict.fromkeys(ctl.pinned) if i not in excluded]
        if pinned and filters is not None and not filters.is_empty():
            pinned = [i for i in pinned if self._passes(i, filters)]
        if candidate_ids is not None:
            ids = [i for i in dict.fromkeys(candidate_ids) if i in corpus.companies]
            if filters is not None and not filters.is_empty():
                ids = [i for i in ids if self._passes(i, filters)]
        else:
            ids = self.retrieval.candidates(st, filters, top_k + len(excluded))
        ids = [i for i in ids if i not in excluded]
        ids += [i for i in pinned if i not in set(ids)]
        if not ids:
            return []
        states, raw, fails = self.scoring.parts(st, ids)
        scored = st
        if self.config.feedback_depth > 0:
            scored = self._expand(st, states, raw, fails)
            seen = set(ids)
            more = [
                i
                for i in self.retrieval.candidates(scored, filters, top_k + len(excluded))
                if i not in seen and i not in excluded
            ]
            ids = ids + more
            states, raw, fails = self.scoring.parts(scored, ids)
        return self.ranking.rank(
            [(st, cs) for cs in states],
            raw,
            fails,
            top_k=top_k,
            collapse=self.config.collapse_duplicates,
            pinned=pinned,
            floor=self.floor(scored),
        )

    def _passes(self, company_id: str, filters: Filters) -> bool:
        cs = self.corpus.companies[company_id]
        return passes_filters(cs.company, cs.codes, filters)

    def floor(self, st: ScenarioState) -> dict[str, float] | None:
        """The floor a scenario ranking scales dense and lexical from (None: min-max over the
        candidates, with ``FusionConfig(scale="candidates")``)."""
        return self.scoring.floor(st) if self.config.fusion.scale != "candidates" else None

    def _expand(
        self,
        st: ScenarioState,
        states: Sequence[CompanyState],
        raw: Raw,
        fails: Sequence[Sequence[Reason]],
    ) -> ScenarioState:
        """Pseudo-relevance feedback: move the query towards its best first-pass firms.

        The dense and lexical query vectors gain the mean of the top ``feedback_depth`` firms'
        vectors (Rocchio), so firms described like the best matches, in whatever words or
        language, rise too. Explanations still refer to the original scenario text.
        """
        pairs = [(st, cs) for cs in states]
        fused = self.ranking.fuse(pairs, raw, fails, floor=self.floor(st))
        top = self.ranking.order(pairs, fused, self.config.feedback_depth, collapse=False)
        return rocchio(
            self.corpus, st, [states[i].company.id for i in top], self.config.feedback_weight
        )

    def score_parts(
        self, scenario_id: str, company_ids: Sequence[str] | None = None
    ) -> tuple[list[str], Raw, list[list[Reason]]]:
        """Raw score parts of a stored scenario against firms (all by default), for tuning.

        With feedback on, the parts are those of the expanded query, as ranking uses them.
        """
        self._check_fitted()
        st = self.corpus.scenarios.get(scenario_id)
        if st is None:
            raise UnknownIdError(f"unknown scenario id {scenario_id!r}")
        ids = list(company_ids) if company_ids is not None else list(self.corpus.companies)
        states, raw, fails = self.scoring.parts(st, ids)
        if self.config.feedback_depth > 0:
            _, raw, fails = self.scoring.parts(self._expand(st, states, raw, fails), ids)
        return ids, raw, fails

    # ------------------------------------------------------------------ firm → scenarios
    def suggest(self, company: Company | str, top_k: int = 5, explain: bool = True) -> list[Match]:
        """Rank the open scenarios for a firm: a stored id or a new, unsaved profile.

        ``explain=False`` (the nightly batch's firm rows) leaves the explanations empty.
        """
        self._check_fitted()
        if top_k < 1:
            raise DataError("top_k must be at least 1")
        corpus = self.corpus
        if isinstance(company, str):
            cst = corpus.companies.get(company)
            if cst is None:
                raise UnknownIdError(f"unknown company id {company!r}")
            doc_vec = corpus.doc_store.row(corpus.int_of[company])
            lex_row = corpus.lexical_rows([company])
        else:
            cst, doc_vec, lex_row = corpus.transient(company)
        states = self.open_scenarios()
        if not states:
            return []
        raw, fails = self.scoring.for_company(cst, doc_vec, lex_row, states)
        return self.ranking.rank(
            [(s, cst) for s in states],
            raw,
            fails,
            top_k=top_k,
            collapse=False,
            explain=None if explain else unexplained,
            min_score=self.config.suggest_min_score,
        )

    # ------------------------------------------------------------------ views
    def reconfigured(self, config: EngineConfig) -> Engine:
        """A view of this fitted engine that ranks with other query-time settings.

        Fusion, constraints and candidate count may differ; the corpus (encoder, indexes,
        remembered parts) is shared, read-only through the view.
        """
        fit_time = (
            "encoder",
            "index",
            "lexical",
            "infer_industry",
            "demand",
            "title_in_body",
            "scenario_focus",
            "lexical_focus",
            "taxonomy_temperature",
            "taxonomy_classes",
            "taxonomy_query_classes",
            "taxonomy_from",
        )
        changed = [f for f in fit_time if getattr(config, f) != getattr(self.config, f)]
        if changed:
            raise ConfigError(
                f"reconfigured() cannot change fit-time settings {changed}; fit a new engine"
            )
        other = copy.copy(self)
        other.config = config
        other._view_of = self
        if hasattr(self, "corpus"):
            other.retrieval = Retriever(config, self.corpus)
            other.ranking = Ranker(
                config, self.corpus, self.explainer, self._reranker, self.scoring.floor
            )
        return other

    # ------------------------------------------------------------------ persistence
    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write the index folder atomically: a crash never leaves half an index."""
        self._check_fitted()
        target = Path(folder)
        if target.exists() and not target.is_dir():
            raise DataError(f"{target} is a file, not an index folder; choose another path")
        return replace_folder(
            target,
            lambda tmp: persist.write(
                tmp, self.corpus, self.config, self._encoder_info(), self.created_at_
            ),
        )

    def _encoder_info(self) -> dict[str, Any]:
        """Name, fingerprint and dim of the model the stored vectors came from."""
        if self._encoder is None and self.manifest_.get("encoder"):
            return dict(self.manifest_["encoder"])
        enc = self.encoder
        return {"name": enc.name, "fingerprint": enc.fingerprint, "dim": enc.dim}

    @classmethod
    def load(
        cls, folder: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
    ) -> Engine:
        """Load a saved index; the encoder is created lazily when a new text must be encoded."""
        folder = Path(folder)
        manifest, config = persist.read_manifest(folder)
        engine = cls(config, cache_dir=cache_dir)
        corpus = engine._new_corpus(int(manifest["encoder"]["dim"]))
        persist.read(folder, corpus)
        engine._attach(corpus)
        engine._fitted = True
        engine.created_at_ = manifest.get("created_at")
        engine.manifest_ = manifest
        return engine


def _check_unique(ids: Sequence[str], kind: str) -> None:
    seen: set[str] = set()
    dups = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
    if dups:
        raise DataError(f"duplicate {kind} id(s): {', '.join(dups[:5])}; each id must be unique")

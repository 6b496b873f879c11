"""The facade: fit on scenarios and companies, match in both directions, save and load.

Scenario → firms: dense candidates (profile vectors and profile-sentence vectors) are re-scored
with lexical, keyword, industry and structured parts, fused, checked against hard constraints,
collapsed by near-duplicate group and explained. Firm → scenarios scores every open scenario
with the same parts.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import logging
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .columns import FilterColumns
from .config import EngineConfig, config_from_dict
from .constraints import (
    Controls,
    Filters,
    hard_failures,
    passes_filters,
    strength,
    structured_score,
)
from .dedupe import DuplicateIndex
from .encode import CachingEncoder, EmbeddingCache, create_encoder, l2_normalise
from .encode.cache import text_key
from .errors import ConfigError, DataError, NotFittedError, ScenarioClosedError, UnknownIdError
from .explain import (
    build_explanation,
    contains_term,
    lower_keep_length,
    matched_terms,
    split_sentences,
)
from .folders import replace_folder
from .fuse import fuse, minmax
from .index import VectorIndex, create_index, load_index
from .industry import IndustryInferrer, industry_table, relation
from .lexical import LexicalScorer, create_lexical, load_lexical
from .lexical.rows import SparseRows
from .normalise import detect_language, normalise, strip_pinyin
from .types import Company, Match, Scenario
from .vectors import VectorStore

__all__ = ["Engine", "Progress"]

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
# 2: firms keep their integer ids, vectors in the store's dtype, indexes saved as they are
FORMAT_VERSION = 2
READS_FORMATS = (1, 2)
# Share of unused store, lexical or id rows (left by removed or replaced firms) above which a
# save renumbers and rebuilds instead of writing the live structures as they are.
COMPACT_SHARE = 0.25
# IDF of a token found in about 8% of texts: shared terms more common than that are not evidence.
INFORMATIVE_IDF = 3.5


def _pkg_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


@dataclass
class _CompanyState:
    """A firm as the ranking sees it; what every query would recompute is computed once here."""

    company: Company
    text_lower: str  # normalised, lower-cased profile text (keyword matching)
    lang: str
    codes: tuple[str, ...]
    inferred: bool
    strength: float
    sentences: list[str] = field(default_factory=list)
    # Its sentences' vectors are rows sent_start .. sent_start+len(sentences)-1 of the engine's
    # sentence store; a profile that is not stored (a submission being suggested) holds its own.
    sent_start: int = -1
    own_vectors: np.ndarray | None = None
    # Keyword → found in the profile, filled as scenarios rank this firm (a firm that is a
    # candidate once is usually a candidate again).
    keyword_found: dict[str, bool] = field(default_factory=dict)

    def has_keyword(self, keyword: str) -> bool:
        found = self.keyword_found.get(keyword)
        if found is None:
            found = self.keyword_found[keyword] = contains_term(self.text_lower, keyword) >= 0
        return found

    @classmethod
    def of(
        cls,
        company: Company,
        norm: str,
        codes: tuple[str, ...],
        inferred: bool,
        sentences: list[str],
        sent_start: int = -1,
        own_vectors: np.ndarray | None = None,
    ) -> _CompanyState:
        return cls(
            company=company,
            text_lower=lower_keep_length(norm),
            lang=detect_language(company.description or company.name),
            codes=codes,
            inferred=inferred,
            strength=strength(company),
            sentences=sentences,
            sent_start=sent_start,
            own_vectors=own_vectors,
        )


@dataclass
class _ScenarioState:
    scenario: Scenario
    norm: str
    lang: str
    keywords: tuple[str, ...]
    vector: np.ndarray
    lex: sp.csr_matrix
    codes: tuple[str, ...] = ()
    codes_inferred: bool = False


@dataclass(frozen=True)
class _ReferenceBlock:
    """The reference firms' vectors (float32) and lexical rows, for :meth:`Engine._floor`."""

    version: int
    doc: np.ndarray
    sentences: np.ndarray  # the sentences of the firms in ``has``, firm after firm
    has: np.ndarray  # positions of the firms that have sentences
    starts: np.ndarray  # where each of those firms' sentences start in ``sentences``
    lex: sp.csr_matrix


class Engine:
    """Scenario ↔ company matching engine.

    >>> engine = Engine(EngineConfig()).fit(scenarios, companies)   # doctest: +SKIP
    >>> engine.match_scenario("S01", top_k=5)                        # doctest: +SKIP
    """

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
        self.manifest_: dict[str, Any] = {}
        # A learned re-ranker (matcher.ltr.LearnedRanker), set by whoever adopted one.
        self.ranker: Any = None

    # ------------------------------------------------------------------ setup
    @property
    def encoder(self) -> CachingEncoder:
        if self._encoder is None:
            enc = self.config.encoder
            base = create_encoder(enc.name, enc.model_path, enc.num_threads)
            self._encoder = CachingEncoder(base, EmbeddingCache(self.cache_dir), enc.batch_size)
        return self._encoder

    def _reset(self, dim: int) -> None:
        self.scenarios_: dict[str, _ScenarioState] = {}
        self.companies_: dict[str, _CompanyState] = {}
        self._int_of: dict[str, int] = {}
        self._id_of: dict[int, str] = {}
        self._next_int = 0
        self._doc_index: VectorIndex = create_index(self.config.index, dim)
        self._sent_index: VectorIndex = create_index(self.config.index, dim)
        # Sentence id → its firm's integer id (-1 once removed): an array, as filtered
        # searches map a firm mask onto sentences with it.
        self._sent_owner = np.zeros(0, dtype=np.int64)
        self._doc_store = VectorStore(dim, self.config.index.vector_dtype)
        self._sent_masks: dict[Filters, tuple[int, np.ndarray]] = {}
        self._generation = 0  # counts changes to the firms (filter masks follow it)
        self._sent_store = VectorStore(dim, self.config.index.vector_dtype)
        self._columns = FilterColumns()
        self._informative_memo: dict[str, bool] = {}
        # (scenario text, its keywords, profile text) → matched terms: the costly part of an
        # explanation, asked again whenever a scenario's top firms are shown again.
        self._terms_memo: dict[tuple[str, tuple[str, ...], str], list[str]] = {}
        # scenario id → (its state, {firm id → (firm state, raw parts..., failures)})
        self._pair_memo: dict[str, tuple[_ScenarioState, dict[str, tuple[Any, ...]]]] = {}
        self._next_sent = 0
        self._lex_rows: dict[str, int] = {}
        self._lex = SparseRows()
        self._groups: dict[str, str] = {}
        self._group_members: dict[str, list[str]] = {}
        self._dups = DuplicateIndex()
        self._inferrer: IndustryInferrer | None = None
        # Firms the query-scaled parts' floor is measured on (fixed at fit, see _floor); the
        # version counts changes to them, which alone invalidate the floors and their block.
        self._reference: list[str] = []
        self._reference_set: frozenset[str] = frozenset()
        self._reference_version = 0
        self._reference_block: _ReferenceBlock | None = None
        self._floor_memo: dict[int, tuple[_ScenarioState, int, dict[str, float]]] = {}

    def _check_fitted(self) -> None:
        if not self._fitted:
            raise NotFittedError("the engine has no index yet: call fit() or Engine.load() first")

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
        self._reset(self.encoder.dim)
        norm_c = [normalise(c.text()) for c in companies]
        norm_s = [normalise(s.text()) for s in scenarios]
        lexical = create_lexical(self.config.lexical)
        try:
            lex_rows = lexical.fit_transform(norm_c + norm_s, _stage(progress, "lexical"))
        except ValueError as exc:  # scikit-learn: "empty vocabulary"
            raise DataError(f"the texts contain no words to index ({exc})") from exc
        self._lexical: LexicalScorer = lexical
        self._inferrer = self._build_inferrer(progress)
        company_rows = lex_rows[: len(norm_c)]
        del lex_rows  # the slice is a copy: hold one matrix, not two, while loading
        self._add_companies(companies, norm_c, progress, company_rows)
        self._set_reference(reference_sample(self.companies_))
        self._set_scenarios(scenarios, norm_s, progress)
        self._fitted = True
        self.encoder.cache.save()
        self.created_at_ = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")

    def _build_inferrer(self, progress: Progress | None) -> IndustryInferrer | None:
        if not self.config.infer_industry:
            return None
        codes = industry_table().classes()
        vecs = self.encoder.encode(
            [normalise(t) for t in IndustryInferrer.texts(codes)],
            "query",
            _stage(progress, "industry codes"),
        )
        return IndustryInferrer(codes, vecs)

    def _add_companies(
        self,
        companies: Sequence[Company],
        norms: Sequence[str],
        progress: Progress | None,
        lex: sp.csr_matrix | None = None,
    ) -> None:
        """Encode, then index; a bulk load goes in steps of ``ADD_STEP`` firms.

        Steps keep a million firms' float32 encodings from existing all at once next to the
        stores and indexes they end up in; the indexes are told the whole size first, so an ANN
        index trains its lists for it.
        """
        if not companies:
            return
        grouped = self._dups.held()
        new = [c for c in companies if c.id not in self.companies_]
        same = len(new) == len(companies) or all(
            self._dups.same_identity(c) for c in companies if c.id in self.companies_
        )
        splits = [self._sentences_of(c) for c in companies]
        stepped = len(companies) > ADD_STEP
        if lex is None:
            lex = self._lexical.transform(list(norms))
        lex_base = self._lex.append(lex)
        if stepped:
            n_sent = sum(map(len, splits))
            self._doc_index.reserve(len(self._doc_index) + len(companies))
            self._sent_index.reserve(len(self._sent_index) + n_sent)
            self._doc_store.reserve(self._next_int + len(companies))
            self._sent_store.reserve(self._next_sent + n_sent)
        for lo in range(0, len(companies), ADD_STEP):
            hi = min(lo + ADD_STEP, len(companies))
            step_progress = _offset(progress, lo, hi - lo, len(companies)) if stepped else progress
            doc_vecs, sent_vecs = self._encode_companies(
                companies[lo:hi], norms[lo:hi], splits[lo:hi], step_progress
            )
            self._insert(
                companies[lo:hi], norms[lo:hi], splits[lo:hi], doc_vecs, sent_vecs, lex_base + lo
            )
        # new firms join the groups; a replacement that keeps its name and code changes none
        self._regroup(new if grouped and same and len(new) <= REGROUP_ALL_ABOVE else None)

    def _insert(
        self,
        companies: Sequence[Company],
        norms: Sequence[str],
        sentences: Sequence[list[str]],
        doc_vecs: np.ndarray,
        sent_vecs: np.ndarray,
        lex_base: int,
    ) -> None:
        """Store one step's firms; their lexical rows start at row ``lex_base``."""
        missing = [i for i, c in enumerate(companies) if not c.industry_codes]
        inferred_codes: dict[int, str] = {}
        if missing and self._inferrer is not None:
            for i, code in zip(missing, self._inferrer.infer(doc_vecs[missing]), strict=True):
                inferred_codes[i] = code

        # replace existing entries with the same id
        self._remove_companies([c.id for c in companies if c.id in self.companies_])
        int_ids = []
        for c in companies:
            if c.id not in self._int_of:
                self._int_of[c.id] = self._next_int
                self._id_of[self._next_int] = c.id
                self._next_int += 1
            int_ids.append(self._int_of[c.id])
        first_sent = self._next_sent
        sent_ids = np.arange(first_sent, first_sent + len(sent_vecs), dtype=np.int64)
        self._next_sent += len(sent_vecs)
        self._doc_store.put(int_ids, doc_vecs)
        self._sent_store.put(sent_ids, sent_vecs)
        owners = np.repeat(np.array(int_ids, dtype=np.int64), [len(x) for x in sentences])
        self._own_sentences(sent_ids, owners)
        offset = first_sent
        for i, c in enumerate(companies):
            n = len(sentences[i])
            codes: tuple[str, ...]
            if i in inferred_codes:
                codes, inferred = (inferred_codes[i],), True
            else:
                codes, inferred = tuple(c.industry_codes), False
            state = _CompanyState.of(
                c, norms[i], codes, inferred, sentences[i], offset if n else -1
            )
            self.companies_[c.id] = state
            self._lex_rows[c.id] = lex_base + i
            self._columns.put(int_ids[i], c, codes)
            offset += n
        self._generation += 1
        self._touch_reference([c.id for c in companies])
        self._doc_index.add(np.array(int_ids, dtype=np.int64), doc_vecs)
        if len(sent_ids):
            self._sent_index.add(sent_ids, sent_vecs)

    def _sentences_of(self, c: Company) -> list[str]:
        """The sentences a profile is also searched by (none when it has only one)."""
        enc_cfg = self.config.encoder
        sents = split_sentences(c.description) if enc_cfg.sentences else []
        if len(sents) <= 1:
            return []
        return sents[: enc_cfg.max_sentences]

    def _encode_companies(
        self,
        companies: Sequence[Company],
        norms: Sequence[str],
        sentences: Sequence[list[str]] | None,
        progress: Progress | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        doc_vecs = self.encoder.encode(list(norms), "passage", _stage(progress, "profiles"))
        if sentences is None:
            sentences = [self._sentences_of(c) for c in companies]
        flat = [normalise(s) for sents in sentences for s in sents]
        sent_vecs = self.encoder.encode(flat, "passage", _stage(progress, "sentences"))
        return doc_vecs, sent_vecs

    def _remove_companies(self, ids: Sequence[str]) -> int:
        ints = [self._int_of[i] for i in ids if i in self.companies_]
        if not ints:
            return 0
        self._doc_index.remove(np.array(ints, dtype=np.int64))
        states = [self.companies_[i] for i in ids if i in self.companies_]
        sent_ids = [
            k
            for cs in states
            if cs.sent_start >= 0
            for k in range(cs.sent_start, cs.sent_start + len(cs.sentences))
        ]
        if sent_ids:
            self._sent_index.remove(np.array(sent_ids, dtype=np.int64))
            self._sent_owner[np.array(sent_ids, dtype=np.int64)] = -1
        for n in ints:
            self._columns.drop(n)
        self._generation += 1
        self._touch_reference(ids)
        for i in ids:
            self.companies_.pop(i, None)
            self._lex_rows.pop(i, None)
        return len(ints)

    def _own_sentences(self, sent_ids: np.ndarray, owners: np.ndarray | int) -> None:
        if not len(sent_ids):
            return
        need = int(sent_ids.max()) + 1
        if need > len(self._sent_owner):
            grown = np.full(max(need, 2 * len(self._sent_owner), 1024), -1, dtype=np.int64)
            grown[: len(self._sent_owner)] = self._sent_owner
            self._sent_owner = grown
        self._sent_owner[sent_ids] = owners

    def _regroup(self, added: Sequence[Company] | None = None) -> None:
        """Duplicate groups over all firms, or extended by ``added`` (firms new to the engine)
        without regrouping the rest: a submission to a million firms must not take seconds."""
        if not self.config.collapse_duplicates:
            ids = self.companies_ if added is None else [c.id for c in added]
            if added is None:
                self._groups, self._group_members = {}, {}
            self._groups.update((cid, cid) for cid in ids)
            self._group_members.update((cid, [cid]) for cid in ids)
            return
        if added is None:
            self._dups.rebuild([s.company for s in self.companies_.values()])
            self._groups = {cid: self._dups.group(cid) for cid in self.companies_}
            members: dict[str, list[str]] = {}
            for cid, g in self._groups.items():
                members.setdefault(g, []).append(cid)
            self._group_members = members
            return
        moved = [c.id for c in added]
        for absorbed in self._dups.add(added):
            moved += self._group_members.pop(absorbed, [])
        for cid in dict.fromkeys(moved):
            g = self._groups[cid] = self._dups.group(cid)
            self._group_members.setdefault(g, []).append(cid)

    def _set_scenarios(
        self, scenarios: Sequence[Scenario], norms: Sequence[str], progress: Progress | None
    ) -> None:
        if not scenarios:
            return
        vecs = self._scenario_vectors(scenarios, norms, progress)
        lex = self._lexical.transform(list(norms))
        for i, s in enumerate(scenarios):
            self.scenarios_[s.id] = self._scenario_state(s, norms[i], vecs[i], lex[i])

    def _scenario_vectors(
        self, scenarios: Sequence[Scenario], norms: Sequence[str], progress: Progress | None = None
    ) -> np.ndarray:
        """Query vectors: the whole scenario text, plus (``scenario_focus`` > 0) its title and
        keywords alone, so a published text's boilerplate weighs less than what is sought."""
        vecs = self.encoder.encode(list(norms), "query", _stage(progress, "scenarios"))
        w = self.config.scenario_focus
        if w <= 0:
            return vecs
        focus_texts = [normalise(" ".join([s.title_zh, *s.keywords])) for s in scenarios]
        focus = self.encoder.encode(focus_texts, "query")
        return l2_normalise(vecs + w * focus)

    def _scenario_state(
        self, s: Scenario, norm: str, vec: np.ndarray, lex: sp.csr_matrix
    ) -> _ScenarioState:
        codes, inferred = tuple(s.industry_codes), False
        if not codes and self._inferrer is not None:
            codes, inferred = tuple(self._inferrer.infer(vec[None, :])), True
        return _ScenarioState(
            scenario=s,
            norm=norm,
            lang=detect_language(s.title_zh + s.description_zh),
            keywords=tuple(lower_keep_length(normalise(k)) for k in s.keywords if k.strip()),
            vector=vec,
            lex=lex,
            codes=codes,
            codes_inferred=inferred,
        )

    # ------------------------------------------------------------------ updates
    def add_companies(self, companies: Iterable[Company]) -> None:
        """Add or replace firms (re-encoded only where their text changed, via the cache)."""
        self._check_fitted()
        self._check_writable()
        companies = list(companies)
        _check_unique([c.id for c in companies], "company")
        self._add_companies(companies, [normalise(c.text()) for c in companies], None)
        self.encoder.cache.save()

    def prepare_companies(self, companies: Iterable[Company]) -> None:
        """Encode profiles into the embedding cache without changing the index.

        A service calls this outside its write lock, so the later :meth:`add_companies` (under
        the lock) finds every vector cached and readers wait only for the index update.
        """
        companies = list(companies)
        self._encode_companies(companies, [normalise(c.text()) for c in companies], None, None)

    def remove_companies(self, ids: Iterable[str]) -> int:
        self._check_fitted()
        self._check_writable()
        removed = self._remove_companies(list(dict.fromkeys(ids)))
        self._regroup()
        return removed

    def erase_companies(self, ids: Iterable[str]) -> int:
        """Remove firms and what is left of their text in the index (a deletion under data
        protection, not an update): vocabulary terms no live firm or scenario uses any more
        are renamed to placeholders (their column and IDF stay, so no score changes), every
        vector and TF-IDF row no live firm owns (theirs, and those their earlier versions left)
        is zeroed, so no saved copy holds them, and memos are cleared. Returns how many were
        removed."""
        self._check_fitted()
        self._check_writable()
        ids = list(dict.fromkeys(ids))
        removed = self._remove_companies(ids)
        self._regroup()
        gone = set(ids)
        if not self._reference_set.isdisjoint(gone):  # removed ones were skipped already
            self._set_reference([i for i in self._reference if i not in gone])
        self._forget_unused_terms()
        self._zero_unowned_rows()
        self._terms_memo.clear()
        self._pair_memo.clear()
        self._informative_memo.clear()
        return removed

    def _zero_unowned_rows(self) -> None:
        """Zero the profile, sentence and TF-IDF rows that no live firm owns."""
        live = np.zeros(self._next_int, dtype=bool)
        live[[self._int_of[c] for c in self.companies_]] = True
        dim = self._doc_store.dim
        for rows, store in (
            (np.flatnonzero(~live), self._doc_store),
            (np.flatnonzero(self._sent_owner[: self._next_sent] < 0), self._sent_store),
        ):
            for lo in range(0, len(rows), ADD_STEP):
                part = rows[lo : lo + ADD_STEP]
                store.put(part, np.zeros((len(part), dim), dtype=np.float32))
        owned = np.zeros(self._lex.n_rows, dtype=bool)
        owned[list(self._lex_rows.values())] = True
        self._lex.zero(np.flatnonzero(~owned))

    def _forget_unused_terms(self) -> int:
        """Rename the vocabulary terms that no live firm's row and no scenario's text holds."""
        n_terms = self._lexical.n_terms
        used = np.zeros(n_terms, dtype=bool)
        rows = np.fromiter(self._lex_rows.values(), dtype=np.int64, count=len(self._lex_rows))
        if len(rows):
            for lo in range(0, len(rows), ADD_STEP):  # in steps: a registry's rows are big
                block = self._lex.take(np.sort(rows[lo : lo + ADD_STEP]))
                used[np.unique(block.indices)] = True
        texts = [normalise(st.scenario.text()) for st in self.scenarios_.values()]
        if texts:
            used[np.unique(self._lexical.transform(texts).indices)] = True
        return self._lexical.forget_columns(np.flatnonzero(~used).tolist())

    def text_keys(self, companies: Iterable[Company]) -> list[str]:
        """The embedding-cache keys the texts of ``companies`` are stored under (the whole
        profile and each of its sentences): what an erasure removes from the cache."""
        fp = self.encoder.fingerprint
        keys = []
        for c in companies:
            keys.append(text_key(fp, "passage", normalise(c.text())))
            keys += [text_key(fp, "passage", normalise(t)) for t in self._sentences_of(c)]
        return list(dict.fromkeys(keys))

    def upsert_scenarios(self, scenarios: Iterable[Scenario]) -> None:
        self._check_fitted()
        self._check_writable()
        scenarios = list(scenarios)
        _check_unique([s.id for s in scenarios], "scenario")
        self._set_scenarios(scenarios, [normalise(s.text()) for s in scenarios], None)
        self.encoder.cache.save()

    def remove_scenarios(self, ids: Iterable[str]) -> int:
        self._check_fitted()
        self._check_writable()
        n = 0
        for i in ids:
            n += self.scenarios_.pop(i, None) is not None
            self._pair_memo.pop(i, None)
        return n

    # ------------------------------------------------------------------ queries
    @property
    def scenarios(self) -> list[Scenario]:
        self._check_fitted()
        return [s.scenario for s in self.scenarios_.values()]

    @property
    def companies(self) -> list[Company]:
        self._check_fitted()
        return [c.company for c in self.companies_.values()]

    def company_codes(self, company_id: str) -> tuple[tuple[str, ...], bool]:
        """The firm's industry codes and whether they were inferred from its text."""
        st = self.companies_.get(company_id)
        if st is None:
            raise UnknownIdError(f"unknown company id {company_id!r}")
        return st.codes, st.inferred

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
        st = self.scenarios_.get(scenario_id)
        if st is None:
            raise UnknownIdError(
                f"unknown scenario id {scenario_id!r}; known ids start with "
                f"{', '.join(sorted(self.scenarios_)[:5])}"
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
        norm = normalise(scenario.text())
        vec = self._scenario_vectors([scenario], [norm])[0]
        lex = self._lexical.transform([norm])
        return self._rank_companies(self._scenario_state(scenario, norm, vec, lex), top_k, filters)

    def suggest(self, company: Company | str, top_k: int = 5) -> list[Match]:
        """Rank the open scenarios for a firm: a stored id or a new, unsaved profile."""
        self._check_fitted()
        if top_k < 1:
            raise DataError("top_k must be at least 1")
        if isinstance(company, str):
            cst = self.companies_.get(company)
            if cst is None:
                raise UnknownIdError(f"unknown company id {company!r}")
            doc_vec = self._doc_store.row(self._int_of[company])
            lex_row = self._lex.take([self._lex_rows[company]])
        else:
            cst, doc_vec, lex_row = self._transient_company(company)
        states = [
            s
            for s in self.scenarios_.values()
            if s.scenario.is_open or self.config.constraints.match_closed
        ]
        if not states:
            return []
        svecs = np.stack([s.vector for s in states])
        doc_sims = svecs @ doc_vec
        cst_sents = self._sentence_vectors(cst)
        if len(cst_sents):
            sent_sims = (svecs @ cst_sents.T).max(axis=1)
        else:
            sent_sims = doc_sims
        dense = _dense_combine(doc_sims, sent_sims)
        lex_m = sp.vstack([s.lex for s in states], format="csr")
        lexical = np.asarray((lex_m @ lex_row.T).todense()).ravel()
        raw, fails = self._bounded_parts(states, [cst] * len(states))
        raw = {"dense": dense, "lexical": lexical, **raw}
        matches = self._assemble(
            [(s, cst) for s in states], raw, fails, top_k=top_k, collapse=False
        )
        return matches

    def _transient_company(
        self, company: Company
    ) -> tuple[_CompanyState, np.ndarray, sp.csr_matrix]:
        norm = normalise(company.text())
        doc_vec = self.encoder.encode([norm], "passage")[0]
        sents = self._sentences_of(company)
        sent_vecs = self.encoder.encode([normalise(s) for s in sents], "passage")
        codes, inferred = tuple(company.industry_codes), False
        if not codes and self._inferrer is not None:
            codes, inferred = tuple(self._inferrer.infer(doc_vec[None, :])), True
        cst = _CompanyState.of(company, norm, codes, inferred, sents, own_vectors=sent_vecs)
        return cst, doc_vec, self._lexical.transform([norm])

    # ------------------------------------------------------------------ scoring
    def _candidates(self, st: _ScenarioState, filters: Filters | None, want: int) -> list[str]:
        """Firms to score: the nearest profiles and sentences, or every firm a filter leaves.

        A selective filter (at most ``max(candidates, exact_filtered)`` firms pass) gets exact
        scoring over every firm that passes it; a broader one restricts the vector searches to
        the firms that pass, so the filter never empties the candidate list.
        """
        n = len(self.companies_)
        c = min(n, max(self.config.candidates, want * 5))
        allowed: np.ndarray | None = None
        if filters is not None and not filters.is_empty():
            allowed = self._columns.mask(filters)
            rows = np.flatnonzero(allowed)
            if len(rows) <= max(c, self.config.exact_filtered):
                return [self._id_of[int(r)] for r in rows]
        elif c >= n:
            return list(self.companies_)
        q = st.vector[None, :]
        _, doc_ids = self._doc_index.search(q, c, allowed)
        docs = doc_ids[0][doc_ids[0] >= 0]
        sent_allowed = None
        if allowed is not None and filters is not None:
            sent_allowed = self._sentence_mask(filters, allowed)
        _, sent_ids = self._sent_index.search(q, c * 2, sent_allowed)
        owners = self._sent_owner[sent_ids[0][sent_ids[0] >= 0]]
        # the profiles' firms in their order, then the sentences' new ones, 2c firms at most
        firms = list(dict.fromkeys(docs.tolist() + owners.tolist()))[: 2 * c]
        return [self._id_of[k] for k in firms]

    def _sentence_mask(self, filters: Filters, allowed: np.ndarray) -> np.ndarray:
        """The sentences of the firms a filter leaves, remembered per filter until the firms
        change: at six million sentences the mask is a 20 ms pass a recruiter's next query with
        the same filter need not repeat."""
        held = self._sent_masks.get(filters)
        if held is not None and held[0] == self._generation:
            return held[1]
        owners = self._sent_owner[: self._next_sent]
        mask = np.zeros(len(owners), dtype=bool)
        live = owners >= 0
        mask[live] = allowed[owners[live]]
        if len(self._sent_masks) >= 16:
            self._sent_masks.pop(next(iter(self._sent_masks)))
        self._sent_masks[filters] = (self._generation, mask)
        return mask

    def _rank_companies(
        self,
        st: _ScenarioState,
        top_k: int,
        filters: Filters | None,
        controls: Controls | None = None,
        candidate_ids: Sequence[str] | None = None,
    ) -> list[Match]:
        if top_k < 1:
            raise DataError("top_k must be at least 1")
        ctl = controls or Controls()
        unknown = [i for i in (*ctl.pinned, *ctl.like) if i not in self.companies_]
        if unknown:
            raise UnknownIdError(f"unknown company id(s) in controls: {', '.join(unknown[:5])}")
        if ctl.like:
            st = self._rocchio(st, list(ctl.like), self.config.feedback_weight)
        # Excluding a firm excludes its other entries (same credit code, near-identical name).
        excluded = {
            m for i in ctl.excluded for m in self._group_members.get(self._groups.get(i, i), [i])
        }
        pinned = [i for i in dict.fromkeys(ctl.pinned) if i not in excluded]
        if pinned and filters is not None and not filters.is_empty():
            pinned = [
                i
                for i in pinned
                if passes_filters(self.companies_[i].company, self.companies_[i].codes, filters)
            ]
        if candidate_ids is not None:
            ids = [i for i in dict.fromkeys(candidate_ids) if i in self.companies_]
            if filters is not None and not filters.is_empty():
                ids = [
                    i
                    for i in ids
                    if passes_filters(self.companies_[i].company, self.companies_[i].codes, filters)
                ]
        else:
            ids = self._candidates(st, filters, top_k + len(excluded))
        ids = [i for i in ids if i not in excluded]
        ids += [i for i in pinned if i not in set(ids)]
        if not ids:
            return []
        states, raw, fails = self._raw_parts(st, ids)
        scored = st
        if self.config.feedback_depth > 0:
            scored = self._expand(st, ids, raw, fails)
            seen = set(ids)
            more = [
                i
                for i in self._candidates(scored, filters, top_k + len(excluded))
                if i not in seen and i not in excluded
            ]
            ids = ids + more
            states, raw, fails = self._raw_parts(scored, ids)
        return self._assemble(
            [(st, cs) for cs in states],
            raw,
            fails,
            top_k=top_k,
            collapse=self.config.collapse_duplicates,
            pinned=pinned,
            floor=self._scale_floor(scored),
        )

    def _expand(
        self,
        st: _ScenarioState,
        ids: Sequence[str],
        raw: dict[str, np.ndarray],
        fails: Sequence[Sequence[str]],
    ) -> _ScenarioState:
        """Pseudo-relevance feedback: move the query towards its best first-pass firms.

        The dense and lexical query vectors gain the mean of the top ``feedback_depth`` firms'
        vectors (Rocchio), so firms described like the best matches, in whatever words or
        language, rise too. Explanations still refer to the original scenario text.
        """
        cfg = self.config
        fusion = cfg.fusion
        score, _, _ = fuse(
            raw, fusion.weights, fusion.method, fusion.rrf_k, floor=self._scale_floor(st)
        )
        score = score - np.array([cfg.constraints.penalty if f else 0.0 for f in fails])
        top = [ids[i] for i in np.argsort(-score, kind="stable")[: cfg.feedback_depth]]
        return self._rocchio(st, top, cfg.feedback_weight)

    def _rocchio(self, st: _ScenarioState, top: Sequence[str], w: float) -> _ScenarioState:
        """Move the dense and lexical query towards the mean of the given firms' vectors."""
        centroid = self._doc_store.rows([self._int_of[i] for i in top]).mean(axis=0)
        vec = st.vector + w * centroid / (np.linalg.norm(centroid) or 1.0)
        vec = (vec / (np.linalg.norm(vec) or 1.0)).astype(np.float32)
        rows = self._lex.take([self._lex_rows[i] for i in top])
        lex_centroid = sp.csr_matrix(rows.mean(axis=0))
        lex_norm = float(np.sqrt(lex_centroid.multiply(lex_centroid).sum())) or 1.0
        lex = st.lex + lex_centroid * (w / lex_norm)
        lex_len = float(np.sqrt(lex.multiply(lex).sum())) or 1.0
        return replace(st, vector=vec, lex=sp.csr_matrix(lex / lex_len, dtype=np.float32))

    def score_parts(
        self, scenario_id: str, company_ids: Sequence[str] | None = None
    ) -> tuple[list[str], dict[str, np.ndarray], list[list[str]]]:
        """Raw score parts of a stored scenario against firms (all by default), for tuning.

        With feedback on, the parts are those of the expanded query, as ranking uses them.
        """
        self._check_fitted()
        st = self.scenarios_.get(scenario_id)
        if st is None:
            raise UnknownIdError(f"unknown scenario id {scenario_id!r}")
        ids = list(company_ids) if company_ids is not None else list(self.companies_)
        _, raw, fails = self._raw_parts(st, ids)
        if self.config.feedback_depth > 0:
            _, raw, fails = self._raw_parts(self._expand(st, ids, raw, fails), ids)
        return ids, raw, fails

    def similarities(
        self, company_ids: Sequence[str], scenario_ids: Sequence[str]
    ) -> dict[str, np.ndarray]:
        """Raw dense and lexical similarity, firms × scenarios, vectorised (nightly batch)."""
        self._check_fitted()
        states = [self.scenarios_[i] for i in scenario_ids]
        svecs = np.stack([s.vector for s in states]).astype(np.float32)
        doc = self._doc_store.rows([self._int_of[i] for i in company_ids]) @ svecs.T
        sent = np.array(doc, np.float64)
        for row, cid in enumerate(company_ids):
            sv = self._sentence_vectors(self.companies_[cid])
            if len(sv):
                sent[row] = (sv @ svecs.T).max(axis=0)
        dense = _dense_combine(doc, sent)
        rows = self._lex.take([self._lex_rows[i] for i in company_ids])
        lex_s = sp.vstack([s.lex for s in states], format="csr")
        lexical = np.asarray((rows @ lex_s.T).todense(), np.float64)
        return {"dense": dense, "lexical": lexical}

    def bounded_parts(
        self, company_ids: Sequence[str], scenario_id: str
    ) -> tuple[dict[str, np.ndarray], list[list[str]]]:
        """Keyword, industry and structured parts and hard-constraint failures for firms."""
        st = self.scenarios_[scenario_id]
        comps = [self.companies_[i] for i in company_ids]
        return self._bounded_parts([st] * len(comps), comps)

    def texts_to_encode(
        self, scenarios: Sequence[Scenario], companies: Sequence[Company]
    ) -> dict[str, list[str]]:
        """Every normalised text a :meth:`fit` on these records encodes, by role (unique)."""
        passages: list[str] = []
        enc_cfg = self.config.encoder
        for c in companies:
            passages.append(normalise(c.text()))
            sents = split_sentences(c.description) if enc_cfg.sentences else []
            if len(sents) > 1:
                passages.extend(normalise(x) for x in sents[: enc_cfg.max_sentences])
        queries = [normalise(s.text()) for s in scenarios]
        if self.config.scenario_focus > 0:
            queries += [normalise(" ".join([s.title_zh, *s.keywords])) for s in scenarios]
        if self.config.infer_industry:
            queries += [normalise(t) for t in IndustryInferrer.texts(industry_table().classes())]
        return {"passage": list(dict.fromkeys(passages)), "query": list(dict.fromkeys(queries))}

    def reconfigured(self, config: EngineConfig) -> Engine:
        """A view of this fitted engine that ranks with other query-time settings.

        Fusion, constraints and candidate count may differ; the encoder and index are shared.
        """
        fit_time = ("encoder", "index", "lexical", "scenario_focus", "infer_industry")
        changed = [f for f in fit_time if getattr(config, f) != getattr(self.config, f)]
        if changed:
            raise ConfigError(
                f"reconfigured() cannot change fit-time settings {changed}; fit a new engine"
            )
        other = copy.copy(self)
        other.config = config
        other._view_of = self
        # keyed by counters the view copied: not shared with the engine
        other._sent_masks = {}
        other._floor_memo = {}
        return other

    def _check_writable(self) -> None:
        if getattr(self, "_view_of", None) is not None:
            raise ConfigError("a reconfigured() view is read-only; update the engine it came from")

    def _scale_floor(self, st: _ScenarioState) -> dict[str, float] | None:
        """:meth:`_floor` when the fusion scales from a floor, else None (min-max)."""
        return self._floor(st) if self.config.fusion.scale == "floor" else None

    def _set_reference(self, ids: list[str]) -> None:
        self._reference = ids
        self._reference_set = frozenset(ids)
        self._reference_version += 1
        self._reference_block = None

    def _touch_reference(self, ids: Iterable[str]) -> None:
        """Invalidate the floors when one of ``ids`` (added, replaced, removed) is a reference."""
        if self._reference_set and not self._reference_set.isdisjoint(ids):
            self._reference_version += 1
            self._reference_block = None

    def _reference_vectors(self) -> _ReferenceBlock | None:
        """The live reference firms' vectors and lexical rows, gathered once per version."""
        block = self._reference_block
        if block is not None and block.version == self._reference_version:
            return block
        ids = [i for i in self._reference if i in self.companies_]
        if not ids:
            return None
        states = [self.companies_[i] for i in ids]
        has = [k for k, cs in enumerate(states) if cs.sentences]
        sents = [self._sentence_vectors(states[k]) for k in has]
        lens = np.array([len(v) for v in sents], dtype=np.int64)
        block = _ReferenceBlock(
            version=self._reference_version,
            doc=self._doc_store.rows([self._int_of[i] for i in ids]),
            sentences=(
                np.concatenate(sents) if sents else np.zeros((0, self._doc_store.dim), np.float32)
            ),
            has=np.array(has, dtype=np.int64),
            starts=np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64),
            lex=sp.csr_matrix(self._lex.take([self._lex_rows[i] for i in ids])),
        )
        self._reference_block = block
        return block

    def _floor(self, st: _ScenarioState) -> dict[str, float] | None:
        """The lowest dense and lexical score of the reference firms for this query.

        Dense and lexical scores are scaled per query from this floor to the best candidate's
        score. The floor comes from firms fixed at fit, not from the candidates, so a firm
        added later (or a candidate list that changes with it) never rescales the other firms'
        parts: adding an unrelated firm cannot reorder the others. Over a sample of the whole
        index it is also the floor the nightly batch and weight tuning scale from (the minimum
        over every firm). None when no reference firm is left.
        """
        held = self._floor_memo.get(id(st))
        if held is not None and held[0] is st and held[1] == self._reference_version:
            return held[2]
        block = self._reference_vectors()
        if block is None:
            return None
        doc_sims = block.doc @ st.vector
        best = np.asarray(doc_sims, np.float64).copy()
        if len(block.has):
            best[block.has] = np.maximum.reduceat(block.sentences @ st.vector, block.starts)
        dense = _dense_combine(doc_sims, best)
        lexical = np.asarray((block.lex @ st.lex.T).todense()).ravel()
        floor = {"dense": float(dense.min()), "lexical": float(lexical.min())}
        if len(self._floor_memo) >= FLOOR_MEMO:
            self._floor_memo.clear()
        self._floor_memo[id(st)] = (st, block.version, floor)
        return floor

    def _raw_parts(
        self, st: _ScenarioState, ids: Sequence[str]
    ) -> tuple[list[_CompanyState], dict[str, np.ndarray], list[list[str]]]:
        """Raw score parts of firms for a scenario; a stored scenario remembers them per firm.

        A pair's parts depend only on the scenario's and the firm's state, so they are kept
        (per stored scenario, checked against the firm's current state) and a scenario asked
        again, with other filters or controls, re-scores only the firms it has not seen.
        """
        states = [self.companies_[i] for i in ids]
        memo = self._memo_for(st)
        if memo is None or len(ids) > MEMO_PAIRS_PER_SCENARIO:  # e.g. tuning over every firm
            raw, fails = self._compute_parts(st, ids, states)
            return states, raw, fails
        entries = [memo.get(cid, _NO_PAIR) for cid in ids]
        todo = [k for k, cs in enumerate(states) if entries[k][0] is not cs]
        if todo:
            if len(memo) + len(todo) > MEMO_PAIRS_PER_SCENARIO:
                memo.clear()
            new_ids = [ids[k] for k in todo]
            raw, fails = self._compute_parts(st, new_ids, [states[k] for k in todo])
            for j, k in enumerate(todo):
                entries[k] = memo[ids[k]] = (
                    states[k],
                    *(float(raw[part][j]) for part in _PARTS),
                    fails[j],
                )
        out = {
            part: np.fromiter((e[1 + j] for e in entries), np.float64, len(ids))
            for j, part in enumerate(_PARTS)
        }
        return states, out, [list(e[-1]) for e in entries]

    def _memo_for(self, st: _ScenarioState) -> dict[str, tuple[Any, ...]] | None:
        """The per-firm memo of a stored scenario's current state (None for any other)."""
        sid = st.scenario.id
        if self.scenarios_.get(sid) is not st:
            return None
        held = self._pair_memo.get(sid)
        if held is None or held[0] is not st:
            held = self._pair_memo[sid] = (st, {})
        return held[1]

    def _compute_parts(
        self, st: _ScenarioState, ids: Sequence[str], states: Sequence[_CompanyState]
    ) -> tuple[dict[str, np.ndarray], list[list[str]]]:
        doc_m = self._doc_store.rows([self._int_of[i] for i in ids])
        doc_sims = doc_m @ st.vector
        dense = _dense_combine(doc_sims, self._best_sentence(states, st.vector, doc_sims))
        rows = self._lex.take([self._lex_rows[i] for i in ids])
        lexical = np.asarray((rows @ st.lex.T).todense()).ravel()
        bounded, fails = self._bounded_parts([st] * len(states), states)
        return {"dense": dense, "lexical": lexical, **bounded}, fails

    def _bounded_parts(
        self, scen: Sequence[_ScenarioState], comp: Sequence[_CompanyState]
    ) -> tuple[dict[str, np.ndarray], list[list[str]]]:
        keyword = np.zeros(len(scen))
        industry = np.zeros(len(scen))
        structured = np.zeros(len(scen))
        fails: list[list[str]] = []
        for k, (s, c) in enumerate(zip(scen, comp, strict=True)):
            if s.keywords:
                keyword[k] = sum(map(c.has_keyword, s.keywords)) / len(s.keywords)
            if s.codes and c.codes:
                industry[k] = relation(c.codes, s.codes, c.inferred or s.codes_inferred)[1]
            structured[k] = structured_score(s.scenario, c.company, c.strength)
            fails.append(hard_failures(s.scenario, c.company))
        return {"keyword": keyword, "industry": industry, "structured": structured}, fails

    def _assemble(
        self,
        pairs: Sequence[tuple[_ScenarioState, _CompanyState]],
        raw: dict[str, np.ndarray],
        fails: Sequence[Sequence[str]],
        top_k: int,
        collapse: bool,
        pinned: Sequence[str] = (),
        floor: Mapping[str, float] | None = None,
    ) -> list[Match]:
        """``floor``: see :meth:`_floor` (None, as for :meth:`suggest`: min-max scaling)."""
        cfg = self.config
        fusion = cfg.fusion
        score, parts, contrib = fuse(raw, fusion.weights, fusion.method, fusion.rrf_k, floor=floor)
        if self.ranker is not None and len(pairs):
            learned = self._learned(pairs, parts, raw, fails)
            parts["learned"] = learned
            contrib["learned"] = self.ranker.learned_weight * learned
            score = score + contrib["learned"]
        penalty = np.array([cfg.constraints.penalty if f else 0.0 for f in fails])
        final = score - penalty
        keep = np.ones(len(pairs), dtype=bool)
        if cfg.constraints.mode == "filter":
            keep = np.array([not f for f in fails], dtype=bool)
        # Deterministic order: score (to 9 decimals), then firm id, then scenario id.
        kept = np.flatnonzero(keep).tolist()
        order: list[int] = []
        if kept:
            firm_ids = np.array([pairs[i][1].company.id for i in kept])
            scen_ids = np.array([pairs[i][0].scenario.id for i in kept])
            ranks = np.lexsort((scen_ids, firm_ids, -np.round(final[kept], 9)))
            order = [kept[k] for k in ranks.tolist()]
        if pinned:
            pin_pos = {cid: k for k, cid in enumerate(pinned)}
            order.sort(key=lambda i: pin_pos.get(pairs[i][1].company.id, len(pin_pos)))
        chosen: list[int] = []
        seen_groups: set[str] = set()
        for i in order:
            if collapse:
                g = self._groups.get(pairs[i][1].company.id, pairs[i][1].company.id)
                if g in seen_groups:
                    continue
                seen_groups.add(g)
            chosen.append(i)
            if len(chosen) >= top_k:
                break
        out = []
        pin_set = set(pinned)
        for rank, i in enumerate(chosen, start=1):
            s, c = pairs[i]
            dups: tuple[str, ...] = ()
            if collapse:
                g = self._groups.get(c.company.id, c.company.id)
                dups = tuple(m for m in self._group_members.get(g, []) if m != c.company.id)
            out.append(
                Match(
                    scenario_id=s.scenario.id,
                    company_id=c.company.id,
                    score=float(final[i]),
                    parts={k: float(v[i]) for k, v in parts.items()},
                    contributions={k: float(v[i]) for k, v in contrib.items()},
                    explanation=self._explain(s, c, fails[i]),
                    rank=rank,
                    penalty=float(penalty[i]),
                    duplicates=dups,
                    company_name=strip_pinyin(c.company.name),
                    scenario_title=s.scenario.title_zh,
                    pinned=c.company.id in pin_set,
                )
            )
        return out

    def _learned(
        self,
        pairs: Sequence[tuple[_ScenarioState, _CompanyState]],
        parts: dict[str, np.ndarray],
        raw: dict[str, np.ndarray],
        fails: Sequence[Sequence[str]],
    ) -> np.ndarray:
        """The learned ranker's score for each pair, min-max normalised over these pairs."""
        x = self.ranker.features(
            [s.scenario for s, _ in pairs], [c.company for _, c in pairs], parts, raw, fails
        )
        return minmax(self.ranker.predict(x))

    def _explain(self, s: _ScenarioState, c: _CompanyState, fails: Sequence[str]) -> Any:
        profile = c.company.description
        key = (s.norm, s.scenario.keywords, c.company.text())
        terms = self._terms_memo.get(key)
        if terms is None:
            if len(self._terms_memo) > 50_000:
                self._terms_memo.clear()
            terms = self._terms_memo[key] = matched_terms(
                s.norm, s.scenario.keywords, key[2], is_informative=self._informative
            )
        evidence = None
        sent_vecs = self._sentence_vectors(c)
        if len(sent_vecs):
            best = int(np.argmax(sent_vecs @ s.vector))
            evidence = c.sentences[best]
        elif profile.strip():
            evidence = profile.strip()
        rel, _ = relation(c.codes, s.codes, c.inferred or s.codes_inferred)
        return build_explanation(terms, evidence, rel, fails, cross_lingual=s.lang != c.lang)

    def _sentence_vectors(self, c: _CompanyState) -> np.ndarray:
        """A firm's sentence vectors (float32), from the store or held by a transient state."""
        if c.own_vectors is not None:
            return c.own_vectors
        if c.sent_start < 0 or not c.sentences:
            return np.zeros((0, self._sent_store.dim), np.float32)
        return self._sent_store.span(c.sent_start, c.sent_start + len(c.sentences))

    def _best_sentence(
        self, states: Sequence[_CompanyState], vector: np.ndarray, doc_sims: np.ndarray
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
            mat = self._sent_store.rows(rows)
        else:
            mat = np.concatenate([self._sentence_vectors(states[k]) for k in has])
        out[has] = np.maximum.reduceat(mat @ vector, starts)
        return out

    def _informative(self, term: str) -> bool:
        """A shared term counts as evidence when one of its bigrams is rare in the corpus."""
        known = self._informative_memo.get(term)
        if known is None:
            if len(self._informative_memo) > 200_000:  # free-text queries keep adding terms
                self._informative_memo.clear()
            known = self._informative_memo[term] = self._informative_uncached(term)
        return known

    def _informative_uncached(self, term: str) -> bool:
        t = term.lower()
        grams = [t] if len(t) <= 2 or t.isascii() else [t[i : i + 2] for i in range(len(t) - 1)]
        idfs = [v for v in (self._lexical.idf(g) for g in grams) if v is not None]
        # A shared term is in at least two texts (the scenario is one of them). In a small
        # corpus, being in only those two is enough: idf(df=2) = max_idf + ln(2/3) (the idf
        # array is float32, hence the tolerance).
        return bool(idfs) and max(idfs) >= min(
            INFORMATIVE_IDF, self._lexical.max_idf() + math.log(2 / 3) - 1e-4
        )

    # ------------------------------------------------------------------ persistence
    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write the index folder atomically: a crash never leaves half an index."""
        self._check_fitted()
        target = Path(folder)
        if target.exists() and not target.is_dir():
            raise DataError(f"{target} is a file, not an index folder; choose another path")
        return replace_folder(target, self._write)

    def _encoder_info(self) -> dict[str, Any]:
        """Name, fingerprint and dim of the model the stored vectors came from."""
        if self._encoder is None and self.manifest_.get("encoder"):
            return dict(self.manifest_["encoder"])
        enc = self.encoder
        return {"name": enc.name, "fingerprint": enc.fingerprint, "dim": enc.dim}

    def _write(self, folder: Path) -> None:
        """Write the live stores, lexical rows and indexes as they are (ids and all), unless
        removed or replaced firms left more than ``COMPACT_SHARE`` of their rows unused: then
        renumber and rebuild the indexes. Saving as is keeps a million firms' save to writing
        files (no float32 copy, no second IVF training)."""
        ids = list(self.companies_)
        live_sent = sum(len(cs.sentences) for cs in self.companies_.values() if cs.sent_start >= 0)
        n_lex = self._lex.n_rows
        unused = max(
            _share(self._next_int - len(ids), self._next_int),
            _share(self._next_sent - live_sent, self._next_sent),
            _share(n_lex - len(ids), n_lex),
        )
        enc_info = self._encoder_info()
        dim = int(enc_info["dim"])
        compact = unused > COMPACT_SHARE
        if compact:
            rows = self._write_compacted(folder, ids, dim)
        else:
            rows = [
                {
                    "int": self._int_of[cid],
                    "sent_start": self.companies_[cid].sent_start,
                    "lex_row": self._lex_rows[cid],
                }
                for cid in ids
            ]
            self._doc_store.save(folder / "doc_vectors.npy", self._next_int)
            self._sent_store.save(folder / "sent_vectors.npy", self._next_sent)
            (folder / "lexical").mkdir()
            sp.save_npz(
                folder / "lexical" / "company_rows.npz", self._lex.matrix(), compressed=False
            )
            self._doc_index.save(folder / "doc_index")
            self._sent_index.save(folder / "sent_index")
        with open(folder / "companies.jsonl", "w", encoding="utf-8") as f:
            for cid, where in zip(ids, rows, strict=True):
                cs = self.companies_[cid]
                row = {
                    "company": cs.company.to_dict(),
                    "codes": list(cs.codes),
                    "inferred": cs.inferred,
                    "sentences": cs.sentences,
                    **where,
                }
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        sids = list(self.scenarios_)
        (folder / "scenarios.json").write_text(
            json.dumps(
                [self.scenarios_[i].scenario.to_dict() for i in sids], ensure_ascii=False, indent=1
            ),
            "utf-8",
        )
        np.save(
            folder / "scenario_vectors.npy",
            np.stack([self.scenarios_[i].vector for i in sids])
            if sids
            else np.zeros((0, dim), np.float32),
        )
        self._lexical.save(folder / "lexical")
        (folder / "reference.json").write_text(json.dumps(self._reference, ensure_ascii=False))
        if self._inferrer is not None:
            np.save(folder / "industry_vectors.npy", self._inferrer.vectors)
            (folder / "industry_codes.json").write_text(json.dumps(self._inferrer.codes))
        manifest = {
            "format_version": FORMAT_VERSION,
            "created_at": getattr(self, "created_at_", None),
            "saved_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "versions": {
                "matcher": _pkg_version("scenario-matcher"),
                "numpy": np.__version__,
                "faiss": _pkg_version("faiss-cpu"),
                "scikit-learn": _pkg_version("scikit-learn"),
            },
            "encoder": enc_info,
            "config": self.config.to_dict(),
            "counts": {"scenarios": len(sids), "companies": len(ids), "sentences": live_sent},
            "compacted": compact,
        }
        (folder / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8"
        )

    def _write_compacted(self, folder: Path, ids: list[str], dim: int) -> list[dict[str, int]]:
        """Renumber the firms 0..n-1 and their sentences contiguously, and build fresh indexes
        from the stores (in steps, so no float32 copy of all the vectors exists at once)."""
        ints = np.array([self._int_of[i] for i in ids], dtype=np.int64)
        starts, counts = [], []
        for cid in ids:
            cs = self.companies_[cid]
            n = len(cs.sentences) if cs.sent_start >= 0 else 0
            starts.append(cs.sent_start)
            counts.append(n)
        sent_rows = (
            np.concatenate([np.arange(s, s + n) for s, n in zip(starts, counts, strict=True) if n])
            if any(counts)
            else np.zeros(0, dtype=np.int64)
        ).astype(np.int64)
        doc = self._doc_store.take(ints)
        sent = self._sent_store.take(sent_rows)
        np.save(folder / "doc_vectors.npy", doc)
        np.save(folder / "sent_vectors.npy", sent)
        (folder / "lexical").mkdir()
        lex = self._lex.take([self._lex_rows[i] for i in ids]) if ids else self._lex.matrix()[:0]
        sp.save_npz(folder / "lexical" / "company_rows.npz", sp.csr_matrix(lex), compressed=False)
        for name, vecs in (("doc_index", doc), ("sent_index", sent)):
            index = create_index(self.config.index, dim)
            index.reserve(len(vecs))
            for lo in range(0, len(vecs), ADD_STEP):
                hi = min(lo + ADD_STEP, len(vecs))
                index.add(np.arange(lo, hi, dtype=np.int64), vecs[lo:hi].astype(np.float32))
            index.save(folder / name)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]]) if ids else np.zeros(0)
        return [
            {"int": i, "sent_start": int(first[i]) if counts[i] else -1, "lex_row": i}
            for i in range(len(ids))
        ]

    @classmethod
    def load(
        cls, folder: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
    ) -> Engine:
        """Load a saved index; the encoder is created lazily when a new text must be encoded."""
        folder = Path(folder)
        manifest_file = folder / "manifest.json"
        if not manifest_file.exists():
            raise DataError(
                f"{folder} is not an index folder (no manifest.json); run `matcher index`"
            )
        manifest = json.loads(manifest_file.read_text("utf-8"))
        if manifest.get("format_version") not in READS_FORMATS:
            raise DataError(
                f"{folder} has index format {manifest.get('format_version')}, this matcher reads "
                f"{', '.join(map(str, READS_FORMATS))}; rebuild it with `matcher index`"
            )
        engine = cls(config_from_dict(manifest["config"]), cache_dir=cache_dir)
        dim = int(manifest["encoder"]["dim"])
        engine._reset(dim)
        engine._lexical = load_lexical(folder / "lexical")
        engine._lex = SparseRows(sp.load_npz(folder / "lexical" / "company_rows.npz"))
        doc_vecs = np.load(folder / "doc_vectors.npy", allow_pickle=False)
        sent_vecs = np.load(folder / "sent_vectors.npy", allow_pickle=False)
        engine._doc_index = load_index(folder / "doc_index")
        engine._sent_index = load_index(folder / "sent_index")
        engine._sent_owner = np.full(len(sent_vecs), -1, dtype=np.int64)
        offset = 0  # format 1: firms numbered by line, their sentences one after another
        live_sent = 0
        bad = f"{folder}: the saved firms and vectors disagree; rebuild it with `matcher index`"
        with open(folder / "companies.jsonl", encoding="utf-8") as f:
            for row_no, line in enumerate(f):
                row = json.loads(line)
                company = _company_from_dict(row["company"])
                n = len(row["sentences"])
                num = int(row.get("int", row_no))
                start = int(row.get("sent_start", offset if n else -1))
                if num >= len(doc_vecs) or (start >= 0 and start + n > len(sent_vecs)):
                    raise DataError(bad)
                cs = _CompanyState.of(
                    company,
                    normalise(company.text()),
                    tuple(row["codes"]),
                    bool(row["inferred"]),
                    list(row["sentences"]),
                    start,
                )
                engine.companies_[company.id] = cs
                engine._lex_rows[company.id] = int(row.get("lex_row", row_no))
                engine._int_of[company.id] = num
                engine._id_of[num] = company.id
                if start >= 0:
                    engine._sent_owner[start : start + n] = num
                    live_sent += n
                engine._columns.put(num, company, cs.codes)
                offset += n
        if len(engine._doc_index) != len(engine.companies_) or len(engine._sent_index) != live_sent:
            raise DataError(f"{folder}: index and arrays disagree; rebuild it with `matcher index`")
        if engine._lex_rows and max(engine._lex_rows.values()) >= engine._lex.n_rows:
            raise DataError(bad)
        engine._doc_store.adopt(doc_vecs)
        engine._sent_store.adopt(sent_vecs)
        engine._next_int = len(doc_vecs)
        engine._next_sent = len(sent_vecs)
        if (folder / "industry_vectors.npy").exists():
            engine._inferrer = IndustryInferrer(
                json.loads((folder / "industry_codes.json").read_text()),
                np.load(folder / "industry_vectors.npy", allow_pickle=False),
            )
        else:
            engine._inferrer = None
        scen = json.loads((folder / "scenarios.json").read_text("utf-8"))
        svecs = np.load(folder / "scenario_vectors.npy", allow_pickle=False)
        norms = [normalise(_scenario_from_dict(d).text()) for d in scen]
        lex = engine._lexical.transform(norms) if norms else None
        for i, d in enumerate(scen):
            s = _scenario_from_dict(d)
            engine.scenarios_[s.id] = engine._scenario_state(s, norms[i], svecs[i], lex[i])  # type: ignore[index]
        engine._regroup()
        reference = folder / "reference.json"
        engine._set_reference(
            json.loads(reference.read_text("utf-8"))
            if reference.exists()  # indexes saved before the floor: sample the firms now
            else reference_sample(engine.companies_)
        )
        engine._fitted = True
        engine.created_at_ = manifest.get("created_at")
        engine.manifest_ = manifest
        return engine


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _dense_combine(doc_sims: np.ndarray, sent_sims: np.ndarray) -> np.ndarray:
    """Whole-profile similarity, lifted by the best sentence when that is higher.

    A long profile dilutes one vector; its best sentence keeps a firm whose relevant business is
    one paragraph among many from sinking.
    """
    doc = np.asarray(doc_sims, np.float64)
    return 0.5 * doc + 0.5 * np.maximum(doc, np.asarray(sent_sims, np.float64))


def reference_sample(ids: Iterable[str], size: int | None = None) -> list[str]:
    """Every k-th firm id in sorted order, at most ``size`` (default ``REFERENCE_FIRMS``)."""
    ordered = sorted(ids)
    size = REFERENCE_FIRMS if size is None else size
    step = max(1, -(-len(ordered) // size))
    return ordered[::step][:size]


_PARTS = ("dense", "lexical", "keyword", "industry", "structured")
# firms a query's dense and lexical floor is measured on (about 1-2 ms a query at 512)
REFERENCE_FIRMS = 512
FLOOR_MEMO = 1024  # query states whose floor is remembered
_NO_PAIR: tuple[Any, ...] = (None,)
MEMO_PAIRS_PER_SCENARIO = 50_000
# more new firms than this at once are grouped with the rest from scratch
REGROUP_ALL_ABOVE = 10_000
# firms encoded and indexed per step of a bulk add (bounds the float32 encodings held at once)
ADD_STEP = 50_000


def _offset(progress: Progress | None, before: int, size: int, total: int) -> Progress | None:
    """Report one step (``size`` firms after ``before``) of a bulk load over the whole load."""
    if progress is None:
        return None

    def report(stage: str, done: int, of: int) -> None:
        progress(stage, before + round(done * size / max(of, 1)), total)

    return report


def _stage(progress: Progress | None, name: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def _check_unique(ids: Sequence[str], kind: str) -> None:
    seen: set[str] = set()
    dups = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
    if dups:
        raise DataError(f"duplicate {kind} id(s): {', '.join(dups[:5])}; each id must be unique")


def _company_from_dict(d: dict[str, Any]) -> Company:
    from .catalogue import company_from_dict

    return company_from_dict(d)


def _scenario_from_dict(d: dict[str, Any]) -> Scenario:
    from .catalogue import scenario_from_dict

    return scenario_from_dict(d)

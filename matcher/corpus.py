"""What the engine holds about firms and scenarios, and how firms are added, replaced and removed.

A :class:`Corpus` keeps, per firm, its :class:`CompanyState` (what every query would otherwise
recompute), an integer id, its profile vector and sentence vectors (stores for re-scoring,
indexes for retrieval), its TF-IDF row, its filter columns and its near-duplicate group; per
scenario, its :class:`ScenarioState` (query vector, TF-IDF row, codes). It also fixes the
reference firms the query-scaled parts are floored on (see :mod:`matcher.scoring`). Retrieval,
scoring and ranking read it; only the engine's update methods change it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .columns import FilterColumns
from .config import EngineConfig
from .constraints import Filters, strength
from .dedupe import DuplicateIndex
from .encode import CachingEncoder, l2_normalise
from .encode.cache import text_key
from .explain import contains_term, lower_keep_length, split_sentences
from .index import VectorIndex, create_index
from .industry import IndustryInferrer, Taxonomy, industry_table, pack, standard_taxonomy
from .lexical import LexicalScorer
from .lexical.rows import SparseRows
from .normalise import detect_language, normalise
from .query import QueryBuilder, QueryText
from .types import Company, Scenario
from .vectors import VectorStore

__all__ = [
    "Corpus",
    "CompanyState",
    "ScenarioState",
    "Progress",
    "reference_sample",
    "texts_to_encode",
    "REFERENCE_FIRMS",
    "ADD_STEP",
]

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
# firms a query's dense and lexical floor is measured on (about 1-2 ms a query at 512)
REFERENCE_FIRMS = 512
# more new firms than this at once are grouped with the rest from scratch
REGROUP_ALL_ABOVE = 10_000
# firms encoded and indexed per step of a bulk add (bounds the float32 encodings held at once)
ADD_STEP = 50_000


@dataclass
class CompanyState:
    """A firm as the ranking sees it; what every query would recompute is computed once here."""

    company: Company
    text_lower: str  # normalised, lower-cased profile text (keyword matching)
    lang: str
    codes: tuple[str, ...]
    inferred: bool
    strength: float
    sentences: list[str] = field(default_factory=list)
    # Its sentences' vectors are rows sent_start .. sent_start+len(sentences)-1 of the corpus'
    # sentence store; a profile that is not stored (a submission being suggested) holds its own.
    sent_start: int = -1
    own_vectors: np.ndarray | None = None
    # P(class | firm), packed (:func:`matcher.industry.pack`): its declared codes, else its
    # most likely classes; empty when it has neither
    taxonomy: bytes = b""
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
        taxonomy: bytes = b"",
    ) -> CompanyState:
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
            taxonomy=taxonomy,
        )


@dataclass
class ScenarioState:
    """A scenario as the ranking sees it (also a free-text query, or one moved by feedback);
    ``query``: its texts and demand (:mod:`matcher.query`), ``norm`` its body."""

    scenario: Scenario
    query: QueryText
    norm: str
    lang: str
    keywords: tuple[str, ...]
    vector: np.ndarray
    lex: sp.csr_matrix
    codes: tuple[str, ...] = ()
    codes_inferred: bool = False
    # P(class | demand) over the standard's classes, and per class entry the expected relation
    # score with it (:meth:`matcher.industry.Taxonomy.expected`); None without either
    industry_q: np.ndarray | None = None
    industry_table: np.ndarray | None = None


class Corpus:
    """Firms and scenarios with their vectors, lexical rows, columns and duplicate groups.

    ``encoder`` is called when something must be encoded (a loaded corpus creates the model only
    then). Every change to the firms bumps :attr:`generation` (filter masks follow it) and, when
    a reference firm changes, :attr:`reference_version` (floors follow it).
    """

    def __init__(
        self,
        config: EngineConfig,
        dim: int,
        encoder: Callable[[], CachingEncoder],
        lexical: LexicalScorer | None = None,
        inferrer: IndustryInferrer | None = None,
    ) -> None:
        self.config = config
        self._encoder = encoder
        # set by the engine's fit, or by persist.read (a corpus is used only once it is)
        self.lexical: LexicalScorer = lexical  # type: ignore[assignment]
        self.inferrer = inferrer
        self.queries = QueryBuilder(config)
        self.dim = dim
        self.scenarios: dict[str, ScenarioState] = {}
        self.companies: dict[str, CompanyState] = {}
        self.int_of: dict[str, int] = {}
        self.id_of: dict[int, str] = {}
        self.next_int = 0
        self.doc_index: VectorIndex = create_index(config.index, dim)
        self.sent_index: VectorIndex = create_index(config.index, dim)
        # Sentence id → its firm's integer id (-1 once removed): an array, as filtered
        # searches map a firm mask onto sentences with it.
        self.sent_owner = np.zeros(0, dtype=np.int64)
        self.next_sent = 0
        self.doc_store = VectorStore(dim, config.index.vector_dtype)
        self.sent_store = VectorStore(dim, config.index.vector_dtype)
        self.generation = 0
        self.columns = FilterColumns()
        self.lex_rows: dict[str, int] = {}
        self.lex = SparseRows()
        self.groups: dict[str, str] = {}
        self.group_members: dict[str, list[str]] = {}
        self.dups = DuplicateIndex()
        # Firms the query-scaled parts' floor is measured on (fixed at fit); the version counts
        # changes to them, which alone invalidate the floors.
        self.reference: list[str] = []
        self.reference_set: frozenset[str] = frozenset()
        self.reference_version = 0

    @property
    def taxonomy(self) -> Taxonomy:
        """The class index spaces firms' and queries' distributions refer to."""
        return self.inferrer.taxonomy if self.inferrer is not None else standard_taxonomy()

    @property
    def encoder(self) -> CachingEncoder:
        return self._encoder()

    # ------------------------------------------------------------------ reading
    def group_of(self, company_id: str) -> str:
        """The firm's near-duplicate group (itself when it has none)."""
        return self.groups.get(company_id, company_id)

    def group(self, company_id: str) -> list[str]:
        """Every firm in the firm's near-duplicate group, itself included."""
        return self.group_members.get(self.group_of(company_id), [company_id])

    def doc_vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The firms' profile vectors (float32), in order."""
        return self.doc_store.rows([self.int_of[i] for i in ids])

    def lexical_rows(self, ids: Sequence[str]) -> sp.csr_matrix:
        """The firms' TF-IDF rows, in order."""
        return self.lex.take([self.lex_rows[i] for i in ids])

    def sentence_vectors(self, c: CompanyState) -> np.ndarray:
        """A firm's sentence vectors (float32), from the store or held by a transient state."""
        if c.own_vectors is not None:
            return c.own_vectors
        if c.sent_start < 0 or not c.sentences:
            return np.zeros((0, self.sent_store.dim), np.float32)
        return self.sent_store.span(c.sent_start, c.sent_start + len(c.sentences))

    def sentences_of(self, c: Company) -> list[str]:
        """The sentences a profile is also searched by (none when it has only one)."""
        enc_cfg = self.config.encoder
        sents = split_sentences(c.description) if enc_cfg.sentences else []
        if len(sents) <= 1:
            return []
        return sents[: enc_cfg.max_sentences]

    def text_keys(self, companies: Iterable[Company]) -> list[str]:
        """The embedding-cache keys of the firms' texts (the profile and each sentence)."""
        fp = self.encoder.fingerprint
        keys = []
        for c in companies:
            keys.append(text_key(fp, "passage", normalise(c.text())))
            keys += [text_key(fp, "passage", normalise(t)) for t in self.sentences_of(c)]
        return list(dict.fromkeys(keys))

    def filter_mask(self, filters: Filters) -> np.ndarray:
        """Integer ids → whether the firm passes ``filters``."""
        return self.columns.mask(filters)

    # ------------------------------------------------------------------ firms
    def encode_companies(
        self,
        companies: Sequence[Company],
        norms: Sequence[str],
        sentences: Sequence[list[str]] | None,
        progress: Progress | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Profile vectors and their sentences' vectors (through the embedding cache)."""
        enc = self.encoder
        doc_vecs = enc.encode(list(norms), "passage", stage_progress(progress, "profiles"))
        if sentences is None:
            sentences = [self.sentences_of(c) for c in companies]
        flat = [normalise(s) for sents in sentences for s in sents]
        sent_vecs = enc.encode(flat, "passage", stage_progress(progress, "sentences"))
        return doc_vecs, sent_vecs

    def add(
        self,
        companies: Sequence[Company],
        norms: Sequence[str],
        progress: Progress | None,
        lex: sp.csr_matrix | None = None,
    ) -> None:
        """Add or replace firms: encode, then index; a bulk load goes in steps of ``ADD_STEP``.

        Steps keep a million firms' float32 encodings from existing all at once next to the
        stores and indexes they end up in; the indexes are told the whole size first, so an ANN
        index trains its lists for it.
        """
        if not companies:
            return
        grouped = self.dups.held()
        new = [c for c in companies if c.id not in self.companies]
        same = len(new) == len(companies) or all(
            self.dups.same_identity(c) for c in companies if c.id in self.companies
        )
        splits = [self.sentences_of(c) for c in companies]
        stepped = len(companies) > ADD_STEP
        if lex is None:
            lex = self.lexical.transform(list(norms))
        lex_base = self.lex.append(lex)
        if stepped:
            n_sent = sum(map(len, splits))
            self.doc_index.reserve(len(self.doc_index) + len(companies))
            self.sent_index.reserve(len(self.sent_index) + n_sent)
            self.doc_store.reserve(self.next_int + len(companies))
            self.sent_store.reserve(self.next_sent + n_sent)
        for lo in range(0, len(companies), ADD_STEP):
            hi = min(lo + ADD_STEP, len(companies))
            step_progress = _offset(progress, lo, hi - lo, len(companies)) if stepped else progress
            doc_vecs, sent_vecs = self.encode_companies(
                companies[lo:hi], norms[lo:hi], splits[lo:hi], step_progress
            )
            self._insert(
                companies[lo:hi], norms[lo:hi], splits[lo:hi], doc_vecs, sent_vecs, lex_base + lo
            )
        # new firms join the groups; a replacement that keeps its name and code changes none
        self.regroup(new if grouped and same and len(new) <= REGROUP_ALL_ABOVE else None)

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
        inferred_codes, taxonomies = self.classify(companies, doc_vecs)

        # replace existing entries with the same id
        self.remove([c.id for c in companies if c.id in self.companies])
        int_ids = []
        for c in companies:
            if c.id not in self.int_of:
                self.int_of[c.id] = self.next_int
                self.id_of[self.next_int] = c.id
                self.next_int += 1
            int_ids.append(self.int_of[c.id])
        first_sent = self.next_sent
        sent_ids = np.arange(first_sent, first_sent + len(sent_vecs), dtype=np.int64)
        self.next_sent += len(sent_vecs)
        self.doc_store.put(int_ids, doc_vecs)
        self.sent_store.put(sent_ids, sent_vecs)
        owners = np.repeat(np.array(int_ids, dtype=np.int64), [len(x) for x in sentences])
        self.own_sentences(sent_ids, owners)
        offset = first_sent
        for i, c in enumerate(companies):
            n = len(sentences[i])
            codes: tuple[str, ...]
            if i in inferred_codes:
                codes, inferred = (inferred_codes[i],), True
            else:
                codes, inferred = tuple(c.industry_codes), False
            state = CompanyState.of(
                c,
                norms[i],
                codes,
                inferred,
                sentences[i],
                offset if n else -1,
                taxonomy=taxonomies[i],
            )
            self.companies[c.id] = state
            self.lex_rows[c.id] = lex_base + i
            self.columns.put(int_ids[i], c, codes)
            offset += n
        self.generation += 1
        self.touch_reference([c.id for c in companies])
        self.doc_index.add(np.array(int_ids, dtype=np.int64), doc_vecs)
        if len(sent_ids):
            self.sent_index.add(sent_ids, sent_vecs)

    def classify(
        self, companies: Sequence[Company], doc_vecs: np.ndarray
    ) -> tuple[dict[int, str], list[bytes]]:
        """The most likely class of each firm without declared codes (by position), and every
        firm's packed P(class | firm): its declared codes, each an equal share, else its
        ``taxonomy_classes`` most likely classes (one matrix product for them all)."""
        inferred: dict[int, str] = {}
        k = self.config.taxonomy_classes
        blobs = [b""] * len(companies)
        tax = self.taxonomy
        missing = []
        for i, c in enumerate(companies):
            entries = [e for e in map(tax.entry, c.industry_codes) if e is not None]
            if entries:
                blobs[i] = pack(entries, [1.0 / len(entries)] * len(entries), k)
            elif not c.industry_codes:
                missing.append(i)
        if missing and self.inferrer is not None:
            idx, prob = self.inferrer.distribution(doc_vecs[missing], k)
            for row, i in enumerate(missing):
                inferred[i] = self.inferrer.codes[int(idx[row, 0])]
                blobs[i] = pack(idx[row], prob[row], k)
        return inferred, blobs

    def remove(self, ids: Sequence[str]) -> int:
        """Drop firms from the indexes, columns and maps (their store rows stay, unowned)."""
        ints = [self.int_of[i] for i in ids if i in self.companies]
        if not ints:
            return 0
        self.doc_index.remove(np.array(ints, dtype=np.int64))
        states = [self.companies[i] for i in ids if i in self.companies]
        sent_ids = [
            k
            for cs in states
            if cs.sent_start >= 0
            for k in range(cs.sent_start, cs.sent_start + len(cs.sentences))
        ]
        if sent_ids:
            self.sent_index.remove(np.array(sent_ids, dtype=np.int64))
            self.sent_owner[np.array(sent_ids, dtype=np.int64)] = -1
        for n in ints:
            self.columns.drop(n)
        self.generation += 1
        self.touch_reference(ids)
        for i in ids:
            self.companies.pop(i, None)
            self.lex_rows.pop(i, None)
        return len(ints)

    def erase(self, ids: Sequence[str]) -> int:
        """Remove firms and what is left of their text: vocabulary terms no live firm or
        scenario uses are renamed to placeholders (column and IDF stay, so no score changes),
        every vector and TF-IDF row no live firm owns is zeroed, and the firms leave the
        reference list."""
        removed = self.remove(ids)
        self.regroup()
        gone = set(ids)
        if not self.reference_set.isdisjoint(gone):  # removed ones were skipped already
            self.set_reference([i for i in self.reference if i not in gone])
        self._forget_unused_terms()
        self._zero_unowned_rows()
        return removed

    def _zero_unowned_rows(self) -> None:
        live = np.zeros(self.next_int, dtype=bool)
        live[[self.int_of[c] for c in self.companies]] = True
        dim = self.doc_store.dim
        for rows, store in (
            (np.flatnonzero(~live), self.doc_store),
            (np.flatnonzero(self.sent_owner[: self.next_sent] < 0), self.sent_store),
        ):
            for lo in range(0, len(rows), ADD_STEP):
                part = rows[lo : lo + ADD_STEP]
                store.put(part, np.zeros((len(part), dim), dtype=np.float32))
        owned = np.zeros(self.lex.n_rows, dtype=bool)
        owned[list(self.lex_rows.values())] = True
        self.lex.zero(np.flatnonzero(~owned))

    def _forget_unused_terms(self) -> int:
        n_terms = self.lexical.n_terms
        used = np.zeros(n_terms, dtype=bool)
        rows = np.fromiter(self.lex_rows.values(), dtype=np.int64, count=len(self.lex_rows))
        if len(rows):
            for lo in range(0, len(rows), ADD_STEP):  # in steps: a registry's rows are big
                block = self.lex.take(np.sort(rows[lo : lo + ADD_STEP]))
                used[np.unique(block.indices)] = True
        texts = [t for st in self.scenarios.values() for t in (st.query.body, st.query.focus) if t]
        if texts:
            used[np.unique(self.lexical.transform(texts).indices)] = True
        return self.lexical.forget_columns(np.flatnonzero(~used).tolist())

    def own_sentences(self, sent_ids: np.ndarray, owners: np.ndarray | int) -> None:
        if not len(sent_ids):
            return
        need = int(sent_ids.max()) + 1
        if need > len(self.sent_owner):
            grown = np.full(max(need, 2 * len(self.sent_owner), 1024), -1, dtype=np.int64)
            grown[: len(self.sent_owner)] = self.sent_owner
            self.sent_owner = grown
        self.sent_owner[sent_ids] = owners

    def regroup(self, added: Sequence[Company] | None = None) -> None:
        """Duplicate groups over all firms, or extended by ``added`` (firms new to the corpus)
        without regrouping the rest: a submission to a million firms must not take seconds."""
        if not self.config.collapse_duplicates:
            ids = self.companies if added is None else [c.id for c in added]
            if added is None:
                self.groups, self.group_members = {}, {}
            self.groups.update((cid, cid) for cid in ids)
            self.group_members.update((cid, [cid]) for cid in ids)
            return
        if added is None:
            self.dups.rebuild([s.company for s in self.companies.values()])
            self.groups = {cid: self.dups.group(cid) for cid in self.companies}
            members: dict[str, list[str]] = {}
            for cid, g in self.groups.items():
                members.setdefault(g, []).append(cid)
            self.group_members = members
            return
        moved = [c.id for c in added]
        for absorbed in self.dups.add(added):
            moved += self.group_members.pop(absorbed, [])
        for cid in dict.fromkeys(moved):
            g = self.groups[cid] = self.dups.group(cid)
            self.group_members.setdefault(g, []).append(cid)

    def transient(self, company: Company) -> tuple[CompanyState, np.ndarray, sp.csr_matrix]:
        """A state for a profile that is not stored (a submission being suggested): its
        state holding its own sentence vectors, its profile vector and its TF-IDF row."""
        norm = normalise(company.text())
        doc_vec = self.encoder.encode([norm], "passage")[0]
        sents = self.sentences_of(company)
        sent_vecs = self.encoder.encode([normalise(s) for s in sents], "passage")
        inferred_codes, taxonomies = self.classify([company], doc_vec[None, :])
        codes, inferred = tuple(company.industry_codes), False
        if 0 in inferred_codes:
            codes, inferred = (inferred_codes[0],), True
        cst = CompanyState.of(
            company, norm, codes, inferred, sents, own_vectors=sent_vecs, taxonomy=taxonomies[0]
        )
        return cst, doc_vec, self.lexical.transform([norm])

    # ------------------------------------------------------------------ reference firms
    def set_reference(self, ids: list[str]) -> None:
        self.reference = ids
        self.reference_set = frozenset(ids)
        self.reference_version += 1

    def touch_reference(self, ids: Iterable[str]) -> None:
        """Invalidate the floors when one of ``ids`` (added, replaced, removed) is a reference."""
        if self.reference_set and not self.reference_set.isdisjoint(ids):
            self.reference_version += 1

    # ------------------------------------------------------------------ scenarios
    def set_scenarios(self, scenarios: Sequence[Scenario], progress: Progress | None) -> None:
        if not scenarios:
            return
        queries = [self.queries.build(s) for s in scenarios]
        vecs = self.scenario_vectors(queries, progress)
        lex = self.query_rows(queries)
        for i, s in enumerate(scenarios):
            self.scenarios[s.id] = self.scenario_state(s, queries[i], vecs[i], lex[i])

    def scenario_vectors(
        self, queries: Sequence[QueryText], progress: Progress | None = None
    ) -> np.ndarray:
        """Query vectors: the body, plus (``scenario_focus`` > 0) the focus (what is sought)
        encoded alone, so a published text's boilerplate and context weigh less."""
        bodies = [q.body for q in queries]
        vecs = self.encoder.encode(bodies, "query", stage_progress(progress, "scenarios"))
        w = self.config.scenario_focus
        has = [i for i, q in enumerate(queries) if q.focus]
        if w <= 0 or not has:
            return vecs
        focus = self.encoder.encode([queries[i].focus for i in has], "query")
        vecs = vecs.copy()
        vecs[has] += w * focus
        return l2_normalise(vecs)

    def query_rows(self, queries: Sequence[QueryText]) -> sp.csr_matrix:
        """TF-IDF rows: the body's, plus (``lexical_focus`` > 0) the focus's, re-normalised."""
        rows = self.lexical.transform([q.body for q in queries])
        w = self.config.lexical_focus
        if w <= 0:
            return rows
        both = sp.csr_matrix(rows + w * self.lexical.transform([q.focus for q in queries]))
        length = np.sqrt(np.asarray(both.multiply(both).sum(axis=1)).ravel())
        length[length == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / length) @ both, dtype=np.float32)

    def scenario_state(
        self, s: Scenario, query: QueryText, vec: np.ndarray, lex: sp.csr_matrix
    ) -> ScenarioState:
        codes, inferred = tuple(s.industry_codes), False
        q: np.ndarray | None = None
        if codes:
            q = self.taxonomy.declared(codes)
        elif self.inferrer is not None:
            source = vec
            if self.config.taxonomy_from == "demand" and query.focus:
                source = self.encoder.encode([query.focus], "query")[0]
            q = self.inferrer.query(source, self.config.taxonomy_query_classes)
            codes, inferred = (self.inferrer.codes[int(np.argmax(q))],), True
        table = self.taxonomy.expected(q) if q is not None and q.sum() > 0 else None
        return ScenarioState(
            scenario=s,
            query=query,
            norm=query.body,
            lang=detect_language(s.title_zh + s.description_zh),
            keywords=tuple(lower_keep_length(normalise(k)) for k in s.keywords if k.strip()),
            vector=vec,
            lex=lex,
            codes=codes,
            codes_inferred=inferred,
            industry_q=q,
            industry_table=table,
        )

    def query_state(self, scenario: Scenario) -> ScenarioState:
        """The state of a scenario that is not stored (a free-text query)."""
        q = self.queries.build(scenario)
        return self.scenario_state(scenario, q, self.scenario_vectors([q])[0], self.query_rows([q]))


def reference_sample(ids: Iterable[str], size: int | None = None) -> list[str]:
    """Every k-th firm id in sorted order, at most ``size`` (default ``REFERENCE_FIRMS``)."""
    ordered = sorted(ids)
    size = REFERENCE_FIRMS if size is None else size
    step = max(1, -(-len(ordered) // size))
    return ordered[::step][:size]


def texts_to_encode(
    config: EngineConfig, scenarios: Sequence[Scenario], companies: Sequence[Company]
) -> dict[str, list[str]]:
    """Every normalised text a fit on these records encodes, by role (unique)."""
    passages: list[str] = []
    enc_cfg = config.encoder
    for c in companies:
        passages.append(normalise(c.text()))
        sents = split_sentences(c.description) if enc_cfg.sentences else []
        if len(sents) > 1:
            passages.extend(normalise(x) for x in sents[: enc_cfg.max_sentences])
    builder = QueryBuilder(config)
    queries = [t for s in scenarios for t in builder.texts(s)]
    if config.infer_industry:
        queries += [normalise(t) for t in IndustryInferrer.texts(industry_table().classes())]
    return {"passage": list(dict.fromkeys(passages)), "query": list(dict.fromkeys(queries))}


def _offset(progress: Progress | None, before: int, size: int, total: int) -> Progress | None:
    """Report one step (``size`` firms after ``before``) of a bulk load over the whole load."""
    if progress is None:
        return None

    def report(stage: str, done: int, of: int) -> None:
        progress(stage, before + round(done * size / max(of, 1)), total)

    return report


def stage_progress(progress: Progress | None, name: str) -> Callable[[int, int], None] | None:
    """``progress`` for one named stage (None when nobody watches)."""
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)

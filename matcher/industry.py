"""GB/T 4754-2017 industry codes: names, hierarchy relation, and inference from text.

The code table (codes, names and 说明 of the national standard) ships in ``matcher/resources``.
Relation levels: same class (4 digits) > same group (3) > same division (2) > none.

The ``industry`` score part is the *expected* relation score of a pair when the firm's class and
the scenario's class are drawn from their distributions over the standard's classes:
P(class | firm) from the profile vector (a few classes per firm, stored packed), P(class |
demand) from the query's demand, each a softmax over the cosines with the classes' name-and-说明
texts. A declared code is certain (its probability is 1, spread over its classes when it names a
group or division), so two firms declaring the same class score exactly :data:`RELATION_SCORES`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np

from .types import IndustryRelation

__all__ = [
    "IndustryTable",
    "IndustryInferrer",
    "Taxonomy",
    "industry_table",
    "standard_taxonomy",
    "pack",
    "unpack",
    "relation",
    "code_level",
    "explain_overlap",
    "RELATION_SCORES",
    "LEVEL_WEIGHTS",
]

RELATION_SCORES = {"class": 1.0, "group": 0.6, "division": 0.3, "none": 0.0}
INFERRED_FACTOR = 0.7  # an inferred code counts for less than a declared one


# what sharing the division, the group and the class each add: their sums are RELATION_SCORES
LEVEL_WEIGHTS = {"division": 0.3, "group": 0.3, "class": 0.4}
RESOURCE = "gbt4754_2017_industry_codes.csv"
NOTE_WEIGHT = 0.5  # a class's 说明 vector, added to its names' (see IndustryInferrer)


@dataclass(frozen=True)
class IndustryTable:
    names: dict[str, str]  # code -> name, all levels
    notes: dict[str, str] = field(default_factory=dict)  # code -> 说明, where the standard has one

    def name(self, code: str) -> str | None:
        return self.names.get(code)

    def classes(self) -> list[str]:
        return [c for c in self.names if len(c) == 4 and c.isdigit()]

    def path_text(self, code: str) -> str:
        """Division, group and class names joined: the text a code is inferred from."""
        parts = [self.names.get(code[:n]) for n in (2, 3, 4) if len(code) >= n]
        out: list[str] = []
        for p in parts:
            if p and p not in out:
                out.append(p)
        return " ".join(out)

    def note(self, code: str) -> str:
        """The nearest 说明: the class's own, else its group's or its division's ("" if none)."""
        return next((self.notes[code[:n]] for n in (4, 3, 2) if self.notes.get(code[:n])), "")

    def is_known(self, code: str) -> bool:
        return code in self.names


@lru_cache(maxsize=1)
def industry_table() -> IndustryTable:
    text = resources.files("matcher.resources").joinpath(RESOURCE).read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    names = {row["code"]: row["name"] for row in rows}
    notes = {row["code"]: row["description"].strip() for row in rows if row["description"].strip()}
    return IndustryTable(names, notes)


def code_level(a: str, b: str) -> str:
    if len(a) >= 4 and len(b) >= 4 and a[:4] == b[:4]:
        return "class"
    if len(a) >= 3 and len(b) >= 3 and a[:3] == b[:3]:
        return "group"
    if a[:2] == b[:2]:
        return "division"
    return "none"


def relation(
    company_codes: Sequence[str], scenario_codes: Sequence[str], inferred: bool = False
) -> tuple[IndustryRelation, float]:
    """The closest relation between any firm code and any scenario code, and its score.

    Cached: a ranking asks for the same few code pairs over and over.
    """
    return _relation(tuple(company_codes), tuple(scenario_codes), bool(inferred))


@lru_cache(maxsize=65536)
def _relation(
    company_codes: tuple[str, ...], scenario_codes: tuple[str, ...], inferred: bool
) -> tuple[IndustryRelation, float]:
    table = industry_table()
    best = IndustryRelation(level="none", inferred=inferred)
    best_score = 0.0
    for c in company_codes:
        for s in scenario_codes:
            level = code_level(c, s)
            score = RELATION_SCORES[level]
            if score > best_score:
                best_score = score
                best = IndustryRelation(level, c, s, table.name(c), inferred)
    if inferred:
        best_score *= INFERRED_FACTOR
    if best.level == "none" and company_codes:
        c = company_codes[0]
        best = IndustryRelation("none", c, None, table.name(c), inferred)
    return best, best_score


class Taxonomy:
    """The classes of the standard as index spaces, and a query's expected-relation table.

    Class *entries* (what a firm's distribution points at) index the classes first, then the
    groups, then the divisions: a declared group or division is one entry, read as "some class
    of it, uniformly".
    """

    def __init__(self, classes: Sequence[str]) -> None:
        self.classes = list(classes)
        self.groups = sorted({c[:3] for c in self.classes})
        self.divisions = sorted({c[:2] for c in self.classes})
        g_at = {g: i for i, g in enumerate(self.groups)}
        d_at = {d: i for i, d in enumerate(self.divisions)}
        self.group_of = np.array([g_at[c[:3]] for c in self.classes], dtype=np.int64)
        self.division_of = np.array([d_at[c[:2]] for c in self.classes], dtype=np.int64)
        self.group_division = np.array([d_at[g[:2]] for g in self.groups], dtype=np.int64)
        self.group_size = np.bincount(self.group_of, minlength=len(self.groups)).astype(np.float64)
        self.division_size = np.bincount(self.division_of, minlength=len(self.divisions)).astype(
            np.float64
        )
        self.entries = self.classes + self.groups + self.divisions
        self.entry_at = {code: i for i, code in enumerate(self.entries)}
        self.n_classes = len(self.classes)

    def entry(self, code: str) -> int | None:
        """The entry of a declared code (a class, group or division), None when unknown."""
        return self.entry_at.get(code[:4] if len(code) >= 4 else code)

    def declared(self, codes: Sequence[str]) -> np.ndarray:
        """P(class) of declared codes: each code an equal share, spread over its classes."""
        q = np.zeros(self.n_classes)
        known = [c for c in codes if self.entry(c) is not None]
        for code in known:
            mask = np.array([c.startswith(code[:4]) for c in self.classes])
            q[mask] += 1.0 / (len(known) * mask.sum())
        return q

    def expected(self, q: np.ndarray) -> np.ndarray:
        """Per entry, the expected relation score with a class drawn from ``q`` (a distribution
        over classes): a firm's part is the sum of its entries' probabilities times this."""
        w = LEVEL_WEIGHTS
        qg = np.bincount(self.group_of, weights=q, minlength=len(self.groups))
        qd = np.bincount(self.division_of, weights=q, minlength=len(self.divisions))
        m_class = (
            w["class"] * q + w["group"] * qg[self.group_of] + w["division"] * qd[self.division_of]
        )
        m_group = (
            w["class"] * qg / self.group_size
            + w["group"] * qg
            + w["division"] * qd[self.group_division]
        )
        # a division: the expected group share of a uniform class in it
        g_share = np.bincount(
            self.group_division, weights=qg * self.group_size, minlength=len(self.divisions)
        )
        m_div = (
            w["class"] * qd / self.division_size
            + w["group"] * g_share / self.division_size
            + w["division"] * qd
        )
        return np.concatenate([m_class, m_group, m_div])


@lru_cache(maxsize=1)
def standard_taxonomy() -> Taxonomy:
    """The classes of the bundled standard (declared codes need no inferrer)."""
    return Taxonomy(industry_table().classes())


class IndustryInferrer:
    """P(class | text) from a text vector: a softmax, at ``temperature``, over the text's cosines
    with the classes' name-and-说明 vectors, kept to its ``top`` classes. Also the single most
    likely class (``distribution``'s first: what filters and the firm's displayed code use)."""

    def __init__(
        self,
        codes: Sequence[str],
        vectors: np.ndarray,
        temperature: float = 0.05,
    ) -> None:
        self.codes = list(codes)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.temperature = temperature
        std = standard_taxonomy()
        self.taxonomy = std if std.classes == self.codes else Taxonomy(self.codes)

    @staticmethod
    def texts(codes: Iterable[str]) -> list[str]:
        """The class texts encoded: every path of names, then every nearest 说明 (the names
        again where a class has none, so no text is empty)."""
        table = industry_table()
        codes = list(codes)
        return [table.path_text(c) for c in codes] + [
            table.note(c) or table.path_text(c) for c in codes
        ]

    @staticmethod
    def class_vectors(codes: Sequence[str], encoded: np.ndarray) -> np.ndarray:
        """A class's vector: its names' plus ``NOTE_WEIGHT`` times its 说明's (names alone
        where it has none), normalised. On the Chinese corpus the names alone find a firm's
        division best at rank 1, the 说明 widen the top 3 (docs/quality.md)."""
        n = len(codes)
        names, notes = encoded[:n].astype(np.float64), encoded[n:].astype(np.float64)
        has = np.array([bool(industry_table().note(c)) for c in codes])
        vecs = names + NOTE_WEIGHT * notes * has[:, None]
        return (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)

    def distribution(self, vectors: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``top`` most likely classes of each text and their probabilities (rows sum to
        1), in blocks of matrix products so a million firms never hold all their cosines."""
        vecs = np.asarray(vectors, dtype=np.float32)
        n, top = len(vecs), max(1, min(top, len(self.codes)))
        idx = np.zeros((n, top), dtype=np.int64)
        prob = np.zeros((n, top), dtype=np.float64)
        for lo in range(0, n, 4096):
            sims = vecs[lo : lo + 4096] @ self.vectors.T
            part = np.argpartition(-sims, top - 1, axis=1)[:, :top]
            s = np.take_along_axis(sims, part, axis=1).astype(np.float64)
            order = np.argsort(-s, axis=1, kind="stable")
            part, s = np.take_along_axis(part, order, 1), np.take_along_axis(s, order, 1)
            e = np.exp((s - s[:, :1]) / self.temperature)
            idx[lo : lo + len(part)] = part
            prob[lo : lo + len(part)] = e / e.sum(axis=1, keepdims=True)
        return idx, prob

    def query(self, vector: np.ndarray, top: int) -> np.ndarray:
        """P(class | query) over every class (zero outside its ``top``)."""
        idx, prob = self.distribution(vector[None, :], top)
        q = np.zeros(len(self.codes))
        q[idx[0]] = prob[0]
        return q


def pack(entries: Sequence[int], probs: Sequence[float], k: int) -> bytes:
    """A firm's class entries and probabilities as ``k`` int16 then ``k`` float16 (padded with
    zero probability): 4·k bytes a firm, so a million firms' distributions take a few MB."""
    e = np.zeros(k, dtype=np.int16)
    p = np.zeros(k, dtype=np.float16)
    m = min(k, len(entries))
    e[:m] = np.asarray(entries[:m], dtype=np.int16)
    p[:m] = np.asarray(probs[:m], dtype=np.float16)
    return e.tobytes() + p.tobytes()


def unpack(blobs: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Packed distributions (all of one length, see :func:`pack`) as entry and probability
    matrices, one row per firm."""
    if not blobs:
        return np.zeros((0, 0), np.int64), np.zeros((0, 0))
    k = len(blobs[0]) // 4
    raw = np.frombuffer(b"".join(blobs), dtype=np.uint16).reshape(len(blobs), 2 * k)
    entries = raw[:, :k].view(np.int16).astype(np.int64)
    probs = raw[:, k:].view(np.float16).astype(np.float64)
    return entries, probs


def explain_overlap(
    taxonomy: Taxonomy,
    blob: bytes,
    q: np.ndarray,
    table: np.ndarray,
    memo: dict[tuple[int, int], tuple[np.ndarray, int]] | None = None,
) -> tuple[str, str] | None:
    """The firm code and the scenario class that contribute most to a pair's industry part.

    ``memo`` remembers, per query distribution and firm entry, the query's class (a scenario's
    top firms are explained again whenever they are shown)."""
    entries, probs = unpack([blob])
    contrib = probs[0] * table[entries[0]]
    if not len(contrib) or contrib.max() <= 0:
        return None
    e = int(entries[0][int(np.argmax(contrib))])
    held = memo.get((id(q), e)) if memo is not None else None
    if held is not None and held[0] is q:
        return taxonomy.entries[e], taxonomy.classes[held[1]]
    w = LEVEL_WEIGHTS
    n_c, n_g = taxonomy.n_classes, len(taxonomy.groups)
    if e < n_c:  # a class: the classes sharing its class, group, division
        rel = (
            w["class"] * (np.arange(n_c) == e)
            + w["group"] * (taxonomy.group_of == taxonomy.group_of[e])
            + w["division"] * (taxonomy.division_of == taxonomy.division_of[e])
        )
    elif e < n_c + n_g:  # a declared group
        g = e - n_c
        rel = w["group"] * (taxonomy.group_of == g) + w["division"] * (
            taxonomy.division_of == taxonomy.group_division[g]
        )
    else:  # a declared division
        rel = w["division"] * (taxonomy.division_of == e - n_c - n_g)
    best = int(np.argmax(q * rel))
    if memo is not None:
        if len(memo) > 100_000:
            memo.clear()
        memo[(id(q), e)] = (q, best)
    return taxonomy.entries[e], taxonomy.classes[best]

"""GB/T 4754-2017 industry codes: names, hierarchy relation, and inference from text.

The code table (codes and names of the national standard) ships in ``matcher/resources``.
Relation levels: same class (4 digits) > same group (3) > same division (2) > none.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from .types import IndustryRelation

__all__ = ["IndustryTable", "industry_table", "relation", "RELATION_SCORES"]

RELATION_SCORES = {"class": 1.0, "group": 0.6, "division": 0.3, "none": 0.0}
INFERRED_FACTOR = 0.7  # an inferred code counts for less than a declared one


@dataclass(frozen=True)
class IndustryTable:
    names: dict[str, str]  # code -> name, all levels

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

    def is_known(self, code: str) -> bool:
        return code in self.names


@lru_cache(maxsize=1)
def industry_table() -> IndustryTable:
    text = resources.files("matcher.resources").joinpath("gbt4754_2017.csv").read_text("utf-8")
    names = {row["code"]: row["name"] for row in csv.DictReader(text.splitlines())}
    return IndustryTable(names)


def _level(a: str, b: str) -> str:
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
            level = _level(c, s)
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


class IndustryInferrer:
    """Infers a class code from a text vector: nearest class by its division/group/class names."""

    def __init__(self, codes: Sequence[str], vectors: np.ndarray) -> None:
        self.codes = list(codes)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)

    @staticmethod
    def texts(codes: Iterable[str]) -> list[str]:
        table = industry_table()
        return [table.path_text(c) for c in codes]

    def infer(self, vectors: np.ndarray) -> list[str]:
        if len(vectors) == 0:
            return []
        sims = np.asarray(vectors, dtype=np.float32) @ self.vectors.T
        return [self.codes[i] for i in np.argmax(sims, axis=1)]

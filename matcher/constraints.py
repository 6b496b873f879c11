"""Structured fit and hard constraints between a scenario and a firm.

The structured part scores what the texts cannot: chain position, certifications the scenario
prefers, and firm strength (the zone's "招大商、招好商、招优商": capital, listing, high-tech
status). Hard constraints (space needed above space offered, investment below the scenario's
minimum) produce a "why not" line; :class:`~matcher.config.ConstraintConfig` decides whether
the firm is flagged (penalised, kept) or filtered out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .places import city_passes
from .reasons import Lang, render_all
from .types import Company, Reason, Scenario

__all__ = [
    "Controls",
    "Filters",
    "structured_score",
    "strength",
    "hard_failures",
    "failed_conditions",
    "passes_filters",
]

STRONG_CERTS = ("高新技术企业", "专精特新小巨人", "专精特新中小企业")


@dataclass(frozen=True)
class Filters:
    """Recruiter filters on firms; ``None`` means no filter on that field."""

    industry_prefix: str | None = None
    city: str | None = None
    min_capital_wan: float | None = None
    space_min_m2: float | None = None
    space_max_m2: float | None = None
    chain_position: str | None = None
    certifications: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return self == Filters()


@dataclass(frozen=True)
class Controls:
    """A recruiter's choices for one scenario, kept across re-rankings.

    ``pinned`` firms come first in this order; ``excluded`` firms never appear; ``like`` firms
    ("more like this") pull the query towards their profiles (Rocchio, ``feedback_weight``).
    """

    pinned: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    like: tuple[str, ...] = ()


def passes_filters(company: Company, codes: Sequence[str], f: Filters) -> bool:
    if f.industry_prefix and not any(c.startswith(f.industry_prefix) for c in codes):
        return False
    if f.city and f.city.strip() and not city_passes(company.city, f.city):
        return False
    if f.min_capital_wan is not None and (company.registered_capital_wan or 0) < f.min_capital_wan:
        return False
    if f.space_min_m2 is not None and (
        company.space_needed_m2 is None or company.space_needed_m2 < f.space_min_m2
    ):
        return False
    if f.space_max_m2 is not None and (
        company.space_needed_m2 is None or company.space_needed_m2 > f.space_max_m2
    ):
        return False
    if f.chain_position and company.chain_position != f.chain_position:
        return False
    return all(c in company.certifications for c in f.certifications)


def strength(company: Company) -> float:
    """0-1: registered capital on a log scale (10 亿元 → 1), plus listing and high-tech status."""
    cap = company.registered_capital_wan or 0.0
    if not math.isfinite(cap) or cap < 0:
        cap = 0.0
    score = min(1.0, math.log10(cap + 1.0) / 5.0) * 0.6
    if company.listed:
        score += 0.2
    if any(c in company.certifications for c in STRONG_CERTS):
        score += 0.2
    return min(1.0, score)


def structured_score(
    scenario: Scenario, company: Company, company_strength: float | None = None
) -> float:
    """Mean of chain-position fit, certification fit and firm strength, each in [0, 1].

    ``company_strength`` is :func:`strength` of the firm when the caller has it already.
    """
    if scenario.chain_position is None or company.chain_position is None:
        chain = 0.5
    else:
        chain = 1.0 if scenario.chain_position == company.chain_position else 0.0
    if scenario.preferred_certifications:
        cert = 1.0 if set(scenario.preferred_certifications) & set(company.certifications) else 0.0
    else:
        cert = 0.5
    firm = strength(company) if company_strength is None else company_strength
    return (chain + cert + firm) / 3.0


def failed_conditions(scenario: Scenario, company: Company) -> list[Reason]:
    """The hard conditions the firm fails (space needed above what is offered, investment
    below the minimum), as codes with their numbers."""
    out: list[Reason] = []
    need, offered = company.space_needed_m2, scenario.space_offered_m2
    if need is not None and offered is not None and need > offered:
        out.append(Reason("space_exceeds", {"need": need, "offered": offered}))
    invest, minimum = company.intended_investment_yi, scenario.investment_min_yi
    if invest is not None and minimum is not None and invest < minimum:
        out.append(Reason("investment_below", {"invest": invest, "minimum": minimum}))
    return out


def hard_failures(scenario: Scenario, company: Company, lang: Lang = "zh") -> list[str]:
    """One line per failed hard constraint, in the reader's language."""
    return render_all(failed_conditions(scenario, company), lang)

"""The records that flow through the engine: scenarios, companies and the one result type."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

__all__ = [
    "ScorePart",
    "SCORE_PARTS",
    "QUERY_SCALED",
    "RESULT_PARTS",
    "ChainPosition",
    "FeedbackStage",
    "FEEDBACK_STAGES",
    "FusionMethod",
    "FUSION_METHODS",
    "FusionScale",
    "FUSION_SCALES",
    "ConstraintMode",
    "CONSTRAINT_MODES",
    "IndexBackend",
    "INDEX_BACKENDS",
    "LexicalBackend",
    "LEXICAL_BACKENDS",
    "EncoderName",
    "DemandName",
    "DEMAND_EXTRACTORS",
    "ENCODERS",
    "Scenario",
    "Composite",
    "Company",
    "IndustryRelation",
    "Explanation",
    "Reason",
    "ReasonCode",
    "REASON_CODES",
    "Match",
    "CHAIN_POSITIONS",
]

# Fixed vocabularies, each defined once here; the tuples follow the Literal aliases.
ScorePart = Literal["dense", "lexical", "keyword", "industry", "structured"]
SCORE_PARTS: tuple[ScorePart, ...] = get_args(ScorePart)
# parts whose scale depends on the query (scaled from a floor before fusion)
QUERY_SCALED: tuple[ScorePart, ...] = ("dense", "lexical")
# what a Match's parts and contributions may hold: the fused parts and the learned one
RESULT_PARTS: tuple[str, ...] = (*SCORE_PARTS, "learned")
ChainPosition = Literal["upstream", "midstream", "downstream", "service"]
CHAIN_POSITIONS: tuple[ChainPosition, ...] = get_args(ChainPosition)
# a recruiter's follow-up stages, in pipeline order (rejected last)
FeedbackStage = Literal["shortlisted", "contacted", "visited", "signed", "rejected"]
FEEDBACK_STAGES: tuple[FeedbackStage, ...] = get_args(FeedbackStage)
FusionMethod = Literal["convex", "rrf"]
FUSION_METHODS: tuple[FusionMethod, ...] = get_args(FusionMethod)
FusionScale = Literal["floor", "candidates", "absolute"]
FUSION_SCALES: tuple[FusionScale, ...] = get_args(FusionScale)
ConstraintMode = Literal["flag", "filter"]
CONSTRAINT_MODES: tuple[ConstraintMode, ...] = get_args(ConstraintMode)
IndexBackend = Literal["flat", "ivf", "numpy"]
INDEX_BACKENDS: tuple[IndexBackend, ...] = get_args(IndexBackend)
LexicalBackend = Literal["tfidf"]
LEXICAL_BACKENDS: tuple[LexicalBackend, ...] = get_args(LexicalBackend)
# how a scenario's demand is found (matcher.demand): rules, or not at all
DemandName = Literal["rules", "off"]
DEMAND_EXTRACTORS: tuple[DemandName, ...] = get_args(DemandName)
# what a query's GB/T classes are inferred from (matcher.industry): its query vector, or its
# demand alone
TaxonomySource = Literal["query", "demand"]
TAXONOMY_SOURCES: tuple[TaxonomySource, ...] = get_args(TaxonomySource)
# single encoders; EncoderConfig.name may join several with "+"
EncoderName = Literal["use", "e5", "e5-st", "e5-nano", "st"]
ENCODERS: tuple[EncoderName, ...] = get_args(EncoderName)


@dataclass(frozen=True)
class Composite:
    """A composite scenario: a heading that groups scenario opportunities."""

    id: str
    title_zh: str
    title_en: str = ""
    description_zh: str = ""


@dataclass(frozen=True)
class Scenario:
    """A scenario opportunity a zone publishes: what is opened and what capability is sought."""

    id: str
    title_zh: str
    description_zh: str
    parent_id: str | None = None
    title_en: str = ""
    description_en: str = ""
    keywords: tuple[str, ...] = ()
    industry_codes: tuple[str, ...] = ()
    chain_position: ChainPosition | None = None
    value_yi: float | None = None
    park: str | None = None
    space_offered_m2: float | None = None
    investment_min_yi: float | None = None
    status: str = "open"
    published: str | None = None
    preferred_certifications: tuple[str, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status != "closed"

    def text(self) -> str:
        """The text that represents the scenario for encoding and lexical scoring."""
        parts = [self.title_zh, self.description_zh]
        if self.keywords:
            parts.append("、".join(self.keywords))
        return "\n".join(p for p in parts if p)

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))


@dataclass(frozen=True)
class Company:
    """A company profile, as submitted or loaded."""

    id: str
    name: str
    description: str
    credit_code: str | None = None
    products: tuple[str, ...] = ()
    industry_codes: tuple[str, ...] = ()
    city: str | None = None
    founded: int | None = None
    registered_capital_wan: float | None = None
    employees: int | None = None
    certifications: tuple[str, ...] = ()
    listed: bool | None = None
    intended_investment_yi: float | None = None
    space_needed_m2: float | None = None
    chain_position: ChainPosition | None = None
    contact: dict[str, str] | None = field(default=None, hash=False, compare=False)

    def text(self) -> str:
        """Name, description and products: what the profile says the firm does."""
        parts = [self.name, self.description]
        if self.products:
            parts.append("、".join(self.products))
        return "\n".join(p for p in parts if p)

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))


@dataclass(frozen=True)
class IndustryRelation:
    """How the firm's industry codes relate to the scenario's (GB/T 4754-2017 hierarchy)."""

    level: str  # "class" | "group" | "division" | "none"
    company_code: str | None = None
    scenario_code: str | None = None
    company_code_name: str | None = None
    inferred: bool = False


# a failed hard condition of a pair, as a code (its numbers in ``Reason.params``)
ReasonCode = Literal["space_exceeds", "investment_below"]
REASON_CODES: tuple[ReasonCode, ...] = get_args(ReasonCode)


@dataclass(frozen=True)
class Reason:
    """A failed condition: a code plus its numbers, rendered per language by
    :mod:`matcher.reasons` (UI, exports, snapshots keep the code, not a sentence)."""

    code: ReasonCode
    params: dict[str, float] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Explanation:
    """Why a pair matched: evidence a recruiter can check against the texts; ``demand``: what
    the engine understood the scenario to seek (the same for every firm of one scenario)."""

    matched_terms: tuple[str, ...]
    evidence: str | None
    industry: IndustryRelation
    why_not: tuple[str, ...] = ()  # ``reasons`` rendered in Chinese (kept for API clients)
    cross_lingual: bool = False
    summary: str = ""  # Chinese; ``matcher.reasons.summary(explanation, lang)`` for others
    demand: tuple[str, ...] = ()
    reasons: tuple[Reason, ...] = ()  # the failed conditions, structured


@dataclass(frozen=True)
class Match:
    """One scenario × company pair with its score parts and explanation.

    The same record is returned by retrieval, re-ranking, the batch job and the API.
    ``parts`` are the normalised signals in [0, 1]; ``contributions`` are the weighted parts
    that add up to ``score`` before ``penalty``.
    """

    scenario_id: str
    company_id: str
    score: float
    parts: dict[str, float]
    contributions: dict[str, float]
    explanation: Explanation
    rank: int = 0
    penalty: float = 0.0
    duplicates: tuple[str, ...] = ()
    company_name: str = ""
    scenario_title: str = ""
    pinned: bool = False

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value

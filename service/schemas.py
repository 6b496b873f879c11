"""Request and response models (``XCreate``, ``XUpdate``, ``XPublic``, ``XsPublic(data, count)``).

Validation here is the first line against bad input: sizes, types, empty or whitespace-only
text, enumerations, GB/T codes and the credit-code check digit, each failure naming its field.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from matcher.creditcode import credit_code_problem, normalise_credit_code
from matcher.industry import industry_table
from matcher.types import Scenario

from .profiles import CONTACT_FIELDS, ProfilePatch

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
MAX_TEXT = 20_000
_KEEP_CONTROLS = {"\n", "\t"}
# directional overrides and isolates can make a name read as another one on screen
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _dropped(ch: str) -> bool:
    """Control characters (NUL breaks PostgreSQL), bidirectional controls, lone surrogates and
    Unicode noncharacters (U+FDD0–FDEF, U+xFFFE/xFFFF)."""
    if ch in _KEEP_CONTROLS:
        return False
    code = ord(ch)
    return (
        ch in _BIDI_CONTROLS
        or unicodedata.category(ch) in ("Cc", "Cs")
        or 0xFDD0 <= code <= 0xFDEF
        or code & 0xFFFE == 0xFFFE
    )


def clean(value: Any) -> Any:
    """Stored text in NFC without the characters :func:`_dropped` lists, invisible edges
    trimmed (zero-width characters inside, as in emoji sequences, stay)."""
    if not isinstance(value, str):
        return value
    text = unicodedata.normalize("NFC", "".join(ch for ch in value if not _dropped(ch)))
    return text.strip().strip("\u200b\u200c\u200d\u2060\ufeff").strip()


def visible(value: str) -> str:
    if not any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in value):
        raise ValueError("is empty or only whitespace / invisible characters")
    return value


Clean = BeforeValidator(clean)
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
ShortText = Annotated[str, Clean, StringConstraints(max_length=300), AfterValidator(visible)]
LongText = Annotated[str, Clean, StringConstraints(max_length=MAX_TEXT), AfterValidator(visible)]
Note = Annotated[str, Clean, StringConstraints(max_length=2000)]
Term = Annotated[str, Clean, StringConstraints(max_length=200), AfterValidator(visible)]
Plain = Annotated[str, Clean]
ChainPosition = Literal["upstream", "midstream", "downstream", "service"]
Stage = Literal["shortlisted", "contacted", "visited", "signed", "rejected"]
Role = Literal["admin", "recruiter", "company"]


def _known_code(code: str) -> str:
    if not industry_table().is_known(code):
        raise ValueError(f"{code!r} is not a GB/T 4754-2017 code (2-4 digits from the standard)")
    return code


IndustryCode = Annotated[
    str, StringConstraints(pattern=r"^[0-9]{2,4}$"), AfterValidator(_known_code)
]
Amount = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Contact(Strict):
    """A contact person: personal data, shown only to recruiters and the firm itself."""

    name: Annotated[str, Clean, StringConstraints(max_length=100)] = ""
    phone: Annotated[str, Clean, StringConstraints(max_length=50)] = ""
    email: Annotated[str, Clean, StringConstraints(max_length=200)] = ""


class CompanyFields(Strict):
    """A profile as a write carries it. A field left out keeps its stored value, ``null``
    clears it (``name`` and ``description`` cannot be cleared); see ``service.profiles``."""

    name: ShortText | None = None
    description: LongText | None = None
    credit_code: str | None = Field(
        None, description="统一社会信用代码: 18 characters with a valid check digit"
    )
    products: list[Term] | None = Field(None, max_length=100)
    industry_codes: list[IndustryCode] | None = Field(None, max_length=20)
    city: Annotated[str, Clean, StringConstraints(max_length=100)] | None = None
    founded: int | None = Field(None, ge=1800, le=2100)
    registered_capital_wan: Amount | None = None
    employees: int | None = Field(None, ge=0, le=10_000_000)
    certifications: list[Term] | None = Field(None, max_length=50)
    listed: bool | None = None
    intended_investment_yi: Amount | None = None
    space_needed_m2: Amount | None = None
    chain_position: ChainPosition | None = None
    contact: Contact | None = Field(
        None, description="fields left out keep their value; null or an empty string clears"
    )

    @field_validator("name", "description", mode="after")
    @classmethod
    def _not_cleared(cls, v: str | None) -> str:
        if v is None:  # only an explicit null reaches a validator
            raise ValueError("cannot be cleared; leave it out to keep the stored value")
        return v

    @field_validator("contact", mode="before")
    @classmethod
    def _contact_nulls(cls, v: Any) -> Any:
        if isinstance(v, dict):  # {"email": null} clears the e-mail, as "" does
            return {k: ("" if x is None else x) for k, x in v.items()}
        return v

    @field_validator("credit_code", mode="before")
    @classmethod
    def _credit_code(cls, v: Any) -> Any:
        if v is None:
            return None
        if not isinstance(v, str):
            raise ValueError("must be a string of 18 characters")
        if not v.strip():
            return None
        code = normalise_credit_code(v)
        problem = credit_code_problem(code)
        if problem:
            raise ValueError(problem)
        return code

    @field_validator("city", mode="after")
    @classmethod
    def _blank_city(cls, v: str | None) -> str | None:
        return v or None

    def patch(self) -> ProfilePatch:
        """The fields this write carries (``None``: clear), contact fields apart."""
        sent = self.model_fields_set - {"id", "contact"}
        profile = {k: getattr(self, k) for k in sent}
        for k in ("products", "industry_codes", "certifications"):
            if profile.get(k) is not None:
                profile[k] = tuple(profile[k])
        contact: dict[str, str | None] = {}
        if "contact" in self.model_fields_set:
            if self.contact is None:
                contact = dict.fromkeys(CONTACT_FIELDS)
            else:
                contact = {k: getattr(self.contact, k) for k in self.contact.model_fields_set}
        return ProfilePatch(profile, contact)


class CompanyCreate(CompanyFields):
    """A submitted profile: ``name`` and ``description`` are required. When its credit code is
    registered it updates that firm, and fields it leaves out keep their stored values."""

    id: Id | None = Field(None, description="optional; generated when absent")
    name: ShortText
    description: LongText


class CompanyUpdate(CompanyFields):
    """``PUT /companies/{id}``: only the fields sent change."""


class CompanyImportRow(CompanyFields):
    """One import row: empty cells are left out (unchanged), the clear token is ``null``."""

    id: Id | None = None


class CompanyPublic(BaseModel):
    id: str
    name: str
    description: str
    credit_code: str | None = None
    products: list[str] = []
    industry_codes: list[str] = []
    city: str | None = None
    founded: int | None = None
    registered_capital_wan: float | None = None
    employees: int | None = None
    certifications: list[str] = []
    listed: bool | None = None
    intended_investment_yi: float | None = None
    space_needed_m2: float | None = None
    chain_position: str | None = None
    contact: dict[str, str] | None = None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class CompaniesPublic(BaseModel):
    data: list[CompanyPublic]
    count: int


class CompanyVersionPublic(BaseModel):
    version: int
    profile: dict[str, Any]
    actor: str
    created_at: dt.datetime


class CompanyVersionsPublic(BaseModel):
    data: list[CompanyVersionPublic]
    count: int


class DuplicatePublic(BaseModel):
    id: str
    name: str


class IndustryPublic(BaseModel):
    level: str
    company_code: str | None = None
    scenario_code: str | None = None
    company_code_name: str | None = None
    inferred: bool = False


class ExplanationPublic(BaseModel):
    matched_terms: list[str]
    evidence: str | None
    industry: IndustryPublic
    why_not: list[str] = []
    cross_lingual: bool = False
    summary: str = ""


class MatchPublic(BaseModel):
    """The engine's ``Match``, unchanged."""

    scenario_id: str
    company_id: str
    score: float
    parts: dict[str, float]
    contributions: dict[str, float]
    explanation: ExplanationPublic
    rank: int
    penalty: float = 0.0
    duplicates: list[str] = []
    company_name: str = ""
    scenario_title: str = ""
    pinned: bool = False


class MatchesPublic(BaseModel):
    data: list[MatchPublic]
    count: int
    page: int = 1
    top_k: int = 20


class CompanySaved(BaseModel):
    """A stored profile with its scenario suggestions, in one response."""

    company: CompanyPublic
    created: bool
    updated_existing: bool = Field(
        False, description="an existing firm with this credit code was updated (new version)"
    )
    changed_fields: list[str] = Field(
        default_factory=list, description="the fields this write set or changed"
    )
    possible_duplicates: list[DuplicatePublic] = []
    suggestions: list[MatchPublic]


class ScenarioFields(Strict):
    title_zh: ShortText
    description_zh: LongText
    title_en: Annotated[str, Clean, StringConstraints(max_length=300)] = ""
    description_en: Annotated[str, Clean, StringConstraints(max_length=MAX_TEXT)] = ""
    keywords: list[Term] = Field(default_factory=list, max_length=100)
    industry_codes: list[IndustryCode] = Field(default_factory=list, max_length=20)
    chain_position: ChainPosition | None = None
    value_yi: Amount | None = None
    park: Annotated[str, Clean, StringConstraints(max_length=200)] | None = None
    space_offered_m2: Amount | None = None
    investment_min_yi: Amount | None = None
    status: Literal["open", "in_talks", "closed"] = "open"
    published: dt.date | None = None
    preferred_certifications: list[Term] = Field(default_factory=list, max_length=50)


class ScenarioCreate(ScenarioFields):
    id: Id
    parent_id: Id


class ScenarioUpdate(ScenarioFields):
    parent_id: Id


def scenario_domain(sid: str, body: ScenarioFields, parent_id: str) -> Scenario:
    data = body.model_dump(exclude={"id", "parent_id"})
    for k in ("keywords", "industry_codes", "preferred_certifications"):
        data[k] = tuple(data[k])
    data["published"] = data["published"].isoformat() if data["published"] else None
    return Scenario(id=sid, parent_id=parent_id, **data)


class ScenarioPublic(BaseModel):
    id: str
    parent_id: str | None
    title_zh: str
    title_en: str = ""
    description_zh: str = ""
    description_en: str = ""
    keywords: list[str] = []
    industry_codes: list[str] = []
    chain_position: str | None = None
    value_yi: float | None = None
    park: str | None = None
    space_offered_m2: float | None = None
    investment_min_yi: float | None = None
    status: str
    published: str | None = None
    preferred_certifications: list[str] = []
    version: int = 1


class CompositePublic(BaseModel):
    id: str
    title_zh: str
    title_en: str = ""
    description_zh: str = ""
    opportunities: list[ScenarioPublic]
    count: int


class ScenariosPublic(BaseModel):
    """The catalogue as a tree: composites with their opportunities."""

    data: list[CompositePublic]
    count: int
    opportunities: int


class CatalogueUploaded(BaseModel):
    composites: int
    opportunities: int
    created: list[str]
    updated: list[str]
    retired: list[str]


class SearchFilters(Strict):
    industry: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,4}$")] | None = None
    city: Annotated[str, Clean, StringConstraints(min_length=1, max_length=100)] | None = None
    min_capital_wan: Amount | None = None
    space_min_m2: Amount | None = None
    space_max_m2: Amount | None = None
    chain_position: ChainPosition | None = None
    certifications: list[Term] = Field(default_factory=list, max_length=20)


class SearchCreate(Strict):
    text: Annotated[str, Clean, StringConstraints(max_length=5000), AfterValidator(visible)]
    top_k: int = Field(20, ge=1, le=200)
    filters: SearchFilters = Field(default_factory=SearchFilters)


class FeedbackCreate(Strict):
    scenario_id: Id
    company_id: Id
    stage: Stage
    note: Note | None = None


class FeedbackPublic(BaseModel):
    id: int
    scenario_id: str
    company_id: str
    stage: str
    note: str | None
    actor: str
    created_at: dt.datetime


class FeedbacksPublic(BaseModel):
    data: list[FeedbackPublic]
    count: int


class ControlCreate(Strict):
    company_id: Id
    action: Literal["pin", "exclude", "like"]
    reason: Note | None = None


class ControlPublic(BaseModel):
    scenario_id: str
    company_id: str
    action: str
    reason: str | None
    actor: str
    created_at: dt.datetime


class ControlsPublic(BaseModel):
    data: list[ControlPublic]
    count: int


class ImportRowPublic(BaseModel):
    row: int
    status: Literal["imported", "updated", "unchanged", "rejected"]
    company_id: str | None = None
    reason: str | None = None
    changed: list[str] = Field(
        default_factory=list,
        description="the fields this row set or changed (contact fields as contact.email)",
    )


class ImportReport(BaseModel):
    data: list[ImportRowPublic]
    count: int
    imported: int
    updated: int
    unchanged: int
    rejected: int


class KeyCreate(Strict):
    role: Role
    company_id: Id | None = None
    name: Annotated[str, Clean, StringConstraints(max_length=200)] | None = None
    rate_per_min: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(
        None, description="requests per minute this key may send (default: the service's)"
    )


class KeyPublic(BaseModel):
    id: int
    prefix: str
    role: str
    company_id: str | None
    name: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    rate_per_min: int | None = None


class KeyCreated(KeyPublic):
    key: str = Field(description="shown once; store it now")


class KeysPublic(BaseModel):
    data: list[KeyPublic]
    count: int


class AuditPublic(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    detail: dict[str, Any] | None


class AuditsPublic(BaseModel):
    data: list[AuditPublic]
    count: int


class HealthPublic(BaseModel):
    status: str
    companies: int
    scenarios: int
    model: str
    data_version: int
    index_version: int
    saved_version: int = Field(description="the data version of the index copy on disk")
    save_error: str | None = Field(None, description="why the index could not be saved")
    erasures_pending: int = Field(
        0, description="deleted firms whose copies outside the database are still being removed"
    )
    erase_error: str | None = Field(None, description="why finishing an erasure failed")

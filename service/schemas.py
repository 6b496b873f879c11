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
from matcher.types import ChainPosition, FeedbackStage, Scenario

from .profiles import CONTACT_FIELDS, ProfilePatch

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
MAX_TEXT = 20_000
_KEEP_CONTROLS = {"\n", "\t"}
# directional overrides and isolates can make a name read as another one on screen
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _dropped(ch: str) -> bool:
    """Control characters (NUL breaks PostgreSQL), bidirectional controls, lone surrogates,
    Unicode noncharacters (U+FDD0–FDEF, U+xFFFE/xFFFF) and tag characters (U+E0000–E007F:
    invisible text hidden inside a name; a subdivision flag such as England's, black flag plus
    tags, becomes the black flag 🏴)."""
    if ch in _KEEP_CONTROLS:
        return False
    code = ord(ch)
    return (
        ch in _BIDI_CONTROLS
        or unicodedata.category(ch) in ("Cc", "Cs")
        or 0xFDD0 <= code <= 0xFDEF
        or code & 0xFFFE == 0xFFFE
        or 0xE0000 <= code <= 0xE007F
    )


def clean(value: Any) -> Any:
    """Stored text in NFC without the characters :func:`_dropped` lists, invisible edges
    trimmed (zero-width characters inside, as in emoji sequences, stay)."""
    if not isinstance(value, str):
        return value
    text = unicodedata.normalize("NFC", "".join(ch for ch in value if not _dropped(ch)))
    return text.strip().strip("\u200b\u200c\u200d\u2060\ufeff").strip()


# Letters and symbols that draw nothing: Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), the
# blank Braille pattern (U+2800) and the other default-ignorable code points that are not
# format characters (combining grapheme joiner, Khmer inherent vowels, Mongolian and other
# variation selectors, shorthand format controls).
_BLANK_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0x1BCA0, 0x1BCA3),
    (0xE0000, 0xE0FFF),
)


def _shows(ch: str) -> bool:
    """Whether ``ch`` draws something by itself: not whitespace, not a format character or a
    combining mark (nothing to sit on), not one of :data:`_BLANK_RANGES`."""
    if ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Mn", "Me"):
        return False
    code = ord(ch)
    return not any(lo <= code <= hi for lo, hi in _BLANK_RANGES)


def visible(value: str) -> str:
    """Refuse text with nothing to see: empty, whitespace, or only invisible characters (a
    name of Hangul fillers U+3164 or blank Braille U+2800 looks empty in every list)."""
    if not any(_shows(ch) for ch in value):
        raise ValueError(
            "is empty or only whitespace / invisible characters (such as U+3164 or U+2800); "
            "write visible text"
        )
    return value


Clean = BeforeValidator(clean)
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
ShortText = Annotated[str, StringConstraints(max_length=300), Clean, AfterValidator(visible)]
LongText = Annotated[str, StringConstraints(max_length=MAX_TEXT), Clean, AfterValidator(visible)]
Note = Annotated[str, StringConstraints(max_length=2000), Clean]
Term = Annotated[str, StringConstraints(max_length=200), Clean, AfterValidator(visible)]
Plain = Annotated[str, Clean]
Stage = FeedbackStage
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


_EXTENSION = ("转", "轉", "分机", "分機")  # "0595-12345678 转 801"


def _phone(value: str) -> str:
    """A phone number ``phonenumbers`` finds valid, read as Chinese unless it starts with
    ``+``: a mobile (13812345678), a landline with its area code (0595-12345678), +86 …, a
    foreign +CC number, an extension (转 801, ext. 801, x801). Stored as written; "" clears."""
    if not value:
        return value
    import phonenumbers

    text = value
    for word in _EXTENSION:
        text = text.replace(word, " ext. ")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValueError(
            "not a valid phone number; write one number with its area code, e.g. "
            "13812345678, 0595-12345678, +86 595 1234 5678, 0595-12345678 转 801"
        )
    return value


def _email(value: str) -> str:
    """An address ``email-validator`` accepts (syntax only: no DNS look-up, the service runs
    offline); stored as written; "" clears."""
    if not value:
        return value
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address ({exc}); e.g. zhang@example.com") from None
    return value


class Contact(Strict):
    """A contact person: personal data, shown only to recruiters and the firm itself. Phone
    and email are checked (``_phone``, ``_email``) and kept as written; "" clears a field."""

    name: Annotated[str, StringConstraints(max_length=100), Clean] = ""
    phone: Annotated[str, StringConstraints(max_length=50), Clean, AfterValidator(_phone)] = ""
    email: Annotated[str, StringConstraints(max_length=200), Clean, AfterValidator(_email)] = ""


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
    city: Annotated[str, StringConstraints(max_length=100), Clean] | None = None
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


class ReasonPublic(BaseModel):
    code: str = Field(description="space_exceeds | investment_below")
    params: dict[str, float] = Field(description="the numbers the reason names")


class ExplanationPublic(BaseModel):
    matched_terms: list[str]
    evidence: str | None
    industry: IndustryPublic
    why_not: list[str] = Field(
        default_factory=list, description="the failed conditions in Chinese (see reasons)"
    )
    cross_lingual: bool = False
    summary: str = Field("", description="one line, in Chinese")
    demand: list[str] = []
    reasons: list[ReasonPublic] = Field(
        default_factory=list,
        description="the failed conditions as codes with numbers, for rendering in any language",
    )


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


class PlaceResolved(BaseModel):
    """What a city filter resolved to (``matcher.places``)."""

    value: str = Field(description="the filter as sent")
    places: list[str] = Field(
        description="the divisions it matched (official names), or its folded form if unknown"
    )
    paths: list[str] = Field(description="each division with its ancestors: 福建省/泉州市/晋江市")
    known: bool = Field(description="false: not in the division table, matched as written")
    ambiguous: bool = Field(description="it can mean several divisions; all of them matched")
    note: str = Field(description="one line: 'Fuzhou matched 福州市 (福建省) and 抚州市 (江西省)'")


class FiltersResolved(BaseModel):
    city: PlaceResolved | None = None


class MatchesPublic(BaseModel):
    data: list[MatchPublic]
    count: int
    page: int = 1
    top_k: int = 20
    filters_resolved: FiltersResolved = Field(
        default_factory=FiltersResolved,
        description="how the filters were read: the divisions a city filter matched",
    )


class SearchPublic(MatchesPublic):
    """A free-text search's firms; the search text comes back once, here, not in each match
    (its ``scenario_title`` is empty: 200 copies of a 5,000-character query made 3 MB)."""

    text: str = Field(description="the search text as read (cleaned)")


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
    title_en: Annotated[str, StringConstraints(max_length=300), Clean] = ""
    description_en: Annotated[str, StringConstraints(max_length=MAX_TEXT), Clean] = ""
    keywords: list[Term] = Field(default_factory=list, max_length=100)
    industry_codes: list[IndustryCode] = Field(default_factory=list, max_length=20)
    chain_position: ChainPosition | None = None
    value_yi: Amount | None = None
    park: Annotated[str, StringConstraints(max_length=200), Clean] | None = None
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
    city: Annotated[str, StringConstraints(min_length=1, max_length=100), Clean] | None = None
    min_capital_wan: Amount | None = None
    space_min_m2: Amount | None = None
    space_max_m2: Amount | None = None
    chain_position: ChainPosition | None = None
    certifications: list[Term] = Field(default_factory=list, max_length=20)


class SearchCreate(Strict):
    text: Annotated[str, StringConstraints(max_length=5000), Clean, AfterValidator(visible)]
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
    actor: str  # ``key:N``, as the audit log names it
    actor_name: str | None = Field(
        None, description="the name of the key that gave it (revoked keys too); null: unnamed"
    )
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
    name: Annotated[str, StringConstraints(max_length=200), Clean] | None = None
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
    rate_limits: str = Field(
        "process",
        description="where requests are counted: redis (shared by every process), process, "
        "or process (redis unreachable: why)",
    )


# ---------------------------------------------------------------- admin pages (issue 19)
class CatalogueProblemPublic(BaseModel):
    row: str = Field(description="which entry: composites #n or opportunities #n (with its id)")
    field: str
    message: str


class CataloguePreviewPublic(BaseModel):
    """What an upload would do (``?dry_run=1``): every validation error, or the scenarios it
    adds, changes and retires; nothing is stored."""

    valid: bool
    errors: list[CatalogueProblemPublic]
    composites: int
    opportunities: int
    created: list[str]
    updated: list[str]
    retired: list[str]


class ImportJobPublic(BaseModel):
    id: int
    status: Literal["queued", "running", "interrupted", "failed", "done"]
    filename: str
    actor: str
    total_rows: int
    rows_done: int = Field(description="data rows whose result is committed")
    next_row: int | None = Field(
        description="the file row (as numbered in the file, header = 1) it continues from; "
        "None when done"
    )
    imported: int
    updated: int
    unchanged: int
    rejected: int
    error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    report: list[ImportRowPublic] = Field(
        default_factory=list, description="per-row results so far (one job's view only)"
    )


class ImportJobsPublic(BaseModel):
    data: list[ImportJobPublic]
    count: int


# ---------------------------------------------------------------- the follow-up board
class PipelineCardPublic(BaseModel):
    scenario_id: str
    scenario_title: str
    company_id: str
    company_name: str
    stage: str = Field(description="the pair's latest stage")
    furthest: str | None = Field(description="the furthest stage it reached (never rejected)")
    at: dt.datetime = Field(description="when the latest stage was recorded")
    actor: str
    actor_name: str | None = None
    note: str | None
    entries: int = Field(description="feedback entries of the pair (GET /feedback has them)")
    days: int = Field(description="days since the latest stage")
    stale: bool = Field(description="an open stage unchanged for stale_days or more")
    interested: bool = Field(description="the firm said it is interested (never a label)")
    interest_note: str | None = None


class PipelineInterestPublic(BaseModel):
    scenario_id: str
    scenario_title: str
    company_id: str
    company_name: str
    note: str | None
    at: dt.datetime


class CompositeFunnelPublic(BaseModel):
    composite_id: str
    title: str
    funnel: dict[str, int]


class PipelinePublic(BaseModel):
    scenario_id: str | None
    stale_days: int
    columns: dict[str, list[PipelineCardPublic]] = Field(
        description="cards by latest stage, in pipeline order, the longest waiting first"
    )
    interested: list[PipelineInterestPublic] = Field(
        description="firms that said they are interested and have no stage yet"
    )
    funnel: dict[str, int] = Field(
        description="pairs that reached each stage (a signed pair counts for every stage "
        "before it); rejected: pairs rejected now"
    )
    by_composite: list[CompositeFunnelPublic] = Field(
        default_factory=list, description="the funnel per composite scenario (all scenarios)"
    )


ShortNote = Annotated[str, StringConstraints(max_length=500), Clean]


class InterestCreate(Strict):
    note: ShortNote | None = Field(None, description="a short note for the recruiters")


class InterestPublic(BaseModel):
    scenario_id: str
    company_id: str
    note: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class InterestsPublic(BaseModel):
    data: list[InterestPublic]
    count: int

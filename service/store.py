"""Reads and writes against the database; every function runs inside the caller's transaction.

The store turns rows into the engine's records (:class:`~matcher.types.Scenario`,
:class:`~matcher.types.Company`) and back, keeps company versions, de-duplicates by credit code
and flags near-identical names, and writes the audit log (never profile text or contact data).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from matcher.batch.erase import Tombstone, redact
from matcher.catalogue import Catalogue, company_from_dict, scenario_from_dict
from matcher.constraints import Controls
from matcher.dedupe import name_key
from matcher.normalise import normalise
from matcher.places import resolve as resolve_place
from matcher.types import FEEDBACK_STAGES, Company, Composite, Scenario

from .errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from .models import (
    AuditRow,
    BatchRunRow,
    CompanyRow,
    CompanyVersionRow,
    ControlRow,
    ErasureRow,
    FeedbackRow,
    InterestRow,
    Meta,
    ScenarioRow,
    SnapshotEntryRow,
    SnapshotRow,
)
from .profiles import ProfilePatch, merge

DUPLICATE_NAME_RATIO = 0.92


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------- meta and audit
def data_version(s: Session) -> int:
    row = s.get(Meta, "data_version")
    return int(row.value) if row else 0


def bump_version(s: Session) -> int:
    """Count an index-affecting write; the saved index records the version it reflects."""
    row = s.get(Meta, "data_version", with_for_update=True)
    if row is None:
        row = Meta(key="data_version", value="0")
        s.add(row)
    row.value = str(int(row.value) + 1)
    s.flush()
    return int(row.value)


def audit(
    s: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    s.add(AuditRow(actor=actor, action=action, entity=entity, entity_id=entity_id, detail=detail))


# ---------------------------------------------------------------- scenarios
def scenario_of(row: ScenarioRow) -> Scenario:
    data = dict(row.data)
    data.update(id=row.id, parent_id=row.parent_id)
    data["status"] = "closed" if row.status == "retired" else row.status
    return scenario_from_dict(data)


def composite_of(row: ScenarioRow) -> Composite:
    d = row.data
    return Composite(
        id=row.id,
        title_zh=d.get("title_zh", ""),
        title_en=d.get("title_en", ""),
        description_zh=d.get("description_zh", ""),
    )


def scenario_rows(s: Session, include_retired: bool = True) -> list[ScenarioRow]:
    q = select(ScenarioRow).order_by(ScenarioRow.position, ScenarioRow.id)
    if not include_retired:
        q = q.where(ScenarioRow.status != "retired")
    return list(s.scalars(q))


def live_scenarios(s: Session) -> list[Scenario]:
    """The opportunities the engine indexes: every one that is not retired."""
    return [
        scenario_of(r) for r in scenario_rows(s, include_retired=False) if r.kind == "opportunity"
    ]


def get_scenario_row(s: Session, sid: str, kind: str | None = "opportunity") -> ScenarioRow:
    row = s.get(ScenarioRow, sid)
    if row is None or (kind is not None and row.kind != kind):
        raise NotFound(f"no scenario {sid!r}; GET /scenarios lists the catalogue")
    return row


def _next_position(s: Session) -> int:
    return int(s.scalar(select(func.coalesce(func.max(ScenarioRow.position), 0))) or 0) + 1


def put_composite(s: Session, c: Composite, actor: str, position: int | None = None) -> bool:
    data = {"title_zh": c.title_zh, "title_en": c.title_en, "description_zh": c.description_zh}
    row = s.get(ScenarioRow, c.id)
    if row is not None and row.kind != "composite":
        raise Conflict(f"{c.id!r} is an opportunity id; composite ids must differ", "id")
    if row is None:
        s.add(
            ScenarioRow(
                id=c.id,
                kind="composite",
                parent_id=None,
                position=position if position is not None else _next_position(s),
                status="open",
                data=data,
            )
        )
        audit(s, actor, "create", "composite", c.id)
        return True
    if row.data != data or row.status == "retired":
        row.data, row.status, row.version = data, "open", row.version + 1
        row.updated_at = utcnow()
        if position is not None:
            row.position = position
        audit(s, actor, "update", "composite", c.id)
    return False


def put_scenario(
    s: Session, sc: Scenario, actor: str, position: int | None = None, create_only: bool = False
) -> tuple[bool, bool]:
    """Create or update an opportunity; returns (created, changed)."""
    parent = s.get(ScenarioRow, sc.parent_id) if sc.parent_id else None
    if parent is None or parent.kind != "composite":
        raise Invalid(f"parent_id {sc.parent_id!r} is not a composite scenario", "parent_id")
    data = sc.to_dict()
    for k in ("id", "parent_id", "status"):
        data.pop(k, None)
    row = s.get(ScenarioRow, sc.id)
    if row is not None and row.kind != "opportunity":
        raise Conflict(f"{sc.id!r} is a composite id; opportunity ids must differ", "id")
    if row is None:
        s.add(
            ScenarioRow(
                id=sc.id,
                kind="opportunity",
                parent_id=sc.parent_id,
                position=position if position is not None else _next_position(s),
                status=sc.status,
                data=data,
            )
        )
        audit(s, actor, "create", "scenario", sc.id)
        return True, True
    if create_only:
        raise Conflict(f"scenario {sc.id!r} exists; update it with PUT /scenarios/{sc.id}", "id")
    if row.data == data and row.status == sc.status and row.parent_id == sc.parent_id:
        return False, False
    row.data, row.status, row.parent_id = data, sc.status, sc.parent_id
    row.version += 1
    row.updated_at = utcnow()
    if position is not None:
        row.position = position
    audit(s, actor, "update", "scenario", sc.id, {"status": sc.status, "version": row.version})
    return False, True


def retire_scenario(s: Session, sid: str, actor: str) -> bool:
    row = s.get(ScenarioRow, sid)
    if row is None:
        raise NotFound(f"no scenario {sid!r}")
    if row.status == "retired":
        return False
    row.status = "retired"
    row.version += 1
    row.updated_at = utcnow()
    audit(s, actor, "retire", "composite" if row.kind == "composite" else "scenario", sid)
    if row.kind == "composite":
        for child in s.scalars(select(ScenarioRow).where(ScenarioRow.parent_id == sid)):
            retire_scenario(s, child.id, actor)
    return True


@dataclass
class CatalogueChange:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)


def replace_catalogue(s: Session, cat: Catalogue, actor: str) -> CatalogueChange:
    """Make the stored catalogue equal to ``cat``; scenarios it lacks are retired, not deleted
    (feedback and snapshots refer to them)."""
    change = CatalogueChange()
    pos = 0
    for c in cat.composites:
        pos += 1
        if put_composite(s, c, actor, position=pos):
            change.created.append(c.id)
    for o in cat.opportunities:
        pos += 1
        created, changed = put_scenario(s, o, actor, position=pos)
        if created:
            change.created.append(o.id)
        elif changed:
            change.updated.append(o.id)
    keep = {c.id for c in cat.composites} | {o.id for o in cat.opportunities}
    for row in scenario_rows(s, include_retired=False):
        if row.id not in keep and row.kind == "opportunity":
            retire_scenario(s, row.id, actor)
            change.retired.append(row.id)
    for row in scenario_rows(s, include_retired=False):
        if row.id not in keep and row.kind == "composite":
            retire_scenario(s, row.id, actor)
    return change


# ---------------------------------------------------------------- companies
def company_of(row: CompanyRow, version: CompanyVersionRow, with_contact: bool = False) -> Company:
    data = dict(version.profile)
    data["id"] = row.id
    data["contact"] = version.contact if with_contact else None
    return company_from_dict(data)


def current_version(s: Session, row: CompanyRow) -> CompanyVersionRow:
    v = s.scalars(
        select(CompanyVersionRow).where(
            CompanyVersionRow.company_id == row.id, CompanyVersionRow.version == row.current_version
        )
    ).one()
    return v


def get_company(s: Session, cid: str) -> tuple[CompanyRow, CompanyVersionRow]:
    row = s.get(CompanyRow, cid)
    if row is None:
        raise NotFound(f"no company {cid!r}")
    return row, current_version(s, row)


def all_companies(s: Session) -> list[Company]:
    """Every firm's current profile, without contact data (what the index holds)."""
    q = (
        select(CompanyRow, CompanyVersionRow)
        .join(
            CompanyVersionRow,
            (CompanyVersionRow.company_id == CompanyRow.id)
            & (CompanyVersionRow.version == CompanyRow.current_version),
        )
        .order_by(CompanyRow.id)
    )
    return [company_of(r, v) for r, v in s.execute(q).all()]


def company_ids(s: Session) -> list[str]:
    """Every stored firm's id (cheap next to :func:`all_companies` for a million firms)."""
    return list(s.scalars(select(CompanyRow.id)))


def fold_name(name: str) -> str:
    """A name as ``?q=`` compares it: NFKC, traditional → simplified, lower case (晉江 is 晋江)."""
    return normalise(name).lower()[:300]


def city_canonical(city: object) -> str | None:
    """The divisions a written city resolves to (:mod:`matcher.places`), as stored."""
    written = str(city or "").strip()
    return resolve_place(written).canonical if written else None


def list_companies(
    s: Session, offset: int, limit: int, q: str | None = None
) -> tuple[list[tuple[CompanyRow, CompanyVersionRow]], int]:
    """One page of firms by id; ``q``: the folded name contains the folded ``q``."""
    base = select(CompanyRow)
    folded = fold_name(q) if q else ""
    if folded:
        base = base.where(CompanyRow.name_folded.contains(folded, autoescape=True))
    total = int(s.scalar(select(func.count()).select_from(base.subquery())) or 0)
    stmt = (
        select(CompanyRow, CompanyVersionRow)
        .join(
            CompanyVersionRow,
            (CompanyVersionRow.company_id == CompanyRow.id)
            & (CompanyVersionRow.version == CompanyRow.current_version),
        )
        .order_by(CompanyRow.id)
        .offset(offset)
        .limit(limit)
    )
    if folded:
        stmt = stmt.where(CompanyRow.name_folded.contains(folded, autoescape=True))
    return [(r, v) for r, v in s.execute(stmt).all()], total


def new_company_id(s: Session) -> str:
    while True:
        cid = "co_" + secrets.token_hex(5)
        if s.get(CompanyRow, cid) is None:
            return cid


def possible_duplicates(s: Session, name: str, exclude: str | None) -> list[CompanyRow]:
    """Firms whose name differs only in form (legal suffix, 省/市, punctuation) or barely."""
    key = name_key(name)
    if not key:
        return []
    q = select(CompanyRow.id, CompanyRow.name_key).where(
        CompanyRow.name_key.startswith(key[:2], autoescape=True)
    )
    ids = []
    for cid, other in s.execute(q.limit(500)):
        if cid == exclude:
            continue
        m = SequenceMatcher(None, other, key)
        if other == key or (  # the quick ratios bound the ratio from above
            m.real_quick_ratio() >= DUPLICATE_NAME_RATIO
            and m.quick_ratio() >= DUPLICATE_NAME_RATIO
            and m.ratio() >= DUPLICATE_NAME_RATIO
        ):
            ids.append(cid)
            if len(ids) == 10:
                break
    if not ids:
        return []
    rows = {r.id: r for r in s.scalars(select(CompanyRow).where(CompanyRow.id.in_(ids)))}
    return [rows[i] for i in ids]


def same_name(s: Session, name: str) -> str | None:
    """The id of the only firm whose name equals ``name`` up to legal form and punctuation."""
    rows = list(s.scalars(select(CompanyRow.id).where(CompanyRow.name_key == name_key(name))))
    return rows[0] if len(rows) == 1 else None


@dataclass
class Saved:
    row: CompanyRow
    version: CompanyVersionRow
    created: bool
    changed: bool
    updated_existing: bool = False
    duplicates: list[CompanyRow] = field(default_factory=list)
    changed_fields: tuple[str, ...] = ()


def _profile(company: Company) -> dict[str, Any]:
    data = company.to_dict()
    data.pop("id", None)
    data.pop("contact", None)
    return data


ANY_FIRM = "*"


def find_target(
    s: Session, company_id: str, patch: ProfilePatch, mode: str
) -> tuple[CompanyRow | None, bool]:
    """The stored firm a write to ``company_id`` with ``patch`` changes (None: a new firm),
    and whether it was found by credit code under another id (``updated_existing``).

    ``mode``: ``create`` (POST: a registered credit code means that firm; an existing id is a
    conflict), ``update`` (PUT: the id must exist) or ``upsert`` (import: by credit code, then
    by id). A credit code held by another firm is a conflict that does not name the firm.
    """
    code = patch.credit_code
    by_code = (
        s.scalars(select(CompanyRow).where(CompanyRow.credit_code == code)).first()
        if code
        else None
    )
    by_id = s.get(CompanyRow, company_id)
    if mode == "update":
        if by_id is None:
            raise NotFound(f"no company {company_id!r}")
        if by_code is not None and by_code.id != by_id.id:
            raise Conflict("this credit code belongs to another registered firm", "credit_code")
        return by_id, False
    if by_code is not None:
        return by_code, by_code.id != company_id or mode == "create"
    if by_id is not None and mode == "create":
        raise Conflict(
            f"company {company_id!r} exists; update it with PUT /companies/{company_id}", "id"
        )
    return by_id, False


def preview_company(s: Session, company_id: str, patch: ProfilePatch, mode: str) -> Company | None:
    """The profile a write would store, without writing (None where it would be refused):
    lets a caller encode it before taking the writers' lock."""
    try:
        target, _ = find_target(s, company_id, patch, mode)
    except ServiceError:
        return None
    if target is None:
        merged = merge(None, None, patch)
        cid = company_id
    else:
        current = current_version(s, target)
        merged = merge(current.profile, current.contact, patch)
        cid = target.id
    if not merged.profile.get("name") or not merged.profile.get("description"):
        return None
    return company_from_dict({**merged.profile, "id": cid})


def save_company(
    s: Session,
    company_id: str,
    patch: ProfilePatch,
    actor: str,
    *,
    mode: str,
    may_change: str | None = ANY_FIRM,
) -> Saved:
    """Store ``patch`` as a new firm (id ``company_id``) or a new version of the firm it
    names (:func:`find_target`); fields the patch does not carry keep their stored values.

    ``may_change``: which existing firm this caller may change: :data:`ANY_FIRM` (an admin),
    one firm's id (that firm's own key) or ``None`` (a recruiter: new firms only). A write that
    would change another firm is refused before anything is written; one that changes nothing
    is allowed and reported unchanged.
    """
    target, updated_existing = find_target(s, company_id, patch, mode)
    if target is None:
        missing = patch.missing_required()
        if missing:
            raise Invalid(f"{missing[0]}: required for a new firm", missing[0])
        merged = merge(None, None, patch)
        profile = merged.profile
        name = str(profile["name"])
        dups = possible_duplicates(s, name, exclude=None)
        row = CompanyRow(
            id=company_id,
            name=name,
            credit_code=profile.get("credit_code"),
            name_key=name_key(name),
            name_folded=fold_name(name),
            city_canonical=city_canonical(profile.get("city")),
            current_version=1,
        )
        s.add(row)
        s.flush()
        version = CompanyVersionRow(
            company_id=row.id, version=1, profile=profile, contact=merged.contact, actor=actor
        )
        s.add(version)
        s.flush()
        audit(s, actor, "create", "company", row.id, {"version": 1})
        return Saved(
            row,
            version,
            created=True,
            changed=True,
            duplicates=dups,
            changed_fields=tuple(
                k for k in merged.changed if k in patch.profile or k.startswith("contact.")
            ),
        )

    if may_change is not None and may_change not in (ANY_FIRM, target.id):
        raise Conflict(
            "this credit code belongs to another registered firm; ask the zone to merge them",
            "credit_code",
        )
    current = current_version(s, target)
    merged = merge(current.profile, current.contact, patch)
    if not merged.changed:
        return Saved(target, current, created=False, changed=False, updated_existing=True)
    if may_change is None:
        raise Forbidden(
            f"company {target.id} is registered; only an admin or the firm's own key may change "
            f"it (this would change {', '.join(merged.changed)})",
            "credit_code" if updated_existing else "id",
        )
    n = target.current_version + 1
    version = CompanyVersionRow(
        company_id=target.id,
        version=n,
        profile=merged.profile,
        contact=merged.contact,
        actor=actor,
    )
    s.add(version)
    name = str(merged.profile["name"])
    target.current_version = n
    target.name = name
    target.name_key = name_key(name)
    target.name_folded = fold_name(name)
    target.city_canonical = city_canonical(merged.profile.get("city"))
    target.credit_code = merged.profile.get("credit_code")
    target.updated_at = utcnow()
    s.flush()
    audit(s, actor, "update", "company", target.id, {"version": n, "fields": list(merged.changed)})
    dups = [] if target.credit_code else possible_duplicates(s, name, exclude=target.id)
    return Saved(
        target,
        version,
        created=False,
        changed=True,
        updated_existing=updated_existing,
        duplicates=dups,
        changed_fields=merged.changed,
    )


def delete_company(s: Session, cid: str, actor: str) -> tuple[ErasureRow, list[Company]]:
    """Erase the firm from the database: its row, every version, feedback, controls and
    snapshot entries go; audit details about it are blanked (the log keeps that it was
    created, changed and deleted, by whom, when); nightly diffs name its tombstone instead.

    Returns the erasure record (what is left to clean outside the database, done by
    ``IndexHolder``) and every version's profile (whose cache entries must go too)."""
    row = s.get(CompanyRow, cid)
    if row is None:
        raise NotFound(f"no company {cid!r}")
    texts = [company_from_dict({**v.profile, "id": cid}) for v in versions(s, cid)]
    erasure = ErasureRow(company_id=cid, actor=actor)
    s.add(erasure)
    s.flush()
    for table in (FeedbackRow, ControlRow, SnapshotEntryRow, CompanyVersionRow, InterestRow):
        s.execute(delete(table).where(table.company_id == cid))
    from .import_jobs import forget_firm  # import_jobs builds on this module

    forget_firm(s, cid)
    s.delete(row)
    s.execute(
        update(AuditRow)
        .where(AuditRow.entity == "company", AuditRow.entity_id == cid)
        .values(detail=None)
    )
    audit(s, actor, "delete", "company", cid, {"erasure": erasure.id})
    redact_run_diffs(s, {cid: Tombstone.numbered(erasure.id)})
    return erasure, texts


def redact_run_diffs(s: Session, erased: Mapping[str, Tombstone]) -> int:
    """Nightly runs' diffs with the erased firms replaced by their tombstones."""
    n = 0
    for run in s.scalars(select(BatchRunRow).where(BatchRunRow.diff.is_not(None))):
        clean = redact(run.diff, erased)
        if clean != run.diff:
            run.diff = clean
            n += 1
    return n


def tombstones(s: Session, ids: Iterable[str] | None = None) -> dict[str, Tombstone]:
    """Erased firm id → its tombstone (the latest erasure of that id), for ``ids`` or all."""
    q = select(ErasureRow.company_id, ErasureRow.id).order_by(ErasureRow.id)
    if ids is not None:
        q = q.where(ErasureRow.company_id.in_(list(ids)))
    return {cid: Tombstone.numbered(n) for cid, n in s.execute(q)}


def mark_erasures(s: Session, ids: Sequence[int], batch: bool) -> None:
    """Record that erasures ``ids`` are done in the batch folder (``batch``) or everywhere."""
    if not ids:
        return
    now = utcnow()
    q = update(ErasureRow).where(ErasureRow.id.in_(list(ids)))
    if batch:
        s.execute(q.where(ErasureRow.batch_done_at.is_(None)).values(batch_done_at=now))
    else:
        s.execute(q.values(done_at=now, cache_keys=None))
        s.execute(
            update(ErasureRow)
            .where(ErasureRow.id.in_(list(ids)), ErasureRow.batch_done_at.is_(None))
            .values(batch_done_at=now)
        )


def pending_erasures(s: Session) -> list[ErasureRow]:
    return list(
        s.scalars(select(ErasureRow).where(ErasureRow.done_at.is_(None)).order_by(ErasureRow.id))
    )


def versions(s: Session, cid: str) -> list[CompanyVersionRow]:
    return list(
        s.scalars(
            select(CompanyVersionRow)
            .where(CompanyVersionRow.company_id == cid)
            .order_by(CompanyVersionRow.version)
        )
    )


# ---------------------------------------------------------------- feedback and controls
@dataclass(frozen=True)
class PipelineEntry:
    """One scenario × firm pair on the follow-up board: its latest stage and how far it got."""

    scenario_id: str
    company_id: str
    stage: str
    at: dt.datetime
    actor: str
    note: str | None
    furthest: str | None  # the furthest stage reached so far (never "rejected")
    entries: int


def add_feedback(
    s: Session, scenario_id: str, company_id: str, stage: str, note: str | None, actor: str
) -> FeedbackRow:
    get_scenario_row(s, scenario_id)
    if s.get(CompanyRow, company_id) is None:
        raise NotFound(f"no company {company_id!r}", "company_id")
    row = FeedbackRow(
        scenario_id=scenario_id, company_id=company_id, stage=stage, note=note or None, actor=actor
    )
    s.add(row)
    s.flush()
    audit(s, actor, "feedback", "company", company_id, {"scenario": scenario_id, "stage": stage})
    return row


def feedback_history(
    s: Session, scenario_id: str | None, company_id: str | None, offset: int, limit: int
) -> tuple[list[FeedbackRow], int]:
    q = select(FeedbackRow)
    if scenario_id:
        q = q.where(FeedbackRow.scenario_id == scenario_id)
    if company_id:
        q = q.where(FeedbackRow.company_id == company_id)
    total = int(s.scalar(select(func.count()).select_from(q.subquery())) or 0)
    rows = s.scalars(q.order_by(FeedbackRow.id).offset(offset).limit(limit))
    return list(rows), total


def latest_feedback(
    s: Session, scenario_id: str, company_ids: Sequence[str]
) -> dict[str, FeedbackRow]:
    """The most recent feedback per firm for one scenario (firms without any are absent)."""
    if not company_ids:
        return {}
    rows = s.scalars(
        select(FeedbackRow)
        .where(FeedbackRow.scenario_id == scenario_id, FeedbackRow.company_id.in_(company_ids))
        .order_by(FeedbackRow.id)
    )
    return {r.company_id: r for r in rows}


def pipeline(
    s: Session, scenario_ids: Sequence[str] | None = None, actor: str | None = None
) -> list[PipelineEntry]:
    """Every scenario × firm pair that has feedback (of ``scenario_ids`` when given): its
    latest stage, when and by whom, the furthest stage it reached and how many entries it
    has. ``actor`` keeps the pairs whose latest entry that recruiter recorded. The board and
    the funnel read this; it is the same data as ``/feedback``."""
    q = select(FeedbackRow).order_by(FeedbackRow.id)
    if scenario_ids is not None:
        q = q.where(FeedbackRow.scenario_id.in_(list(scenario_ids)))
    order: dict[str, int] = {stage: i for i, stage in enumerate(FEEDBACK_STAGES)}
    pairs: dict[tuple[str, str], PipelineEntry] = {}
    for r in s.scalars(q):
        key = (r.scenario_id, r.company_id)
        before = pairs.get(key)
        furthest = r.stage if r.stage != "rejected" else None
        if before is not None and before.furthest is not None:
            if furthest is None or order[before.furthest] > order[furthest]:
                furthest = before.furthest
        pairs[key] = PipelineEntry(
            scenario_id=r.scenario_id,
            company_id=r.company_id,
            stage=r.stage,
            at=r.created_at,
            actor=r.actor,
            note=r.note,
            furthest=furthest,
            entries=(before.entries if before else 0) + 1,
        )
    out = list(pairs.values())
    if actor is not None:
        out = [e for e in out if e.actor == actor]
    return out


def funnel(entries: Iterable[PipelineEntry]) -> dict[str, int]:
    """How many pairs reached each stage (a signed firm was also shortlisted, contacted and
    visited), and how many are rejected now."""
    order: dict[str, int] = {stage: i for i, stage in enumerate(FEEDBACK_STAGES)}
    counts: dict[str, int] = dict.fromkeys(FEEDBACK_STAGES, 0)
    for e in entries:
        if e.furthest is not None:
            for stage in FEEDBACK_STAGES[: order[e.furthest] + 1]:
                counts[stage] += 1
        if e.stage == "rejected":
            counts["rejected"] += 1
    return counts


# ---------------------------------------------------------------- company interest
def set_interest(
    s: Session, scenario_id: str, company_id: str, note: str | None, actor: str
) -> InterestRow:
    """A company marks an open scenario "interested" (again: the note and time are updated)."""
    row = get_scenario_row(s, scenario_id)
    if row.status != "open":
        raise Conflict(
            f"scenario {scenario_id} is {row.status}: interest is taken for open scenarios only"
        )
    if s.get(CompanyRow, company_id) is None:
        raise NotFound(f"no company {company_id!r}; save the firm's profile first", "company_id")
    now = dt.datetime.now(dt.UTC)
    found = s.get(InterestRow, (scenario_id, company_id))
    if found is None:
        found = InterestRow(
            scenario_id=scenario_id, company_id=company_id, actor=actor, created_at=now
        )
        s.add(found)
    found.note, found.actor, found.updated_at = (note or None), actor, now
    s.flush()
    audit(s, actor, "interest", "company", company_id, {"scenario": scenario_id})
    return found


def withdraw_interest(s: Session, scenario_id: str, company_id: str, actor: str) -> bool:
    """Remove a firm's interest mark; whether there was one."""
    found = s.get(InterestRow, (scenario_id, company_id))
    if found is None:
        return False
    s.delete(found)
    audit(s, actor, "withdraw_interest", "company", company_id, {"scenario": scenario_id})
    return True


def interest_in(
    s: Session, scenario_id: str | None = None, company_id: str | None = None
) -> list[InterestRow]:
    """Interest marks of one scenario, one firm, or all, newest first."""
    q = select(InterestRow)
    if scenario_id is not None:
        q = q.where(InterestRow.scenario_id == scenario_id)
    if company_id is not None:
        q = q.where(InterestRow.company_id == company_id)
    return list(s.scalars(q.order_by(InterestRow.updated_at.desc())))


_EXCLUSIVE = {"pin": "exclude", "exclude": "pin"}


def set_control(
    s: Session, scenario_id: str, company_id: str, action: str, reason: str | None, actor: str
) -> ControlRow:
    get_scenario_row(s, scenario_id)
    if s.get(CompanyRow, company_id) is None:
        raise NotFound(f"no company {company_id!r}", "company_id")
    if action == "exclude" and not (reason or "").strip():
        raise Invalid("an exclusion needs a reason (why this firm does not fit)", "reason")
    other = _EXCLUSIVE.get(action)
    if other:
        s.execute(
            delete(ControlRow).where(
                ControlRow.scenario_id == scenario_id,
                ControlRow.company_id == company_id,
                ControlRow.action == other,
            )
        )
    row = s.get(ControlRow, (scenario_id, company_id, action))
    if row is None:
        row = ControlRow(
            scenario_id=scenario_id,
            company_id=company_id,
            action=action,
            reason=reason,
            actor=actor,
        )
        s.add(row)
    else:
        row.reason, row.actor, row.created_at = reason, actor, utcnow()
    s.flush()
    audit(s, actor, action, "company", company_id, {"scenario": scenario_id})
    return row


def remove_control(s: Session, scenario_id: str, company_id: str, action: str, actor: str) -> None:
    row = s.get(ControlRow, (scenario_id, company_id, action))
    if row is None:
        raise NotFound(f"no {action} for company {company_id!r} on scenario {scenario_id!r}")
    s.delete(row)
    audit(s, actor, "un" + action, "company", company_id, {"scenario": scenario_id})


def control_rows(s: Session, scenario_id: str) -> list[ControlRow]:
    return list(
        s.scalars(
            select(ControlRow)
            .where(ControlRow.scenario_id == scenario_id)
            .order_by(ControlRow.created_at, ControlRow.company_id)
        )
    )


def controls_for(s: Session, scenario_id: str) -> Controls:
    rows = control_rows(s, scenario_id)

    def of(action: str) -> tuple[str, ...]:
        return tuple(r.company_id for r in rows if r.action == action)

    return Controls(pinned=of("pin"), excluded=of("exclude"), like=of("like"))


# ---------------------------------------------------------------- snapshots
def record_snapshot(
    s: Session, source: str, actor: str, params: dict[str, Any], matches: Sequence[Any]
) -> int:
    snap = SnapshotRow(source=source, actor=actor, params=params)
    s.add(snap)
    s.flush()
    for m in matches:
        s.add(
            SnapshotEntryRow(
                snapshot_id=snap.id,
                scenario_id=m.scenario_id,
                rank=m.rank,
                company_id=m.company_id,
                score=float(m.score),
                parts=dict(m.parts),
            )
        )
    return snap.id


# ---------------------------------------------------------------- seeding
def is_empty(s: Session) -> bool:
    return s.scalar(select(func.count()).select_from(ScenarioRow)) == 0 and (
        s.scalar(select(func.count()).select_from(CompanyRow)) == 0
    )


def seed(
    s: Session, catalogue: Catalogue | None, companies: Iterable[Company], actor: str = "seed"
) -> tuple[int, int]:
    n_s = 0
    if catalogue is not None:
        n_s = len(replace_catalogue(s, catalogue, actor).created)
    companies = list(companies)
    if _bulk_insertable(s, companies):
        return n_s, _insert_companies(s, companies, actor)
    n_c = 0
    for c in companies:
        save_company(s, c.id, ProfilePatch.of_company(c), actor, mode="upsert")
        n_c += 1
    return n_s, n_c


SEED_CHUNK = 5_000


def _bulk_insertable(s: Session, companies: Sequence[Company]) -> bool:
    """No firm stored yet and no id or credit code twice: every profile is a new firm."""
    if len(companies) < SEED_CHUNK or s.scalar(select(func.count()).select_from(CompanyRow)):
        return False
    codes = [c.credit_code for c in companies if c.credit_code]
    return len({c.id for c in companies}) == len(companies) and len(set(codes)) == len(codes)


def _insert_companies(s: Session, companies: Sequence[Company], actor: str) -> int:
    """Store many new firms with a few multi-row inserts (a registry of a million loads in
    minutes; one ORM object and duplicate lookup per firm takes an hour). The rows are what
    :func:`save_company` would write for each, audit records included."""
    now = utcnow()
    for lo in range(0, len(companies), SEED_CHUNK):
        chunk = companies[lo : lo + SEED_CHUNK]
        s.execute(
            insert(CompanyRow),
            [
                {
                    "id": c.id,
                    "name": c.name,
                    "credit_code": c.credit_code,
                    "name_key": name_key(c.name),
                    "name_folded": fold_name(c.name),
                    "city_canonical": city_canonical(c.city),
                    "current_version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for c in chunk
            ],
        )
        s.execute(
            insert(CompanyVersionRow),
            [
                {
                    "company_id": c.id,
                    "version": 1,
                    "profile": _profile(c),
                    "contact": dict(c.contact) if c.contact else None,
                    "actor": actor,
                    "created_at": now,
                }
                for c in chunk
            ],
        )
        s.execute(
            insert(AuditRow),
            [
                {
                    "at": now,
                    "actor": actor,
                    "action": "create",
                    "entity": "company",
                    "entity_id": c.id,
                    "detail": {"version": 1},
                }
                for c in chunk
            ],
        )
    return len(companies)

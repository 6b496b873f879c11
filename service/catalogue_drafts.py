"""Catalogue uploads: one validation path for the API's upload, its dry run and the admin
page's preview, and previewed uploads kept in the database until they are applied.

:func:`read_catalogue` decodes and validates an upload, listing every problem it finds (the
first is what the API's 422 reports, as before). :func:`preview` runs the replacement in a
transaction it rolls back, so "added, changed, retired" is what the apply would do.
A preview page's upload is kept as a draft (``catalogue_drafts``) under a random token's
hash, for the key that previewed it, with the stored catalogue's fingerprint: the apply
refuses when the catalogue changed since (another upload, an edit, a retirement).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from matcher.catalogue import Catalogue, parse_catalogue
from matcher.errors import DataError

from . import store
from .auth import hash_key
from .db import WRITE
from .errors import Conflict, Invalid, NotFound, ServiceError
from .index import Change
from .models import CatalogueDraftRow, utcnow
from .schemas import CatalogueUploaded

MAX_PROBLEMS = 500  # listed on a preview; a file with more is listed to here
DRAFT_HOURS = 24  # a preview not applied within this is forgotten


@dataclass(frozen=True)
class Problem:
    row: str  # "opportunities #3 (S7)", "composites #1", "" for the whole file
    field: str
    message: str


@dataclass
class Checked:
    """An upload read: the catalogue, or the problems (``summary``: the API's message)."""

    name: str
    catalogue: Catalogue | None
    problems: list[Problem] = field(default_factory=list)
    summary: str = ""


def upload_name(filename: str | None) -> str:
    return ((filename or "catalogue").rsplit("/", 1)[-1].rsplit("\\", 1)[-1] or "catalogue")[:100]


def read_catalogue(data: bytes, filename: str | None) -> Checked:
    """Decode and validate an uploaded catalogue (YAML, or JSON by its name). A file that is
    not UTF-8 or is empty raises :class:`Invalid`; a file that does not validate comes back
    with every problem found."""
    name = upload_name(filename)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"file: not UTF-8 (byte {exc.start}); save it as UTF-8", "file") from exc
    if not text.strip():
        raise Invalid("file: the upload is empty", "file")
    yaml = not name.lower().endswith(".json")
    try:
        cat = parse_catalogue(text, name, yaml=yaml)
    except DataError as exc:
        found = _problems(text, yaml) or [Problem("", "", str(exc))]
        return Checked(name, None, found, str(exc))
    return Checked(name, cat)


def _problems(text: str, yaml: bool) -> list[Problem]:
    """Every problem :func:`parse_catalogue` would stop at the first of: schema errors, or
    (for a file of the right shape) duplicate ids, unknown parents and industry codes. Empty
    where the document does not parse (its parse error is the one problem then)."""
    import jsonschema

    from matcher.catalogue import _schema, _yaml_load
    from matcher.industry import industry_table

    try:
        doc = _yaml_load(text) if yaml else json.loads(text)
    except Exception:  # noqa: BLE001 - parse_catalogue's message says why
        return []
    validator = jsonschema.Draft202012Validator(_schema("scenarios.schema.json"))
    errors = sorted(
        itertools.islice(validator.iter_errors(doc), MAX_PROBLEMS),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    if errors:
        return [_schema_problem(doc, e) for e in errors]
    out: list[Problem] = []
    seen: set[str] = set()
    entries = [("composites", i, c) for i, c in enumerate(doc["composites"])]
    entries += [("opportunities", i, o) for i, o in enumerate(doc["opportunities"])]
    composites = {c["id"] for c in doc["composites"]}
    table = industry_table()
    for part, i, entry in entries:
        row = _row(part, i, entry)
        if entry["id"] in seen:
            out.append(Problem(row, "id", f"id {entry['id']!r} appears twice; ids must be unique"))
        seen.add(entry["id"])
        if part != "opportunities":
            continue
        if entry.get("parent_id") not in composites:
            message = f"{str(entry.get('parent_id'))[:80]!r} is not a composite id"
            out.append(Problem(row, "parent_id", message))
        bad = [c for c in entry.get("industry_codes") or [] if not table.is_known(str(c))]
        if bad:
            message = f"unknown GB/T 4754-2017 code(s) {bad[:10]}; use 2-4 digit codes"
            out.append(Problem(row, "industry_codes", message))
    return out[:MAX_PROBLEMS]


def _row(part: str, i: int, entry: Any) -> str:
    sid = entry.get("id") if isinstance(entry, dict) else None
    return f"{part} #{i + 1}" + (f" ({str(sid)[:64]})" if isinstance(sid, str) else "")


def _schema_problem(doc: Any, e: Any) -> Problem:
    path = list(e.absolute_path)
    message = e.message if len(e.message) <= 300 else e.message[:297] + "..."
    if len(path) >= 2 and path[0] in ("composites", "opportunities") and isinstance(path[1], int):
        entry = doc[path[0]][path[1]]
        return Problem(_row(path[0], path[1], entry), "/".join(map(str, path[2:])), message)
    return Problem("", "/".join(map(str, path)), message)


# ---------------------------------------------------------------- preview and apply
def fingerprint(s: Session) -> str:
    """A hash of the stored catalogue (every scenario's status, version, place and text)."""
    rows = [
        [r.id, r.kind, r.parent_id, r.status, r.position, r.version, r.data]
        for r in sorted(store.scenario_rows(s), key=lambda r: r.id)
    ]
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def apply(s: Session, checked: Checked, actor: str) -> tuple[CatalogueUploaded, Change]:
    """Replace the stored catalogue with a valid upload, audited: for ``holder.write``."""
    cat = checked.catalogue
    if cat is None:
        raise Invalid(checked.summary, "file")
    change = store.replace_catalogue(s, cat, actor)
    detail = {"opportunities": len(cat.opportunities), "retired": len(change.retired)}
    store.audit(s, actor, "upload", "catalogue", None, detail)
    report = CatalogueUploaded(
        composites=len(cat.composites),
        opportunities=len(cat.opportunities),
        created=change.created,
        updated=change.updated,
        retired=change.retired,
    )
    return report, Change(scenarios=list(cat.opportunities), removed_scenarios=change.retired)


@dataclass
class Preview:
    checked: Checked
    report: CatalogueUploaded | None  # None where the upload has problems
    fingerprint: str


def preview(sessions: sessionmaker[Session], checked: Checked) -> Preview:
    """What :func:`apply` would do now, found by doing it and rolling back; a conflict the
    store finds (a composite id that is an opportunity's) becomes a problem."""
    with sessions() as s:
        s.begin()
        try:
            s.connection(execution_options={WRITE: True})
            now = fingerprint(s)
            if checked.catalogue is None:
                return Preview(checked, None, now)
            try:
                report, _ = apply(s, checked, "preview")
            except ServiceError as exc:
                checked.problems.append(Problem("", exc.field or "", exc.message))
                checked.summary = checked.summary or exc.message
                return Preview(checked, None, now)
            return Preview(checked, report, now)
        finally:
            s.rollback()


def save_draft(s: Session, key_id: int, data: bytes, name: str, catalogue_fingerprint: str) -> str:
    """Keep a previewed upload; returns the token its apply form carries. Old drafts go."""
    s.execute(
        delete(CatalogueDraftRow).where(
            CatalogueDraftRow.created_at < utcnow() - dt.timedelta(hours=DRAFT_HOURS)
        )
    )
    token = secrets.token_urlsafe(32)
    draft = CatalogueDraftRow(token_hash=hash_key(token), key_id=key_id, filename=name)
    draft.content, draft.fingerprint = data, catalogue_fingerprint
    s.add(draft)
    return token


def apply_draft(
    s: Session, token: str, key_id: int, actor: str
) -> tuple[CatalogueUploaded, Change]:
    """Apply a draft exactly as previewed, for ``holder.write``: refused (409) when the
    stored catalogue changed since the preview or the draft was applied already."""
    ok = 0 < len(token) <= 100
    draft = s.get(CatalogueDraftRow, hash_key(token), with_for_update=True) if ok else None
    if draft is None or draft.key_id != key_id:
        raise NotFound("no such catalogue preview (it expired or belongs to another key)")
    if draft.applied_at is not None:
        raise Conflict("this catalogue preview was applied already")
    if fingerprint(s) != draft.fingerprint:
        raise Conflict(
            "the catalogue changed since this preview (another upload or an edit); "
            "upload the file again to see what it would do now"
        )
    out = apply(s, read_catalogue(draft.content, draft.filename), actor)
    draft.applied_at = utcnow()
    draft.content = b""
    return out

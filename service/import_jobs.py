"""Company imports: the per-row steps every import shares, and imports as background jobs.

Each import reads its file (``service.imports``), validates its rows (:func:`validate_rows`),
finds each valid row's firm (:func:`plan_rows`) and stores the rows (:func:`store_rows`).
``POST /companies/import`` does that in one request and one transaction; a job
(``POST /admin/imports``, the admin pages) does it in batches of :data:`BATCH_ROWS` rows.

A job's state lives in the database (``import_jobs``, ``import_job_rows``) with the
uploaded file's bytes, so any service process may run or resume it. Each batch commits its
firms together with its report rows and the job's progress (``next_row``), through
``IndexHolder.write`` as the synchronous import does: a crash keeps every committed batch,
and a resumed job continues after the last one. One process runs a job: it claims the job
with a conditional UPDATE (status and owner as read), and each batch checks it still owns
the job. A running job whose owner died (same host, process gone) or stopped beating for
:data:`STALE_S` seconds is shown as interrupted and may be resumed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from matcher.types import Company

from . import imports, store
from .db import transaction
from .errors import Conflict, NotFound, ServiceError
from .index import Change, IndexHolder
from .models import ImportJobEntryRow, ImportJobRow, utcnow
from .profiles import ProfilePatch
from .schemas import CompanyImportRow, ImportJobPublic, ImportReport, ImportRowPublic

logger = logging.getLogger(__name__)

BATCH_ROWS = 200
STALE_S = 120.0  # a running job whose heartbeat is older than this is interrupted
POLL_S = 5.0  # how often a runner looks for queued jobs (another process may have queued one)
STATES = ("imported", "updated", "unchanged", "rejected")
Valid = tuple[int, CompanyImportRow, ProfilePatch]


# ---------------------------------------------------------------- the per-row steps
@dataclass(frozen=True)
class Planned:
    row: int  # as numbered in the file
    company_id: str
    patch: ProfilePatch


def validate_rows(
    header: list[str],
    table: list[list[Any]],
    seen: dict[str, int],
    start: int = 0,
    stop: int | None = None,
) -> tuple[list[ImportRowPublic], list[Valid]]:
    """Rows ``start:stop`` of ``table``: the rejected ones (report rows) and the valid ones.
    ``seen`` (credit code or id → file row) carries over from earlier rows, so a firm named
    twice in a file is refused the second time."""
    rejected: list[ImportRowPublic] = []
    valid: list[Valid] = []
    for n, rec, problem in imports.records(header, table[start:stop]):
        n += start
        if problem:
            rejected.append(ImportRowPublic(row=n, status="rejected", reason=problem))
            continue
        try:
            body = CompanyImportRow.model_validate(rec)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or "row"
            rejected.append(
                ImportRowPublic(row=n, status="rejected", reason=f"{loc}: {err['msg']}")
            )
            continue
        patch = body.patch()
        key = patch.credit_code or body.id or ""
        if key and key in seen:
            reason = f"same firm as row {seen[key]}"
            rejected.append(ImportRowPublic(row=n, status="rejected", reason=reason))
            continue
        if key:
            seen[key] = n
        valid.append((n, body, patch))
    return rejected, valid


def plan_rows(s: Session, valid: list[Valid]) -> tuple[list[Planned], list[Company]]:
    """Each valid row's target firm id, and the profiles the rows would store (to encode
    before the writers' lock)."""
    planned: list[Planned] = []
    previews: list[Company] = []
    for n, body, patch in valid:
        # A row without id or code updates the one firm with the same name, if there is
        # exactly one, so importing a file twice does not register its firms twice.
        name = patch.name
        cid = body.id or (None if patch.credit_code or not name else store.same_name(s, name))
        cid = cid or store.new_company_id(s)
        planned.append(Planned(n, cid, patch))
        preview = store.preview_company(s, cid, patch, "upsert")
        if preview is not None:
            previews.append(preview)
    return planned, previews


def store_rows(
    s: Session, planned: list[Planned], actor: str, may_change: str | None
) -> tuple[list[ImportRowPublic], list[Company]]:
    """Store the planned rows (a refused row leaves nothing behind): their report rows and
    the changed profiles for the index."""
    rows: list[ImportRowPublic] = []
    changed: list[Company] = []
    for p in planned:
        try:
            with s.begin_nested():
                saved = store.save_company(
                    s, p.company_id, p.patch, actor, mode="upsert", may_change=may_change
                )
        except ServiceError as exc:
            rows.append(ImportRowPublic(row=p.row, status="rejected", reason=exc.message))
            continue
        state: Literal["imported", "updated", "unchanged"] = (
            "imported" if saved.created else ("updated" if saved.changed else "unchanged")
        )
        rows.append(
            ImportRowPublic(
                row=p.row, status=state, company_id=saved.row.id, changed=list(saved.changed_fields)
            )
        )
        if saved.changed:
            changed.append(store.company_of(saved.row, saved.version))
    return rows, changed


def report_of(rows: list[ImportRowPublic]) -> ImportReport:
    rows = sorted(rows, key=lambda r: r.row)
    counts = {k: sum(1 for r in rows if r.status == k) for k in STATES}
    return ImportReport(data=rows, count=len(rows), **counts)


# ---------------------------------------------------------------- jobs: state
def owner_id() -> str:
    """Who runs a job: host, process id and a random part (a new one for every claim)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(6)}"


def _owner_gone(owner: str | None) -> bool:
    """Whether ``owner`` ran on this host in a process that no longer exists."""
    if not owner:
        return False
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname()[:80] or not parts[1].isdigit():
        return False
    pid = parts[1]
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # another user's process: alive
        return False
    return False


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    return t if t is None or t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def state_of(job: ImportJobRow, stale_s: float = STALE_S) -> str:
    """queued | running | interrupted | failed | done: a running job whose owner is gone or
    silent is interrupted."""
    if job.status != "running":
        return job.status
    beat = _aware(job.heartbeat_at)
    silent = beat is None or (utcnow() - beat).total_seconds() > stale_s
    return "interrupted" if silent or _owner_gone(job.owner) else "running"


DISCARDED = (
    "the uploaded file was discarded when a firm was erased (it may hold that firm); "
    "upload the file again to import the rest"
)


def forget_firm(s: Session, company_id: str) -> None:
    """Part of erasing a firm (``store.delete_company``): its rows leave every job's report,
    and stopped jobs (failed or interrupted) give up their stored file, which may hold the
    firm; they can no longer resume. A job queued or running finishes its file (a later
    import is a new registration)."""
    s.execute(delete(ImportJobEntryRow).where(ImportJobEntryRow.company_id == company_id))
    for job in s.scalars(select(ImportJobRow).where(ImportJobRow.content.is_not(None))):
        if state_of(job) in ("failed", "interrupted"):
            job.content, job.error = None, DISCARDED


def job_public(
    job: ImportJobRow, entries: list[ImportJobEntryRow] | None = None
) -> ImportJobPublic:
    counts = {k: int((job.counts or {}).get(k, 0)) for k in STATES}
    state = state_of(job)
    return ImportJobPublic(
        id=job.id,
        status=state,  # type: ignore[arg-type]
        filename=job.filename,
        actor=job.actor,
        total_rows=job.total_rows,
        rows_done=job.next_row,
        next_row=None if state == "done" else job.next_row + 2,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        heartbeat_at=job.heartbeat_at,
        report=[
            ImportRowPublic(
                row=e.row,
                status=e.status,  # type: ignore[arg-type]
                company_id=e.company_id,
                reason=e.reason,
                changed=list(e.changed or []),
            )
            for e in entries or []
        ],
        **counts,
    )


def create_job(
    s: Session, data: bytes, filename: str, actor: str, may_change: str | None, max_rows: int
) -> ImportJobRow:
    """A queued job for an upload, its file checked first (encoding, format, row limit,
    header): a file no row of which could import is refused now, not reported later."""
    header, table = imports.read_table(data, filename, max_rows)
    next(imports.records(header, []), None)  # the header check
    name = (filename or "import").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200] or "import"
    job = ImportJobRow(
        status="queued",
        filename=name,
        content=data,
        actor=actor,
        may_change=may_change,
        total_rows=len(table),
        next_row=0,
        counts=dict.fromkeys(STATES, 0),
    )
    s.add(job)
    s.flush()
    store.audit(s, actor, "create", "import_job", str(job.id), {"rows": len(table)})
    return job


def get_job(s: Session, job_id: int) -> ImportJobRow:
    job = s.get(ImportJobRow, job_id)
    if job is None:
        raise NotFound(f"no import job {job_id}")
    return job


def entries_of(s: Session, job_id: int, limit: int = 100_000) -> list[ImportJobEntryRow]:
    q = select(ImportJobEntryRow).where(ImportJobEntryRow.job_id == job_id)
    return list(s.scalars(q.order_by(ImportJobEntryRow.row).limit(limit)))


def recent_jobs(s: Session, limit: int = 20) -> list[ImportJobRow]:
    return list(s.scalars(select(ImportJobRow).order_by(ImportJobRow.id.desc()).limit(limit)))


def _swap(s: Session, job: ImportJobRow, **values: Any) -> bool:
    """Set ``values`` on the job only if its status and owner are still as ``job`` read them
    (a conditional UPDATE: of two processes racing, one wins)."""
    owner = ImportJobRow.owner.is_(None) if job.owner is None else ImportJobRow.owner == job.owner
    result = s.execute(
        update(ImportJobRow)
        .where(ImportJobRow.id == job.id, ImportJobRow.status == job.status, owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def claim(
    sessions: sessionmaker[Session], job_id: int, owner: str, stale_s: float = STALE_S
) -> bool:
    """Take a queued job, or a running one that is interrupted, for ``owner``."""
    with transaction(sessions) as s:
        job = s.get(ImportJobRow, job_id)
        if job is None or state_of(job, stale_s) not in ("queued", "interrupted"):
            return False
        now = utcnow()
        return _swap(
            s, job, status="running", owner=owner, heartbeat_at=now, started_at=now, error=None
        )


def resume(sessions: sessionmaker[Session], job_id: int, actor: str) -> ImportJobRow:
    """Queue an interrupted or failed job again; it continues after its last committed row."""
    with transaction(sessions) as s:
        job = get_job(s, job_id)
        state = state_of(job)
        if job.content is None and state in ("interrupted", "failed"):
            raise Conflict(f"import job {job_id}: {DISCARDED}")
        if state not in ("interrupted", "failed") or not _swap(
            s, job, status="queued", owner=None, error=None
        ):
            raise Conflict(
                f"import job {job_id} is {state}; only an interrupted or failed one resumes"
            )
        store.audit(s, actor, "resume", "import_job", str(job_id), {"from_row": job.next_row + 2})
    with sessions() as s:
        return get_job(s, job_id)


# ---------------------------------------------------------------- jobs: running
class LostClaim(Exception):
    """Another process took the job over (this one was thought dead)."""


def _beat(sessions: sessionmaker[Session], job_id: int, owner: str) -> None:
    with transaction(sessions) as s:
        moved = s.execute(
            update(ImportJobRow)
            .where(
                ImportJobRow.id == job_id,
                ImportJobRow.owner == owner,
                ImportJobRow.status == "running",
            )
            .values(heartbeat_at=utcnow())
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise LostClaim(f"import job {job_id} is no longer this process's")


def _finish(sessions: sessionmaker[Session], job_id: int, mine: str, **values: Any) -> None:
    """Set ``values`` on the job if ``mine`` still owns it."""
    with transaction(sessions) as s:
        s.execute(
            update(ImportJobRow)
            .where(ImportJobRow.id == job_id, ImportJobRow.owner == mine)
            .values(**values)
        )


def run_job(
    holder: IndexHolder,
    job_id: int,
    owner: str,
    batch_rows: int = BATCH_ROWS,
    after_batch: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> str:
    """Run a job ``owner`` has claimed from its ``next_row`` to the end, a batch per
    transaction; returns its status then (done, failed, or queued when ``should_stop`` asked
    it to stop between batches). ``after_batch(next_row)`` runs after each commit."""
    try:
        with holder.sessions() as s:
            job = get_job(s, job_id)
            data, name, start = job.content or b"", job.filename, job.next_row
            actor, rule, total = job.actor, job.may_change, job.total_rows
        header, table = imports.read_table(data, name, max(total, 1))
        seen: dict[str, int] = {}
        validate_rows(header, table, seen, 0, start)  # the firms the committed rows named
        pos = start
        while pos < len(table):
            if should_stop is not None and should_stop():
                _finish(holder.sessions, job_id, owner, status="queued", owner=None)
                return "queued"
            stop = min(pos + batch_rows, len(table))
            rejected, valid = validate_rows(header, table, seen, pos, stop)
            _beat(holder.sessions, job_id, owner)
            with holder.sessions() as s:
                planned, previews = plan_rows(s, valid)
            holder.prepare(previews)
            holder.write(_batch_writer(job_id, owner, actor, rule, rejected, planned, stop))
            pos = stop
            if after_batch is not None:
                after_batch(pos)
        now = utcnow()
        _finish(
            holder.sessions,
            job_id,
            owner,
            status="done",
            content=None,
            finished_at=now,
            heartbeat_at=now,
        )
        return "done"
    except LostClaim:
        logger.warning("import job %d was taken over by another process", job_id)
        return "lost"
    except Exception as exc:
        logger.exception("import job %d failed", job_id)
        message = (
            exc.message if isinstance(exc, ServiceError) else f"{exc.__class__.__name__}: {exc}"
        )
        try:
            _finish(holder.sessions, job_id, owner, status="failed", error=message[:2000])
        except Exception:  # the database is away: the job shows as interrupted later
            logger.exception("could not record import job %d as failed", job_id)
        return "failed"


def _batch_writer(
    job_id: int,
    owner: str,
    actor: str,
    rule: str | None,
    rejected: list[ImportRowPublic],
    planned: list[Planned],
    stop: int,
) -> Callable[[Session], tuple[None, Change]]:
    def write(s: Session) -> tuple[None, Change]:
        job = s.get(ImportJobRow, job_id, with_for_update=True, populate_existing=True)
        if job is None or job.owner != owner or job.status != "running":
            raise LostClaim(f"import job {job_id} is no longer this process's")
        rows, changed = store_rows(s, planned, actor, rule)
        counts = dict(job.counts or dict.fromkeys(STATES, 0))
        for r in rejected + rows:
            counts[r.status] = int(counts.get(r.status, 0)) + 1
            s.add(
                ImportJobEntryRow(
                    job_id=job_id,
                    row=r.row,
                    status=r.status,
                    company_id=r.company_id,
                    reason=r.reason,
                    changed=r.changed or None,
                )
            )
        job.counts = counts
        job.next_row = stop
        job.heartbeat_at = utcnow()
        store.audit(s, actor, "import", "company", None, {"rows": len(planned), "job": job_id})
        return None, Change(companies=changed)

    return write


class ImportRunner:
    """The service's background thread that runs queued import jobs, one at a time.

    It wakes when a job is queued here and every :data:`POLL_S` seconds (a job queued or
    resumed through another process); on stop, a job between batches goes back to the queue."""

    def __init__(self, holder: IndexHolder, poll_s: float = POLL_S) -> None:
        self.holder = holder
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="import-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=self.poll_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.run_queued()
            except Exception:  # the database may be away; the next round tries again
                logger.exception("looking for queued import jobs failed")

    def run_queued(self) -> None:
        with self.holder.sessions() as s:
            ids = list(
                s.scalars(
                    select(ImportJobRow.id)
                    .where(ImportJobRow.status == "queued")
                    .order_by(ImportJobRow.id)
                )
            )
        for job_id in ids:
            if self._stop.is_set():
                return
            owner = owner_id()
            if claim(self.holder.sessions, job_id, owner):
                run_job(self.holder, job_id, owner, should_stop=self._stop.is_set)

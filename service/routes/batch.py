"""Nightly runs: start one (admin), watch them (staff)."""

from __future__ import annotations

import logging
import re
import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import nightly
from ..auth import Admin, Staff
from ..config import Settings
from ..deps import HolderDep, SessionDep, SettingsDep
from ..errors import Conflict, Invalid, NotFound
from ..index import IndexHolder
from ..models import BatchRunRow
from ..schemas import Strict

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/batch/runs", tags=["batch"])
_running = threading.Lock()


class BatchRunCreate(Strict):
    executor: Literal["local", "ray"] = "local"


class BatchRunPublic(BaseModel):
    id: int
    run_id: str | None
    status: str
    stage: str | None
    executor: str
    actor: str
    progress: dict[str, Any] | None
    stages: dict[str, Any] | None
    diff: dict[str, Any] | None
    error: str | None
    snapshot_id: int | None
    started_at: Any
    finished_at: Any


class BatchRunsPublic(BaseModel):
    data: list[BatchRunPublic]
    count: int


def run_public(r: BatchRunRow, with_diff: bool = True) -> BatchRunPublic:
    return BatchRunPublic(
        id=r.id,
        run_id=r.run_id,
        status=r.status,
        stage=r.stage,
        executor=r.executor,
        actor=r.actor,
        progress=r.progress,
        stages=r.stages,
        diff=r.diff if with_diff else None,
        error=r.error,
        snapshot_id=r.snapshot_id,
        started_at=r.started_at,
        finished_at=r.finished_at,
    )


@router.post("", response_model=BatchRunPublic, status_code=status.HTTP_202_ACCEPTED)
def start_run(
    body: BatchRunCreate,
    who: Admin,
    holder: HolderDep,
    settings: SettingsDep,
    session: SessionDep,
) -> BatchRunPublic:
    """Start the nightly job now, in the background; poll ``GET /batch/runs/{id}``."""
    row_id = start_in_background(holder, settings, body.executor, who.actor)
    row = session.get(BatchRunRow, row_id)
    assert row is not None
    return run_public(row)


def start_in_background(holder: IndexHolder, settings: Settings, executor: str, actor: str) -> int:
    """Start a nightly run in a thread (one at a time: 409 while one runs); returns its row id."""
    if not _running.acquire(blocking=False):
        raise Conflict("a nightly run is in progress; wait for it to finish")
    try:
        row_id = nightly.start_row(holder.sessions, executor, actor)
    except BaseException:
        _running.release()
        raise

    def work() -> None:
        try:
            nightly.run(settings, holder.sessions, row_id, executor)
            holder.check_batch()
        except Exception:
            logger.exception("nightly run %d failed", row_id)
        finally:
            _running.release()

    threading.Thread(target=work, name=f"nightly-{row_id}", daemon=True).start()
    return row_id


@router.get("", response_model=BatchRunsPublic)
def list_runs(
    _: Staff, session: SessionDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> BatchRunsPublic:
    """The latest runs, newest first (diffs left out: ask for one run)."""
    rows = nightly.latest_rows(session, limit)
    return BatchRunsPublic(data=[run_public(r, with_diff=False) for r in rows], count=len(rows))


_ROW_ID = re.compile(r"[0-9]{1,10}")
_RUN_ID = re.compile(r"[0-9]{8}T[0-9]{12}Z")  # what `matcher nightly` prints: UTC, microseconds

RunRef = Annotated[
    str,
    Path(
        max_length=40,
        description="the run's number (`id`) or the id `matcher nightly` prints (`run_id`, "
        "e.g. 20261128T003220962534Z)",
    ),
]


def find_run(session: Session, ref: str) -> BatchRunRow:
    """The run a path names by its row number or by the run id the CLI prints; 422 for
    neither form, 404 for no such run."""
    ref = ref.strip()
    row: BatchRunRow | None = None
    if _ROW_ID.fullmatch(ref):
        number = int(ref)
        row = session.get(BatchRunRow, number) if 0 < number < 2**31 else None
    elif _RUN_ID.fullmatch(ref):
        row = session.scalars(
            select(BatchRunRow).where(BatchRunRow.run_id == ref).order_by(BatchRunRow.id.desc())
        ).first()
    else:
        raise Invalid(
            "run_id: give the run's number (e.g. 12) or the id `matcher nightly` prints "
            "(e.g. 20261128T003220962534Z)",
            field="run_id",
        )
    if row is None:
        raise NotFound(f"no batch run {ref}")
    return row


@router.get("/{run_id}", response_model=BatchRunPublic)
def get_run(run_id: RunRef, _: Staff, session: SessionDep) -> BatchRunPublic:
    """One run (by number or printed run id): status, stage, counts and seconds per stage, and
    the diff."""
    return run_public(find_run(session, run_id))

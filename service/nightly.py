"""The nightly job as the service runs it: input from the database, the run recorded in
``batch_runs``, its snapshot copied into ``match_snapshots``, and the live index and learned
ranker switched when it finishes.

One run at a time across processes (a lock file in the batch folder), so ``matcher nightly``
and ``POST /batch/runs`` never overlap.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from matcher.batch import BatchConfig, BatchInput, create_executor, read_snapshot, run_nightly
from matcher.batch.erase import Tombstone, erase_from_batch, redact
from matcher.config import EncoderConfig, EngineConfig

from . import store
from .config import Settings
from .db import transaction
from .errors import Conflict
from .models import (
    BatchRunRow,
    CompanyRow,
    ControlRow,
    FeedbackRow,
    SnapshotEntryRow,
    SnapshotRow,
)

logger = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]


@contextmanager
def exclusive(batch_dir: Path) -> Iterator[None]:
    """Hold the batch lock or raise :class:`Conflict` if another run holds it."""
    batch_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(batch_dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise Conflict("a nightly run is in progress; wait for it to finish") from exc
        yield
    finally:
        os.close(fd)


def collect_input(sessions: sessionmaker[Session]) -> BatchInput:
    """Everything the job ranks, read in one transaction."""
    with sessions() as s, s.begin():
        scenarios = store.live_scenarios(s)
        companies = store.all_companies(s)
        feedback = [
            (r.scenario_id, r.company_id, r.stage)
            for r in s.scalars(select(FeedbackRow).order_by(FeedbackRow.id))
        ]
        controls = {}
        sids = {r.scenario_id for r in s.scalars(select(ControlRow))}
        for sid in sorted(sids):
            controls[sid] = store.controls_for(s, sid)
    return BatchInput(scenarios, companies, feedback, controls)


def batch_config(settings: Settings) -> BatchConfig:
    return BatchConfig(
        top_n=settings.batch_top_n,
        top_m=settings.batch_top_m,
        block_size=settings.batch_block_size,
        max_scenarios_per_firm=settings.batch_max_scenarios_per_firm,
        engine=EngineConfig(encoder=EncoderConfig(name=settings.encoder)),
    )


def start_row(sessions: sessionmaker[Session], executor: str, actor: str) -> int:
    with transaction(sessions) as s:
        row = BatchRunRow(status="running", executor=executor, actor=actor, stage="starting")
        s.add(row)
        s.flush()
        store.audit(s, actor, "start", "batch_run", str(row.id), {"executor": executor})
        return row.id


def run(
    settings: Settings,
    sessions: sessionmaker[Session],
    row_id: int,
    executor_name: str = "local",
    ray_address: str | None = None,
    progress: Progress | None = None,
) -> BatchRunRow:
    """Run (or resume) the job for the ``batch_runs`` row ``row_id``; returns the final row."""
    last = [0.0]

    def on_progress(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)
        now = time.monotonic()
        if now - last[0] > 1.0 or done == total:
            last[0] = now
            with transaction(sessions) as s:
                row = s.get(BatchRunRow, row_id)
                if row is not None:
                    row.stage = stage
                    row.progress = {"stage": stage, "done": done, "total": total}

    def checkpoint(stage: str, where: str) -> None:
        if settings.batch_fault == f"{stage}:{where}":
            (settings.batch_dir / f"held-{stage}-{where}").write_text(str(os.getpid()))
            logger.warning("fault injection: holding the nightly run at %s:%s", stage, where)
            while True:  # until the test kills this process
                time.sleep(1)

    options = {"address": ray_address} if executor_name == "ray" and ray_address else {}
    executor = create_executor(executor_name, **options)
    try:
        with exclusive(settings.batch_dir):
            with transaction(sessions) as s:  # rows of runs killed earlier: not running now
                for stale in s.scalars(
                    select(BatchRunRow).where(
                        BatchRunRow.status == "running", BatchRunRow.id != row_id
                    )
                ):
                    stale.status, stale.error = "interrupted", "the process stopped mid-run"
            result = run_nightly(
                lambda: collect_input(sessions),
                settings.batch_dir,
                settings.models_dir,
                settings.cache_dir,
                batch_config(settings),
                executor,
                on_progress,
                checkpoint,
                erased_since(sessions),
            )
            erased = erase_pending_in_batch(settings, sessions)
    except Exception as exc:
        with transaction(sessions) as s:
            row = s.get(BatchRunRow, row_id)
            assert row is not None
            row.status, row.error = "failed", f"{exc.__class__.__name__}: {exc}"
            row.finished_at = dt.datetime.now(dt.UTC)
        raise
    finally:
        executor.close()
    snap = read_snapshot(result.snapshot_dir)
    with transaction(sessions) as s:
        snap_id = _import_snapshot(s, result.run_id, snap)
        row = s.get(BatchRunRow, row_id)
        assert row is not None
        row.run_id = result.run_id
        row.status = "done"
        row.stage = "done"
        row.stages = result.stages
        row.diff = redact(result.diff, erased | store.tombstones(s, _ids_in(result.diff)))
        row.snapshot_id = snap_id
        row.finished_at = dt.datetime.now(dt.UTC)
        store.audit(s, row.actor, "finish", "batch_run", str(row_id), {"run": result.run_id})
    with sessions() as s:
        out = s.get(BatchRunRow, row_id)
        assert out is not None
        return out


def erased_since(
    sessions: sessionmaker[Session],
) -> Callable[[Sequence[str]], dict[str, Tombstone]]:
    """For the running job: which of its firms are no longer in the database."""

    def check(ids: Sequence[str]) -> dict[str, Tombstone]:
        with sessions() as s:
            present = set(store.company_ids(s))
            gone = [i for i in ids if i not in present]
            if not gone:
                return {}
            known = store.tombstones(s, gone)
        return {i: known.get(i, Tombstone("deleted", "已删除企业")) for i in gone}

    return check


def erase_pending_in_batch(
    settings: Settings, sessions: sessionmaker[Session]
) -> dict[str, Tombstone]:
    """Erase the firms deleted while the batch folder was held (a run was in progress) from
    it; the caller holds the batch lock. Returns them."""
    with sessions() as s:
        rows = [r for r in store.pending_erasures(s) if r.batch_done_at is None]
        erased = store.tombstones(s, [r.company_id for r in rows])
    if rows:
        erase_from_batch(settings.batch_dir, erased, settings.cache_dir)
        with transaction(sessions) as s:
            store.mark_erasures(s, [r.id for r in rows], batch=True)
    return erased


def _ids_in(diff: Any) -> set[str]:
    """The firm ids a run's diff names."""
    found: set[str] = set()
    for entry in (diff or {}).get("scenarios", {}).values():
        for side in ("entered", "left"):
            found.update(e.get("company_id", "") for e in entry.get(side, []))
    return found


def _import_snapshot(s: Session, run_id: str, snap: dict[str, Any]) -> int:
    """The top N per scenario as a ``match_snapshots`` row; firms deleted since the run's
    input was taken are left out (their erasure must hold)."""
    existing = {cid for (cid,) in s.execute(select(CompanyRow.id)).all()}
    row = SnapshotRow(source="nightly", actor="nightly", params={"run_id": run_id})
    s.add(row)
    s.flush()
    for sid, entry in sorted(snap["scenarios"].items()):
        for m in entry["matches"]:
            if m["company_id"] not in existing:
                continue
            s.add(
                SnapshotEntryRow(
                    snapshot_id=row.id,
                    scenario_id=sid,
                    rank=m["rank"],
                    company_id=m["company_id"],
                    score=m["score"],
                    parts=m["contributions"],
                )
            )
    return row.id


def latest_rows(s: Session, limit: int) -> list[BatchRunRow]:
    return list(s.scalars(select(BatchRunRow).order_by(BatchRunRow.id.desc()).limit(limit)))

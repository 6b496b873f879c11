"""The nightly runs: the latest runs, starting one (admin), and one run's changes and heatmap."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from ... import store
from ...deps import HolderDep, SessionDep, SettingsDep
from ...models import BatchRunRow, SnapshotEntryRow
from ...nightly import latest_rows
from ...routes.batch import RunRef, find_run, start_in_background
from .. import views
from .common import PREFIX, AdminViewer, StaffViewer, form_with_csrf, lang_of, page
from .results import company_names

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _run_view(r: BatchRunRow) -> dict[str, Any]:
    stages = r.stages or {}
    seconds = {k: v.get("seconds") for k, v in stages.items() if isinstance(v, dict)}
    duration = None
    if r.finished_at is not None:
        duration = (r.finished_at - r.started_at).total_seconds()
    diff = r.diff or {}
    return {"r": r, "seconds": seconds, "duration": duration, "diff": diff}


@router.get("/runs")
def runs(request: Request, ws: StaffViewer, session: SessionDep) -> Response:
    rows = [_run_view(r) for r in latest_rows(session, 20)]
    running = any(v["r"].status == "running" for v in rows)
    return page(request, "runs.html", {"runs": rows, "running": running}, ws)


@router.post("/runs")
async def start_run(
    request: Request, ws: AdminViewer, holder: HolderDep, settings: SettingsDep
) -> Response:
    await form_with_csrf(request, ws)
    await run_in_threadpool(start_in_background, holder, settings, "local", ws.principal.actor)
    return RedirectResponse("/ui/runs", status_code=303)


@router.get("/runs/{run_id}")
def run_page(run_id: RunRef, request: Request, ws: StaffViewer, session: SessionDep) -> Response:
    """One run (by number or the run id ``matcher nightly`` prints): stage timings, who entered
    or left each scenario's top N and why, heatmap."""
    row = find_run(session, run_id)
    titles = {
        r.id: r.data.get("title_zh" if lang_of(request) == "zh" else "title_en")
        or r.data.get("title_zh", r.id)
        for r in store.scenario_rows(session)
    }
    heat = None
    if row.snapshot_id is not None:
        entries = list(
            session.scalars(
                select(SnapshotEntryRow).where(SnapshotEntryRow.snapshot_id == row.snapshot_id)
            )
        )
        ids = sorted({e.company_id for e in entries})
        names = company_names(session, ids)
        heat = views.heatmap(entries, titles, names)
    return page(
        request,
        "run.html",
        {"v": _run_view(row), "titles": titles, "heat": heat},
        ws,
    )

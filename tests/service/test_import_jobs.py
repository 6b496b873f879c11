"""Company imports as background jobs (``service.import_jobs``, ``/admin/imports``): batches
committed with their progress, a job stopped after a batch keeps it and resumes from the next
row, one runner per job, the firms reach the index as ``POST /companies/import`` puts them.

Runs on SQLite and PostgreSQL like the other service tests.
"""

from __future__ import annotations

import csv
import io
import time

import pytest
from sqlalchemy import func, select, update

from service import import_jobs
from service.db import transaction
from service.models import AuditRow, CompanyRow, ImportJobEntryRow, ImportJobRow

from .test_scenarios import ok

HEADER = ["企业名称", "企业简介", "城市", "成立年份"]


def csv_of(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return out.getvalue().encode("utf-8")


def firms(tag: str, n: int, bad: tuple[int, ...] = ()) -> bytes:
    """``n`` firms named after ``tag``; the rows whose index is in ``bad`` have no number."""
    rows = [
        [
            f"{tag}储能科技{i}号有限公司",
            f"{tag}测试企业{i}：储能变流器与电池管理系统研发生产。",
            "泉州",
            "abc" if i in bad else str(2000 + i),
        ]
        for i in range(n)
    ]
    return csv_of(rows)


def named(client, tag: str) -> int:
    with client.app.state.sessions() as s:
        q = select(func.count()).select_from(CompanyRow).where(CompanyRow.name.contains(tag))
        return int(s.scalar(q) or 0)


def new_job(client, data: bytes, name: str = "firms.csv") -> int:
    """A queued job made directly (the runner is not woken; tests claim it first)."""
    with transaction(client.app.state.sessions) as s:
        return import_jobs.create_job(s, data, name, "key:test", "*", 1000).id


def claimed(client, tag: str, n: int) -> tuple[int, str]:
    """A job of ``n`` firms named after ``tag``, claimed by a new owner (not the runner)."""
    job_id = new_job(client, firms(tag, n))
    owner = import_jobs.owner_id()
    assert import_jobs.claim(client.app.state.sessions, job_id, owner)
    return job_id, owner


def wait_for(client, keys, job_id: int, status: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = ok(client.get(f"/admin/imports/{job_id}", headers=keys.header("admin")))
        if job["status"] == status or time.monotonic() > deadline:
            assert job["status"] == status, job
            return job
        time.sleep(0.1)


def test_an_import_job_runs_in_the_background_to_done_with_its_report(client, keys):
    h = keys.header("admin")
    files = {"file": ("firms.csv", firms("后台甲", 5, bad=(3,)), "text/csv")}
    r = client.post("/admin/imports", files=files, headers=h)
    assert r.status_code == 202, r.text
    assert r.json()["total_rows"] == 5 and r.json()["status"] in ("queued", "running", "done")
    job = wait_for(client, keys, r.json()["id"], "done")
    assert (job["imported"], job["rejected"], job["rows_done"]) == (4, 1, 5)
    assert job["next_row"] is None and job["finished_at"]
    report = {e["row"]: e for e in job["report"]}
    assert sorted(report) == [2, 3, 4, 5, 6]
    assert report[5]["status"] == "rejected" and "founded" in report[5]["reason"]
    assert all(report[n]["status"] == "imported" for n in (2, 3, 4, 6))
    assert named(client, "后台甲") == 4
    # the firms reached the index, as the synchronous import puts them there
    cid = report[2]["company_id"]
    with client.app.state.holder.reading() as engine:
        assert cid in {c.id for c in engine.companies}
    assert ok(client.get(f"/companies/{cid}/suggestions", headers=h))["count"] >= 0
    # the file's bytes are not kept once the job is done; the job is listed
    with client.app.state.sessions() as s:
        assert s.get(ImportJobRow, job["id"]).content is None
    listed = ok(client.get("/admin/imports", headers=h))
    assert job["id"] in [j["id"] for j in listed["data"]]
    # importing the same file again changes nothing (a row without id updates its namesake)
    again = client.post("/admin/imports", files=files, headers=h)
    second = wait_for(client, keys, again.json()["id"], "done")
    assert (second["unchanged"], second["rejected"], second["imported"]) == (4, 1, 0)
    assert named(client, "后台甲") == 4


def test_a_job_commits_batch_by_batch_and_resumes_after_a_failure(client, keys):
    sessions, holder = client.app.state.sessions, client.app.state.holder
    job_id, owner = claimed(client, "分批乙", 5)

    def boom(done: int) -> None:
        raise RuntimeError(f"simulated failure after row {done}")

    assert import_jobs.run_job(holder, job_id, owner, batch_rows=2, after_batch=boom) == "failed"
    job = ok(client.get(f"/admin/imports/{job_id}", headers=keys.header("admin")))
    assert job["status"] == "failed" and "simulated failure" in job["error"]
    assert job["rows_done"] == 2 and job["next_row"] == 4  # file row 4: the third firm
    assert [e["row"] for e in job["report"]] == [2, 3] and named(client, "分批乙") == 2
    with sessions() as s:
        audits = s.scalars(select(AuditRow).where(AuditRow.action == "import")).all()
        assert any((a.detail or {}).get("job") == job_id for a in audits)

    # resume: the runner thread picks it up and continues from the next row
    r = client.post(f"/admin/imports/{job_id}/resume", headers=keys.header("admin"))
    assert r.status_code == 200, r.text
    job = wait_for(client, keys, job_id, "done")
    assert [e["row"] for e in job["report"]] == [2, 3, 4, 5, 6]
    assert job["imported"] == 5 and named(client, "分批乙") == 5
    # a done job does not resume
    assert (
        client.post(f"/admin/imports/{job_id}/resume", headers=keys.header("admin")).status_code
        == 409
    )


def test_a_job_left_running_by_a_dead_process_is_interrupted_and_resumes(client, keys):
    sessions, holder = client.app.state.sessions, client.app.state.holder
    job_id, owner = claimed(client, "中断丙", 4)
    seen: list[int] = []
    stop_after_first = lambda: bool(seen)  # noqa: E731
    # one batch commits, then the "process" stops between batches
    status = import_jobs.run_job(
        holder, job_id, owner, batch_rows=2, after_batch=seen.append, should_stop=stop_after_first
    )
    assert status == "queued" and seen == [2]
    # now pretend a process that has died was running it: same host, no such process
    host = owner.split(":")[0]
    with transaction(sessions) as s:
        s.execute(
            update(ImportJobRow)
            .where(ImportJobRow.id == job_id)
            .values(status="running", owner=f"{host}:999999999:dead")
        )
    job = ok(client.get(f"/admin/imports/{job_id}", headers=keys.header("admin")))
    assert job["status"] == "interrupted" and job["next_row"] == 4 and job["rows_done"] == 2
    assert named(client, "中断丙") == 2
    # a live owner that stopped beating is interrupted too
    with sessions() as s:
        row = s.get(ImportJobRow, job_id)
        row.owner = owner
        assert import_jobs.state_of(row) == "running"
        assert import_jobs.state_of(row, stale_s=-1) == "interrupted"
    client.post(f"/admin/imports/{job_id}/resume", headers=keys.header("admin"))
    job = wait_for(client, keys, job_id, "done")
    assert [e["row"] for e in job["report"]] == [2, 3, 4, 5] and named(client, "中断丙") == 4


def test_two_runners_cannot_both_claim_a_job(client, keys):
    sessions = client.app.state.sessions
    holder = client.app.state.holder
    job_id = new_job(client, firms("争用丁", 3))
    a, b = import_jobs.owner_id(), import_jobs.owner_id()
    assert import_jobs.claim(sessions, job_id, a)
    assert not import_jobs.claim(sessions, job_id, b)  # a is alive and beating
    assert not import_jobs.claim(sessions, job_id, a)  # nor twice by the same
    # a stale claim may be taken over; the old owner then stops at its next batch
    assert import_jobs.claim(sessions, job_id, b, stale_s=-1)
    assert import_jobs.run_job(holder, job_id, a, batch_rows=2) == "lost"
    assert named(client, "争用丁") == 0
    assert import_jobs.run_job(holder, job_id, b, batch_rows=2) == "done"
    assert named(client, "争用丁") == 3
    with sessions() as s:
        n = s.scalar(
            select(func.count())
            .select_from(ImportJobEntryRow)
            .where(ImportJobEntryRow.job_id == job_id)
        )
    assert n == 3


@pytest.mark.parametrize(
    ("data", "name", "status", "says"),
    [
        (b"", "x.csv", 422, "empty"),
        (b"foo,bar\n1,2\n", "x.csv", 422, "header"),
        (b"PK\x03\x04broken", "x.xlsx", 422, "XLSX"),
    ],
)
def test_a_bad_file_is_refused_before_a_job_is_made(client, keys, data, name, status, says):
    before = ok(client.get("/admin/imports", headers=keys.header("admin")))["count"]
    r = client.post("/admin/imports", files={"file": (name, data)}, headers=keys.header("admin"))
    assert r.status_code == status and says in r.json()["detail"]["message"], r.text
    assert ok(client.get("/admin/imports", headers=keys.header("admin")))["count"] == before


def test_an_oversize_import_is_refused(client, keys):
    limit = client.app.state.settings.max_upload_bytes
    data = b"name,description\n" + b"x" * (limit + 10)
    r = client.post(
        "/admin/imports", files={"file": ("big.csv", data)}, headers=keys.header("admin")
    )
    assert r.status_code == 413


@pytest.mark.parametrize("role", [None, "company", "recruiter"])
def test_import_jobs_are_for_admins(client, keys, role):
    h = keys.header(role)
    want = 401 if role is None else 403
    files = {"file": ("f.csv", firms("权限戊", 1))}
    assert client.post("/admin/imports", files=files, headers=h).status_code == want
    assert client.get("/admin/imports", headers=h).status_code == want
    assert client.get("/admin/imports/1", headers=h).status_code == want
    assert client.post("/admin/imports/1/resume", headers=h).status_code == want
    assert named(client, "权限戊") == 0


def test_erasing_a_firm_clears_it_from_job_reports_and_discards_stopped_files(client, keys):
    """A stopped job's stored file may hold the erased firm: it is discarded (the job can no
    longer resume, and says why); the firm's rows leave every job's report."""
    sessions, holder = client.app.state.sessions, client.app.state.holder
    job_id, owner = claimed(client, "擦除丙", 4)

    def boom(done: int) -> None:
        raise RuntimeError("stop after the first batch")

    assert import_jobs.run_job(holder, job_id, owner, batch_rows=2, after_batch=boom) == "failed"
    job = ok(client.get(f"/admin/imports/{job_id}", headers=keys.header("admin")))
    erased = job["report"][0]["company_id"]
    assert erased and len(job["report"]) == 2
    r = client.delete(f"/companies/{erased}", headers=keys.header("admin"))
    assert r.status_code == 204
    with sessions() as s:
        row = s.get(ImportJobRow, job_id)
        assert row is not None and row.content is None and "discarded" in (row.error or "")
        ids = s.scalars(
            select(ImportJobEntryRow.company_id).where(ImportJobEntryRow.job_id == job_id)
        )
        assert erased not in set(ids)
    r = client.post(f"/admin/imports/{job_id}/resume", headers=keys.header("admin"))
    assert r.status_code == 409 and "upload the file again" in r.text

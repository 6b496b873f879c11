"""Nightly runs through the service: start, watch, snapshot in the database, live switch."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from service import nightly
from service.models import SnapshotEntryRow, SnapshotRow

from .test_scenarios import ok


def wait_done(client, keys, run_id: int) -> dict:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        run = ok(client.get(f"/batch/runs/{run_id}", headers=keys.header("recruiter")))
        if run["status"] != "running":
            return run
        time.sleep(0.2)
    raise AssertionError("run did not finish")


def test_run_through_the_api(client, keys):
    started = client.post("/batch/runs", json={"executor": "local"}, headers=keys.header("admin"))
    assert started.status_code == 202 and started.json()["status"] == "running"
    again = client.post("/batch/runs", json={}, headers=keys.header("admin"))
    assert again.status_code in (202, 409)  # 409 while the first is still running
    first = wait_done(client, keys, started.json()["id"])
    if again.status_code == 202:
        wait_done(client, keys, again.json()["id"])
    assert first["status"] == "done", first["error"]
    assert list(first["stages"]) == ["encode", "index", "learn", "rerank", "diff"]
    assert all(st["seconds"] >= 0 for st in first["stages"].values())
    assert first["stages"]["rerank"]["companies"] == ok(client.get("/health"))["companies"]
    with client.app.state.sessions() as s:
        snap = s.get(SnapshotRow, first["snapshot_id"])
        assert snap.source == "nightly" and snap.params["run_id"] == first["run_id"]
        n = s.scalar(
            select(func.count())
            .select_from(SnapshotEntryRow)
            .where(SnapshotEntryRow.snapshot_id == snap.id)
        )
        assert n == 2 * 5  # two open scenarios × top 5
    listed = ok(client.get("/batch/runs", headers=keys.header("recruiter")))
    assert listed["data"][0]["diff"] is None and listed["count"] >= 1


def test_diff_and_live_switch_keep_later_writes(client, keys):
    holder = client.app.state.holder
    settings = client.app.state.settings
    h = keys.header("admin")
    row = nightly.start_row(holder.sessions, "local", "test")
    base = nightly.run(settings, holder.sessions, row)
    # a firm that fits S2 well arrives, then the next run
    ok(
        client.post(
            "/companies",
            json={
                "id": "B1",
                "name": "夜间新增视觉检测有限公司",
                "description": "工业视觉质检：AOI 光学检测设备、深度学习缺陷检测与产线质检系统。",
            },
            headers=h,
        ),
        201,
    )
    row = nightly.start_row(holder.sessions, "local", "test")
    result = nightly.run(settings, holder.sessions, row)
    assert result.diff["previous"] == base.run_id
    entered = {e["company_id"]: e for e in result.diff["scenarios"]["S2"]["entered"]}
    assert entered["B1"]["why"] == "new profile"
    # a write after the run: the switch brings the new index up to date before serving it
    ok(
        client.post(
            "/companies",
            json={
                "id": "B2",
                "name": "切换后新增氢能有限公司",
                "description": "质子交换膜电解槽与加氢站运营，独特的夜间切换测试文本。",
            },
            headers=h,
        ),
        201,
    )
    # readers keep getting answers while the switch happens
    import threading

    failures: list[int] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            r = client.get("/scenarios/S1/matches?top_k=5", headers=keys.header("recruiter"))
            if r.status_code != 200:
                failures.append(r.status_code)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        assert holder.check_batch()
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert failures == []
    hits = ok(
        client.post(
            "/search",
            json={"text": "质子交换膜电解槽 加氢站 夜间切换测试"},
            headers=keys.header("recruiter"),
        )
    )
    assert hits["data"][0]["company_id"] == "B2"
    health = ok(client.get("/health"))
    assert health["data_version"] == health["index_version"]
    assert not holder.check_batch()  # nothing newer


def test_unknown_run_is_404(client, keys):
    assert client.get("/batch/runs/99999", headers=keys.header("admin")).status_code == 404


def test_run_is_found_by_the_id_matcher_nightly_prints(client, keys, tmp_path):
    """`GET /batch/runs/<printed id>` answered 422 (the route took only the row number)."""
    import re
    import subprocess
    import sys

    from .conftest import matcher_env

    settings = client.app.state.settings
    env = matcher_env(
        settings.database_url,
        tmp_path,
        settings.cache_dir,
        MATCHER_BATCH_DIR=str(settings.batch_dir),
        MATCHER_MODELS_DIR=str(settings.models_dir),
        MATCHER_BATCH_TOP_N="5",
        MATCHER_BATCH_BLOCK_SIZE="5",
    )
    # one run at a time per process: let a background run an earlier test started finish
    from service.routes import batch as batch_routes

    assert batch_routes._running.acquire(timeout=300), "an earlier nightly run never finished"
    try:
        r = subprocess.run(
            [sys.executable, "-m", "matcher", "nightly"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        batch_routes._running.release()
    assert r.returncode == 0, r.stderr[-2000:]
    printed = re.search(r"^nightly run (\S+): done$", r.stdout, re.M)
    assert printed, r.stdout
    h = keys.header("recruiter")
    by_run_id = ok(client.get(f"/batch/runs/{printed[1]}", headers=h))
    assert by_run_id["run_id"] == printed[1] and by_run_id["status"] == "done"
    assert ok(client.get(f"/batch/runs/{by_run_id['id']}", headers=h)) == by_run_id
    unknown = client.get("/batch/runs/20000101T000000000000Z", headers=h)
    assert unknown.status_code == 404
    for bad in ("latest", "0x1", "2026-11-28", "1" * 11):
        r = client.get(f"/batch/runs/{bad}", headers=h)
        assert r.status_code == 422 and r.json()["detail"]["field"] == "run_id", bad
        assert "matcher nightly" in r.json()["detail"]["message"]
    assert client.get("/batch/runs/0", headers=h).status_code == 404

"""SIGKILL the nightly job inside each stage while the service takes writes; the live index
and the last good snapshot stay usable, and the next run resumes without redoing stages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from matcher.batch import STAGES, current_pointer, read_snapshot
from matcher.engine import Engine
from service import nightly
from service.app import create_app

from .conftest import make_keys, make_settings
from .test_scenarios import ok

POINTS = {"encode": "mid", "index": "mid", "learn": "start", "rerank": "mid", "diff": "mid"}


def _env(settings) -> dict[str, str]:
    env = dict(os.environ)
    for name in (
        "database_url",
        "index_dir",
        "cache_dir",
        "seed_catalogue",
        "seed_companies",
        "batch_dir",
        "models_dir",
        "batch_top_n",
        "batch_block_size",
    ):
        env[f"MATCHER_{name.upper()}"] = str(getattr(settings, name))
    env["HF_HUB_OFFLINE"] = "1"
    return env


@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES)
def test_kill_inside_stage_then_resume(stage, tmp_path, cache_dir):
    settings = make_settings(f"sqlite:///{tmp_path / 'm.db'}", tmp_path, cache_dir)
    batch = settings.batch_dir
    with TestClient(create_app(settings)) as client:
        keys = make_keys(client.app)
        h = keys.header("admin")
        holder = client.app.state.holder
        nightly.run(settings, holder.sessions, nightly.start_row(holder.sessions, "local", "t"))
        good_snapshot = current_pointer(batch / "snapshots")
        live_before = current_pointer(batch / "index")
        # new text so the encode stage has work, then a run held inside the stage
        ok(
            client.post(
                "/companies",
                json={
                    "id": f"K{stage}",
                    "name": f"{stage}阶段测试有限公司",
                    "description": f"为{stage}阶段准备的新文本：储能电站运维。",
                },
                headers=h,
            ),
            201,
        )
        env = _env(settings) | {"MATCHER_BATCH_FAULT": f"{stage}:{POINTS[stage]}"}
        if stage == "encode":  # the service cached the new text already: start the job cold
            env["MATCHER_CACHE_DIR"] = str(tmp_path / "cold-cache")
        proc = subprocess.Popen(
            [sys.executable, "-m", "matcher", "nightly"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        marker = batch / f"held-{stage}-{POINTS[stage]}"
        deadline = time.monotonic() + 180
        while not marker.exists():
            assert proc.poll() is None, proc.stdout.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the run never reached the fault point"
            time.sleep(0.05)
        # the service keeps taking writes and answering while the job is held
        ok(
            client.post(
                "/companies",
                json={
                    "id": f"W{stage}",
                    "name": f"{stage}并发写入有限公司",
                    "description": "并发写入：光伏组件回收与再利用。",
                },
                headers=h,
            ),
            201,
        )
        ok(
            client.post(
                "/feedback",
                json={"scenario_id": "S1", "company_id": "T01", "stage": "contacted"},
                headers=h,
            ),
            201,
        )
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        ok(client.get("/scenarios/S1/matches", headers=keys.header("recruiter")))

        run_dir = max((batch / "runs").iterdir())
        killed_state = json.loads((run_dir / "state.json").read_text())
        assert killed_state["status"] == "running" and stage not in killed_state["stages"]
        done_before = {k: v["finished_at"] for k, v in killed_state["stages"].items()}
        # the last good snapshot is untouched and the live index loads
        assert current_pointer(batch / "snapshots") == good_snapshot
        read_snapshot(good_snapshot)
        live = current_pointer(batch / "index")
        assert live is not None and Engine.load(live).companies_
        if STAGES.index(stage) <= STAGES.index("index"):
            assert live == live_before  # the switch happens only when the index stage ends

        env.pop("MATCHER_BATCH_FAULT")
        encoded_blocks = sorted((run_dir / "encode").glob("block-*.npy"))
        stamps = {p.name: p.stat().st_mtime_ns for p in encoded_blocks}
        done = subprocess.run(
            [sys.executable, "-m", "matcher", "nightly"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        state = json.loads((run_dir / "state.json").read_text())
        assert state["status"] == "done"  # the same run, resumed
        if stage == "encode":
            assert stamps and all(  # blocks finished before the kill were kept, not redone
                (run_dir / "encode" / n).stat().st_mtime_ns == t for n, t in stamps.items()
            )
            assert state["stages"]["encode"]["blocks"] > len(stamps)
        for name, finished in done_before.items():
            assert state["stages"][name]["finished_at"] == finished, name  # not redone
        assert current_pointer(batch / "snapshots").name == run_dir.name
        assert current_pointer(batch / "index").name == run_dir.name
        runs = ok(client.get("/batch/runs", headers=h))["data"]
        assert runs[0]["status"] == "done" and runs[1]["status"] == "interrupted"
        # the service switches to the resumed run's index and keeps the writes made meanwhile
        holder.check_batch()
        hits = ok(
            client.post(
                "/search", json={"text": "光伏组件回收与再利用"}, headers=keys.header("recruiter")
            )
        )
        assert f"W{stage}" in [m["company_id"] for m in hits["data"][:3]]

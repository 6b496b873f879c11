"""SIGKILL the service while companies submit profiles and recruiters give feedback: after a
restart every write that got a 2xx is there, in the database and in the index, and nothing
half-written is left (a real ``matcher serve`` process, on SQLite and on PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from .conftest import free_port, matcher_env


def _env(db_url: str, tmp_path, cache_dir) -> dict[str, str]:
    return matcher_env(
        db_url,
        tmp_path,
        cache_dir,
        MATCHER_BATCH_DIR=str(tmp_path / "batch"),
        MATCHER_MODELS_DIR=str(tmp_path / "models"),
        MATCHER_SAVE_DELAY_S="0.05",  # save after nearly every write: kills land mid-save
        MATCHER_RATE_LIMIT="1000000",
    )


def _serve(env: dict[str, str], port: int, log) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "matcher", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 300
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        assert server.poll() is None and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.2)


def _key(env: dict[str, str], role: str) -> str:
    cmd = [sys.executable, "-m", "matcher", "keys", "create", "--role", role]
    return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.slow
def test_every_acknowledged_write_survives_a_kill(db_url, tmp_path, cache_dir):
    env = _env(db_url, tmp_path, cache_dir)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(tmp_path / "server.log", "w") as log:
        server = _serve(env, port, log)
        admin, recruiter = _key(env, "admin"), _key(env, "recruiter")
        companies: list[str] = []
        feedback: list[int] = []
        stop = threading.Event()

        def submit(kind: str) -> None:
            h = {"Authorization": f"Bearer {admin if kind == 'c' else recruiter}"}
            with httpx.Client(base_url=base, headers=h, timeout=10) as http:
                i = 0
                while not stop.is_set():
                    i += 1
                    try:
                        if kind == "c":
                            body = {
                                "name": f"断电测试储能企业{i:04d}",
                                "description": f"工商业储能系统集成，第{i}号项目，电池管理系统。",
                            }
                            r = http.post("/companies", json=body)
                            if r.status_code == 201:
                                companies.append(r.json()["company"]["id"])
                        else:
                            body = {"scenario_id": "S1", "company_id": "T01", "stage": "contacted"}
                            r = http.post("/feedback", json={**body, "note": f"n{i}"})
                            if r.status_code == 201:
                                feedback.append(r.json()["id"])
                    except httpx.HTTPError:
                        time.sleep(0.05)  # the server is gone: keep trying until told to stop

        workers = [threading.Thread(target=submit, args=(k,)) for k in ("c", "c", "f")]
        for w in workers:
            w.start()
        deadline = time.monotonic() + 60
        while len(companies) < 15 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        time.sleep(0.5)
        stop.set()
        for w in workers:
            w.join(timeout=30)
        assert len(companies) >= 15 and feedback, (len(companies), len(feedback))

        server = _serve(env, port, log)
        try:
            h = {"Authorization": f"Bearer {admin}"}
            with httpx.Client(base_url=base, headers=h, timeout=30) as http:
                health = http.get("/health").json()
                assert health["data_version"] == health["index_version"]
                for cid in companies:
                    assert http.get(f"/companies/{cid}").status_code == 200, cid
                    # in the index too: its suggestions come from the engine
                    assert http.get(f"/companies/{cid}/suggestions").status_code == 200, cid
                listed = http.get("/companies", params={"limit": 500}).json()
                assert health["companies"] == listed["count"]
                seen = {
                    f["id"] for f in http.get("/feedback", params={"limit": 500}).json()["data"]
                }
                assert set(feedback) <= seen
                found = http.post(
                    "/search",
                    json={"text": "工商业储能系统集成 电池管理系统", "top_k": 50},
                    headers={"Authorization": f"Bearer {recruiter}"},
                ).json()["data"]
                assert {m["company_id"] for m in found} & set(companies)
            leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith((".tmp", ".old"))]
            assert leftovers == []
        finally:
            server.terminate()
            server.wait(timeout=60)

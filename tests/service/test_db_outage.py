"""The database unavailable for a while: requests fail with 503 and a clear message, and the
service recovers on its own once the database is back. A private PostgreSQL instance
(``initdb`` / ``pg_ctl`` on its own port) is started, stopped and started again; the shared
server is never touched."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import free_port, make_keys, make_settings

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _as_postgres(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *cmd], capture_output=True, text=True, timeout=120
    )


class PrivatePostgres:
    def __init__(self) -> None:
        self.bin = Path(BIN[-1])
        self.folder = Path(tempfile.mkdtemp(prefix="matcher-pg-"))
        os.chmod(self.folder, 0o755)
        shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "data"
        self.port = free_port()
        made = _as_postgres(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        )
        assert made.returncode == 0, made.stderr

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        r = _as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "log"),
            "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
            "-w",
            "start",
        )
        assert r.returncode == 0, r.stdout + r.stderr

    def stop(self) -> None:
        _as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    if not BIN or shutil.which("runuser") is None or os.geteuid() != 0:
        pytest.skip("needs PostgreSQL's server binaries, runuser and root (to run initdb)")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres user to run a private PostgreSQL instance")
    pg = PrivatePostgres()
    pg.start()
    try:
        yield pg
    finally:
        pg.remove()


def test_requests_get_503_while_the_database_is_down_and_recover(private_pg, tmp_path, cache_dir):
    from fastapi.testclient import TestClient

    from service.app import create_app

    settings = make_settings(private_pg.url, tmp_path, cache_dir)
    with TestClient(create_app(settings)) as client:
        keys = make_keys(client.app)
        recruiter = keys.header("recruiter")
        assert client.get("/scenarios/S1/matches", headers=recruiter).status_code == 200
        private_pg.stop()
        for method, path, body in (
            ("GET", "/scenarios", None),
            ("GET", "/scenarios/S1/matches", None),
            ("POST", "/feedback", {"scenario_id": "S1", "company_id": "T01", "stage": "contacted"}),
        ):
            r = client.request(method, path, json=body, headers=recruiter)
            assert r.status_code == 503, (path, r.status_code, r.text)
            assert "database is unavailable" in r.json()["detail"]["message"]
            assert r.headers["Retry-After"] == "5"
        assert client.get("/health").status_code in (200, 503)  # answers, never hangs
        private_pg.start()
        deadline = time.monotonic() + 60
        while client.get("/scenarios", headers=recruiter).status_code != 200:
            assert time.monotonic() < deadline, "the service did not recover"
            time.sleep(0.5)
        r = client.post(
            "/feedback",
            json={"scenario_id": "S1", "company_id": "T01", "stage": "contacted"},
            headers=recruiter,
        )
        assert r.status_code == 201, r.text

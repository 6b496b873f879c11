"""The service side of the ``matcher`` command, run as real processes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from .conftest import matcher_env


def _env(db_url: str, tmp_path, cache_dir) -> dict[str, str]:
    return matcher_env(db_url, tmp_path, cache_dir)


def _matcher(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "matcher", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_keys_create_list_revoke(db_url, tmp_path, cache_dir):
    env = _env(db_url, tmp_path, cache_dir)
    r = _matcher(
        "keys",
        "create",
        "--role",
        "recruiter",
        "--name",
        "招商一科",
        "--rate-per-min",
        "90",
        env=env,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip()
    assert key.startswith("smk_") and len(key) > 40 and "shown once" in r.stderr
    r = _matcher("keys", "list", env=env, cwd=tmp_path)
    assert "recruiter" in r.stdout and key not in r.stdout and "active" in r.stdout
    assert "90/min" in r.stdout
    assert "招商一科" in r.stdout  # who holds the key: it was left out
    key_id = r.stdout.split()[0]
    assert _matcher("keys", "revoke", key_id, env=env, cwd=tmp_path).returncode == 0
    assert "revoked" in _matcher("keys", "list", env=env, cwd=tmp_path).stdout
    r = _matcher("keys", "create", "--role", "company", env=env, cwd=tmp_path)
    assert r.returncode == 2 and "--company-id" in r.stderr


def test_reindex_builds_then_reports_current(db_url, tmp_path, cache_dir):
    env = _env(db_url, tmp_path, cache_dir)
    r = _matcher("reindex", env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "built" in r.stdout and "12 companies, 3 scenarios" in r.stdout
    r = _matcher("reindex", env=env, cwd=tmp_path)
    assert "index loaded" in r.stdout
    r = _matcher("reindex", "--full", env=env, cwd=tmp_path)
    assert "built" in r.stdout


@pytest.mark.slow
def test_serve_answers_health_and_stops_cleanly(db_url, tmp_path, cache_dir):
    env = _env(db_url, tmp_path, cache_dir)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "matcher", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        body = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
                    body = json.loads(resp.read())
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        assert body is not None, proc.stdout.read() if proc.poll() is not None else "no answer"
        assert body["companies"] == 12 and body["status"] == "ok"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/scenarios", timeout=5)
        assert err.value.code == 401
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells why
    assert proc.returncode in (0, -15), out
    assert "Application shutdown complete" in out
    assert (tmp_path / "index" / "manifest.json").exists()


def test_serve_without_seed_files_says_what_to_do(tmp_path, cache_dir):
    env = _env(f"sqlite:///{tmp_path / 'm.db'}", tmp_path, cache_dir)
    env["MATCHER_SEED_CATALOGUE"] = str(tmp_path / "missing.yaml")
    r = _matcher("serve", "--port", "1", env=env, cwd=tmp_path)
    assert r.returncode == 2 and "MATCHER_SEED_CATALOGUE" in r.stderr

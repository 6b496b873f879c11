"""Disk full or an unwritable index folder (ENOSPC / EACCES injected into the index's write
path; tests run as root, so permissions alone would block nothing): acknowledged writes are
served from memory, the previous saved copy stays whole, the error is reported, and the next
save after the fault clears succeeds."""

from __future__ import annotations

import errno
import json
import os
import time

import pytest
from fastapi.testclient import TestClient

from matcher import persist
from matcher.engine import Engine
from service.app import create_app

from .conftest import make_keys, make_settings
from .test_scenarios import ok


def _health_until(client, check, timeout_s: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        health = ok(client.get("/health"))
        if check(health):
            return health
        assert time.monotonic() < deadline, health
        time.sleep(0.1)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_a_failing_disk_keeps_serving_and_the_old_index_whole(
    code, tmp_path, cache_dir, monkeypatch
):
    settings = make_settings(f"sqlite:///{tmp_path / 'm.db'}", tmp_path, cache_dir)
    with TestClient(create_app(settings)) as client:
        keys = make_keys(client.app)
        admin = keys.header("admin")
        saved = json.loads((settings.index_dir / "manifest.json").read_text("utf-8"))
        real_write = persist.write

        def failing(folder, *args):
            (folder / "partial.npy").write_bytes(b"half")  # the crash comes mid-write
            raise OSError(code, os.strerror(code), str(folder / "doc_vectors.npy"))

        monkeypatch.setattr(persist, "write", failing)
        body = {"name": "磁盘故障测试氢能公司", "description": "电解水制氢设备，碱性电解槽。"}
        made = ok(client.post("/companies", json=body, headers=admin), 201)
        health = _health_until(client, lambda h: h["save_error"])
        assert "failed" in health["save_error"] and str(settings.index_dir) in health["save_error"]
        assert health["saved_version"] < health["index_version"] == health["data_version"]
        # the write is served from memory, and the old saved copy is whole and alone
        r = client.post(
            "/search",
            json={"text": "碱性电解槽 制氢", "top_k": 3},
            headers=keys.header("recruiter"),
        )
        assert made["company"]["id"] in [m["company_id"] for m in ok(r)["data"]]
        assert json.loads((settings.index_dir / "manifest.json").read_text("utf-8")) == saved
        assert sorted(p.name for p in settings.index_dir.parent.iterdir() if "index" in p.name) == [
            "index",
            "index.state.json",
        ]
        Engine.load(settings.index_dir)  # still a complete index
        monkeypatch.setattr(persist, "write", real_write)
        ok(client.post("/companies", json={**body, "name": "磁盘恢复测试公司"}, headers=admin), 201)
        health = _health_until(client, lambda h: h["save_error"] is None)
        assert health["saved_version"] == health["data_version"]

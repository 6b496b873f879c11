"""Erasure: after ``DELETE /companies/{id}`` and another nightly run, nothing the service keeps
holds the firm's profile or contact data; history shows a tombstone."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from matcher.encode.cache import EmbeddingCache
from service import nightly, store
from service.app import create_app

from .conftest import make_keys, make_settings
from .test_scenarios import ok
from .test_ui_pages import sign_in


def _firm() -> tuple[str, dict]:
    """A marker string new to this test (erased cache keys stay tombstoned for a week, so a
    text erased by an earlier test would not be cached again) and a firm carrying it."""
    marker = f"QZX{secrets.token_hex(4).upper()}QZX"
    return marker, {
        "id": "ERASEME",
        "name": f"{marker}视觉检测有限公司",
        "description": (
            f"工业视觉质检{marker}：AOI 光学检测设备、深度学习缺陷检测与产线质检系统。"
            f"第二句：为电子制造和汽车零部件工厂提供在线检测{marker}。"
        ),
        "city": "晋江",
        "contact": {"name": f"联系人{marker}", "email": f"{marker.lower()}@example.com"},
    }


def _run(client) -> dict:
    holder, settings = client.app.state.holder, client.app.state.settings
    row = nightly.start_row(holder.sessions, "local", "test")
    out = nightly.run(settings, holder.sessions, row)
    assert out.status == "done", out.error
    return {"id": out.id, "run_id": out.run_id, "diff": out.diff}


def _files_holding(folder: Path, *needles: str) -> list[str]:
    found = []
    for p in folder.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            for n in needles:
                if n.encode() in data or n.lower().encode() in data:
                    found.append(f"{p.relative_to(folder)}: {n}")
    return found


def _rows_holding(client, needle: str) -> list[str]:
    """Every table, every row, as text (PostgreSQL: the files are the server's)."""
    found = []
    with client.app.state.sessions() as s:
        for table in inspect(s.get_bind()).get_table_names():
            for row in s.execute(text(f'SELECT * FROM "{table}"')):
                if needle in str(tuple(row)) or needle.lower() in str(tuple(row)):
                    found.append(f"{table}: {str(tuple(row))[:120]}")
    return found


def _wait_erased(client) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        health = ok(client.get("/health"))
        if health["erasures_pending"] == 0:
            return health
        time.sleep(0.2)
    raise AssertionError(f"erasure still pending: {health}")


def test_a_deleted_firm_leaves_nothing_behind(db_url, tmp_path, cache_dir):
    marker, firm = _firm()
    folder = tmp_path / "svc"
    settings = make_settings(db_url, folder, cache_dir)
    with TestClient(create_app(settings)) as client:
        keys = make_keys(client.app)
        admin = keys.header("admin")
        holder = client.app.state.holder
        _run(client)  # a first run without the firm, so the next one's diff names it
        ok(client.post("/companies", json=firm, headers=admin), 201)
        ok(
            client.post(
                "/feedback",
                json={
                    "scenario_id": "S2",
                    "company_id": "ERASEME",
                    "stage": "contacted",
                    "note": f"约了{marker}",
                },
                headers=keys.header("recruiter"),
            ),
            201,
        )
        assert client.get("/scenarios/S2/matches.csv", headers=admin).status_code == 200
        second = _run(client)
        entered = second["diff"]["scenarios"]["S2"]["entered"]
        assert any(e["company_id"] == "ERASEME" for e in entered), second["diff"]
        assert _files_holding(folder, marker)  # the batch folder held it
        company = holder.engine.companies_["ERASEME"].company
        cache_keys = holder.text_keys([company])
        fingerprint = holder.engine.encoder.fingerprint
        assert cache_keys and all(
            holder.engine.encoder.cache.get(fingerprint, k) is not None for k in cache_keys
        )

        assert client.delete("/companies/ERASEME", headers=admin).status_code == 204
        _wait_erased(client)
        third = _run(client)
        _wait_erased(client)

        # the service's files: the index, its saved copies, the batch folder, models, logs
        assert _files_holding(folder, marker, "ERASEME") == []
        # the database: the SQLite file and its log, or every row on PostgreSQL
        if db_url.startswith("sqlite"):
            db_file = Path(db_url.split("///", 1)[1])
            for f in db_file.parent.glob(db_file.name + "*"):
                assert marker.encode() not in f.read_bytes(), f.name
                assert marker.lower().encode() not in f.read_bytes(), f.name
        assert _rows_holding(client, marker) == []
        # cache keys and index ids are gone
        assert all(holder.engine.encoder.cache.get(fingerprint, k) is None for k in cache_keys)
        fresh = EmbeddingCache(cache_dir)
        assert all(fresh.get(fingerprint, k) is None for k in cache_keys)
        listed = b"".join(p.read_bytes() for p in Path(cache_dir).glob("*.keys.json"))
        assert not any(k.encode() in listed for k in cache_keys)
        assert "ERASEME" not in holder.engine.companies_
        # history keeps a tombstone: the run diffs (API and run page) name it, not the firm
        with holder.sessions() as s:
            label = store.tombstones(s, ["ERASEME"])["ERASEME"].label
        run = ok(client.get(f"/batch/runs/{second['id']}", headers=admin))
        assert marker not in str(run["diff"]) and label in str(run["diff"])
        page = sign_in(client, keys.recruiter).get(f"/ui/runs/{second['id']}")
        assert page.status_code == 200 and marker not in page.text and label in page.text
        left = third["diff"]["scenarios"].get("S2", {}).get("left", [])
        assert [e["name"] for e in left if e["company_id"].startswith("deleted-")] == [label]
        assert client.get("/companies/ERASEME", headers=admin).status_code == 404


def test_a_run_in_progress_drops_a_firm_deleted_meanwhile(db_url, tmp_path, cache_dir):
    """The batch folder is held by a run: the deletion's cleaning of it waits, and the run
    erases the firm itself before it finishes."""
    marker, firm = _firm()
    folder = tmp_path / "svc"
    settings = make_settings(db_url, folder, cache_dir)
    with TestClient(create_app(settings)) as client:
        keys = make_keys(client.app)
        admin = keys.header("admin")
        ok(client.post("/companies", json=firm, headers=admin), 201)
        _run(client)
        with nightly.exclusive(settings.batch_dir):  # as a run in progress holds it
            assert client.delete("/companies/ERASEME", headers=admin).status_code == 204
            time.sleep(0.5)
            assert ok(client.get("/health"))["erasures_pending"] == 1
            assert _files_holding(settings.batch_dir, marker)
        _run(client)  # the next run's end erases what the held folder kept
        _wait_erased(client)
        assert _files_holding(folder, marker, "ERASEME") == []
        with client.app.state.sessions() as s:
            assert s.scalars(select(store.ErasureRow.done_at)).all()

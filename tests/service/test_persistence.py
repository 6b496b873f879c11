"""The database is the source of truth: restarts, stale or missing indexes, migrations,
and concurrent writers with readers."""

from __future__ import annotations

import shutil
import threading

from fastapi.testclient import TestClient

from service.app import create_app

from .conftest import make_keys, make_settings
from .test_scenarios import ok

PROFILE = {
    "name": "重启测试氢能有限公司",
    "description": "质子交换膜电解水制氢设备与加氢站运营，电解槽单槽产氢1000标方每小时。",
}


def _search(client, keys, text: str) -> list[str]:
    r = client.post("/search", json={"text": text, "top_k": 5}, headers=keys.header("recruiter"))
    return [m["company_id"] for m in ok(r)["data"]]


def test_profile_survives_restart_and_stale_index_is_repaired(db_url, tmp_path, cache_dir):
    settings = make_settings(db_url, tmp_path, cache_dir, save_delay_s=3600)
    with TestClient(create_app(settings)) as client:
        keys = make_keys(client.app)
        ok(
            client.post("/companies", json={**PROFILE, "id": "P1"}, headers=keys.header("admin")),
            201,
        )
        assert "P1" in _search(client, keys, "电解水制氢 加氢站")
        version = ok(client.get("/health"))["data_version"]
    # a clean stop saved the index with the version it reflects
    state = settings.state_file.read_text()
    assert f'"version": {version}' in state

    with TestClient(create_app(settings)) as client:
        keys = make_keys(client.app)
        assert "P1" in _search(client, keys, "电解水制氢 加氢站")
        # simulate a crash after a write: the database has it, the saved index does not
        holder = client.app.state.holder
        saved = settings.index_dir.parent / "saved-copy"
        shutil.copytree(settings.index_dir, saved)
        state_before = settings.state_file.read_text()
        ok(
            client.post(
                "/companies",
                json={
                    **PROFILE,
                    "id": "P2",
                    "name": "第二家氢能有限公司",
                    "description": "固体氧化物燃料电池热电联供系统。",
                },
                headers=keys.header("admin"),
            ),
            201,
        )
        assert client.delete("/companies/P1", headers=keys.header("admin")).status_code == 204
        holder._stop.set()  # no saving from here on, as if the process were killed
        holder._save_wanted.set()
        holder._saver.join(timeout=5)
        holder.save = lambda: None
    shutil.rmtree(settings.index_dir)
    shutil.copytree(saved, settings.index_dir)
    settings.state_file.write_text(state_before)

    with TestClient(create_app(settings)) as client:
        keys = make_keys(client.app)
        found = _search(client, keys, "固体氧化物燃料电池 热电联供")
        assert found[0] == "P2"
        assert "P1" not in _search(client, keys, "电解水制氢 加氢站")
        health = ok(client.get("/health"))
        assert health["data_version"] == health["index_version"]


def test_missing_or_broken_index_is_rebuilt(db_url, tmp_path, cache_dir):
    settings = make_settings(db_url, tmp_path, cache_dir)
    with TestClient(create_app(settings)) as client:
        n = ok(client.get("/health"))["companies"]
    (settings.index_dir / "doc_vectors.npy").write_bytes(b"garbage")
    with TestClient(create_app(settings)) as client:
        assert ok(client.get("/health"))["companies"] == n
        keys = make_keys(client.app)
        assert _search(client, keys, "储能")
    shutil.rmtree(settings.index_dir)
    with TestClient(create_app(settings)) as client:
        assert ok(client.get("/health"))["companies"] == n


def test_migrations_match_the_models(db_url, tmp_path, cache_dir):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from service.db import make_db, migrate
    from service.models import Base

    db = make_db(db_url)
    try:
        migrate(db)
        migrate(db)  # idempotent
        with db.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        db.dispose()


def test_concurrent_writers_and_readers_stay_consistent(db_url, tmp_path, cache_dir):
    settings = make_settings(db_url, tmp_path, cache_dir)
    errors: list[str] = []
    with TestClient(create_app(settings)) as client:
        keys = make_keys(client.app)

        def writer(k: int) -> None:
            for j in range(4):
                body = {
                    "id": f"W{k}{j}",
                    "name": f"并发写入{k}{j}号有限公司",
                    "description": f"并发测试企业{k}{j}：光伏逆变器与储能变流器生产。",
                }
                r = client.post("/companies", json=body, headers=keys.header("admin"))
                if r.status_code != 201:
                    errors.append(f"write {r.status_code} {r.text[:200]}")
                if j % 2:
                    r = client.post(
                        "/feedback",
                        json={
                            "scenario_id": "S1",
                            "company_id": body["id"],
                            "stage": "shortlisted",
                        },
                        headers=keys.header("recruiter"),
                    )
                    if r.status_code != 201:
                        errors.append(f"feedback {r.status_code}")

        def reader() -> None:
            for _ in range(10):
                for url in ("/scenarios/S1/matches?top_k=20", "/companies/T01/suggestions"):
                    r = client.get(url, headers=keys.header("recruiter"))
                    if r.status_code != 200:
                        errors.append(f"read {r.status_code} {r.text[:200]}")

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
        threads += [threading.Thread(target=reader) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        holder = client.app.state.holder
        from service import store

        with holder.sessions() as s:
            db_ids = {c.id for c in store.all_companies(s)}
        assert db_ids == set(holder.engine.companies_)
        assert {f"W{k}{j}" for k in range(3) for j in range(4)} <= db_ids
        health = ok(client.get("/health"))
        assert health["data_version"] == health["index_version"]


def test_an_index_built_elsewhere_is_adopted_and_served_after_restart(db_url, tmp_path, cache_dir):
    """``IndexHolder.adopt``: an engine built outside the service (a registry's vectors, a
    benchmark) replaces the index, is saved with the database's version, and the next start
    loads it as is; one that misses a firm is refused."""
    from dataclasses import replace as dc_replace

    import pytest

    from matcher.config import EngineConfig
    from matcher.engine import Engine
    from matcher.errors import ConfigError
    from service import store

    settings = make_settings(db_url, tmp_path, cache_dir)
    with TestClient(create_app(settings)) as client:
        holder = client.app.state.holder
        with holder.sessions() as s:
            scenarios, companies = store.live_scenarios(s), store.all_companies(s)
        config = dc_replace(EngineConfig(), candidates=123)
        with pytest.raises(ConfigError, match="other firms"):
            holder.adopt(Engine(config, cache_dir=cache_dir).fit(scenarios, companies[1:]))
        built = Engine(config, cache_dir=cache_dir).fit(scenarios, companies)
        holder.adopt(built)
        assert holder.engine is built
        keys = make_keys(client.app)
        assert _search(client, keys, "储能")
    with TestClient(create_app(settings)) as client:
        engine = client.app.state.holder.engine
        assert engine is not None and engine.config.candidates == 123
        health = ok(client.get("/health"))
        assert health["data_version"] == health["index_version"]

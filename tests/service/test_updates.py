"""Changing a registered firm: fields a write leaves out stay, ``null`` / ``(清空)`` clear; one
rule for who may change it; an import is all or nothing; start-up repair compares ids."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from matcher.creditcode import check_char
from service import store
from service.app import create_app
from service.db import transaction
from service.profiles import ProfilePatch

from .conftest import make_keys, make_settings
from .test_scenarios import ok


def code(body17: str) -> str:
    return body17 + check_char(body17)


FULL = {
    "name": "晋江更新测试科技有限公司",
    "description": "工业机器人与数控机床集成，为鞋服工厂提供自动化产线改造。",
    "industry_codes": ["3491", "3421"],
    "city": "晋江",
    "founded": 2015,
    "employees": 17,
    "registered_capital_wan": 2000,
    "products": ["六轴机器人", "数控机床"],
    "contact": {"name": "林经理", "phone": "13905950000", "email": "lin@example.com"},
}


def _csv(rows: list[dict[str, str]], header: list[str]) -> dict:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header)
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return {"file": ("firms.csv", io.BytesIO(buf.getvalue().encode("utf-8")), "text/csv")}


def _stored(client, keys, cid: str) -> dict:
    return ok(client.get(f"/companies/{cid}", headers=keys.header("admin")))


def _firm(client, keys, cid: str, credit: str) -> dict:
    return ok(
        client.post(
            "/companies",
            json={**FULL, "id": cid, "credit_code": credit},
            headers=keys.header("admin"),
        ),
        201,
    )


def test_import_without_some_columns_keeps_those_fields(client, keys):
    cc = code("91350582MA2U00010")
    _firm(client, keys, "U01", cc)
    rows = [{"credit_code": cc, "name": FULL["name"], "description": "新简介：协作机器人。"}]
    report = ok(
        client.post(
            "/companies/import",
            files=_csv(rows, ["credit_code", "name", "description"]),
            headers=keys.header("admin"),
        )
    )
    assert report["updated"] == 1 and report["data"][0]["changed"] == ["description"]
    firm = _stored(client, keys, "U01")
    assert firm["description"] == "新简介：协作机器人。" and firm["version"] == 2
    assert firm["industry_codes"] == ["3491", "3421"]
    assert firm["founded"] == 2015 and firm["employees"] == 17
    assert firm["contact"] == FULL["contact"]


def test_import_empty_cell_keeps_and_clear_token_clears(client, keys):
    cc = code("91350582MA2U00020")
    _firm(client, keys, "U02", cc)
    header = [
        "统一社会信用代码",
        "企业名称",
        "企业简介",
        "成立年份",
        "员工人数",
        "行业代码",
        "邮箱",
        "电话",
    ]
    rows = [
        {
            "统一社会信用代码": cc,
            "企业名称": "",
            "企业简介": "",
            "成立年份": "",
            "员工人数": "(清空)",
            "行业代码": "（清空）",
            "邮箱": "(清空)",
            "电话": "",
        }
    ]
    report = ok(
        client.post("/companies/import", files=_csv(rows, header), headers=keys.header("admin"))
    )
    row = report["data"][0]
    assert row["status"] == "updated", row
    assert sorted(row["changed"]) == ["contact.email", "employees", "industry_codes"]
    firm = _stored(client, keys, "U02")
    assert firm["name"] == FULL["name"] and firm["description"] == FULL["description"]
    assert firm["founded"] == 2015 and firm["employees"] is None and firm["industry_codes"] == []
    assert firm["contact"] == {"name": "林经理", "phone": "13905950000"}


def test_post_by_credit_code_and_put_change_only_what_they_carry(client, keys):
    cc = code("91350582MA2U00030")
    _firm(client, keys, "U03", cc)
    admin = keys.header("admin")
    body = ok(
        client.post(
            "/companies",
            json={"name": FULL["name"], "description": "只改简介。", "credit_code": cc},
            headers=admin,
        )
    )
    assert body["updated_existing"] and body["changed_fields"] == ["description"]
    firm = _stored(client, keys, "U03")
    assert firm["industry_codes"] == ["3491", "3421"] and firm["contact"] == FULL["contact"]
    # PUT: left out = unchanged, null = cleared, contact merged field by field
    body = ok(
        client.put(
            "/companies/U03",
            json={"employees": None, "city": "泉州", "contact": {"email": "new@example.com"}},
            headers=admin,
        )
    )
    assert sorted(body["changed_fields"]) == ["city", "contact.email", "employees"]
    firm = _stored(client, keys, "U03")
    assert firm["employees"] is None and firm["city"] == "泉州" and firm["founded"] == 2015
    assert firm["contact"] == {**FULL["contact"], "email": "new@example.com"}
    assert firm["description"] == "只改简介。"
    ok(client.put("/companies/U03", json={"contact": None}, headers=admin))
    assert _stored(client, keys, "U03")["contact"] is None
    # a required field cannot be cleared
    r = client.put("/companies/U03", json={"name": None}, headers=admin)
    assert r.status_code == 422 and "cannot be cleared" in r.text
    # nothing sent: nothing changes, no new version
    before = _stored(client, keys, "U03")["version"]
    body = ok(client.put("/companies/U03", json={}, headers=admin))
    assert body["changed_fields"] == [] and body["company"]["version"] == before


def test_portal_form_emptied_input_clears(client, keys):
    # the company key speaks for T01, a seeded firm with city, capital and space needed
    from .test_ui_pages import csrf_of, sign_in

    ui = sign_in(client, keys.company)
    form = {
        "csrf": csrf_of(ui, "/ui/portal"),
        "name": "泉州储能科技有限公司",
        "description": "储能系统集成：储能变流器PCS、电池管理系统BMS和园区微电网能量管理平台。",
        "city": "",  # emptied
        "registered_capital_wan": "5000",
    }
    r = ui.post("/ui/portal", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    firm = _stored(client, keys, "T01")
    assert firm["city"] is None and firm["space_needed_m2"] is None  # not in the form: cleared
    assert firm["registered_capital_wan"] == 5000


def test_one_rule_for_who_may_change_a_registered_firm(client, keys):
    cc = code("91350582MA2U00040")
    _firm(client, keys, "U04", cc)
    recruiter = keys.header("recruiter")
    # POST with a registered credit code, as a recruiter: refused, nothing stored
    r = client.post(
        "/companies",
        json={"name": "改名公司", "description": "x" * 10, "credit_code": cc},
        headers=recruiter,
    )
    assert r.status_code == 403, r.text
    assert "only an admin or the firm's own key" in r.json()["detail"]["message"]
    assert _stored(client, keys, "U04")["name"] == FULL["name"]
    # a recruiter's import: new firms are added, a row changing a registered firm is refused
    header = ["id", "name", "description", "contact_email"]
    rows = [
        {"id": "U04", "name": "改名公司", "description": FULL["description"], "contact_email": ""},
        {
            "id": "U05",
            "name": "新增企业",
            "description": "新增企业的简介文字。",
            "contact_email": "",
        },
        {"id": "U04", "name": FULL["name"], "description": "", "contact_email": ""},
    ]
    report = ok(client.post("/companies/import", files=_csv(rows[:2], header), headers=recruiter))
    by_row = {r["row"]: r for r in report["data"]}
    assert by_row[2]["status"] == "rejected" and "only an admin" in by_row[2]["reason"]
    assert by_row[3]["status"] == "imported"
    assert _stored(client, keys, "U04")["name"] == FULL["name"]
    # a row that changes nothing is no change: allowed
    report = ok(client.post("/companies/import", files=_csv(rows[2:], header), headers=recruiter))
    assert report["data"][0]["status"] == "unchanged"
    # the firm's own key may; another firm's key gets 409 that does not name the holder
    r = client.put("/companies/T01", json={"credit_code": cc}, headers=keys.header("company"))
    assert r.status_code == 409 and "U04" not in r.text
    r = client.post(
        "/companies",
        json={"name": "x公司", "description": "y" * 10, "credit_code": cc},
        headers=keys.header("other_company"),
    )
    assert r.status_code == 409 and "U04" not in r.text


def test_failed_import_stores_nothing_and_index_agrees(client, keys, monkeypatch):
    holder = client.app.state.holder
    before = ok(client.get("/health"))["companies"]
    real = store.save_company
    calls = {"n": 0}

    def failing(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 4:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real(*args, **kw)

    monkeypatch.setattr(store, "save_company", failing)
    header = ["id", "name", "description"]
    rows = [
        {"id": f"FAIL{i}", "name": f"失败导入{i}号公司", "description": f"第{i}行的企业简介。"}
        for i in range(8)
    ]
    r = client.post("/companies/import", files=_csv(rows, header), headers=keys.header("admin"))
    assert r.status_code == 503, r.text
    monkeypatch.undo()
    with holder.sessions() as s:
        ids = set(store.company_ids(s))
    assert not {f"FAIL{i}" for i in range(8)} & ids
    assert ids == set(holder.engine.companies_)
    assert ok(client.get("/health"))["companies"] == before == len(ids)


def test_import_holds_the_write_lock_to_the_end(client, keys, monkeypatch):
    """Another writer arriving mid-import (SQLite) cannot take the database between rows: the
    import's rows commit together, the other writer waits or fails, never splits the batch."""
    url = client.app.state.settings.database_url
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's write lock; PostgreSQL rows are isolated by MVCC")
    path = url.split("///", 1)[1]
    real = store.save_company
    calls = {"n": 0}
    outcome: dict[str, object] = {}

    def other_writer() -> None:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO meta(key, value) VALUES ('intruder', '1')")
            outcome["other"] = "took the lock"
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            outcome["other"] = str(exc)
        finally:
            conn.close()

    def interleaved(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            t = threading.Thread(target=other_writer)
            t.start()
            t.join()
        return real(*args, **kw)

    monkeypatch.setattr(store, "save_company", interleaved)
    header = ["id", "name", "description"]
    rows = [
        {"id": f"LOCK{i}", "name": f"加锁导入{i}号公司", "description": f"第{i}行的企业简介。"}
        for i in range(6)
    ]
    report = ok(
        client.post("/companies/import", files=_csv(rows, header), headers=keys.header("admin"))
    )
    assert report["imported"] == 6
    assert outcome["other"] == "database is locked"
    holder = client.app.state.holder
    with holder.sessions() as s:
        ids = set(store.company_ids(s))
    assert {f"LOCK{i}" for i in range(6)} <= ids and ids == set(holder.engine.companies_)


def test_start_up_repairs_firms_the_index_lacks_even_at_equal_versions(db_url, tmp_path, cache_dir):
    settings = make_settings(db_url, tmp_path, cache_dir)
    with TestClient(create_app(settings)) as client:
        make_keys(client.app)
        ok(client.get("/health"))
        # a row committed without a version bump (what a half-failed import left behind)
        with transaction(client.app.state.sessions) as s:
            store.save_company(
                s,
                "ORPHAN",
                ProfilePatch({"name": "孤儿企业有限公司", "description": "未进入索引的企业。"}),
                "test",
                mode="upsert",
            )
    with TestClient(create_app(settings)) as client:
        health = ok(client.get("/health"))
        assert "ORPHAN" in client.app.state.holder.engine.companies_
        with client.app.state.sessions() as s:
            assert health["companies"] == len(store.company_ids(s))


def test_portal_saves_a_change_beside_an_older_invalid_phone(client, keys):
    """Only the inputs the firm changed are validated: a phone stored before phones were
    checked (the bundled data has some) does not block saving another field."""
    from .test_ui_pages import csrf_of, sign_in

    with transaction(client.app.state.sessions) as s:
        store.save_company(
            s, "T01", ProfilePatch(contact={"phone": "+00 123"}), "test", mode="update"
        )
    ui = sign_in(client, keys.company)
    page = ui.get("/ui/portal").text
    assert "+00 123" in page
    form = dict(re.findall(r'name="([a-z_]+)" type="[a-z]+" value="([^"]*)"', page))
    form.update(
        {
            "csrf": csrf_of(ui, "/ui/portal"),
            "description": "储能系统集成与园区微电网，新增虚拟电厂聚合运营。",
            "contact_phone": "+00 123",
        }
    )
    r = ui.post("/ui/portal", data=form, follow_redirects=False)
    assert r.status_code == 303, re.findall(r'id="e-(\w+)">([^<]*)', r.text)
    firm = _stored(client, keys, "T01")
    assert firm["description"].endswith("虚拟电厂聚合运营。")
    assert firm["contact"]["phone"] == "+00 123"
    # changing the phone itself to another invalid one is refused, under the field
    form["contact_phone"] = "+00 999"
    r = ui.post("/ui/portal", data=form, follow_redirects=False)
    assert r.status_code == 422

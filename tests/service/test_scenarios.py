"""Recruiter flow: catalogue tree, ranked firms with filters and paging, exports, controls,
and the admin's scenario lifecycle and catalogue upload."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from service import exports

from ..conftest import FIXTURES


def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


def test_catalogue_is_a_tree(client, keys):
    body = ok(client.get("/scenarios", headers=keys.header("company")))
    assert body["count"] == 2 and body["opportunities"] == 3
    tree = {c["id"]: [o["id"] for o in c["opportunities"]] for c in body["data"]}
    assert tree == {"C1": ["S1", "S3"], "C2": ["S2"]}
    s3 = next(o for c in body["data"] for o in c["opportunities"] if o["id"] == "S3")
    assert s3["status"] == "closed" and s3["title_zh"]


def test_matches_carry_parts_and_explanations(client, keys):
    body = ok(client.get("/scenarios/S1/matches?top_k=5", headers=keys.header("recruiter")))
    assert body["count"] == 5 and [m["rank"] for m in body["data"]] == [1, 2, 3, 4, 5]
    first = body["data"][0]
    assert first["company_id"] == "T01"
    assert set(first["parts"]) >= {"dense", "lexical", "industry", "structured"}
    assert first["explanation"]["summary"] and first["explanation"]["matched_terms"]
    scores = [m["score"] for m in body["data"]]
    assert scores == sorted(scores, reverse=True)


def test_paging_continues_the_same_ranking(client, keys):
    h = keys.header("recruiter")
    whole = [
        m["company_id"] for m in ok(client.get("/scenarios/S1/matches?top_k=6", headers=h))["data"]
    ]
    p1 = [
        m["company_id"]
        for m in ok(client.get("/scenarios/S1/matches?top_k=3&page=1", headers=h))["data"]
    ]
    p2 = [
        m["company_id"]
        for m in ok(client.get("/scenarios/S1/matches?top_k=3&page=2", headers=h))["data"]
    ]
    assert p1 + p2 == whole


def test_filters_apply(client, keys):
    h = keys.header("recruiter")
    body = ok(client.get("/scenarios/S1/matches?city=晋江&top_k=20", headers=h))
    assert body["count"] > 0
    for m in body["data"]:
        firm = ok(client.get(f"/companies/{m['company_id']}", headers=h))
        assert firm["city"] == "晋江"
    body = ok(client.get("/scenarios/S1/matches?min_capital=5000&industry=38", headers=h))
    ids = {m["company_id"] for m in body["data"]}
    assert "T01" in ids and "T02" not in ids  # T02: 800 万元, no code
    assert ok(client.get("/scenarios/S1/matches?chain=upstream", headers=h))["count"] == 0
    body = ok(client.get("/scenarios/S1/matches?cert=高新技术企业&top_k=20", headers=h))
    assert body["count"] > 0
    for m in body["data"]:
        firm = ok(client.get(f"/companies/{m['company_id']}", headers=h))
        assert "高新技术企业" in firm["certifications"]


@pytest.mark.parametrize(
    "query,field",
    [
        ("top_k=0", "top_k"),
        ("top_k=abc", "top_k"),
        ("page=0", "page"),
        ("industry=3x", "industry"),
        ("chain=sideways", "chain"),
        ("min_capital=-1", "min_capital"),
        ("space_min=500&space_max=100", "space_min_m2"),
    ],
)
def test_bad_match_queries_name_the_field(client, keys, query, field):
    r = client.get(f"/scenarios/S1/matches?{query}", headers=keys.header("recruiter"))
    assert r.status_code == 422
    assert field in r.json()["detail"]["message"]


def test_unknown_and_closed_scenarios(client, keys):
    h = keys.header("recruiter")
    assert client.get("/scenarios/NOPE/matches", headers=h).status_code == 404
    r = client.get("/scenarios/S3/matches", headers=h)
    assert r.status_code == 409 and "closed" in r.json()["detail"]["message"]
    assert client.get("/scenarios/C1/matches", headers=h).status_code == 404  # a composite


def test_csv_export_opens_in_excel(client, keys):
    r = client.get("/scenarios/S1/matches.csv?top_k=5", headers=keys.header("recruiter"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    first = r.content.decode("utf-8-sig").splitlines()[0]
    assert (
        first.startswith("# 场景：S1 ") and "行数：5（已达上限" in first and "筛选条件：无" in first
    )
    rows = exports.read_csv(r.content)
    assert rows[0][:4] == ["排名", "企业ID", "企业名称", "总分"]
    assert {"跟进阶段", "行业代码", "所需空间(m²)", "拟投资(亿元)", "企业意向"} <= set(rows[0])
    assert len(rows) == 6 and rows[1][1] == "T01" and rows[1][2] == "泉州储能科技有限公司"
    assert 'filename="S1-matches.csv"' in r.headers["content-disposition"]


def test_xlsx_export_has_the_same_rows(client, keys):
    h = keys.header("recruiter")
    r = client.get("/scenarios/S1/matches.xlsx?top_k=5", headers=h)
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][:3] == ["排名", "企业ID", "企业名称"]
    ranked = [
        m["company_id"] for m in ok(client.get("/scenarios/S1/matches?top_k=5", headers=h))["data"]
    ]
    assert [row[1] for row in values[1:]] == ranked


def test_pin_exclude_like_are_kept_and_applied(client, keys):
    h = keys.header("recruiter")
    base = [
        m["company_id"] for m in ok(client.get("/scenarios/S1/matches?top_k=12", headers=h))["data"]
    ]
    last = base[-1]
    ok(
        client.post(
            "/scenarios/S1/controls", json={"company_id": last, "action": "pin"}, headers=h
        ),
        201,
    )
    r = client.post(
        "/scenarios/S1/controls", json={"company_id": "T02", "action": "exclude"}, headers=h
    )
    assert r.status_code == 422 and "reason" in r.json()["detail"]["message"]
    ok(
        client.post(
            "/scenarios/S1/controls",
            json={"company_id": "T02", "action": "exclude", "reason": "外资暂不考虑"},
            headers=h,
        ),
        201,
    )
    body = ok(client.get("/scenarios/S1/matches?top_k=12", headers=h))
    ids = [m["company_id"] for m in body["data"]]
    assert ids[0] == last and body["data"][0]["pinned"] and "T02" not in ids
    controls = ok(client.get("/scenarios/S1/controls", headers=h))
    assert {(c["company_id"], c["action"]) for c in controls["data"]} >= {
        (last, "pin"),
        ("T02", "exclude"),
    }
    # pinning an excluded firm lifts the exclusion (they are exclusive)
    ok(
        client.post(
            "/scenarios/S1/controls", json={"company_id": "T02", "action": "pin"}, headers=h
        ),
        201,
    )
    actions = {
        (c["company_id"], c["action"])
        for c in ok(client.get("/scenarios/S1/controls", headers=h))["data"]
    }
    assert ("T02", "exclude") not in actions and ("T02", "pin") in actions
    for cid in (last, "T02"):
        assert client.delete(f"/scenarios/S1/controls/{cid}/pin", headers=h).status_code == 204
    assert client.delete("/scenarios/S1/controls/T02/pin", headers=h).status_code == 404
    after = [
        m["company_id"] for m in ok(client.get("/scenarios/S1/matches?top_k=12", headers=h))["data"]
    ]
    assert after == base
    r = client.post(
        "/scenarios/S1/controls", json={"company_id": "NOPE", "action": "like"}, headers=h
    )
    assert r.status_code == 404


def test_admin_scenario_lifecycle(client, keys):
    h = keys.header("admin")
    body = {
        "id": "S9",
        "parent_id": "C1",
        "title_zh": "园区分布式光伏",
        "description_zh": "利用厂房屋顶建设分布式光伏电站，寻求光伏组件与系统集成企业投资运营。",
        "keywords": ["分布式光伏", "光伏组件"],
        "industry_codes": ["3825"],
        "value_yi": 1.5,
    }
    created = ok(client.post("/scenarios", json=body, headers=h), 201)
    assert created["id"] == "S9" and created["status"] == "open"
    assert client.post("/scenarios", json=body, headers=h).status_code == 409
    assert ok(client.get("/scenarios/S9/matches", headers=h))["count"] > 0
    body.pop("id")
    ok(client.put("/scenarios/S9", json={**body, "status": "closed"}, headers=h))
    assert client.get("/scenarios/S9/matches", headers=h).status_code == 409
    ok(client.put("/scenarios/S9", json={**body, "status": "open"}, headers=h))
    assert ok(client.delete("/scenarios/S9", headers=h))["id"] == "S9"
    assert client.get("/scenarios/S9/matches", headers=h).status_code == 409
    tree = ok(client.get("/scenarios", headers=h))
    assert "S9" not in {o["id"] for c in tree["data"] for o in c["opportunities"]}
    tree = ok(client.get("/scenarios?include_retired=true", headers=h))
    assert {o["id"]: o["status"] for c in tree["data"] for o in c["opportunities"]}[
        "S9"
    ] == "retired"
    audit = ok(client.get("/audit?entity=scenario&entity_id=S9", headers=h))
    assert [a["action"] for a in reversed(audit["data"])] == [
        "create",
        "update",
        "update",
        "retire",
    ]
    bad = client.post("/scenarios", json={**body, "id": "S10", "parent_id": "NOPE"}, headers=h)
    assert bad.status_code == 422 and "parent_id" in bad.text


def _upload(client, keys, text: str, name: str = "catalogue.yaml"):
    files = {"file": (name, io.BytesIO(text.encode("utf-8")), "application/yaml")}
    return client.post("/scenarios/upload", files=files, headers=keys.header("admin"))


def test_catalogue_upload_is_all_or_nothing(client, keys):
    h = keys.header("admin")
    before = ok(client.get("/scenarios?include_retired=true", headers=h))
    text = (FIXTURES / "catalogue_small.yaml").read_text("utf-8")
    broken = text.replace("parent_id: C2", "parent_id: C9")
    r = _upload(client, keys, broken)
    assert r.status_code == 422 and "C9" in r.json()["detail"]["message"]
    assert ok(client.get("/scenarios?include_retired=true", headers=h)) == before
    r = _upload(client, keys, "version: 1\nzone: x\ncomposites: [\n")
    assert r.status_code == 422 and "cannot parse" in r.json()["detail"]["message"]
    assert _upload(client, keys, "").status_code == 422


def test_catalogue_upload_adds_updates_and_retires(client, keys):
    h = keys.header("admin")
    text = (FIXTURES / "catalogue_small.yaml").read_text("utf-8")
    # a new zone's catalogue: S2 renamed, S1 dropped, a larger set of new ones added
    import yaml

    doc = yaml.safe_load(text)
    s1 = next(o for o in doc["opportunities"] if o["id"] == "S1")
    doc["opportunities"] = [o for o in doc["opportunities"] if o["id"] != "S1"]
    for k in range(40):
        doc["opportunities"].append({**s1, "id": f"N{k:02d}", "title_zh": f"储能场景{k}"})
    next(o for o in doc["opportunities"] if o["id"] == "S2")["title_zh"] = "工业视觉质检（二期）"
    for o in doc["opportunities"]:
        o["published"] = str(o["published"])
    report = ok(_upload(client, keys, yaml.safe_dump(doc, allow_unicode=True)))
    assert report["opportunities"] == 42 and len(report["created"]) == 40
    assert report["updated"] == ["S2"] and report["retired"] == ["S1"]
    assert client.get("/scenarios/S1/matches", headers=h).status_code == 409
    assert ok(client.get("/scenarios/N39/matches?top_k=3", headers=h))["count"] == 3
    # and back: the original file re-opens S1 and retires the forty
    report = ok(_upload(client, keys, text))
    assert "S1" in report["updated"] and len(report["retired"]) == 40
    assert ok(client.get("/scenarios/S1/matches?top_k=3", headers=h))["count"] == 3


def test_exports_neutralise_cells_a_spreadsheet_would_run(client, keys):
    """Formula injection: a firm named ``=HYPERLINK(…)`` and contact fields starting with
    ``+``, ``-`` or ``@`` come out of CSV and XLSX exports as text (a leading apostrophe in
    CSV; text cells, never formulas, in XLSX, where ``+86 …`` stays as written)."""
    import openpyxl

    evil = '=HYPERLINK("http://evil.example","储能")'
    body = {
        "id": "EVIL1",
        "name": evil,
        "description": "工商业储能系统集成商，储能变流器PCS与电池管理系统BMS，园区微电网。",
        "contact": {"name": "@SUM(A1:A9)", "phone": "+8613900000000", "email": "-x@evil.example"},
    }
    ok(client.post("/companies", json=body, headers=keys.header("admin")), 201)
    h = keys.header("recruiter")
    r = client.get("/scenarios/S1/matches.csv?top_k=50", headers=h)
    table = exports.read_csv(r.content)
    row = next(x for x in table if x[1] == "EVIL1")
    assert row[2] == "'" + evil
    for value in body["contact"].values():
        assert "'" + value in row and value not in row
    assert not any(cell.startswith(("=", "+", "-", "@")) for x in table for cell in x)
    r = client.get("/scenarios/S1/matches.xlsx?top_k=50", headers=h)
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    cells = [c for line in sheet.iter_rows() for c in line if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    # a text cell is never a formula, so XLSX keeps the text as stored: no apostrophe
    assert all(c.data_type == "s" for c in cells if isinstance(c.value, str))
    values = [c.value for c in cells]
    assert evil in values and "'" + evil not in values
    assert all(v in values for v in body["contact"].values())
    assert client.delete("/companies/EVIL1", headers=keys.header("admin")).status_code == 204


@pytest.mark.parametrize("name", ["../../../etc/evil.yaml", "..\\..\\windows\\evil.yaml"])
def test_uploaded_file_names_are_never_paths(client, keys, name):
    """An upload's file name is only a label (errors name the file): directory parts, POSIX or
    Windows, are dropped, and nothing is written under the name."""
    r = _upload(client, keys, "version: 1\nzone: x\ncomposites: [\n", name)
    message = r.json()["detail"]["message"]
    assert r.status_code == 422 and "evil.yaml" in message and ".." not in message
    assert not Path("/etc/evil.yaml").exists() and not Path("evil.yaml").exists()

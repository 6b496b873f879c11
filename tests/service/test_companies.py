"""Company flow: submit with suggestions, versions, dedupe, deletion (erasure), bulk import."""

from __future__ import annotations

import codecs
import csv
import io

import pytest
from openpyxl import Workbook

from matcher.creditcode import check_char

from .test_scenarios import ok


def code(body17: str) -> str:
    return body17 + check_char(body17)


PROFILE = {
    "name": "厦门光储充科技有限公司",
    "description": "专注园区光储充一体化：储能变流器、电池管理系统和充电桩运营，已建成工商业储能电站20座。",
    "industry_codes": ["3841"],
    "city": "厦门",
    "registered_capital_wan": 3000,
    "contact": {"name": "王经理", "phone": "13800000000", "email": "wang@example.com"},
}


def test_submit_returns_profile_and_suggestions_and_is_searchable(client, keys):
    body = ok(
        client.post("/companies", json={**PROFILE, "id": "K01"}, headers=keys.header("recruiter")),
        201,
    )
    assert body["created"] and body["company"]["id"] == "K01" and body["company"]["version"] == 1
    assert body["suggestions"] and body["suggestions"][0]["scenario_id"] == "S1"
    assert body["suggestions"][0]["explanation"]["summary"]
    assert all(s["scenario_id"] != "S3" for s in body["suggestions"])  # closed: not suggested
    hits = ok(
        client.post(
            "/search", json={"text": "光储充一体化 充电桩运营"}, headers=keys.header("recruiter")
        )
    )
    assert "K01" in [m["company_id"] for m in hits["data"][:3]]
    again = ok(client.get("/companies/K01/suggestions", headers=keys.header("admin")))
    assert [m["scenario_id"] for m in again["data"]] == [
        m["scenario_id"] for m in body["suggestions"]
    ]


def test_english_profile_matches_chinese_scenario(client, keys):
    body = ok(
        client.post(
            "/companies",
            json={
                "id": "K02",
                "name": "Nordic Isotope Labs",
                "description": "We operate cyclotrons and produce fluorine-18 and gallium-68 radiopharmaceuticals "
                "for PET imaging, with a regional radiopharmacy distribution network.",
            },
            headers=keys.header("admin"),
        ),
        201,
    )
    # S3 (isotopes) is closed, so the firm is matched against the open ones only; search finds it
    hits = ok(
        client.post(
            "/search",
            json={"text": "医用同位素 放射性药物 回旋加速器"},
            headers=keys.header("recruiter"),
        )
    )
    assert "K02" in [m["company_id"] for m in hits["data"][:3]]
    # the one scenario it fits (S3) is closed; open ones are suggested only above the fit
    # threshold, so no unrelated scenario fills the list
    assert "S3" not in [m["scenario_id"] for m in body["suggestions"]]
    assert all(m["score"] >= 0.2 for m in body["suggestions"])


def test_company_key_submits_and_edits_only_its_own_profile(client, keys):
    h = keys.header("other_company")
    r = client.post(
        "/companies", json={**PROFILE, "name": "新一科技有限公司", "id": "K99"}, headers=h
    )
    assert r.status_code == 403
    body = ok(
        client.post("/companies", json={**PROFILE, "name": "新一科技有限公司"}, headers=h), 201
    )
    assert body["company"]["id"] == "NEW1"
    assert body["company"]["contact"]["phone"] == "13800000000"  # its own contact data
    assert body["possible_duplicates"] == []  # other firms' names are not shown to a company
    upd = ok(
        client.put(
            "/companies/NEW1",
            json={**PROFILE, "name": "新一科技有限公司", "city": "泉州"},
            headers=h,
        )
    )
    assert upd["company"]["version"] == 2 and upd["company"]["city"] == "泉州"
    versions = ok(client.get("/companies/NEW1/versions", headers=h))
    assert [v["version"] for v in versions["data"]] == [1, 2]
    assert all("contact" not in v["profile"] for v in versions["data"])
    assert client.post("/companies", json=PROFILE, headers=h).status_code == 409  # exists: use PUT


def test_credit_code_updates_the_existing_firm(client, keys):
    h = keys.header("recruiter")
    cc = code("91350582MA2Y0001" + "0")
    first = ok(
        client.post(
            "/companies",
            json={**PROFILE, "name": "晋江甲科技有限公司", "credit_code": cc},
            headers=h,
        ),
        201,
    )
    cid = first["company"]["id"]
    renamed = {**PROFILE, "name": "晋江甲科技股份有限公司", "credit_code": cc.lower()}
    # changing a registered firm needs an admin or the firm's own key
    refused = client.post("/companies", json=renamed, headers=h)
    assert refused.status_code == 403, refused.text
    second = client.post("/companies", json=renamed, headers=keys.header("admin"))
    assert second.status_code == 200, second.text
    body = second.json()
    assert (
        body["company"]["id"] == cid
        and body["updated_existing"]
        and body["company"]["version"] == 2
    )
    listed = ok(client.get("/companies?q=晋江甲", headers=h))
    assert listed["count"] == 1
    # a company key may not take over another firm's credit code
    r = client.put(
        "/companies/T01", json={**PROFILE, "credit_code": cc}, headers=keys.header("company")
    )
    assert r.status_code == 409 and r.json()["detail"]["field"] == "credit_code"


def test_near_identical_name_is_flagged(client, keys):
    h = keys.header("recruiter")
    body = ok(
        client.post("/companies", json={**PROFILE, "name": "泉州储能科技有限责任公司"}, headers=h),
        201,
    )
    flagged = {d["id"] for d in body["possible_duplicates"]}
    assert {"T01", "T05"} <= flagged
    body = ok(
        client.post("/companies", json={**PROFILE, "name": "完全不同的名字有限公司"}, headers=h),
        201,
    )
    assert body["possible_duplicates"] == []


def test_contact_is_shown_to_recruiters_and_the_firm_only(client, keys):
    ok(client.post("/companies", json={**PROFILE, "id": "K03"}, headers=keys.header("admin")), 201)
    assert (
        ok(client.get("/companies/K03", headers=keys.header("recruiter")))["contact"]["name"]
        == "王经理"
    )
    r = client.get("/companies/K03", headers=keys.header("company"))
    assert r.status_code == 403
    matches = client.get("/scenarios/S1/matches?top_k=20", headers=keys.header("recruiter")).text
    assert "13800000000" not in matches  # the ranking itself carries no contact data


def test_delete_erases_the_firm_everywhere(client, keys):
    h = keys.header("admin")
    ok(
        client.post(
            "/companies",
            json={
                **PROFILE,
                "id": "K04",
                "name": "待删除储能有限公司",
                "description": "独特的钒液流储能电池堆与电解液再生技术。",
            },
            headers=h,
        ),
        201,
    )
    ok(
        client.put(
            "/companies/K04",
            json={
                **PROFILE,
                "name": "待删除储能有限公司",
                "description": "独特的钒液流储能电池堆与电解液再生技术，第二版。",
            },
            headers=h,
        )
    )
    ok(
        client.post(
            "/feedback",
            json={
                "scenario_id": "S1",
                "company_id": "K04",
                "stage": "contacted",
                "note": "王经理说下周来访",
            },
            headers=h,
        ),
        201,
    )
    ok(
        client.post(
            "/scenarios/S1/controls", json={"company_id": "K04", "action": "pin"}, headers=h
        ),
        201,
    )
    csv_before = client.get("/scenarios/S1/matches.csv?top_k=50", headers=h).content.decode(
        "utf-8-sig"
    )
    assert "K04" in csv_before
    assert client.delete("/companies/K04", headers=h).status_code == 204
    assert client.get("/companies/K04", headers=h).status_code == 404
    assert client.get("/companies/K04/versions", headers=h).status_code == 404
    hits = ok(
        client.post("/search", json={"text": "钒液流储能电池堆 电解液再生", "top_k": 50}, headers=h)
    )
    assert "K04" not in [m["company_id"] for m in hits["data"]]
    assert ok(client.get("/feedback?company_id=K04", headers=h))["count"] == 0
    assert "K04" not in client.get("/scenarios/S1/matches.csv?top_k=50", headers=h).text
    assert all(
        c["company_id"] != "K04"
        for c in ok(client.get("/scenarios/S1/controls", headers=h))["data"]
    )
    audit = ok(client.get("/audit?entity=company&entity_id=K04", headers=h))
    assert audit["data"][0]["action"] == "delete"
    assert set(audit["data"][0]["detail"]) == {"erasure"}  # the tombstone's number only
    assert all(a["detail"] is None for a in audit["data"][1:])
    assert "王经理" not in client.get("/audit?limit=500", headers=h).text
    assert client.delete("/companies/K04", headers=h).status_code == 404
    # and in the database itself: no version, feedback, control or snapshot row refers to it
    from sqlalchemy import func, select

    from service.models import (
        CompanyVersionRow,
        ControlRow,
        FeedbackRow,
        SnapshotEntryRow,
        SnapshotRow,
    )

    with client.app.state.sessions() as s:
        assert s.scalar(select(func.count()).select_from(SnapshotRow)) > 0  # exports were kept
        for table in (CompanyVersionRow, FeedbackRow, ControlRow, SnapshotEntryRow):
            n = s.scalar(select(func.count()).select_from(table).where(table.company_id == "K04"))
            assert n == 0, table.__tablename__
    client.app.state.holder.save()
    index_rows = (client.app.state.settings.index_dir / "companies.jsonl").read_text("utf-8")
    assert '"K04"' not in index_rows and "王经理" not in index_rows


def test_feedback_history_per_pair(client, keys):
    h = keys.header("recruiter")
    for stage in ("shortlisted", "contacted", "visited"):
        ok(
            client.post(
                "/feedback",
                json={"scenario_id": "S2", "company_id": "T07", "stage": stage},
                headers=h,
            ),
            201,
        )
    hist = ok(client.get("/feedback?scenario_id=S2&company_id=T07", headers=h))
    assert [f["stage"] for f in hist["data"]] == ["shortlisted", "contacted", "visited"]
    bad = client.post(
        "/feedback", json={"scenario_id": "S2", "company_id": "T07", "stage": "married"}, headers=h
    )
    assert bad.status_code == 422 and "stage" in bad.json()["detail"]["message"]
    assert (
        client.post(
            "/feedback",
            json={"scenario_id": "S2", "company_id": "NOPE", "stage": "visited"},
            headers=h,
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/feedback",
            json={"scenario_id": "NOPE", "company_id": "T07", "stage": "visited"},
            headers=h,
        ).status_code
        == 404
    )


def _csv_file(rows: list[list[str]], encoding: str = "utf-8-sig") -> dict:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return {"file": ("firms.csv", io.BytesIO(buf.getvalue().encode(encoding)), "text/csv")}


def test_import_csv_reports_each_row_and_keeps_the_valid_ones(client, keys):
    h = keys.header("recruiter")
    good_code = code("91350500MA2Y0002" + "1")
    bad_code = good_code[:-1] + ("0" if good_code[-1] != "0" else "1")
    rows = [
        ["企业名称", "企业简介", "统一社会信用代码", "城市", "注册资本(万元)", "联系人"],
        ["导入一号新材料有限公司", "生产高性能碳纤维复合材料。", good_code, "泉州", "1200", "李四"],
        ["导入二号有限公司", "   ", "", "", "", ""],
        ["导入三号有限公司", "智能仓储机器人。", bad_code, "", "", ""],
        ["导入四号有限公司", "工业互联网平台。", "", "", "很多", ""],
        ["导入五号有限公司", "数字孪生工厂解决方案。", "", "晋江", "", ""],
        ["导入一号新材料股份有限公司", "重复的信用代码行。", good_code, "", "", ""],
    ]
    report = ok(client.post("/companies/import", files=_csv_file(rows), headers=h))
    status = {r["row"]: (r["status"], r["reason"] or "") for r in report["data"]}
    assert status[2][0] == "imported" and status[6][0] == "imported"
    assert status[3][0] == "rejected" and "description" in status[3][1]
    assert status[4][0] == "rejected" and "check digit" in status[4][1]
    assert status[5][0] == "rejected" and "registered_capital_wan" in status[5][1]
    assert status[7][0] == "rejected" and "row 2" in status[7][1]
    assert (report["imported"], report["rejected"]) == (2, 4)
    hits = ok(client.post("/search", json={"text": "碳纤维复合材料"}, headers=h))
    assert hits["data"][0]["company_name"] == "导入一号新材料有限公司"
    # the same file again: nothing new, nothing lost
    again = ok(client.post("/companies/import", files=_csv_file(rows), headers=h))
    assert again["unchanged"] == 2 and again["imported"] == 0


def test_import_gb18030_csv_and_xlsx(client, keys):
    h = keys.header("admin")
    rows = [["name", "description", "city"], ["国标编码测试有限公司", "陶瓷窑炉余热回收。", "晋江"]]
    report = ok(client.post("/companies/import", files=_csv_file(rows, "gb18030"), headers=h))
    assert report["imported"] == 1
    wb = Workbook()
    ws = wb.active
    ws.append(["企业名称", "企业简介", "注册资本(万元)"])
    ws.append(["表格导入有限公司", "鞋服柔性供应链管理系统。", 500])
    ws.append(["表格导入二号有限公司", None, None])
    buf = io.BytesIO()
    wb.save(buf)
    files = {"file": ("firms.xlsx", io.BytesIO(buf.getvalue()), "application/octet-stream")}
    report = ok(client.post("/companies/import", files=files, headers=h))
    assert (report["imported"], report["rejected"]) == (1, 1)


@pytest.mark.parametrize(
    "encoding,delimiter",
    [
        ("utf-16", "\t"),  # Excel's "Unicode text": UTF-16 LE with a BOM, tab-separated
        ("utf-16-be", ","),  # with a BOM written by hand below
        ("utf-32", ","),
        ("big5", ","),  # traditional Chinese; GB18030 decodes it too, as mojibake
        ("utf-8", ";"),  # European Excel separates with semicolons
    ],
)
def test_import_other_encodings_and_separators(client, keys, encoding, delimiter):
    name = f"晉江精密機械股份有限公司{encoding}{len(delimiter)}"
    rows = [["企業名稱", "企業簡介", "城市"], [name, "數控機床與自動化產線，節能改造。", "晉江"]]
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    data = buf.getvalue().encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    files = {"file": ("firms.csv", io.BytesIO(data), "text/csv")}
    h = keys.header("admin")
    report = ok(client.post("/companies/import", files=files, headers=h))
    assert report["imported"] == 1, report
    stored = ok(client.get(f"/companies/{report['data'][0]['company_id']}", headers=h))
    assert stored["name"] == name and stored["city"] == "晉江"


def test_import_in_an_unknown_encoding_is_refused_with_what_is_accepted(client, keys):
    data = "name,description\nCafé Énergie,énergie solaire\n".encode("latin-1")
    r = client.post(
        "/companies/import",
        files={"file": ("x.csv", io.BytesIO(data), "text/csv")},
        headers=keys.header("admin"),
    )
    assert r.status_code == 422
    message = r.json()["detail"]["message"]
    assert "not UTF-8" in message and "Big5" in message and "save it as UTF-8" in message


def test_malformed_imports_are_refused_whole(client, keys):
    h = keys.header("admin")
    cases = [
        ("x.xlsx", b"PK\x03\x04 not really a zip"),
        ("x.csv", b"\xff\xfe\x00garbage\x00\xff"),
        ("x.csv", b"city,founded\n1,2\n"),
        ("x.csv", b""),
    ]
    for name, data in cases:
        r = client.post(
            "/companies/import", files={"file": (name, io.BytesIO(data), "text/csv")}, headers=h
        )
        assert r.status_code == 422, (name, r.text)
        assert r.json()["detail"]["field"] == "file"


def test_xlsx_zip_bomb_is_refused_before_unpacking(client, keys):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * 200_000_000)
    r = client.post(
        "/companies/import",
        files={"file": ("bomb.xlsx", io.BytesIO(buf.getvalue()), "x")},
        headers=keys.header("admin"),
    )
    assert r.status_code == 422 and "zip bomb" in r.json()["detail"]["message"]


def test_contact_and_profile_text_never_reach_the_logs(client, keys, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    secret = {"name": "赵隐私", "phone": "13912345678", "email": "zhao@private.example"}
    text = "独一无二的日志测试描述：氢燃料电池双极板冲压。"
    h = keys.header("admin")
    ok(
        client.post(
            "/companies",
            json={**PROFILE, "id": "K05", "description": text, "contact": secret},
            headers=h,
        ),
        201,
    )
    ok(
        client.put(
            "/companies/K05",
            json={**PROFILE, "description": text + "二", "contact": secret},
            headers=h,
        )
    )
    client.post("/companies", json={**PROFILE, "description": "", "contact": secret}, headers=h)
    assert client.delete("/companies/K05", headers=h).status_code == 204
    logged = "\n".join(r.getMessage() for r in caplog.records)
    api_key = h["Authorization"].removeprefix("Bearer ")
    for value in (*secret.values(), text, api_key, api_key[10:]):
        assert value not in logged

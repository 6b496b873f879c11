"""City filters through the API: every written form of a place, its hierarchy, ambiguous
aliases said so; the stored canonical form; ``?q=`` folds traditional characters."""

from __future__ import annotations

import re

from sqlalchemy import select

from .test_scenarios import ok

STORAGE = "储能变流器与电池管理系统，工商业储能电站和园区微电网的系统集成。"
FIRMS = {
    "PL1": ("晉江儲能系統有限公司", "晉江市"),
    "PL2": ("Jinjiang Microgrid Co., Ltd.", "Jinjiang"),
    "PL3": ("福州储能科技有限公司", "福州市"),
    "PL4": ("抚州储能科技有限公司", "抚州市"),
    "PL5": ("Singapore Storage Pte. Ltd.", "Singapore"),
}


def _add_firms(client, keys) -> None:
    for cid, (name, city) in FIRMS.items():
        if client.get(f"/companies/{cid}", headers=keys.header("admin")).status_code == 200:
            continue
        body = {"id": cid, "name": name, "description": STORAGE, "city": city}
        ok(client.post("/companies", json=body, headers=keys.header("admin")), 201)


def _ids(body: dict) -> set[str]:
    """The firms listed, with the near-duplicates folded into them (T05 is T01's)."""
    return {i for m in body["data"] for i in (m["company_id"], *m.get("duplicates", ()))}


def _matches(client, keys, city: str) -> dict:
    return ok(
        client.get(
            "/scenarios/S1/matches",
            params={"city": city, "top_k": 200},
            headers=keys.header("recruiter"),
        )
    )


def test_city_filter_finds_every_form_of_the_place(client, keys):
    _add_firms(client, keys)
    expected = {"T03", "T06", "T07", "T10", "T12", "PL1", "PL2"}  # 晋江 ×5, 晉江市, Jinjiang
    for form in ["晋江", "晋江市", "晉江市", "Jinjiang City"]:
        body = _matches(client, keys, form)
        assert _ids(body) == expected, form
        resolved = body["filters_resolved"]["city"]
        assert resolved["places"] == ["晋江市"] and not resolved["ambiguous"], form
        assert resolved["paths"] == ["福建省/泉州市/晋江市"]
    shown = {m["company_id"]: m for m in _matches(client, keys, "晋江")["data"]}
    firm = ok(client.get("/companies/PL1", headers=keys.header("admin")))
    assert firm["city"] == "晉江市"  # shown as written
    assert "PL1" in shown


def test_prefecture_filter_includes_its_counties(client, keys):
    _add_firms(client, keys)
    got = _ids(_matches(client, keys, "泉州"))
    # 泉州 ×3, Quanzhou, and the firms in 晋江市, which lies in 泉州市
    assert got == {"T01", "T05", "T09", "T08", "T03", "T06", "T07", "T10", "T12", "PL1", "PL2"}
    fujian = _ids(_matches(client, keys, "福建省"))
    assert got | {"T04", "PL3"} <= fujian and "PL4" not in fujian and "T02" not in fujian


def test_ambiguous_alias_matches_both_and_the_response_says_so(client, keys):
    _add_firms(client, keys)
    body = _matches(client, keys, "Fuzhou")
    assert {m["company_id"] for m in body["data"]} == {"PL3", "PL4"}
    resolved = body["filters_resolved"]["city"]
    assert resolved["ambiguous"] and sorted(resolved["places"]) == ["抚州市", "福州市"]
    assert "福州市" in resolved["note"] and "抚州市" in resolved["note"]
    search = ok(
        client.post(
            "/search",
            json={"text": "储能变流器", "top_k": 50, "filters": {"city": "Fuzhou"}},
            headers=keys.header("recruiter"),
        )
    )
    assert {m["company_id"] for m in search["data"]} == {"PL3", "PL4"}
    assert search["filters_resolved"]["city"]["ambiguous"]
    plain = _matches(client, keys, "Singapore")
    assert [m["company_id"] for m in plain["data"]] == ["PL5"]
    assert plain["filters_resolved"]["city"]["known"] is False
    unfiltered = ok(client.get("/scenarios/S1/matches", headers=keys.header("recruiter")))
    assert unfiltered["filters_resolved"] == {"city": None}


def test_search_filter_uses_the_same_rule(client, keys):
    _add_firms(client, keys)
    body = ok(
        client.post(
            "/search",
            json={"text": "储能", "top_k": 50, "filters": {"city": "晉江"}},
            headers=keys.header("recruiter"),
        )
    )
    got = {m["company_id"] for m in body["data"]}
    assert {"PL1", "PL2"} <= got and got <= {"T03", "T06", "T07", "T10", "T12", "PL1", "PL2"}
    assert body["filters_resolved"]["city"]["places"] == ["晋江市"]


def test_canonical_city_is_stored_beside_the_written_one(client, keys):
    from service.models import CompanyRow

    _add_firms(client, keys)
    sessions = client.app.state.sessions

    def stored(cid: str) -> tuple[str | None, str]:
        with sessions() as s:
            row = s.scalars(select(CompanyRow).where(CompanyRow.id == cid)).one()
            return row.city_canonical, row.name_folded

    assert stored("PL1") == ("福建省/泉州市/晋江市", "晋江储能系统有限公司")
    assert stored("PL2")[0].split("|")[0] == "福建省/泉州市/晋江市"  # Jinjiang: also 锦江区
    assert stored("PL5")[0] == "singapore"
    assert stored("T08")[0] == "福建省/泉州市"  # seeded: Quanzhou
    ok(client.put("/companies/PL5", json={"city": "Suzhou"}, headers=keys.header("admin")))
    assert stored("PL5")[0] == "江苏省/苏州市|安徽省/宿州市"
    ok(client.put("/companies/PL5", json={"city": None}, headers=keys.header("admin")))
    assert stored("PL5")[0] is None


def test_company_list_query_folds_traditional_characters(client, keys):
    h = keys.header("admin")
    simplified = ok(client.get("/companies", params={"q": "晋江"}, headers=h))
    ids = {c["id"] for c in simplified["data"]}
    assert {"T03", "T06", "T10"} <= ids  # T03 is stored as 晉江市鞋業…
    assert simplified["count"] == len(ids)
    traditional = ok(client.get("/companies", params={"q": "鞋業"}, headers=h))
    assert [c["id"] for c in traditional["data"]] == ["T03"]
    assert {
        c["id"] for c in ok(client.get("/companies", params={"q": "晉江"}, headers=h))["data"]
    } == ids
    upper = ok(client.get("/companies", params={"q": "HELIO"}, headers=h))
    assert [c["id"] for c in upper["data"]] == ["T02"]


def test_scenario_page_notes_an_ambiguous_city(client, keys):
    from .test_ui_pages import sign_in

    _add_firms(client, keys)
    b = sign_in(client, keys.recruiter)
    page = b.get("/ui/scenarios/S1", params={"city": "Fuzhou"})
    assert page.status_code == 200
    note = re.search(r'<p class="warn" id="city-note">([^<]+)</p>', page.text)
    assert note and "福建省/福州市" in note.group(1) and "江西省/抚州市" in note.group(1)
    assert "福州储能科技有限公司" in page.text and "抚州储能科技有限公司" in page.text
    plain = b.get("/ui/scenarios/S1", params={"city": "晉江"})
    assert 'id="city-note"' not in plain.text and "晉江儲能系統有限公司" in plain.text
    unknown = b.get("/ui/scenarios/S1", params={"city": "Atlantis"})
    assert 'id="city-note"' in unknown.text

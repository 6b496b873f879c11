"""The web UI over HTTP (no browser): sign-in and sessions, CSRF, role access on every page,
filters, feedback, exports, the company portal's validation, escaping, language, run pages.

Runs on SQLite and PostgreSQL like the API tests. The client speaks HTTPS to the test app so
the session cookie, which is ``Secure``, is sent back.
"""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service import auth, exports, nightly, store
from service.db import transaction
from service.models import (
    CompanyRow,
    FeedbackRow,
    SnapshotEntryRow,
    SnapshotRow,
    WebSessionRow,
)

from .test_scenarios import ok

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def browser(client: TestClient) -> TestClient:
    """A fresh cookie jar on the same running app (its lifespan is entered by ``client``)."""
    return TestClient(client.app, base_url="https://testserver", follow_redirects=False)


def sign_in(client: TestClient, key: str, next_: str = "/ui") -> TestClient:
    b = browser(client)
    form = b.get("/ui/signin")
    token = re.search(r'name="signin_token" value="([^"]+)"', form.text).group(1)
    r = b.post("/ui/signin", data={"key": key, "signin_token": token, "next": next_})
    assert r.status_code == 303, r.text[:300]
    return b


def csrf_of(b: TestClient, path: str = "/ui/catalogue") -> str:
    return CSRF.search(b.get(path).text).group(1)


@pytest.fixture
def recruiter(client, keys) -> TestClient:
    return sign_in(client, keys.recruiter)


def count(client, model, *where) -> int:
    with client.app.state.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# ------------------------------------------------------------------ sign in
def test_signed_out_pages_redirect_to_sign_in(client):
    b = browser(client)
    r = b.get("/ui/scenarios/S1?city=x")
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/signin?next=%2Fui%2Fscenarios%2FS1"
    htmx = b.get("/ui/catalogue", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].startswith("/ui/signin")
    assert b.get("/").headers["location"] == "/ui"


def test_sign_in_sets_a_secure_http_only_session_cookie_not_the_key(client, keys):
    b = browser(client)
    page = b.get("/ui/signin")
    token = re.search(r'name="signin_token" value="([^"]+)"', page.text).group(1)
    r = b.post(
        "/ui/signin",
        data={"key": keys.recruiter, "signin_token": token, "next": "/ui/scenarios/S1"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/ui/scenarios/S1"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("matcher_session="))
    flags = cookie.lower()
    assert "httponly" in flags and "secure" in flags and "samesite=lax" in flags
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    assert keys.recruiter not in cookie and len(value) >= 40
    with client.app.state.sessions() as s:  # stored as a hash only
        hashes = list(s.scalars(select(WebSessionRow.token_hash)))
    assert value not in hashes and len(hashes) >= 1
    assert b.get("/ui/scenarios/S1").status_code == 200


def test_wrong_key_or_missing_form_token_is_refused(client, keys):
    b = browser(client)
    token = re.search(r'name="signin_token" value="([^"]+)"', b.get("/ui/signin").text).group(1)
    bad = b.post("/ui/signin", data={"key": "smk_wrong", "signin_token": token})
    assert bad.status_code == 401 and "密钥无效或已被吊销" in bad.text
    assert "matcher_session" not in bad.headers.get("set-cookie", "")
    token = re.search(r'name="signin_token" value="([^"]+)"', bad.text).group(1)  # new form
    empty = b.post("/ui/signin", data={"key": " ", "signin_token": token})
    assert empty.status_code == 422
    # a sign-in form posted from elsewhere (no token cookie pair): refused, key unused
    other = browser(client)
    forged = other.post("/ui/signin", data={"key": keys.recruiter, "signin_token": "x"})
    assert forged.status_code == 403 and "matcher_session" not in str(forged.headers)


def test_sign_in_redirect_stays_inside_the_ui(client, keys):
    b = sign_in(client, keys.recruiter, "https://evil.example/")
    assert b.get("/ui").headers["location"] == "/ui/catalogue"
    b2 = browser(client)
    token = re.search(r'name="signin_token" value="([^"]+)"', b2.get("/ui/signin").text).group(1)
    r = b2.post(
        "/ui/signin", data={"key": keys.recruiter, "signin_token": token, "next": "//evil.example"}
    )
    assert r.headers["location"] == "/ui/catalogue"


def test_sign_out_and_revocation_end_the_session(client, keys):
    b = sign_in(client, keys.recruiter)
    csrf = csrf_of(b)
    assert b.post("/ui/signout", data={}).status_code == 403  # CSRF token needed
    assert b.post("/ui/signout", data={"csrf": csrf}).status_code == 303
    assert b.get("/ui/catalogue").status_code == 303

    with transaction(client.app.state.sessions) as s:
        row, key = auth.create_key(s, "recruiter")
        key_id = row.id
    b = sign_in(client, key)
    assert b.get("/ui/catalogue").status_code == 200
    with transaction(client.app.state.sessions) as s:
        auth.revoke_key(s, key_id, "test")
    assert b.get("/ui/catalogue").status_code == 303


# ------------------------------------------------------------------ access by role
UI_ROUTES = [  # method, path, expected status for: none, company, recruiter, admin
    ("GET", "/ui", (303, 303, 303, 303)),
    ("GET", "/ui/signin", (200, 200, 200, 200)),
    ("POST", "/ui/signin", (403, 403, 403, 403)),  # no sign-in form token sent
    ("POST", "/ui/signout", (303, 403, 403, 403)),  # signed in: CSRF token missing
    ("GET", "/ui/lang/{lang}", (303, 303, 303, 303)),
    ("GET", "/ui/catalogue", (303, 200, 200, 200)),
    ("GET", "/ui/scenarios/{scenario_id}", (303, 200, 200, 200)),  # a company: its public text
    ("POST", "/ui/scenarios/{scenario_id}/interest", (303, 403, 403, 403)),  # no token
    ("GET", "/ui/pipeline", (303, 403, 200, 200)),
    ("GET", "/ui/pipeline/{scenario_id}", (303, 403, 200, 200)),
    ("POST", "/ui/scenarios/{scenario_id}/export.{fmt}", (303, 403, 403, 403)),  # no token
    ("GET", "/ui/scenarios/{scenario_id}/compare", (303, 403, 422, 422)),  # no firm chosen
    ("POST", "/ui/feedback", (303, 403, 403, 403)),
    ("POST", "/ui/controls", (303, 403, 403, 403)),
    ("GET", "/ui/search", (303, 403, 200, 200)),
    ("GET", "/ui/portal", (303, 200, 403, 403)),
    ("POST", "/ui/portal", (303, 403, 403, 403)),
    ("GET", "/ui/runs", (303, 403, 200, 200)),
    ("POST", "/ui/runs", (303, 403, 403, 403)),
    ("GET", "/ui/runs/{run_id}", (303, 403, 404, 404)),
]
CONCRETE = {
    "{lang}": "en",
    "{scenario_id}": "S1",
    "{fmt}": "csv",
    "{run_id}": "999999",
}
# admin pages (issue 19): admin only; every POST needs the form token (tests/service/test_ui_admin.py)
ADMIN_ONLY, ADMIN_POST = (303, 403, 403, 200), (303, 403, 403, 403)
UI_ROUTES += [
    ("GET", "/ui/admin", ADMIN_ONLY),
    ("GET", "/ui/admin/keys", ADMIN_ONLY),
    ("POST", "/ui/admin/keys", ADMIN_POST),
    ("POST", "/ui/admin/keys/{key_id}/revoke", ADMIN_POST),
    ("GET", "/ui/admin/catalogue", ADMIN_ONLY),
    ("POST", "/ui/admin/scenarios/upload", ADMIN_POST),
    ("POST", "/ui/admin/scenarios/apply", ADMIN_POST),
    ("GET", "/ui/admin/imports", ADMIN_ONLY),
    ("POST", "/ui/admin/companies/import", ADMIN_POST),
    ("GET", "/ui/admin/imports/{job_id}", (303, 403, 403, 404)),
    ("POST", "/ui/admin/imports/{job_id}/resume", ADMIN_POST),
    ("GET", "/ui/admin/firms", ADMIN_ONLY),
    ("GET", "/ui/admin/firms/{company_id}/delete", ADMIN_ONLY),
    ("POST", "/ui/admin/firms/{company_id}/delete", ADMIN_POST),
]
CONCRETE |= {"{key_id}": "1", "{job_id}": "999999", "{company_id}": "T01"}


def test_every_ui_route_is_in_the_access_matrix():
    from service.ui.routes import router

    declared = {(m, r.path) for r in router.routes for m in r.methods - {"HEAD"}}
    assert declared == {(m, p) for m, p, _ in UI_ROUTES}


@pytest.mark.parametrize(("method", "path", "expected"), UI_ROUTES)
def test_ui_access_by_role(client, keys, method, path, expected):
    for key in CONCRETE:
        path = path.replace(key, CONCRETE[key])
    for role, want in zip(("none", "company", "recruiter", "admin"), expected, strict=True):
        b = browser(client) if role == "none" else sign_in(client, getattr(keys, role))
        r = b.request(method, path, data={} if method == "POST" else None)
        assert r.status_code == want, (role, method, path, r.text[:300])
        if want == 403 and role == "company" and method == "GET":
            assert "无权访问此页面" in r.text  # a page, not a JSON error


def test_company_key_cannot_open_recruiter_pages_or_post_feedback(client, keys):
    b = sign_in(client, keys.company)
    assert b.get("/ui").headers["location"] == "/ui/portal"
    for path in ("/ui/search?q=储能", "/ui/runs", "/ui/pipeline", "/ui/pipeline/S1"):
        r = b.get(path)
        assert r.status_code == 403 and "泉州" not in r.text, path
    public = b.get("/ui/scenarios/S1")  # the scenario's published text, no ranked firms
    assert public.status_code == 200 and 'id="interest"' in public.text
    assert 'class="rtable"' not in public.text and 'id="m-' not in public.text
    assert b.get("/ui/scenarios/S1/compare?cid=T01&cid=T02").status_code == 403
    r = b.post("/ui/scenarios/S1/export.xlsx", data={"csrf": csrf_of(b, "/ui/portal")})
    assert r.status_code == 403 and "泉州" not in r.text
    before = count(client, FeedbackRow)
    r = b.post(
        "/ui/feedback",
        data={"csrf": csrf_of(b), "scenario_id": "S1", "company_id": "T02", "stage": "signed"},
    )
    assert r.status_code == 403 and count(client, FeedbackRow) == before


# ------------------------------------------------------------------ recruiter pages
def test_catalogue_lists_and_searches_the_tree(recruiter):
    page = recruiter.get("/ui/catalogue")
    assert page.status_code == 200
    assert "/ui/scenarios/S1" in page.text and "/ui/scenarios/S2" in page.text
    one = recruiter.get("/ui/catalogue", params={"q": "儲能"})  # traditional query
    assert "/ui/scenarios/S1" in one.text and "/ui/scenarios/S2" not in one.text
    none = recruiter.get("/ui/catalogue", params={"q": "没有这个词"})
    assert "没有符合条件的场景" in none.text
    for name, value in {
        "Content-Security-Policy": "script-src 'self'",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
    }.items():
        assert value in page.headers[name]


def firms_on(page: str) -> list[str]:
    return re.findall(r'data-company="([^"]+)"', page)


def test_scenario_page_ranks_filters_and_explains(client, keys, recruiter):
    page = recruiter.get("/ui/scenarios/S1")
    assert page.status_code == 200
    api = ok(client.get("/scenarios/S1/matches?top_k=20", headers=keys.header("recruiter")))
    assert firms_on(page.text) == [m["company_id"] for m in api["data"]]
    assert "<mark>" in page.text and 'class="bars"' in page.text
    # each card names what the engine understood the scenario to seek, as the API does
    demand = api["data"][0]["explanation"]["demand"]
    assert demand and f"需求：</b>{'、'.join(demand)}" in page.text
    city = api["data"][0]["company_id"]
    with client.app.state.sessions() as s:
        city_name = store.get_company(s, city)[1].profile["city"]
    filtered = recruiter.get("/ui/scenarios/S1", params={"city": city_name})
    api_f = ok(
        client.get(
            "/scenarios/S1/matches", params={"city": city_name}, headers=keys.header("recruiter")
        )
    )
    assert firms_on(filtered.text) == [m["company_id"] for m in api_f["data"]]
    assert len(api_f["data"]) < len(api["data"])
    bad = recruiter.get("/ui/scenarios/S1", params={"industry": "abc", "space_min": "x"})
    assert bad.status_code == 422 and firms_on(bad.text) == []
    assert 'id="e-industry"' in bad.text and 'id="e-space_min"' in bad.text
    assert "请输入数字" in bad.text


def test_failed_constraints_are_shown_in_the_readers_language(client, keys, recruiter):
    firm = {
        "name": "超大厂房储能公司",
        "description": "储能变流器、电池管理系统BMS、微电网能量管理，需要大面积厂房。",
        "city": "泉州市",
        "space_needed_m2": 10_000_000,
    }
    made = client.post("/companies", json=firm, headers=keys.header("admin"))
    assert made.status_code == 201
    cid = made.json()["company"]["id"]
    page = recruiter.get("/ui/scenarios/S1", params={"top_k": 50})
    card = page.text.split(f'data-company="{cid}"', 1)[1].split("</article>", 1)[0]
    assert "未满足的条件" in card and "超过场景可提供的" in card
    recruiter.get("/ui/lang/en")
    page = recruiter.get("/ui/scenarios/S1", params={"top_k": 50})
    card = page.text.split(f'data-company="{cid}"', 1)[1].split("</article>", 1)[0]
    assert "Failed constraints" in card and "but the scenario offers" in card
    assert client.delete(f"/companies/{cid}", headers=keys.header("admin")).status_code == 204


def test_feedback_from_the_page_is_stored_and_shown_at_once(client, recruiter):
    csrf = csrf_of(recruiter, "/ui/scenarios/S1")
    form = {
        "scenario_id": "S1",
        "company_id": "T01",
        "stage": "visited",
        "note": "周三到访",
        "next": "/ui/scenarios/S1",
    }
    before = count(client, FeedbackRow)
    assert recruiter.post("/ui/feedback", data=form).status_code == 403  # no CSRF token
    assert recruiter.post("/ui/feedback", data={**form, "csrf": "forged"}).status_code == 403
    assert count(client, FeedbackRow) == before
    r = recruiter.post(
        "/ui/feedback", data=form, headers={"HX-Request": "true", "X-CSRF-Token": csrf}
    )
    assert r.status_code == 200 and 'id="fb-T01"' in r.text
    assert "已走访" in r.text and "周三到访" in r.text and "已记录" in r.text
    with client.app.state.sessions() as s:
        row = s.scalars(select(FeedbackRow).order_by(FeedbackRow.id.desc())).first()
    assert (row.scenario_id, row.company_id, row.stage, row.note) == (
        "S1",
        "T01",
        "visited",
        "周三到访",
    )
    assert row.actor.startswith("key:")
    # a plain form post (no JavaScript) goes back to the scenario page
    plain = recruiter.post("/ui/feedback", data={**form, "stage": "signed", "csrf": csrf})
    assert plain.status_code == 303 and plain.headers["location"] == "/ui/scenarios/S1"
    bad = recruiter.post(
        "/ui/feedback",
        data={**form, "stage": "hired", "csrf": csrf},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 422 and "请从列表中选择" in bad.text
    assert count(client, FeedbackRow) == before + 2


def test_pin_exclude_and_undo_from_the_page(client, recruiter):
    csrf = csrf_of(recruiter, "/ui/scenarios/S1")
    ranked = firms_on(recruiter.get("/ui/scenarios/S1").text)
    last, other = ranked[-1], ranked[0]
    form = {"csrf": csrf, "scenario_id": "S1", "next": "/ui/scenarios/S1"}
    htmx = {"HX-Request": "true"}
    r = recruiter.post(
        "/ui/controls", data={**form, "company_id": last, "action": "pin"}, headers=htmx
    )
    assert r.status_code == 200 and r.headers["HX-Location"] == "/ui/scenarios/S1"
    page = recruiter.get("/ui/scenarios/S1").text
    assert firms_on(page)[0] == last and 'class="badge pin"' in page
    assert 'id="controls"' in page
    no_reason = recruiter.post(
        "/ui/controls", data={**form, "company_id": other, "action": "exclude"}, headers=htmx
    )
    assert no_reason.status_code == 422 and "排除需要在备注中写明原因" in no_reason.text
    assert other in firms_on(recruiter.get("/ui/scenarios/S1").text)
    r = recruiter.post(
        "/ui/controls",
        data={**form, "company_id": other, "action": "exclude", "note": "已在外省落户"},
    )
    assert r.status_code == 303  # a plain form post goes back
    page = recruiter.get("/ui/scenarios/S1").text
    assert other not in firms_on(page) and "已在外省落户" in page
    for cid, action in ((other, "exclude"), (last, "pin")):
        r = recruiter.post(
            "/ui/controls", data={**form, "company_id": cid, "action": action, "undo": "1"}
        )
        assert r.status_code == 303
    assert firms_on(recruiter.get("/ui/scenarios/S1").text) == ranked


def test_export_from_the_page_matches_the_filtered_ranking(client, keys, recruiter):
    page = recruiter.get("/ui/scenarios/S1", params={"chain": "midstream"}).text
    assert 'action="/ui/scenarios/S1/export.csv?chain=midstream"' in page
    csrf = CSRF.search(page).group(1)
    r = recruiter.post(
        "/ui/scenarios/S1/export.csv", params={"chain": "midstream"}, data={"csrf": csrf}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["cache-control"] == "no-store"  # it carries contacts
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = exports.read_csv(r.content)
    api = ok(
        client.get(
            "/scenarios/S1/matches",
            params={"chain": "midstream", "top_k": 50},
            headers=keys.header("recruiter"),
        )
    )
    ids = [m["company_id"] for m in api["data"]]
    assert len(rows) - 1 == len(ids) and all(any(i in row for row in rows) for i in ids)
    # every filtered row (the page shows 20), the count and the filters in the file and in
    # the export's snapshot
    first = r.content.decode("utf-8-sig").splitlines()[0]
    assert f"行数：{len(ids)}；" in first and "产业链环节=midstream" in first
    with client.app.state.sessions() as s:
        snap = s.scalars(select(SnapshotRow).order_by(SnapshotRow.id.desc())).first()
    assert snap.params["filters"] == {"chain_position": "midstream"}
    assert snap.params["rows"] == len(ids)
    x = recruiter.post("/ui/scenarios/S1/export.xlsx", data={"csrf": csrf})
    assert x.status_code == 200 and x.content[:2] == b"PK"
    assert x.headers["cache-control"] == "no-store"
    assert recruiter.post("/ui/scenarios/S1/export.pdf", data={"csrf": csrf}).status_code == 404
    bad = recruiter.post("/ui/scenarios/S1/export.csv?industry=x", data={"csrf": csrf})
    assert bad.status_code == 409


def test_exports_are_never_cached(client, keys, recruiter):
    """CSV and XLSX carry contacts: no browser or proxy may keep a copy (API and UI)."""
    for fmt in ("csv", "xlsx"):
        api = client.get(f"/scenarios/S1/matches.{fmt}", headers=keys.header("recruiter"))
        assert api.status_code == 200 and api.headers["cache-control"] == "no-store"
        ui = recruiter.post(f"/ui/scenarios/S1/export.{fmt}", data={"csrf": csrf_of(recruiter)})
        assert ui.status_code == 200 and ui.headers["cache-control"] == "no-store"


def test_export_is_a_post_with_the_form_token(client, recruiter):
    """A GET export wrote a snapshot and an audit row: a cross-site link (SameSite=Lax sends
    the cookie on a top-level GET) could make a signed-in recruiter export."""
    from service.models import AuditRow, SnapshotRow

    before = count(client, SnapshotRow), count(client, AuditRow)
    for fmt in ("csv", "xlsx"):
        got = recruiter.get(f"/ui/scenarios/S1/export.{fmt}")
        assert got.status_code == 405 and "<html" in got.text
        forged = recruiter.post(f"/ui/scenarios/S1/export.{fmt}", data={"csrf": "forged"})
        assert forged.status_code == 403
        assert recruiter.post(f"/ui/scenarios/S1/export.{fmt}").status_code == 403
    assert (count(client, SnapshotRow), count(client, AuditRow)) == before
    done = recruiter.post("/ui/scenarios/S1/export.csv", data={"csrf": csrf_of(recruiter)})
    assert done.status_code == 200 and count(client, SnapshotRow) == before[0] + 1


def test_search_page_escapes_what_it_shows(client, keys, recruiter):
    evil = {
        "name": "<script>alert(1)</script>光伏组件公司",
        "description": "<img src=x onerror=alert(1)> 光伏组件 solar PV modules 与储能系统。",
        "city": "晋江市",
    }
    made = client.post("/companies", json=evil, headers=keys.header("admin"))
    cid = made.json()["company"]["id"]
    page = recruiter.get("/ui/search", params={"q": "<script>光伏组件</script>"})
    assert page.status_code == 200 and cid in firms_on(page.text)
    assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "&lt;script&gt;光伏组件&lt;/script&gt;" in page.text  # the query, in its box
    client.delete(f"/companies/{cid}", headers=keys.header("admin"))
    assert recruiter.get("/ui/search", params={"q": "x" * 5001}).status_code == 422


# ------------------------------------------------------------------ company portal
PORTAL_FORM = {
    "name": "泉州储能科技有限公司",
    "description": "专注工商业储能系统集成，产品包括储能变流器PCS、电池管理系统BMS和微电网能量管理平台。",
    "products": "储能变流器、BMS",
    "industry_codes": "3841",
    "city": "泉州市",
    "founded": "2016",
    "registered_capital_wan": "5000",
    "chain_position": "midstream",
    "contact_name": "王经理",
    "contact_phone": "0595-12345678",
}


def test_portal_shows_own_profile_and_suggestions(client, keys):
    b = sign_in(client, keys.company)
    page = b.get("/ui/portal")
    assert page.status_code == 200
    assert 'value="泉州储能科技有限公司"' in page.text  # prefilled from the stored profile
    assert re.search(r'id="m-S\d"', page.text)  # suggested scenarios with reasons
    assert "匹配词" in page.text or "行业关系" in page.text


def test_portal_bad_input_shows_messages_and_stores_nothing(client, keys):
    b = sign_in(client, keys.company)
    csrf = csrf_of(b, "/ui/portal")
    with client.app.state.sessions() as s:
        version = s.get(CompanyRow, "T01").current_version
    bad = {
        **PORTAL_FORM,
        "name": "   ",
        "credit_code": "91350582MA2YXXXXX0",
        "founded": "abc",
        "industry_codes": "3841, 99",
        "csrf": csrf,
    }
    r = b.post("/ui/portal", data=bad)
    assert r.status_code == 422
    for field, text in {
        "name": "不能为空",
        "founded": "请输入整数",
        "industry_codes": "不是 GB/T 4754-2017 行业代码",
    }.items():
        assert re.search(rf'id="e-{field}">[^<]*{re.escape(text)}', r.text), field
    assert 'id="e-credit_code"' in r.text
    assert "0595-12345678" in r.text  # what was typed stays in the form
    with client.app.state.sessions() as s:
        assert s.get(CompanyRow, "T01").current_version == version


def test_portal_saves_a_new_version_then_a_new_firm_registers(client, keys):
    b = sign_in(client, keys.company)
    csrf = csrf_of(b, "/ui/portal")
    with client.app.state.sessions() as s:
        version = s.get(CompanyRow, "T01").current_version
    r = b.post("/ui/portal", data={**PORTAL_FORM, "employees": "120", "csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == f"/ui/portal?saved={version + 1}"
    page = b.get(r.headers["location"])
    assert f"已保存（第 {version + 1} 版）" in page.text and 'value="120"' in page.text
    got = ok(client.get("/companies/T01", headers=keys.header("admin")))
    assert got["employees"] == 120 and got["contact"]["name"] == "王经理"

    new = sign_in(client, keys.other_company)  # speaks for NEW1, not yet registered
    page = new.get("/ui/portal")
    assert page.status_code == 200 and 'id="m-' not in page.text
    form = {
        **PORTAL_FORM,
        "name": "晋江新材料有限公司",
        "description": "生产运动鞋服用的生物基可降解材料与再生纤维。",
        "csrf": CSRF.search(page.text).group(1),
    }
    r = new.post("/ui/portal", data=form)
    assert r.status_code == 303
    assert ok(client.get("/companies/NEW1", headers=keys.header("admin")))["version"] == 1
    assert re.search(r'id="m-S\d"', new.get("/ui/portal").text)


def test_language_switch(client, keys, recruiter):
    r = recruiter.get("/ui/lang/en", params={"next": "/ui/catalogue"})
    assert r.status_code == 303 and r.headers["location"] == "/ui/catalogue"
    page = recruiter.get("/ui/catalogue")
    assert "Scenario catalogue" in page.text and '<html lang="en">' in page.text
    assert recruiter.get("/ui/lang/fr").status_code == 404
    assert recruiter.get("/ui/lang/zh?next=https://evil.example").headers["location"] == "/ui"
    assert "场景目录" in recruiter.get("/ui/catalogue").text


# ------------------------------------------------------------------ nightly runs
def test_run_pages_show_timings_diff_and_heatmap(client, keys):
    holder, settings = client.app.state.holder, client.app.state.settings
    nightly.run(settings, holder.sessions, nightly.start_row(holder.sessions, "local", "test"))
    firm = {
        "name": "园区微电网储能集成商",
        "description": "工商业储能电站、储能变流器PCS、电池管理系统BMS、园区微电网能量管理平台。",
        "industry_codes": ["3841"],
        "city": "泉州市",
    }
    made = client.post("/companies", json=firm, headers=keys.header("admin"))
    assert made.status_code == 201
    row = nightly.run(settings, holder.sessions, nightly.start_row(holder.sessions, "local", "t"))
    assert row.status == "done" and row.diff["entered"] >= 1
    b = sign_in(client, keys.recruiter)
    runs = b.get("/ui/runs")
    assert runs.status_code == 200 and f'href="/ui/runs/{row.id}"' in runs.text
    assert "encode" in runs.text and 'id="start-run"' not in runs.text  # admins only
    page = b.get(f"/ui/runs/{row.id}")
    assert page.status_code == 200
    assert "园区微电网储能集成商" in page.text and "新企业" in page.text  # who entered, why
    cells = re.findall(r'<td style="background: hsl\(212 70% (\d+)%\)', page.text)
    # every snapshot entry is a shaded cell (the fixture's firms all fit in the heatmap)
    assert len(cells) == count(
        client, SnapshotEntryRow, SnapshotEntryRow.snapshot_id == row.snapshot_id
    )
    assert all(35 <= int(c) <= 92 for c in cells) and "35" in cells and "92" in cells
    # the run id `matcher nightly` prints opens the same page (it took only the number)
    assert row.run_id in runs.text
    by_run_id = b.get(f"/ui/runs/{row.run_id}")
    assert by_run_id.status_code == 200 and "园区微电网储能集成商" in by_run_id.text
    assert f"#{row.id}" in by_run_id.text
    assert b.get("/ui/runs/20000101T000000000000Z").status_code == 404
    bad = b.get("/ui/runs/latest")
    assert bad.status_code == 422 and "matcher nightly" in bad.text and "<html" in bad.text
    admin = sign_in(client, keys.admin)
    assert 'id="start-run"' in admin.get("/ui/runs").text
    # one run at a time per process: let a background run an earlier test started finish
    from service.routes import batch as batch_routes

    assert batch_routes._running.acquire(timeout=300), "an earlier nightly run never finished"
    batch_routes._running.release()
    started = admin.post("/ui/runs", data={"csrf": csrf_of(admin, "/ui/runs")})
    assert started.status_code == 303 and started.headers["location"] == "/ui/runs"
    newest = nightly.latest_rows
    deadline = time.monotonic() + 180
    while True:
        with client.app.state.sessions() as s:
            last = newest(s, 1)[0]
        if last.id > row.id and last.status != "running":
            break
        assert time.monotonic() < deadline, "the run started from the page did not finish"
        time.sleep(0.2)
    assert last.status == "done" and last.actor.startswith("key:")


# ------------------------------------------------------------------ who gave feedback
def test_feedback_shows_the_name_of_the_key_that_gave_it(client, keys):
    """API, scenario page and the block htmx swaps in showed ``key:N``, not 招商一科."""
    with transaction(client.app.state.sessions) as s:
        row, named = auth.create_key(s, "recruiter", name="招商一科")
        key_id = row.id
    b = sign_in(client, named)
    cid = firms_on(b.get("/ui/scenarios/S2").text)[0]
    form = {"scenario_id": "S2", "company_id": cid, "stage": "contacted", "csrf": csrf_of(b)}
    block = b.post("/ui/feedback", data=form, headers={"HX-Request": "true"})
    assert block.status_code == 200 and "招商一科" in block.text
    assert f"key:{key_id}" not in block.text
    api = client.post(
        "/feedback",
        json={"scenario_id": "S2", "company_id": cid, "stage": "visited"},
        headers={"Authorization": f"Bearer {named}"},
    )
    assert api.status_code == 201
    assert api.json()["actor"] == f"key:{key_id}" and api.json()["actor_name"] == "招商一科"
    with transaction(client.app.state.sessions) as s:
        auth.revoke_key(s, key_id, "test")
    # a revoked key's name still resolves; a key without a name gives null
    history = ok(
        client.get(f"/feedback?scenario_id=S2&company_id={cid}", headers=keys.header("admin"))
    )
    names = {(d["actor"], d["actor_name"]) for d in history["data"]}
    assert (f"key:{key_id}", "招商一科") in names
    page = sign_in(client, keys.recruiter).get("/ui/scenarios/S2").text
    fb = page[page.index(f'id="fb-{cid}"') :]
    assert "招商一科" in fb[: fb.index("</form>")]
    ok(
        client.post(
            "/feedback",
            json={"scenario_id": "S2", "company_id": cid, "stage": "signed"},
            headers=keys.header("recruiter"),
        ),
        201,
    )
    history = ok(
        client.get(f"/feedback?scenario_id=S2&company_id={cid}", headers=keys.header("admin"))
    )
    assert history["data"][-1]["actor_name"] is None


# ------------------------------------------------------------------ API docs
def test_api_docs_carry_the_ui_security_headers(client):
    """/docs and /redoc had no CSP or X-Frame-Options: they could be framed (clickjacking)
    and would run any script injected into them."""
    import base64
    import hashlib

    from service.ui.routes import SECURITY_HEADERS

    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        for name in ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
            assert r.headers[name] == SECURITY_HEADERS[name], (path, name)
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, path
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0], path
        # each inline script of the page, and only those, is allowed by its hash
        inline = re.findall(r"<script>(.*?)</script>", r.text, re.S)
        for script in inline:
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in csp, path
        assert csp.count("'sha256-") == len(inline), path
    assert "content-security-policy" not in client.get("/health").headers  # JSON: unchanged


def test_a_closed_scenario_opens_its_page_with_a_notice(client, keys, recruiter):
    """Linked from the catalogue, a closed scenario shows its text and a notice, not an error
    page; it lists no firm and offers no export, and the API still refuses to match it."""
    page = recruiter.get("/ui/scenarios/S3")
    assert page.status_code == 200
    assert 'id="paused-note"' in page.text and "重新开放" in page.text
    assert "回旋加速器" in page.text  # its own text is there
    assert firms_on(page.text) == [] and 'id="export-csv"' not in page.text
    api = client.get("/scenarios/S3/matches", headers=keys.header("recruiter"))
    assert api.status_code == 409
    # an open one is unaffected
    assert 'id="paused-note"' not in recruiter.get("/ui/scenarios/S1").text

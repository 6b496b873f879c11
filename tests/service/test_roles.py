"""Every route × every role: 401 without a key, 403 for a role without the right, 2xx otherwise."""

from __future__ import annotations

import io
import itertools

import pytest

from ..conftest import FIXTURES

_counter = itertools.count()

ALL = {"admin", "recruiter", "company"}
STAFF = {"admin", "recruiter"}
ADMIN = {"admin"}


def _scenario_body(sid: str) -> dict:
    return {
        "id": sid,
        "parent_id": "C1",
        "title_zh": "园区光伏车棚",
        "description_zh": "园区停车场建设光伏车棚并配套充电桩，寻求光伏系统集成企业。",
        "keywords": ["光伏", "充电桩"],
        "industry_codes": ["4416"],
    }


def _company_body(role: str) -> dict:
    # a company key's profile takes its id from the key
    return {"name": f"测试企业{next(_counter)}有限公司", "description": "生产储能电池管理系统。"}


def _csv() -> dict:
    data = "name,description\n新能源测试公司,储能系统集成\n".encode()
    return {"files": {"file": ("firms.csv", io.BytesIO(data), "text/csv")}}


def _catalogue() -> dict:
    data = (FIXTURES / "catalogue_small.yaml").read_bytes()
    return {"files": {"file": ("catalogue.yaml", io.BytesIO(data), "application/yaml")}}


def _new_key_id(client, keys) -> int:
    r = client.post("/keys", json={"role": "recruiter"}, headers=keys.header("admin"))
    return r.json()["id"]


def _new_company(client, keys) -> str:
    r = client.post("/companies", json=_company_body("admin"), headers=keys.header("admin"))
    return r.json()["company"]["id"]


def _wait_for_batch(client, keys) -> None:
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = client.get("/batch/runs", headers=keys.header("admin")).json()["data"]
        if not runs or runs[0]["status"] != "running":
            return
        time.sleep(0.2)
    raise AssertionError("the nightly run did not finish")


def _a_batch_run(client, keys) -> int:
    _wait_for_batch(client, keys)
    runs = client.get("/batch/runs", headers=keys.header("admin")).json()["data"]
    if not runs:
        client.post("/batch/runs", json={}, headers=keys.header("admin"))
        _wait_for_batch(client, keys)
        runs = client.get("/batch/runs", headers=keys.header("admin")).json()["data"]
    return runs[0]["id"]


# (method, path or path factory, request kwargs factory, allowed roles, company key to use)
ROUTES = [
    ("GET", "/scenarios", None, ALL),
    ("GET", "/scenarios/S1", None, ALL),
    ("POST", "/scenarios", lambda c, k, r: {"json": _scenario_body(f"SX{next(_counter)}")}, ADMIN),
    (
        "PUT",
        "/scenarios/S2",
        lambda c, k, r: {
            "json": {k2: v for k2, v in _scenario_body("S2").items() if k2 != "id"}
            | {"parent_id": "C2", "title_zh": "工业视觉质检"}
        },
        ADMIN,
    ),
    (
        "DELETE",
        lambda c, k: (
            "/scenarios/"
            + c.post(
                "/scenarios", json=_scenario_body(f"SD{next(_counter)}"), headers=k.header("admin")
            ).json()["id"]
        ),
        None,
        ADMIN,
    ),
    ("POST", "/scenarios/upload", lambda c, k, r: _catalogue(), ADMIN),
    ("GET", "/scenarios/S1/matches", None, STAFF),
    ("GET", "/scenarios/S1/matches.csv", None, STAFF),
    ("GET", "/scenarios/S1/matches.xlsx", None, STAFF),
    ("GET", "/scenarios/S1/controls", None, STAFF),
    (
        "POST",
        "/scenarios/S1/controls",
        lambda c, k, r: {"json": {"company_id": "T02", "action": "like"}},
        STAFF,
    ),
    (
        "DELETE",
        lambda c, k: (
            c.post(
                "/scenarios/S1/controls",
                json={"company_id": "T09", "action": "like"},
                headers=k.header("admin"),
            ),
            "/scenarios/S1/controls/T09/like",
        )[1],
        None,
        STAFF,
    ),
    ("POST", "/companies", lambda c, k, r: {"json": _company_body(r)}, ALL),
    ("GET", "/companies", None, STAFF),
    ("GET", "/companies/T01", None, ALL),
    ("GET", "/companies/T01/versions", None, ALL),
    ("GET", "/companies/T01/suggestions", None, ALL),
    (
        "PUT",
        "/companies/T01",
        lambda c, k, r: {
            "json": {
                "name": "泉州储能科技有限公司",
                "description": f"工商业储能系统集成 {next(_counter)}",
                "industry_codes": ["3841"],
            }
        },
        {"admin", "company"},
    ),
    ("DELETE", lambda c, k: "/companies/" + _new_company(c, k), None, ADMIN),
    ("POST", "/companies/import", lambda c, k, r: _csv(), STAFF),
    ("POST", "/search", lambda c, k, r: {"json": {"text": "储能"}}, STAFF),
    (
        "POST",
        "/feedback",
        lambda c, k, r: {
            "json": {"scenario_id": "S1", "company_id": "T01", "stage": "shortlisted"}
        },
        STAFF,
    ),
    ("GET", "/feedback", None, STAFF),
    ("POST", "/keys", lambda c, k, r: {"json": {"role": "recruiter"}}, ADMIN),
    ("GET", "/keys", None, ADMIN),
    ("DELETE", lambda c, k: f"/keys/{_new_key_id(c, k)}", None, ADMIN),
    ("GET", "/audit", None, ADMIN),
    ("POST", "/batch/runs", lambda c, k, r: {"json": {"executor": "local"}}, ADMIN),
    ("GET", "/batch/runs", None, STAFF),
    ("GET", lambda c, k: f"/batch/runs/{_a_batch_run(c, k)}", None, STAFF),
    # admin pages (issue 19): import jobs
    ("POST", "/admin/imports", lambda c, k, r: _csv(), ADMIN),
    ("GET", "/admin/imports", None, ADMIN),
    ("GET", lambda c, k: f"/admin/imports/{_a_failed_job(c)}", None, ADMIN),
    ("POST", lambda c, k: f"/admin/imports/{_a_failed_job(c)}/resume", None, ADMIN),
    # the follow-up board and company interest (issue 19); a company key speaks for T01
    ("GET", "/pipeline", None, STAFF),
    ("GET", "/scenarios/S1/interest", None, STAFF),
    ("POST", "/scenarios/S1/interest", lambda c, k, r: {"json": {"note": "想了解"}}, {"company"}),
    ("DELETE", "/scenarios/S1/interest", None, {"company"}),
]


def _a_failed_job(client) -> int:
    """An import job that stopped with an error (it resumes)."""
    from service import import_jobs
    from service.db import transaction

    with transaction(client.app.state.sessions) as s:
        job = import_jobs.create_job(s, _csv()["files"]["file"][1].getvalue(), "f.csv", "t", "*", 9)
        job.status, job.error = "failed", "test"
        return job.id


PUBLIC = [("GET", "/health"), ("GET", "/openapi.json"), ("GET", "/docs")]


def _template(path) -> str:
    return path if isinstance(path, str) else "<factory>"


@pytest.mark.parametrize("role", [None, "admin", "recruiter", "company"])
@pytest.mark.parametrize(
    "method,path,kwargs,allowed", ROUTES, ids=[f"{m} {_template(p)}" for m, p, *_ in ROUTES]
)
def test_route_by_role(client, keys, method, path, kwargs, allowed, role):
    url = path(client, keys) if callable(path) else path
    extra = kwargs(client, keys, role or "admin") if kwargs else {}
    # T01 is registered already; a company key submits its first profile as firm NEW1
    key_role = "other_company" if (method, url, role) == ("POST", "/companies", "company") else role
    if url == "/batch/runs" and method == "POST":
        _wait_for_batch(client, keys)  # one run at a time
    r = client.request(method, url, headers=keys.header(key_role), **extra)
    if url == "/batch/runs" and method == "POST" and r.status_code == 202:
        _wait_for_batch(client, keys)
    if role is None:
        assert r.status_code == 401, r.text
        assert r.headers.get("www-authenticate") == "Bearer"
    elif role in allowed:
        assert 200 <= r.status_code < 300, (role, r.status_code, r.text)
    else:
        assert r.status_code == 403, (role, r.status_code, r.text)
        assert "detail" in r.json()


def test_company_keys_cannot_reach_other_firms(client, keys):
    for method, url in [
        ("GET", "/companies/T02"),
        ("GET", "/companies/T02/versions"),
        ("GET", "/companies/T02/suggestions"),
        ("PUT", "/companies/T02"),
        ("DELETE", "/companies/T02"),
        ("GET", "/companies/NO_SUCH_FIRM"),  # same answer whether the firm exists or not
    ]:
        body = {"json": {"name": "x", "description": "y"}} if method == "PUT" else {}
        r = client.request(method, url, headers=keys.header("company"), **body)
        assert r.status_code == 403, (method, url, r.status_code)
    r = client.get("/companies/T02", headers=keys.header("admin"))
    assert r.status_code == 200


def test_public_routes_need_no_key(client):
    for method, url in PUBLIC:
        assert client.request(method, url).status_code == 200


def test_docs_load_nothing_from_the_internet(client):
    import re

    page = client.get("/docs").text
    assets = re.findall(r"(?:src|href)=[\"']([^\"']+)", page) + re.findall(r"url: '([^']+)'", page)
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    for a in assets:
        if a.endswith((".js", ".css")):
            assert client.get(a).status_code == 200, a


def test_every_route_is_in_the_matrix(client):
    spec = client.get("/openapi.json").json()
    declared = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    covered = {(m, p) for m, p in PUBLIC}
    templates = {
        "/scenarios/S1": "/scenarios/{scenario_id}",
        "/scenarios/S2": "/scenarios/{scenario_id}",
        "/scenarios/S1/matches": "/scenarios/{scenario_id}/matches",
        "/scenarios/S1/matches.csv": "/scenarios/{scenario_id}/matches.csv",
        "/scenarios/S1/matches.xlsx": "/scenarios/{scenario_id}/matches.xlsx",
        "/scenarios/S1/controls": "/scenarios/{scenario_id}/controls",
        "/scenarios/S1/interest": "/scenarios/{scenario_id}/interest",
        "/companies/T01": "/companies/{company_id}",
        "/companies/T01/versions": "/companies/{company_id}/versions",
        "/companies/T01/suggestions": "/companies/{company_id}/suggestions",
    }
    factories = {
        ("DELETE", 4): "/scenarios/{scenario_id}",
        ("DELETE", 11): "/scenarios/{scenario_id}/controls/{company_id}/{action}",
        ("DELETE", 18): "/companies/{company_id}",
        ("DELETE", 25): "/keys/{key_id}",
        ("GET", 29): "/batch/runs/{run_id}",
        ("GET", 32): "/admin/imports/{job_id}",
        ("POST", 33): "/admin/imports/{job_id}/resume",
    }
    for i, (method, path, *_rest) in enumerate(ROUTES):
        if isinstance(path, str):
            covered.add((method, templates.get(path, path)))
        else:
            covered.add((method, factories[(method, i)]))
    assert declared - covered == set()

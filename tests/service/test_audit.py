"""The audit log records every write with its actor: each writing route of the API (the same
table ``test_roles`` walks, which it checks against the app's routes) is called once, and the
records it adds must name the calling key."""

from __future__ import annotations

import pytest

from .test_roles import ROUTES, _template, _wait_for_batch
from .test_scenarios import ok

READ_ONLY_POSTS = {"/search"}  # a POST that asks, never stores
WRITES = [r for r in ROUTES if r[0] in {"POST", "PUT", "DELETE"} and r[1] not in READ_ONLY_POSTS]


def _newest_audit_id(client, keys) -> int:
    rows = ok(client.get("/audit?limit=1", headers=keys.header("admin")))["data"]
    return rows[0]["id"] if rows else 0


def _actor(client, keys, role: str) -> str:
    """``key:<id>`` of the fixture key for ``role`` (keys are listed by their first 10 chars)."""
    listed = ok(client.get("/keys", headers=keys.header("admin")))["data"]
    prefix = getattr(keys, role)[:10]
    (row,) = [k for k in listed if k["prefix"] == prefix and k["revoked_at"] is None]
    return f"key:{row['id']}"


def test_every_writing_route_is_covered(client):
    """``test_roles`` checks that ROUTES holds every operation; here, that each POST, PUT and
    DELETE of the API but /search is in WRITES once."""
    spec = client.get("/openapi.json").json()
    declared = [
        (m.upper(), p)
        for p, ops in spec["paths"].items()
        for m in ops
        if m.upper() in {"POST", "PUT", "DELETE"} and p not in READ_ONLY_POSTS
    ]
    assert len(WRITES) == len(declared), sorted(declared)


@pytest.mark.parametrize(
    "method,path,kwargs,allowed", WRITES, ids=[f"{m} {_template(p)}" for m, p, *_ in WRITES]
)
def test_each_write_is_audited_with_the_calling_key(client, keys, method, path, kwargs, allowed):
    role = "admin" if "admin" in allowed else sorted(allowed)[0]
    url = path(client, keys) if callable(path) else path  # a factory may write first
    extra = kwargs(client, keys, role) if kwargs else {}
    if url == "/batch/runs":
        _wait_for_batch(client, keys)
    before = _newest_audit_id(client, keys)
    r = client.request(method, url, headers=keys.header(role), **extra)
    assert 200 <= r.status_code < 300, r.text
    if url == "/batch/runs":
        _wait_for_batch(client, keys)
    rows = ok(client.get("/audit?limit=50", headers=keys.header("admin")))["data"]
    new = [a for a in rows if a["id"] > before]
    assert new, f"{method} {url} wrote no audit record"
    assert {a["actor"] for a in new} == {_actor(client, keys, role)}, new
    assert all(a["action"] and a["entity"] for a in new)


def test_web_ui_writes_are_audited_with_the_signed_in_key(client, keys):
    """Every writing form of the web UI (sign-in and sign-out included) adds audit records
    naming the key the session was opened with."""
    from .test_ui_pages import PORTAL_FORM, csrf_of, sign_in

    posts = [  # role, page holding the form token, path, form
        ("recruiter", None, "/ui/signin", None),
        (
            "recruiter",
            "/ui/scenarios/S1",
            "/ui/feedback",
            {
                "scenario_id": "S1",
                "company_id": "T01",
                "stage": "contacted",
                "next": "/ui/scenarios/S1",
            },
        ),
        (
            "recruiter",
            "/ui/scenarios/S1",
            "/ui/controls",
            {
                "scenario_id": "S1",
                "company_id": "T02",
                "action": "like",
                "next": "/ui/scenarios/S1",
            },
        ),
        ("company", "/ui/portal", "/ui/portal", {**PORTAL_FORM, "employees": "77"}),
        ("admin", "/ui/runs", "/ui/runs", {}),
        ("admin", "/ui/catalogue", "/ui/signout", {}),
    ]
    for role, page, path, form in posts:
        _wait_for_batch(client, keys)
        before = _newest_audit_id(client, keys)
        b = sign_in(client, getattr(keys, role))
        if form is not None:
            r = b.post(path, data={**form, "csrf": csrf_of(b, page)})
            assert r.status_code in (200, 303), (path, r.status_code, r.text[:300])
        _wait_for_batch(client, keys)
        rows = ok(client.get("/audit?limit=50", headers=keys.header("admin")))["data"]
        new = [a for a in rows if a["id"] > before]
        actions = {a["action"] for a in new}
        assert "signin" in actions, (path, new)
        if form is not None:
            assert actions - {"signin"}, f"POST {path} wrote no audit record"
        assert {a["actor"] for a in new} == {_actor(client, keys, role)}, (path, new)

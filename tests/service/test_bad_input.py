"""Bad input gets a 4xx naming the field and the problem; nothing is written."""

from __future__ import annotations

import pytest

from .test_scenarios import ok

GOOD = {"name": "好企业有限公司", "description": "储能系统集成。"}


@pytest.mark.parametrize(
    "patch,field",
    [
        ({"name": "   "}, "name"),
        ({"description": ""}, "description"),
        ({"description": "\u200b \t\n"}, "description"),
        ({"name": 123}, "name"),
        ({"registered_capital_wan": "lots"}, "registered_capital_wan"),
        ({"registered_capital_wan": -5}, "registered_capital_wan"),
        ({"founded": 1066}, "founded"),
        ({"credit_code": "91350582MA2Y00010X"}, "credit_code"),
        ({"credit_code": "123"}, "credit_code"),
        ({"industry_codes": ["9999"]}, "industry_codes"),
        ({"industry_codes": "3841"}, "industry_codes"),
        ({"chain_position": "sideways"}, "chain_position"),
        ({"id": "../../etc/passwd"}, "id"),
        ({"surprise": 1}, "surprise"),
        ({"description": "长" * 20_001}, "description"),
        ({"products": ["x"] * 101}, "products"),
        ({"contact": {"name": "x", "ssn": "1"}}, "contact.ssn"),
    ],
)
def test_bad_profiles_name_the_field_and_store_nothing(client, keys, patch, field):
    h = keys.header("admin")
    before = ok(client.get("/companies?limit=1", headers=h))["count"]
    r = client.post("/companies", json={**GOOD, **patch}, headers=h)
    assert r.status_code == 422, r.text
    assert field in r.json()["detail"]["message"], r.json()
    assert ok(client.get("/companies?limit=1", headers=h))["count"] == before


def test_zero_width_only_text_counts_as_empty(client, keys):
    r = client.post("/search", json={"text": "\u200b\u200c"}, headers=keys.header("recruiter"))
    assert r.status_code == 422 and "text" in r.json()["detail"]["message"]
    assert "empty" in r.json()["detail"]["message"]


def test_malformed_json_and_wrong_content(client, keys):
    h = {**keys.header("admin"), "Content-Type": "application/json"}
    r = client.post("/companies", content=b"{not json", headers=h)
    assert r.status_code == 422
    r = client.post("/companies", content=b"[]", headers=h)
    assert r.status_code == 422
    r = client.post("/search", content="文字".encode("gb18030"), headers=h)
    assert r.status_code == 400 and "UTF-8" in r.json()["detail"]["message"]


def test_oversized_body_is_refused_before_parsing(client, keys):
    h = {**keys.header("admin"), "Content-Type": "application/json"}
    r = client.post("/companies", content=b"{" + b" " * 2_000_000 + b"}", headers=h)
    assert r.status_code == 413 and "limit" in r.json()["detail"]["message"]

    def chunks():  # no Content-Length: the limit is counted while streaming
        for _ in range(300):
            yield b" " * 10_000

    r = client.post("/search", content=chunks(), headers=h)
    assert r.status_code == 413


def test_unknown_ids_are_404_with_a_message(client, keys):
    h = keys.header("admin")
    for url in (
        "/companies/NOPE",
        "/companies/NOPE/suggestions",
        "/scenarios/NOPE",
        "/scenarios/NOPE/controls",
    ):
        r = client.get(url, headers=h)
        assert r.status_code == 404 and "NOPE" in r.json()["detail"]["message"]
    assert client.delete("/keys/999999", headers=h).status_code == 404
    assert client.delete("/keys/99999999999999999999", headers=h).status_code == 422


def test_revoked_key_is_refused(client, keys):
    h = keys.header("admin")
    made = ok(client.post("/keys", json={"role": "recruiter", "name": "temp"}, headers=h), 201)
    mine = {"Authorization": f"Bearer {made['key']}"}
    assert client.get("/scenarios", headers=mine).status_code == 200
    ok(client.delete(f"/keys/{made['id']}", headers=h))
    r = client.get("/scenarios", headers=mine)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]["message"]
    listed = client.get("/keys", headers=h).text
    assert made["key"] not in listed  # keys are stored hashed and never shown again
    assert client.post("/keys", json={"role": "company"}, headers=h).status_code == 422
    assert (
        client.post("/keys", json={"role": "recruiter", "company_id": "T01"}, headers=h).status_code
        == 422
    )

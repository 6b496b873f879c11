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


@pytest.mark.parametrize(
    "sent,stored",
    [
        ("含\x00空字符有限公司", "含空字符有限公司"),  # NUL: PostgreSQL refuses it in text
        ("\u202e司公限有向反", "司公限有向反"),  # right-to-left override: reads as another name
        ("甲\u2066乙\u2069丙有限公司", "甲乙丙有限公司"),  # directional isolates
        ("\ufffe非字符\ufdd0有限公司", "非字符有限公司"),  # Unicode noncharacters
        ("Cafe\u0301 Énergie 有限公司", "Café Énergie 有限公司"),  # decomposed → NFC
        ("\u200b\u3000全角 空格有限公司\ufeff", "全角 空格有限公司"),  # invisible edges trimmed
        ("👩\u200d💻 编程有限公司", "👩\u200d💻 编程有限公司"),  # a joiner inside an emoji stays
        ("Тesla 储能 شركة GmbH", "Тesla 储能 شركة GmbH"),  # mixed scripts are kept as sent
    ],
)
def test_unicode_edge_cases_are_stored_clean(client, keys, sent, stored):
    h = keys.header("admin")
    saved = ok(client.post("/companies", json={**GOOD, "name": sent}, headers=h), 201)
    assert saved["company"]["name"] == stored
    again = ok(client.get(f"/companies/{saved['company']['id']}", headers=h))
    assert again["name"] == stored


def test_a_lone_surrogate_in_json_is_dropped_like_other_invalid_characters(client, keys):
    """JSON may escape half a surrogate pair; it is no character, so it goes the way of NUL
    (stored, it would break UTF-8 encoding of every later response)."""
    h = {**keys.header("admin"), "Content-Type": "application/json"}
    body = b'{"name": "\\ud800\\u5341\\udfff\\u4e00", "description": "x"}'
    saved = ok(client.post("/companies", content=body, headers=h), 201)
    assert saved["company"]["name"] == "十一"
    assert client.get(f"/companies/{saved['company']['id']}", headers=h).status_code == 200


def test_a_mixed_script_profile_is_found_by_either_language(client, keys):
    h = keys.header("admin")
    mixed = {
        "name": "Nordlicht 储能 Technik 有限公司",
        "description": "Lithium battery energy storage systems 工商业储能柜, BMS 电池管理系统 "
        "und Wechselrichter; 储能变流器 PCS.",
    }
    cid = ok(client.post("/companies", json=mixed, headers=h), 201)["company"]["id"]
    for text in ("工商业储能 电池管理系统", "battery energy storage cabinet"):
        found = ok(client.post("/search", json={"text": text, "top_k": 10}, headers=h))
        assert cid in [m["company_id"] for m in found["data"]], text


@pytest.mark.parametrize(
    "given,problem",
    [
        ("913505820A2Y00010X", "check digit"),  # one character changed
        ("91350582MA2Y0001OX", "not used in credit codes: O"),  # letter O for zero
        ("91350582MA2Y0001", "18"),  # too short
        ("91350582MA2Y00010XX", "18"),  # too long
        ("ABCDEFGHJKLMNPQRTU", "check digit"),  # right alphabet, not a code
        (
            "９１３５０５８２ＭＡ２Ｙ０００１ＯＸ",
            "not used in credit codes: O",
        ),  # full width, O again
    ],
)
def test_invalid_credit_codes_name_the_problem(client, keys, given, problem):
    h = keys.header("admin")
    r = client.post("/companies", json={**GOOD, "credit_code": given}, headers=h)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["errors"][0]["field"] == "credit_code"
    assert problem in r.json()["detail"]["message"], r.json()


def test_credit_codes_are_stored_in_one_form(client, keys):
    """Lower case, full width and spaces are the same code: stored upper case, ASCII, joined,
    so a second submission in another form finds the same firm."""
    from .test_companies import code

    h = keys.header("admin")
    cc = code("91350582MA2Y0007" + "1")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in cc.lower())
    first = ok(client.post("/companies", json={**GOOD, "credit_code": full_width}, headers=h), 201)
    assert first["company"]["credit_code"] == cc
    spaced = f" {cc[:8]} {cc[8:]} "
    second = ok(client.post("/companies", json={**GOOD, "credit_code": spaced}, headers=h))
    assert second["updated_existing"] and second["company"]["id"] == first["company"]["id"]


# ------------------------------------------------------------------ issue 16 (10c, 10d)
@pytest.mark.parametrize(
    "path,body,field,limit",
    [
        ("/companies", {**GOOD, "description": "长" * 30_000}, "description", 20_000),
        ("/companies", {**GOOD, "name": "名" * 301}, "name", 300),
        ("/companies", {**GOOD, "products": ["品" * 201]}, "products.0", 200),
        ("/search", {"text": "储能" * 2_501}, "text", 5_000),
        ("/companies", {**GOOD, "contact": {"name": "名" * 101}}, "contact.name", 100),
    ],
)
def test_too_long_text_says_characters_not_items(client, keys, path, body, field, limit):
    r = client.post(path, json=body, headers=keys.header("admin"))
    assert r.status_code == 422, r.text
    message = r.json()["detail"]["message"]
    assert f"{field}: String should have at most {limit} characters" in message, message
    assert "items" not in message


@pytest.mark.parametrize(
    "name",
    [
        "\u3164",  # HANGUL FILLER (a letter, so it passed as visible)
        "\u2800\u2800\u2800",  # BRAILLE PATTERN BLANK
        "\u115f\u1160",  # Hangul choseong / jungseong fillers
        "\uffa0",  # HALFWIDTH HANGUL FILLER
        "\u200b\u3164\u2800",  # mixed with a zero-width space
        "\u3164 \u2800\u3000",  # and spaces
        "\u034f\ufe0f",  # combining grapheme joiner, a variation selector
        "\U000e0041\U000e0042",  # tag characters only
    ],
)
def test_names_of_invisible_characters_are_refused(client, keys, name):
    h = keys.header("admin")
    before = ok(client.get("/companies?limit=1", headers=h))["count"]
    r = client.post("/companies", json={**GOOD, "name": name}, headers=h)
    assert r.status_code == 422, r.text
    assert "name" in r.json()["detail"]["message"] and "invisible" in r.json()["detail"]["message"]
    assert ok(client.get("/companies?limit=1", headers=h))["count"] == before


# England's flag is the black flag, the tags g b e n g and a cancel tag; tags also hide text
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"


@pytest.mark.parametrize(
    "sent,stored",
    [
        (
            "隐藏\U000e0069\U000e0067\U000e006e\U000e006f\U000e0072\U000e0065文字有限公司",
            "隐藏文字有限公司",
        ),
        (f"英格兰{ENGLAND}贸易有限公司", "英格兰\U0001f3f4贸易有限公司"),
        ("\u3164中文名有限公司", "\u3164中文名有限公司"),  # a filler beside visible text: kept
        ("🇨🇳 中国旗有限公司", "🇨🇳 中国旗有限公司"),  # a country flag has no tags: kept
    ],
)
def test_tag_characters_are_dropped(client, keys, sent, stored):
    h = keys.header("admin")
    saved = ok(client.post("/companies", json={**GOOD, "name": sent}, headers=h), 201)
    assert saved["company"]["name"] == stored


def test_search_text_comes_back_once_not_in_every_match(client, keys):
    """A 5,000-character query with top_k=200 answered 3.2 MB: the text was every match's
    scenario_title."""
    text = "储能系统集成与微电网能量管理 " + " ".join(f"需求{i}" for i in range(1_000))
    text = text[:5_000]  # no repeating run: its first 200 characters occur once in it
    r = client.post("/search", json={"text": text, "top_k": 200}, headers=keys.header("recruiter"))
    body = ok(r)
    assert body["count"] >= 5 and body["text"] == text
    assert all(m["scenario_title"] == "" for m in body["data"])
    assert r.text.count(text[:200]) == 1
    assert len(r.content) < len(text.encode("utf-8")) + 3_000 * body["count"]


# ------------------------------------------------------------------ issue 16 (4): contacts
@pytest.mark.parametrize(
    "contact,field",
    [
        ({"email": "not-an-email"}, "contact.email"),
        ({"email": "wang@localhost"}, "contact.email"),
        ({"email": "wang@@example.com"}, "contact.email"),
        ({"phone": "12345"}, "contact.phone"),
        ({"phone": "call me"}, "contact.phone"),
        ({"phone": "1381234567"}, "contact.phone"),  # a mobile needs 11 digits
        ({"phone": "13812345678abc"}, "contact.phone"),
    ],
)
def test_bad_contact_email_or_phone_is_422_naming_the_field(client, keys, contact, field):
    h = keys.header("admin")
    before = ok(client.get("/companies?limit=1", headers=h))["count"]
    r = client.post("/companies", json={**GOOD, "contact": contact}, headers=h)
    assert r.status_code == 422, r.text
    message = r.json()["detail"]["message"]
    assert message.startswith(f"{field}: ") and "not a valid" in message, message
    assert ok(client.get("/companies?limit=1", headers=h))["count"] == before


@pytest.mark.parametrize(
    "phone",
    [
        "13812345678",
        "138 1234 5678",
        "+86 138 1234 5678",
        "0595-12345678",
        "(0595) 12345678",
        "+86 595 1234 5678",
        "0595-12345678 转 801",
        "0595-12345678 ext. 801",
        "021-62345678 x801",
        "+852 2123 4567",
    ],
)
def test_real_phone_numbers_pass_as_written(phone):
    from service.schemas import Contact

    assert Contact.model_validate({"phone": phone}).phone == phone


def test_a_contact_is_stored_as_written_and_an_empty_string_clears(client, keys):
    h = keys.header("admin")
    contact = {"name": "林经理", "phone": "0595-12345678 转 801", "email": "林@公司.中国"}
    made = ok(
        client.post("/companies", json={**GOOD, "id": "V01", "contact": contact}, headers=h), 201
    )
    assert made["company"]["contact"] == contact
    cleared = ok(client.put("/companies/V01", json={"contact": {"email": ""}}, headers=h))
    assert cleared["company"]["contact"] == {"name": "林经理", "phone": "0595-12345678 转 801"}


def test_an_import_row_with_a_bad_email_is_rejected_naming_the_field(client, keys):
    import io

    text = (
        "企业名称,企业简介,邮箱,电话\n"
        "联系校验一号有限公司,鞋材研发。,li@example.com,0595-12345678\n"
        "联系校验二号有限公司,鞋材研发。,not-an-email,\n"
        "联系校验三号有限公司,鞋材研发。,,555\n"
    )
    files = {"file": ("firms.csv", io.BytesIO(text.encode()), "text/csv")}
    report = ok(client.post("/companies/import", files=files, headers=keys.header("admin")))
    rows = {r["row"]: r for r in report["data"]}
    assert rows[2]["status"] == "imported"
    assert rows[3]["status"] == "rejected" and rows[3]["reason"].startswith("contact.email: ")
    assert rows[4]["status"] == "rejected" and rows[4]["reason"].startswith("contact.phone: ")


def test_the_portal_shows_a_bad_email_under_its_field(client, keys):
    import re

    from service.models import CompanyRow

    from .test_ui_pages import PORTAL_FORM, csrf_of, sign_in

    b = sign_in(client, keys.company)
    csrf = csrf_of(b, "/ui/portal")
    with client.app.state.sessions() as s:
        version = s.get(CompanyRow, "T01").current_version
    form = {**PORTAL_FORM, "contact_email": "not-an-email", "contact_phone": "12345", "csrf": csrf}
    r = b.post("/ui/portal", data=form)
    assert r.status_code == 422
    assert re.search(r'id="e-contact_email">[^<]*不是有效的邮箱地址', r.text), r.text[-2000:]
    assert re.search(r'id="e-contact_phone">[^<]*不是有效的电话号码', r.text)
    assert "not-an-email" in r.text  # what was typed stays in the form
    with client.app.state.sessions() as s:
        assert s.get(CompanyRow, "T01").current_version == version

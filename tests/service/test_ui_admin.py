"""The admin pages over HTTP (no browser): keys shown once, the catalogue upload's preview
and apply, company imports as background jobs with their status page, deleting a firm.

Who may open them (admins only, every POST with the form token) is in the access matrix of
``test_ui_pages.py``. Runs on SQLite and PostgreSQL like the other service tests.
"""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from sqlalchemy import select

from service import import_jobs
from service.models import AuditRow, ErasureRow

from ..conftest import FIXTURES
from .test_import_jobs import firms, named, new_job
from .test_scenarios import ok
from .test_ui_pages import CSRF, csrf_of, sign_in

SMALL = yaml.safe_load((FIXTURES / "catalogue_small.yaml").read_text("utf-8"))
REFRESH = '<meta http-equiv="refresh" content="2">'


def admin(client, keys):
    return sign_in(client, keys.admin)


def audited(client, action: str, entity: str) -> list[AuditRow]:
    with client.app.state.sessions() as s:
        q = select(AuditRow).where(AuditRow.action == action, AuditRow.entity == entity)
        return list(s.scalars(q))


# ------------------------------------------------------------------ navigation
def test_the_admin_entry_is_shown_to_admins_only(client, keys):
    b = admin(client, keys)
    home = b.get("/ui/admin")
    assert 'id="nav-admin"' in home.text
    for link in ("keys", "catalogue", "imports", "firms"):
        assert f'href="/ui/admin/{link}"' in home.text
    assert 'id="nav-admin"' not in sign_in(client, keys.recruiter).get("/ui/catalogue").text
    b.get("/ui/lang/en?next=/ui/admin")
    assert "Import firms" in b.get("/ui/admin").text


# ------------------------------------------------------------------ keys
def test_a_key_made_on_the_page_is_shown_once_works_and_stops_when_revoked(client, keys):
    b = admin(client, keys)
    r = b.post(
        "/ui/admin/keys",
        data={"csrf": csrf_of(b, "/ui/admin/keys"), "role": "recruiter", "name": "招商二组"},
    )
    assert r.status_code == 201 and "只显示这一次" in r.text
    key = re.search(r'id="new-key-value" readonly value="(smk_[^"]+)"', r.text).group(1)
    assert r.headers["cache-control"] == "no-store"
    api = {"Authorization": f"Bearer {key}"}
    assert client.get("/scenarios", headers=api).status_code == 200
    listing = b.get("/ui/admin/keys").text
    assert key not in listing and key[:10] in listing and "招商二组" in listing
    key_id = int(re.search(r'<tr id="key-(\d+)">\s*<td>\d+</td><td>招商二组', listing).group(1))
    assert any(a.entity_id == str(key_id) for a in audited(client, "create", "api_key"))

    r = b.post(f"/ui/admin/keys/{key_id}/revoke", data={"csrf": csrf_of(b, "/ui/admin/keys")})
    assert r.status_code == 303
    assert client.get("/scenarios", headers=api).status_code == 401
    assert f'id="revoke-{key_id}"' not in b.get("/ui/admin/keys").text
    assert any(a.entity_id == str(key_id) for a in audited(client, "revoke", "api_key"))


def test_bad_key_input_is_shown_and_makes_no_key(client, keys):
    b = admin(client, keys)
    before = b.get("/ui/admin/keys").text.count('<tr id="key-')
    csrf = csrf_of(b, "/ui/admin/keys")
    r = b.post("/ui/admin/keys", data={"csrf": csrf, "role": "company", "company_id": ""})
    assert r.status_code == 422 and 'id="e-company_id"' in r.text and "new-key-value" not in r.text
    r = b.post("/ui/admin/keys", data={"csrf": csrf, "role": "boss"})
    assert r.status_code == 422 and 'id="e-role"' in r.text
    assert b.get("/ui/admin/keys").text.count('<tr id="key-') == before


# ------------------------------------------------------------------ catalogue
def upload(b, doc: dict | bytes, name: str = "catalogue.yaml"):
    data = doc if isinstance(doc, bytes) else yaml.safe_dump(doc, allow_unicode=True).encode()
    csrf = csrf_of(b, "/ui/admin/catalogue")
    return b.post("/ui/admin/scenarios/upload", data={"csrf": csrf}, files={"file": (name, data)})


def catalogue_ids(client, keys) -> dict[str, str]:
    tree = ok(client.get("/scenarios?include_retired=true", headers=keys.header("admin")))
    return {o["id"]: o["status"] for c in tree["data"] for o in c["opportunities"]}


def test_an_upload_with_two_errors_lists_both_and_applies_nothing(client, keys):
    b = admin(client, keys)
    before = catalogue_ids(client, keys)
    doc = copy.deepcopy(SMALL)
    del doc["opportunities"][0]["title_zh"]
    doc["opportunities"][1]["value_yi"] = "很多"
    r = upload(b, doc)
    assert r.status_code == 422 and 'id="apply"' not in r.text
    problems = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", r.text)
    assert len(problems) == 2, problems
    assert problems[0][0] == "opportunities #1 (S1)" and "title_zh" in problems[0][2]
    assert problems[1][0] == "opportunities #2 (S2)" and problems[1][1] == "value_yi"
    # semantic problems, all of them too
    doc = copy.deepcopy(SMALL)
    doc["opportunities"][0]["parent_id"] = "C9"
    doc["opportunities"][1]["industry_codes"] = ["9999"]
    r = upload(b, doc)
    assert r.status_code == 422 and "C9" in r.text and "9999" in r.text
    assert catalogue_ids(client, keys) == before
    # the API's dry run gives the same list
    data = yaml.safe_dump(doc, allow_unicode=True).encode()
    dry = client.post(
        "/scenarios/upload?dry_run=1",
        files={"file": ("c.yaml", data)},
        headers=keys.header("admin"),
    )
    body = ok(dry)
    assert not body["valid"] and [e["field"] for e in body["errors"]] == [
        "parent_id",
        "industry_codes",
    ]


def test_bad_files_are_refused_with_a_clear_message(client, keys):
    b = admin(client, keys)
    assert "empty" in upload(b, b"  \n").text
    r = upload(b, b"\x89PNG\r\n\x1a\n\x00\x00", "logo.png")
    assert r.status_code == 422 and "not UTF-8" in r.text
    big = b"x" * (client.app.state.settings.max_upload_bytes + 1)
    assert upload(b, big).status_code == 413
    r = b.post("/ui/admin/scenarios/upload", data={"csrf": csrf_of(b, "/ui/admin/catalogue")})
    assert r.status_code == 422 and "choose a file" in r.text


def fixed_catalogue() -> dict:
    """S1 changed, S2 left out (retires), S9 new."""
    doc = copy.deepcopy(SMALL)
    doc["opportunities"][0]["title_zh"] = "工商业储能电站（二期）"
    s9 = {**copy.deepcopy(doc["opportunities"][1]), "id": "S9", "title_zh": "鞋服智能仓储"}
    doc["opportunities"] = [o for o in doc["opportunities"] if o["id"] != "S2"] + [s9]
    return doc


def test_a_preview_lists_adds_changes_and_retires_and_apply_does_exactly_that(client, keys):
    b = admin(client, keys)
    before = catalogue_ids(client, keys)
    r = upload(b, fixed_catalogue())
    assert r.status_code == 200, r.text[:500]

    def ids(kind: str) -> list[str]:
        part = re.search(rf'id="will-{kind}">(.*?)</section>', r.text, re.S).group(1)
        return re.findall(r'<span class="sid">([^<]+)</span>', part)

    assert (ids("created"), ids("updated"), ids("retired")) == (["S9"], ["S1"], ["S2"])
    assert catalogue_ids(client, keys) == before  # a preview stores nothing
    token = re.search(r'name="token" value="([^"]+)"', r.text).group(1)
    csrf = CSRF.search(r.text).group(1)
    done = b.post("/ui/admin/scenarios/apply", data={"csrf": csrf, "token": token})
    assert done.status_code == 200 and 'id="applied"' in done.text
    after = catalogue_ids(client, keys)
    assert after["S9"] == "open" and after["S2"] == "retired"
    assert {k for k in after if after[k] != before.get(k)} == {"S9", "S2"}
    s1 = ok(client.get("/scenarios/S1", headers=keys.header("admin")))
    assert s1["title_zh"] == "工商业储能电站（二期）"
    assert audited(client, "upload", "catalogue")
    # the same preview does not apply twice, nor for another admin's session
    again = b.post("/ui/admin/scenarios/apply", data={"csrf": csrf, "token": token})
    assert again.status_code == 409
    forged = b.post("/ui/admin/scenarios/apply", data={"csrf": csrf, "token": "x" * 43})
    assert forged.status_code == 404


def test_apply_after_the_catalogue_changed_is_refused(client, keys):
    b = admin(client, keys)
    doc = fixed_catalogue()
    doc["opportunities"][0]["title_zh"] = "工商业储能电站（三期）"
    r = upload(b, doc)
    token = re.search(r'name="token" value="([^"]+)"', r.text).group(1)
    # meanwhile someone edits S3 through the API
    s3 = ok(client.get("/scenarios/S3", headers=keys.header("admin")))
    body = {k: s3[k] for k in ("parent_id", "title_zh", "description_zh")}
    r = client.put(
        "/scenarios/S3", json={**body, "title_zh": "医用同位素（新）"}, headers=keys.header("admin")
    )
    assert r.status_code == 200, r.text
    refused = b.post("/ui/admin/scenarios/apply", data={"csrf": csrf_of(b), "token": token})
    assert refused.status_code == 409 and "changed since this preview" in refused.text
    s1 = ok(client.get("/scenarios/S1", headers=keys.header("admin")))
    assert s1["title_zh"] != "工商业储能电站（三期）"


# ------------------------------------------------------------------ imports
def test_an_import_from_the_page_runs_and_its_page_shows_the_report(client, keys):
    b = admin(client, keys)
    csrf = csrf_of(b, "/ui/admin/imports")
    r = b.post(
        "/ui/admin/companies/import",
        data={"csrf": csrf},
        files={"file": ("firms.csv", firms("页面己", 3, bad=(1,)))},
    )
    assert r.status_code == 303
    path = r.headers["location"]
    job_id = int(path.rsplit("/", 1)[1])
    for _ in range(300):
        page = b.get(path)
        if "已完成" in page.text:
            break
    assert "已完成" in page.text and REFRESH not in page.text
    rows = re.findall(r'<tr class="r-(\w+)"><td class="num">(\d+)</td>', page.text)
    assert rows == [("imported", "2"), ("rejected", "3"), ("imported", "4")]
    assert "founded" in page.text and named(client, "页面己") == 2
    assert f'href="/ui/admin/imports/{job_id}"' in b.get("/ui/admin/imports").text
    # a file that cannot import is refused on the form, no job made
    bad = b.post(
        "/ui/admin/companies/import", data={"csrf": csrf}, files={"file": ("x.csv", b"a,b\n1,2\n")}
    )
    assert bad.status_code == 422 and 'id="upload-error"' in bad.text


def test_the_status_page_refreshes_while_running_and_offers_resume_when_stopped(client, keys):
    b = admin(client, keys)
    sessions, holder = client.app.state.sessions, client.app.state.holder
    job_id = new_job(client, firms("刷新庚", 3))
    owner = import_jobs.owner_id()
    assert import_jobs.claim(sessions, job_id, owner)
    running = b.get(f"/ui/admin/imports/{job_id}")
    assert (
        REFRESH in running.text and "进行中" in running.text and 'id="resume"' not in running.text
    )

    def boom(done: int) -> None:
        raise RuntimeError("disk full")

    import_jobs.run_job(holder, job_id, owner, batch_rows=2, after_batch=boom)
    stopped = b.get(f"/ui/admin/imports/{job_id}")
    assert REFRESH not in stopped.text and "disk full" in stopped.text
    assert "停在第 4 行" in stopped.text and 'id="resume"' in stopped.text
    r = b.post(
        f"/ui/admin/imports/{job_id}/resume", data={"csrf": CSRF.search(stopped.text).group(1)}
    )
    assert r.status_code == 303
    for _ in range(300):
        done = b.get(f"/ui/admin/imports/{job_id}")
        if "已完成" in done.text:
            break
    assert REFRESH not in done.text and named(client, "刷新庚") == 3


# ------------------------------------------------------------------ delete a firm
def test_delete_from_the_page_erases_the_firm(client, keys):
    h = keys.header("admin")
    made = ok(
        client.post(
            "/companies",
            json={"name": "待删除辛测试有限公司", "description": "储能电池包组装与测试服务。"},
            headers=h,
        ),
        201,
    )
    cid = made["company"]["id"]
    b = admin(client, keys)
    found = b.get("/ui/admin/firms", params={"q": "待删除辛"})
    assert f'href="/ui/admin/firms/{cid}/delete"' in found.text
    assert (
        f'href="/ui/admin/firms/{cid}/delete"' in b.get("/ui/admin/firms", params={"q": cid}).text
    )
    confirm = b.get(f"/ui/admin/firms/{cid}/delete")
    assert "待删除辛测试有限公司" in confirm.text and cid in confirm.text
    assert client.get(f"/companies/{cid}", headers=h).status_code == 200  # not yet
    r = b.post(f"/ui/admin/firms/{cid}/delete", data={"csrf": CSRF.search(confirm.text).group(1)})
    assert r.status_code == 303 and r.headers["location"] == f"/ui/admin/firms?deleted={cid}"
    assert client.get(f"/companies/{cid}", headers=h).status_code == 404
    with client.app.state.holder.reading() as engine:
        assert cid not in {c.id for c in engine.companies}
    with client.app.state.sessions() as s:
        assert s.scalars(select(ErasureRow).where(ErasureRow.company_id == cid)).first()
    assert b.get(f"/ui/admin/firms/{cid}/delete").status_code == 404
    gone = b.get("/ui/admin/firms", params={"q": "待删除辛"}).text
    assert f'href="/ui/admin/firms/{cid}/delete"' not in gone


# ------------------------------------------------------------------ in a browser
@pytest.mark.browser
def test_admin_previews_fixes_and_applies_a_catalogue_then_imports_in_a_browser(
    tmp_path, cache_dir
):
    """Chromium: a catalogue with an error → the preview lists it → the fixed file →
    apply; a CSV import whose page refreshes itself until the report is there. Screenshots
    go where the other browser tests put theirs (``MATCHER_SCREENSHOTS``; docs/screenshots
    holds a committed set)."""
    from pathlib import Path

    from service import auth
    from service.app import create_app
    from service.db import transaction

    from .conftest import live_server, make_settings
    from .test_ui_browser import ARGS, CHROMIUM, _missing, shots_folder

    if _missing():
        pytest.skip(_missing())
    from playwright.sync_api import sync_playwright

    shots = shots_folder()
    bad = copy.deepcopy(SMALL)
    bad["opportunities"][0]["value_yi"] = "很多"
    del bad["opportunities"][1]["title_zh"]
    files = {
        "bad.yaml": yaml.safe_dump(bad, allow_unicode=True).encode(),
        "fixed.yaml": yaml.safe_dump(fixed_catalogue(), allow_unicode=True).encode(),
        "firms.csv": firms("浏览器壬", 4, bad=(2,)),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'm.db'}", tmp_path, cache_dir))
    with live_server(app) as base, sync_playwright() as p:
        with transaction(app.state.sessions) as s:
            _, key = auth.create_key(s, "admin", name="admin")
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        context = browser.new_context(
            base_url=base.replace("127.0.0.1", "localhost"),
            viewport={"width": 1280, "height": 900},
            locale="zh-CN",
        )
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto("/ui")
        page.fill("#key", key)
        page.click("button[type=submit]")
        page.wait_for_url("**/ui/catalogue")
        page.click("#nav-admin")
        page.click("#admin-catalogue")
        page.set_input_files("#cat-file", str(tmp_path / "bad.yaml"))
        page.click("#preview")
        assert page.locator("#problems tbody tr").count() == 2
        assert page.locator("#apply").count() == 0
        page.screenshot(path=str(shots / "admin_preview_errors.png"), full_page=True)
        page.goto("/ui/admin/catalogue")
        page.set_input_files("#cat-file", str(tmp_path / "fixed.yaml"))
        page.click("#preview")
        assert "S9" in page.inner_text("#will-created")
        page.screenshot(path=str(shots / "admin_preview.png"), full_page=True)
        page.click("#apply")
        assert "S2" in page.inner_text("#did-retired")
        page.goto("/ui/admin/imports")
        page.set_input_files("#imp-file", str(tmp_path / "firms.csv"))
        page.click("#start-import")
        page.wait_for_selector("text=已完成", timeout=60_000)  # the page reloaded itself
        assert page.locator("#report tbody tr").count() == 4
        page.screenshot(path=str(shots / "admin_import.png"), full_page=True)
        browser.close()
    assert Path(shots / "admin_import.png").exists()

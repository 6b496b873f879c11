"""The web UI in a real browser: Playwright drives Debian's Chromium against a live server on
the bundled data (13 composite scenarios, 28 opportunities, 572 firms).

Needs ``/usr/bin/chromium`` (``apt-get install -y chromium fonts-noto-cjk``) and the
``playwright`` package (no ``playwright install``: it would download a browser). Without them
these tests skip with the reason, except where ``MATCHER_REQUIRE_BROWSER=1`` (``.ci/run`` sets
it): there they fail. Screenshots of the main pages go to ``MATCHER_SCREENSHOTS`` (default
``test-artifacts/screenshots``).
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service import exports

from ..conftest import ROOT
from .conftest import Keys, live_server, make_settings

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
COMPANY_ID = "F0002"  # a firm in data/companies.jsonl; its key signs in to the portal
pytestmark = pytest.mark.browser


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed: pip install -e '.[dev]'"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}: apt-get install -y chromium fonts-noto-cjk"
    return None


@pytest.fixture(scope="module")
def chromium():
    reason = _missing()
    if reason:
        if os.environ.get("MATCHER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required here (MATCHER_REQUIRE_BROWSER=1): {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shots() -> Path:
    return shots_folder()


def shots_folder() -> Path:
    """Where browser tests save screenshots: ``MATCHER_SCREENSHOTS`` (set it to
    docs/screenshots to refresh the committed set), else test-artifacts/screenshots."""
    folder = Path(os.environ.get("MATCHER_SCREENSHOTS", ROOT / "test-artifacts" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def site(chromium, tmp_path_factory, cache_dir) -> Iterator[tuple[str, Keys, object]]:
    """The service on SQLite with the bundled data, two nightly runs (a firm added between
    them), and one key per role."""
    from service import auth, nightly
    from service.app import create_app
    from service.db import transaction

    folder = tmp_path_factory.mktemp("ui")
    settings = make_settings(
        f"sqlite:///{folder / 'matcher.db'}",
        folder,
        cache_dir,
        seed_catalogue=ROOT / "data" / "scenarios.yaml",
        seed_companies=ROOT / "data" / "companies.jsonl",
        batch_top_n=10,
        batch_block_size=200,
    )
    app = create_app(settings)
    with live_server(app) as base:
        made = {}
        with transaction(app.state.sessions) as s:
            for name, role, company in (
                ("admin", "admin", None),
                ("recruiter", "recruiter", None),
                ("company", "company", COMPANY_ID),
                ("other_company", "company", "NEWFIRM"),
            ):
                _, made[name] = auth.create_key(s, role, company, name=name)
        keys = Keys(**made)
        holder = app.state.holder
        nightly.run(settings, holder.sessions, nightly.start_row(holder.sessions, "local", "ci"))
        firm = {
            "name": "晋江智慧储能系统有限公司",
            "description": "工商业储能电站与园区微电网：储能变流器PCS、电池管理系统BMS、"
            "能量管理平台，已在泉州建成多个用户侧储能项目。",
            "industry_codes": ["3841"],
            "city": "晋江市",
            "chain_position": "midstream",
        }
        r = httpx.post(f"{base}/companies", json=firm, headers=keys.header("admin"), timeout=60)
        assert r.status_code == 201, r.text
        nightly.run(settings, holder.sessions, nightly.start_row(holder.sessions, "local", "ci"))
        # the browser uses "localhost": a Secure cookie is kept there over plain HTTP
        yield base.replace("127.0.0.1", "localhost"), keys, app


def signed_in(chromium, base: str, key: str, home: str, bypass_csp: bool = False, height=900):
    """A new browser context signed in with ``key`` through the sign-in form, on ``home``;
    ``bypass_csp`` lets a test inject axe-core (the pages' CSP allows no inline script)."""
    context = chromium.new_context(
        base_url=base,
        viewport={"width": 1366, "height": height},
        locale="zh-CN",
        bypass_csp=bypass_csp,
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto("/ui")
    page.fill("#key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{home}")
    return context, page


def test_recruiter_finds_filters_gives_feedback_and_exports(chromium, site, shots):
    from playwright.sync_api import expect

    base, keys, app = site
    context, page = signed_in(chromium, base, keys.recruiter, "/ui/catalogue")
    cookie = next(c for c in context.cookies() if c["name"] == "matcher_session")
    assert cookie["httpOnly"] and cookie["secure"]
    assert page.evaluate("document.cookie").find("matcher_session") == -1  # not readable by JS
    counts = page.inner_text("#counts")
    assert "13 个综合场景" in counts and "28 个场景机会" in counts
    page.screenshot(path=shots / "catalogue.png")

    page.fill("#q", "储能")  # htmx narrows the catalogue as one types
    expect(page.locator("#counts")).not_to_contain_text("28 个场景机会")
    link = page.locator("#catalogue a[href^='/ui/scenarios/']").first
    scenario_id = link.get_attribute("href").rsplit("/", 1)[1]
    link.click()
    page.wait_for_url(f"**/ui/scenarios/{scenario_id}")
    all_firms = page.locator(".rrow").count()
    assert all_firms == 20  # a compact table: one line a firm
    assert page.locator(".rrow .bars").count() == all_firms  # each row holds its card
    assert page.locator(".rrow mark").count() > 0  # matched terms highlighted
    visible = page.evaluate(
        "Array.from(document.querySelectorAll('.rrow'))"
        ".filter(e => e.getBoundingClientRect().bottom <= innerHeight).length"
    )
    assert visible >= 18  # this context is 1366×900; docs/screenshots has the 768-high view

    page.select_option("#f-chain", "midstream")  # a filter, applied without a page load
    page.fill("#f-city", "厦门市")
    page.click("#filters button[type=submit]")
    page.wait_for_url(re.compile(r".*chain=midstream.*"))
    firms = page.locator(".rrow")
    n = firms.count()
    assert 0 < n < all_firms
    assert "city=%E5%8E%A6%E9%97%A8%E5%B8%82" in page.url

    first = firms.first
    company_id = first.get_attribute("data-company")
    first.locator(".rdetail > summary").click()  # the row opens its card in place
    expect(first.locator(".rdetail .bars")).to_be_visible()
    first.locator("input[name=note]").fill("周三电话联系，对方有意向")
    first.locator("button[value=shortlisted]").click()
    status = page.locator(f"#fb-{company_id} .ok")
    status.wait_for()
    assert "已记录" in status.inner_text()
    assert "入围" in page.inner_text(f"#fb-{company_id} .state")
    with app.state.sessions() as s:
        from service.models import FeedbackRow

        row = s.query(FeedbackRow).order_by(FeedbackRow.id.desc()).first()
    assert (row.scenario_id, row.company_id, row.stage) == (scenario_id, company_id, "shortlisted")
    assert row.note == "周三电话联系，对方有意向"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=shots / "scenario.png")

    with page.expect_download() as info:
        page.click("#export-csv")
    download = info.value
    assert download.suggested_filename == f"{scenario_id}-matches.csv"
    rows = exports.read_csv(Path(download.path()).read_bytes())
    assert len(rows) - 1 == n and company_id in rows[1]  # the filtered list, same order
    with page.expect_download() as info:
        page.click("#export-xlsx")
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"

    last = firms.nth(n - 1).get_attribute("data-company")  # pin the last firm: it leads
    firms.nth(n - 1).locator(".rdetail > summary").click()
    firms.nth(n - 1).locator("button[value=pin]").click()
    expect(page.locator(".rrow").first).to_have_attribute("data-company", last)
    expect(page.locator("#controls")).to_contain_text("置顶")
    assert "chain=midstream" in page.url  # the filters are kept
    page.locator("#controls button").click()  # undo
    expect(page.locator("#controls")).to_have_count(0)
    context.close()


def test_free_text_search_in_english_finds_chinese_firms(chromium, site, shots):
    base, keys, _ = site
    context, page = signed_in(chromium, base, keys.recruiter, "/ui/catalogue")
    page.click("a[href='/ui/search']")
    page.fill("#q", "rooftop solar power plant operation and maintenance")
    page.click("#filters button[type=submit]")
    page.locator("article.match").first.wait_for()
    names = page.locator("article.match h3").all_inner_texts()
    assert len(names) == 20 and any("光伏" in n or "电力" in n or "能源" in n for n in names[:5])
    page.screenshot(path=shots / "search.png", full_page=False)
    context.close()


def test_company_submits_its_profile_and_sees_suggestions(chromium, site, shots):
    base, keys, app = site
    context, page = signed_in(chromium, base, keys.other_company, "/ui/portal")
    assert page.locator("#suggestions article").count() == 0  # not registered yet
    page.fill("#c-name", "泉州绿色鞋材科技有限公司")
    page.fill(
        "#c-description",
        "研发生产运动鞋用生物基可降解鞋底材料、再生EVA发泡材料，服务晋江运动鞋服品牌的绿色供应链。",
    )
    page.fill("#c-products", "可降解鞋底、再生EVA")
    page.fill("#c-industry_codes", "2929")
    page.fill("#c-city", "泉州市")
    page.fill("#c-registered_capital_wan", "3000")
    page.select_option("#c-chain_position", "upstream")
    page.fill("#c-contact_name", "林女士")
    page.click("#save")
    page.wait_for_url("**/ui/portal?saved=1")
    assert "已保存（第 1 版）" in page.inner_text("#saved")
    suggestions = page.locator("#suggestions article.match")
    # at most the 5 asked for, and only those above the fit threshold (not filled with noise)
    assert 1 <= suggestions.count() <= 5
    assert page.locator("#suggestions .why").first.inner_text().strip()  # with reasons
    page.screenshot(path=shots / "portal.png", full_page=True)
    with app.state.sessions() as s:
        from service import store

        row, version = store.get_company(s, "NEWFIRM")
    assert row.name == "泉州绿色鞋材科技有限公司" and version.contact["name"] == "林女士"
    context.close()


def test_bad_form_input_shows_its_message_and_stores_nothing(chromium, site, shots):
    base, keys, app = site
    from service import store

    with app.state.sessions() as s:
        before = store.get_company(s, COMPANY_ID)[0].current_version
    context, page = signed_in(chromium, base, keys.company, "/ui/portal")
    assert page.input_value("#c-name")  # the stored profile, prefilled
    page.fill("#c-credit_code", "91350200MAER1ELUX4")  # one character mistyped
    page.fill("#c-founded", "二〇一七")
    page.fill("#c-name", "   ")
    page.click("#save")
    page.locator("#form-errors").wait_for()
    assert "信息尚未保存" in page.inner_text("#form-errors")
    assert "校验位" in page.inner_text("#e-credit_code")
    assert "请输入整数" in page.inner_text("#e-founded")
    assert "不能为空" in page.inner_text("#e-name")
    assert page.input_value("#c-founded") == "二〇一七"  # what was typed is kept
    page.screenshot(path=shots / "portal-errors.png", full_page=False)
    with app.state.sessions() as s:
        assert store.get_company(s, COMPANY_ID)[0].current_version == before
    context.close()


def test_company_key_cannot_open_recruiter_pages(chromium, site):
    base, keys, _ = site
    context, page = signed_in(chromium, base, keys.company, "/ui/portal")
    assert page.locator("a[href='/ui/search']").count() == 0  # not offered in the menu
    for path in ("/ui/search?q=储能", "/ui/runs", "/ui/runs/1", "/ui/pipeline"):
        response = page.goto(path)
        assert response.status == 403, path
        assert "无权访问此页面" in page.inner_text("#error-message")
        assert page.locator("article.match, .rrow").count() == 0
    context.close()


def test_a_company_marks_interest_and_the_recruiter_sees_it(chromium, site, shots):
    from playwright.sync_api import expect

    base, keys, _ = site
    context, page = signed_in(chromium, base, keys.company, "/ui/portal")
    page.goto("/ui/catalogue")
    page.click("a[href='/ui/scenarios/S01']")  # a company opens any open scenario's text
    page.wait_for_url("**/ui/scenarios/S01")
    assert page.locator(".rrow, #compare-button").count() == 0  # no ranked firms
    page.fill("#int-note", "可提供储能变流器样机，欢迎走访")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the submit button, by keyboard
    page.wait_for_url("**/ui/scenarios/S01?interest=saved")
    expect(page.locator("#interest-state")).to_contain_text("可提供储能变流器样机")
    page.screenshot(path=shots / "company-interest.png", full_page=False)
    context.close()

    context, page = signed_in(chromium, base, keys.recruiter, "/ui/catalogue")
    page.goto("/ui/scenarios/S01")
    expect(page.locator("#interested")).to_contain_text("可提供储能变流器样机")
    page.goto("/ui/pipeline/S01")
    expect(page.locator(".col-interest")).to_contain_text("可提供储能变流器样机")
    context.close()


def test_nightly_runs_show_timings_diff_and_heatmap(chromium, site, shots):
    base, keys, _ = site
    context, page = signed_in(chromium, base, keys.admin, "/ui/catalogue")
    page.goto("/ui/runs")
    rows = page.locator("#runs tbody tr")
    assert rows.count() >= 2
    assert "encode" in rows.first.inner_text() and "完成" in rows.first.inner_text()
    page.screenshot(path=shots / "runs.png", full_page=False)
    rows.first.locator("a").click()
    page.wait_for_url(re.compile(r".*/ui/runs/\d+$"))
    diff = page.inner_text("#diff")
    assert "晋江智慧储能系统有限公司" in diff and "新企业" in diff
    cells = page.locator("#heatmap td[style]")
    assert cells.count() >= 20
    assert page.locator("#heatmap th.firm").count() == 15
    page.screenshot(path=shots / "run.png", full_page=True)
    context.close()


def test_english_switch(chromium, site, shots):
    base, keys, _ = site
    context, page = signed_in(chromium, base, keys.recruiter, "/ui/catalogue")
    page.click("a.lang")
    page.wait_for_selector("text=Scenario catalogue")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "composite scenarios" in page.inner_text("#counts")
    page.goto(
        "/ui/scenarios/"
        + page.locator("#catalogue a[href^='/ui/scenarios/']")
        .first.get_attribute("href")
        .rsplit("/", 1)[1]
    )
    assert "Ranked firms" in page.inner_text("#results")
    page.screenshot(path=shots / "scenario-en.png", full_page=False)
    context.close()


def test_api_docs_render_under_their_content_security_policy(chromium, site, shots):
    """/docs and /redoc now carry the UI's CSP (Swagger UI's inline start script allowed by
    its hash, ReDoc's search worker from a blob: URL): both still render and work."""
    base, _, _ = site
    context = chromium.new_context(base_url=base)
    page = context.new_page()
    blocked: list[str] = []

    def on_console(message) -> None:  # ReDoc's "powered by" logo is on a CDN: blocked, fine
        if "Content Security Policy" in message.text and "cdn.redoc.ly" not in message.text:
            blocked.append(message.text)

    page.on("console", on_console)
    r = page.goto("/docs")
    assert r is not None and r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() > 20  # the operations, drawn by the inline script
    page.screenshot(path=shots / "docs.png")
    r = page.goto("/redoc")
    assert r is not None and r.headers["x-frame-options"] == "DENY"
    page.wait_for_selector("[data-section-id]")
    page.fill("input[placeholder='Search...']", "feedback")
    page.locator("[role=search] li").first.wait_for()  # search runs in the blob: worker
    page.screenshot(path=shots / "redoc.png")
    assert blocked == []
    context.close()


AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.filter(v => ["serious", "critical"].includes(v.impact))
                .map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
        }"""
    )
    return list(found)


def test_recruiter_compares_three_firms_and_moves_one_through_the_pipeline(chromium, site, shots):
    from playwright.sync_api import expect

    base, keys, app = site
    context, page = signed_in(chromium, base, keys.recruiter, "/ui/catalogue", height=768)
    page.goto("/ui/scenarios/S01")
    visible = page.evaluate(
        "Array.from(document.querySelectorAll('.rrow'))"
        ".filter(e => e.getBoundingClientRect().bottom <= innerHeight).length"
    )
    assert visible >= 20  # at 1366×768
    page.screenshot(path=shots / "scenario-table.png")
    ids = [r.get_attribute("data-company") for r in page.locator(".rrow").all()[:3]]
    for cid in ids:
        page.check(f"#sel-{cid}")
    page.click("#compare-button")
    page.wait_for_url("**/ui/scenarios/S01/compare?**")
    heads = page.locator("table.cmp thead th[id^=cmp-]")
    assert [h.get_attribute("id") for h in heads.all()] == [f"cmp-{c}" for c in ids]
    page.screenshot(path=shots / "compare.png")

    cid = ids[0]
    with app.state.sessions() as s:
        from service.models import FeedbackRow

        before = (
            s.query(FeedbackRow)
            .filter(FeedbackRow.scenario_id == "S01", FeedbackRow.company_id == cid)
            .count()
        )
    # record a stage on the scenario page, then move the card on the board and back
    page.goto("/ui/scenarios/S01")
    row = page.locator(f"#m-{cid}")
    row.locator(".rdetail > summary").click()
    row.locator("button[value=shortlisted]").click()
    page.locator(f"#fb-{cid} .ok").wait_for()
    page.goto("/ui/pipeline/S01")
    card = page.locator(f"#c-S01-{cid}")
    expect(page.locator("#col-shortlisted")).to_contain_text(cid)
    card.locator("select[name=stage]").select_option("visited")
    card.locator("input[name=note]").fill("周五走访")
    card.locator("button[type=submit]").click()
    page.wait_for_url("**/ui/pipeline/S01")
    expect(page.locator("#col-visited")).to_contain_text(cid)
    expect(page.locator("#col-visited")).to_contain_text("周五走访")
    page.screenshot(path=shots / "pipeline.png")
    card = page.locator(f"#c-S01-{cid}")
    card.locator("select[name=stage]").select_option("contacted")  # and back
    card.locator("button[type=submit]").click()
    page.wait_for_url("**/ui/pipeline/S01")
    expect(page.locator("#col-contacted")).to_contain_text(cid)
    expect(page.locator(f"#c-S01-{cid}")).to_contain_text(f"{before + 3} 条记录")
    with app.state.sessions() as s:
        stages = [
            r.stage
            for r in s.query(FeedbackRow)
            .filter(FeedbackRow.scenario_id == "S01", FeedbackRow.company_id == cid)
            .order_by(FeedbackRow.id)
        ]
    assert stages[-3:] == ["shortlisted", "visited", "contacted"]
    context.close()


def test_pages_have_no_serious_accessibility_violations(chromium, site):
    """axe-core over every page a role works on, in both languages where the text differs."""
    base, keys, _ = site
    problems: dict[str, list[str]] = {}
    staff_pages = [
        "/ui/catalogue",
        "/ui/scenarios/S01",
        "/ui/scenarios/S01/compare?cid=F0520&cid=F0239",
        "/ui/pipeline",
        "/ui/pipeline/S01",
        "/ui/search?q=储能",
        "/ui/runs",
    ]
    admin_pages = [
        "/ui/admin",
        "/ui/admin/keys",
        "/ui/admin/catalogue",
        "/ui/admin/imports",
        "/ui/admin/firms",
    ]
    company_pages = ["/ui/portal", "/ui/scenarios/S01", "/ui/catalogue"]
    for key, home, pages in (
        (keys.recruiter, "/ui/catalogue", staff_pages),
        (keys.admin, "/ui/catalogue", admin_pages),
        (keys.company, "/ui/portal", company_pages),
    ):
        context, page = signed_in(chromium, base, key, home, bypass_csp=True)
        for lang in ("zh", "en"):
            page.goto(f"/ui/lang/{lang}?next=/ui/catalogue")
            for path in pages:
                page.goto(path)
                if path == "/ui/scenarios/S01" and page.locator(".rdetail").count():
                    page.locator(".rdetail > summary").first.click()  # a row's card open
                found = serious_violations(page)
                if found:
                    problems[f"{lang} {path}"] = found
        context.close()
    assert problems == {}

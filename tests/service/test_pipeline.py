"""The follow-up board (``GET /pipeline``, ``/ui/pipeline``) and company interest
(``/scenarios/{id}/interest``, the company's scenario page): stages moved forwards and back
with history kept, funnels, stale flags, the recruiter filter; interest shown to recruiters,
never a feedback stage or a learning label.

Runs on SQLite and PostgreSQL like the other service tests.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import update

from service import nightly
from service.db import transaction
from service.models import FeedbackRow, InterestRow

from .test_scenarios import ok
from .test_ui_pages import CSRF, sign_in


def stage(client, keys, sid: str, cid: str, st: str, role: str = "recruiter", note=None):
    body = {"scenario_id": sid, "company_id": cid, "stage": st, "note": note}
    return ok(client.post("/feedback", json=body, headers=keys.header(role)), 201)


def board(client, keys, **params) -> dict:
    return ok(client.get("/pipeline", params=params, headers=keys.header("recruiter")))


def card(b: dict, cid: str, sid: str) -> tuple[str, dict] | None:
    for st, cards in b["columns"].items():
        for c in cards:
            if (c["company_id"], c["scenario_id"]) == (cid, sid):
                return st, c
    return None


def test_moving_forwards_and_back_keeps_history_and_the_funnel(client, keys):
    for st in ("shortlisted", "contacted", "visited", "contacted"):
        stage(client, keys, "S1", "T02", st, note=f"记录{st}")
    b = board(client, keys, scenario_id="S1")
    column, c = card(b, "T02", "S1")
    assert column == "contacted" and c["entries"] == 4 and c["furthest"] == "visited"
    assert c["note"] == "记录contacted" and not c["stale"]
    history = ok(
        client.get("/feedback?scenario_id=S1&company_id=T02", headers=keys.header("recruiter"))
    )
    assert [r["stage"] for r in history["data"]] == [
        "shortlisted",
        "contacted",
        "visited",
        "contacted",
    ]
    # a signed pair counts for every stage before it; a rejected one apart
    for st in ("shortlisted", "signed"):
        stage(client, keys, "S1", "T03", st)
    stage(client, keys, "S1", "T04", "rejected")
    f = board(client, keys, scenario_id="S1")["funnel"]
    assert f == {"shortlisted": 2, "contacted": 2, "visited": 2, "signed": 1, "rejected": 1}
    # across scenarios: the composite's funnel holds its opportunities' pairs
    stage(client, keys, "S2", "T05", "shortlisted")
    every = board(client, keys)
    assert card(every, "T05", "S2")[0] == "shortlisted" and card(every, "T02", "S1")
    composites = {x["composite_id"]: x["funnel"] for x in every["by_composite"]}
    assert sum(f["shortlisted"] for f in composites.values()) == every["funnel"]["shortlisted"]
    assert (
        client.get("/pipeline?scenario_id=NOPE", headers=keys.header("recruiter")).status_code
        == 404
    )


def test_stale_pairs_are_flagged_and_the_recruiter_filter(client, keys):
    stage(client, keys, "S3", "T06", "contacted", role="admin")
    stage(client, keys, "S3", "T07", "visited")
    stage(client, keys, "S3", "T08", "signed")
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=15)
    with transaction(client.app.state.sessions) as s:
        s.execute(
            update(FeedbackRow)
            .where(FeedbackRow.scenario_id == "S3", FeedbackRow.company_id.in_(["T06", "T08"]))
            .values(created_at=old)
        )
    b = board(client, keys, scenario_id="S3")
    assert card(b, "T06", "S3")[1]["stale"] and card(b, "T06", "S3")[1]["days"] >= 14
    assert not card(b, "T07", "S3")[1]["stale"]
    assert not card(b, "T08", "S3")[1]["stale"]  # signed: done, never stale
    only = board(client, keys, scenario_id="S3", stale_only="true")
    assert [c["company_id"] for cards in only["columns"].values() for c in cards] == ["T06"]
    admin_actor = card(b, "T06", "S3")[1]["actor"]
    mine = board(client, keys, scenario_id="S3", actor=admin_actor)
    assert [c["company_id"] for cards in mine["columns"].values() for c in cards] == ["T06"]


def test_company_interest_is_its_own_record_never_a_stage_or_label(client, keys):
    sessions = client.app.state.sessions
    before = nightly.collect_input(sessions).feedback
    co = keys.header("company")  # speaks for T01
    got = ok(client.post("/scenarios/S2/interest", json={"note": "有意向参观"}, headers=co), 201)
    assert got["company_id"] == "T01" and got["note"] == "有意向参观"
    seen = ok(client.get("/scenarios/S2/interest", headers=keys.header("recruiter")))
    assert [r["company_id"] for r in seen["data"]] == ["T01"]
    b = board(client, keys, scenario_id="S2")
    assert [i["company_id"] for i in b["interested"]] == ["T01"] and card(b, "T01", "S2") is None
    assert nightly.collect_input(sessions).feedback == before  # no label for the learner
    # a recruiter's stage stays the stage; the card says the firm is interested
    stage(client, keys, "S2", "T01", "contacted")
    b = board(client, keys, scenario_id="S2")
    column, c = card(b, "T01", "S2")
    assert column == "contacted" and c["interested"] and c["interest_note"] == "有意向参观"
    assert b["interested"] == []
    # marking again updates the note; withdrawing removes it
    ok(client.post("/scenarios/S2/interest", json={"note": "已更新"}, headers=co), 201)
    assert (
        ok(client.get("/scenarios/S2/interest", headers=keys.header("admin")))["data"][0]["note"]
        == "已更新"
    )
    assert client.delete("/scenarios/S2/interest", headers=co).status_code == 204
    assert ok(client.get("/scenarios/S2/interest", headers=keys.header("admin")))["count"] == 0
    # bad input and closed scenarios
    long = client.post("/scenarios/S2/interest", json={"note": "长" * 501}, headers=co)
    assert long.status_code == 422
    assert client.post("/scenarios/NOPE/interest", json={}, headers=co).status_code == 404
    new = client.post("/scenarios/S2/interest", json={}, headers=keys.header("other_company"))
    assert new.status_code == 404 and "profile" in new.text  # NEW1 is not registered yet
    closed = client.post("/scenarios/S3/interest", json={}, headers=co)  # S3 is closed
    assert closed.status_code == 409 and "open scenarios only" in closed.text


def test_the_board_page_moves_a_card_and_shows_interest(client, keys):
    b = sign_in(client, keys.recruiter)
    stage(client, keys, "S2", "T09", "shortlisted")
    page = b.get("/ui/pipeline/S2")
    assert page.status_code == 200
    column = page.text[
        page.text.index('id="col-shortlisted"') : page.text.index('id="col-contacted"')
    ]
    assert 'id="c-S2-T09"' in column
    csrf = CSRF.search(page.text).group(1)
    r = b.post(
        "/ui/feedback",
        data={
            "csrf": csrf,
            "scenario_id": "S2",
            "company_id": "T09",
            "stage": "visited",
            "note": "已实地走访",
            "next": "/ui/pipeline/S2",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/ui/pipeline/S2"
    page = b.get("/ui/pipeline/S2").text
    visited = page[page.index('id="col-visited"') : page.index('id="col-signed"')]
    assert 'id="c-S2-T09"' in visited and "已实地走访" in visited and "2 条记录" in visited
    assert re.search(r'data-stage="visited">1<', page)  # the funnel counts it
    # the scope select leads to a scenario's board; every board lists its filters
    r = b.get("/ui/pipeline", params={"scope": "S2", "stale": "1"})
    assert r.status_code == 303 and r.headers["location"] == "/ui/pipeline/S2?stale=1"
    assert b.get("/ui/pipeline", params={"scope": "NOPE"}).status_code == 404
    assert "composite-funnels" in b.get("/ui/pipeline").text

    # a company marks interest on the scenario's page; the recruiter sees it
    co = sign_in(client, keys.company)
    public = co.get("/ui/scenarios/S1")
    assert public.status_code == 200 and 'id="interest-submit"' in public.text
    token = CSRF.search(public.text).group(1)
    r = co.post(
        "/ui/scenarios/S1/interest",
        data={"csrf": token, "note": "可提供样机测试", "action": "mark"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/ui/scenarios/S1?interest=saved"
    mine = co.get(r.headers["location"]).text
    assert (
        "已记录您的意向" in mine and "可提供样机测试" in mine and 'id="interest-withdraw"' in mine
    )
    bad = co.post("/ui/scenarios/S1/interest", data={"csrf": token, "note": "长" * 501})
    assert bad.status_code == 422 and 'id="interest-error"' in bad.text
    staff = b.get("/ui/scenarios/S1?top_k=50").text
    assert 'id="interested"' in staff and "可提供样机测试" in staff
    assert 'class="badge interest"' in staff
    board_page = b.get("/ui/pipeline/S1").text
    interest_col = board_page[
        board_page.index("col-interest") : board_page.index('id="col-shortlisted"')
    ]
    assert "可提供样机测试" in interest_col
    r = co.post("/ui/scenarios/S1/interest", data={"csrf": token, "action": "withdraw"})
    assert r.headers["location"].endswith("interest=withdrawn")
    with client.app.state.sessions() as s:
        assert s.get(InterestRow, ("S1", "T01")) is None

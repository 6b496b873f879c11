"""The scenario page's compact ranked table and the comparison page: server-side sort over
the whole ranked list, pages, rows that open their card in place, stale and interest flags.

Runs on SQLite and PostgreSQL like the other UI tests.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import update

from service import store
from service.db import transaction
from service.models import FeedbackRow

from .test_scenarios import ok
from .test_ui_pages import sign_in

ROW = re.compile(r'<div class="rrow" role="row" id="m-([^"]+)"')


def rows(html: str) -> list[str]:
    return ROW.findall(html)


def row_html(html: str, cid: str) -> str:
    """One firm's row, up to the next row (or the end of the table)."""
    start = html.index(f'id="m-{cid}"')
    end = html.find('<div class="rrow"', start)
    return html[start : end if end > 0 else None]


def api_ranking(client, keys, sid: str) -> list[dict]:
    got = ok(client.get(f"/scenarios/{sid}/matches?top_k=200", headers=keys.header("recruiter")))
    return got["data"]


def test_the_table_pages_through_the_ranking_in_its_order(client, keys):
    b = sign_in(client, keys.recruiter)
    ranking = [m["company_id"] for m in api_ranking(client, keys, "S1")]
    assert len(ranking) > 10
    first = rows(b.get("/ui/scenarios/S1?top_k=10").text)
    second = b.get("/ui/scenarios/S1?top_k=10&page=2")
    assert first == ranking[:10] and rows(second.text) == ranking[10:20]
    assert 'aria-current="page"' in second.text and 'rel="prev"' in second.text
    # a page past the end shows the last one; a bad page number the first
    assert rows(b.get("/ui/scenarios/S1?top_k=10&page=99").text) == ranking[10:20]
    assert rows(b.get("/ui/scenarios/S1?top_k=10&page=x").text) == ranking[:10]
    # each row holds its card (bars, explanation, the feedback form) to open in place
    block = row_html(b.get("/ui/scenarios/S1?top_k=10").text, ranking[0])
    assert "<details" in block and 'class="bars"' in block and f'id="fb-{ranking[0]}"' in block


def test_sorting_covers_the_whole_ranking_not_only_the_page(client, keys):
    b = sign_in(client, keys.recruiter)
    ranking = api_ranking(client, keys, "S1")
    by_score = sorted(ranking, key=lambda m: m["score"])  # ascending: the weakest first
    got = rows(b.get("/ui/scenarios/S1?top_k=10&sort=score&dir=asc").text)
    assert got == [m["company_id"] for m in by_score[:10]]
    # a part, highest first on the first click (no dir given)
    dense = sorted(ranking, key=lambda m: (-m["parts"]["dense"], m["rank"]))
    page = b.get("/ui/scenarios/S1?top_k=10&sort=dense").text
    assert rows(page) == [m["company_id"] for m in dense[:10]]
    assert 'aria-sort="descending"' in page
    # the firm's name; an unknown sort key falls back to the ranking
    names = {m["company_id"]: m["company_name"].casefold() for m in ranking}
    by_name = sorted(names, key=lambda c: (names[c], 0))
    assert rows(b.get("/ui/scenarios/S1?top_k=50&sort=name&dir=asc").text) == by_name
    assert rows(b.get("/ui/scenarios/S1?top_k=10&sort=evil").text) == [
        m["company_id"] for m in ranking[:10]
    ]


def test_stage_sort_and_the_stale_flag(client, keys):
    b = sign_in(client, keys.recruiter)
    ranking = [m["company_id"] for m in api_ranking(client, keys, "S2")]
    old, new = ranking[-1], ranking[-2]
    with transaction(client.app.state.sessions) as s:
        store.add_feedback(s, "S2", old, "contacted", None, "key:test")
        store.add_feedback(s, "S2", new, "visited", None, "key:test")
        s.flush()
        s.execute(
            update(FeedbackRow)
            .where(FeedbackRow.company_id == old, FeedbackRow.scenario_id == "S2")
            .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=20))
        )
    page = b.get("/ui/scenarios/S2?top_k=50&sort=stage&dir=desc").text
    assert rows(page)[:2] == [new, old]  # visited before contacted, firms without a stage last
    assert 'class="badge stale"' in row_html(page, old)  # 20 days unchanged (default: 14)
    assert 'class="badge stale"' not in row_html(page, new)


def test_compare_two_to_four_firms(client, keys):
    b = sign_in(client, keys.recruiter)
    ranking = api_ranking(client, keys, "S1")
    ids = [m["company_id"] for m in ranking[:3]]
    page = b.get("/ui/scenarios/S1/compare", params=[("cid", c) for c in ids])
    assert page.status_code == 200
    heads = re.findall(r'<th scope="col" id="cmp-([^"]+)"', page.text)
    assert heads == ids
    for m in ranking[:3]:  # each firm's score and matched terms side by side
        assert f"{m['score']:.3f}" in page.text
        for term in m["explanation"]["matched_terms"][:2]:
            assert term in page.text
    one = b.get("/ui/scenarios/S1/compare", params={"cid": ids[0]})
    assert one.status_code == 422 and "2 至 4" in one.text
    five = b.get("/ui/scenarios/S1/compare", params=[("cid", m["company_id"]) for m in ranking[:5]])
    assert five.status_code == 422
    gone = b.get("/ui/scenarios/S1/compare", params=[("cid", ids[0]), ("cid", "NOPE")])
    assert gone.status_code == 422 and "NOPE" in gone.text
    # the comparison follows the page's filters: a firm they exclude is not among them
    city = ranking[0]["company_id"]
    r = b.get(
        "/ui/scenarios/S1/compare",
        params=[("cid", city), ("cid", ids[1]), ("city", "不存在的城市")],
    )
    assert r.status_code == 422

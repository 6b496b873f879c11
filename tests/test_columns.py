"""Vectorised filters agree with passes_filters, firm by firm, through adds, replaces and drops."""

from dataclasses import replace

import numpy as np

from matcher.columns import FilterColumns
from matcher.constraints import Filters, passes_filters

FILTERS = [
    Filters(),
    Filters(city="泉州市"),
    Filters(city=" 晋江市 "),
    Filters(city="nowhere"),
    Filters(chain_position="midstream"),
    Filters(chain_position="nowhere"),
    Filters(min_capital_wan=1000),
    Filters(space_min_m2=1000),
    Filters(space_max_m2=5000),
    Filters(space_min_m2=100, space_max_m2=20000, min_capital_wan=10),
    Filters(industry_prefix="C"),
    Filters(industry_prefix="C38"),
    Filters(industry_prefix="Z"),
    Filters(certifications=("高新技术企业",)),
    Filters(certifications=("高新技术企业", "ISO9001")),
    Filters(certifications=("no such certificate",)),
    Filters(city="泉州市", chain_position="upstream", industry_prefix="C"),
]


def _expected(companies, f):
    return [passes_filters(c, c.industry_codes, f) for c in companies]


def test_masks_match_passes_filters(data_companies):
    companies = list(data_companies)
    cols = FilterColumns()
    for row, c in enumerate(companies):
        cols.put(row, c, c.industry_codes)
    assert len(cols) == len(companies)
    hits = 0
    for f in FILTERS:
        got = cols.mask(f)
        assert got.tolist() == _expected(companies, f), f
        hits += int(got.sum())
    assert 0 < hits < len(FILTERS) * len(companies)  # the filters select, not all or nothing


def test_replace_and_drop_keep_columns_in_step(data_companies):
    companies = list(data_companies)[:50]
    cols = FilterColumns()
    for row, c in enumerate(companies):
        cols.put(row, c, c.industry_codes)
    moved = replace(companies[3], city="厦门市", industry_codes=("C3841",), certifications=())
    cols.put(3, moved, moved.industry_codes)
    cols.drop(7)
    cols.drop(7)  # twice is harmless
    now = list(companies)
    now[3] = moved
    for f in [Filters(city="厦门市"), Filters(industry_prefix="C384"), *FILTERS]:
        exp = _expected(now, f)
        exp[7] = False
        assert cols.mask(f).tolist() == exp, f
    assert len(cols) == 49


def test_more_than_64_certificates(data_companies):
    base = list(data_companies)[0]
    cols = FilterColumns()
    firms = [replace(base, certifications=(f"cert{i}", "common")) for i in range(100)]
    for row, c in enumerate(firms):
        cols.put(row, c, c.industry_codes)
    for name in ("cert3", "cert90", "common", "cert200"):
        f = Filters(certifications=(name,))
        assert cols.mask(f).tolist() == _expected(firms, f)
    cols.drop(90)
    assert not cols.mask(Filters(certifications=("cert90",))).any()
    assert np.flatnonzero(cols.mask(Filters(certifications=("cert95", "common")))).tolist() == [95]


def test_city_filter_folds_forms_aliases_and_hierarchy(data_companies):
    base = list(data_companies)[0]
    cities = [
        "晋江市",
        "晉江市",
        "Jinjiang",
        "晋江",
        "泉州市",
        "厦门市",
        "Fuzhou",
        "抚州市",
        "福州市",
        "Singapore",
        None,
    ]
    firms = [replace(base, id=f"c{i}", city=c) for i, c in enumerate(cities)]
    cols = FilterColumns()
    for row, c in enumerate(firms):
        cols.put(row, c, c.industry_codes)

    live = dict(enumerate(firms))

    def rows(city):
        got = np.flatnonzero(cols.mask(Filters(city=city))).tolist()
        assert got == [i for i, c in live.items() if passes_filters(c, (), Filters(city=city))]
        return got

    for form in ["晋江", "晋江市", "晉江市", "Jinjiang City"]:
        assert rows(form) == [0, 1, 2, 3], form
    assert rows("泉州") == [0, 1, 2, 3, 4]
    assert rows("福建") == [0, 1, 2, 3, 4, 5, 6, 8]  # Fuzhou may be 福州 (福建) or 抚州 (江西)
    assert rows("Fuzhou") == [6, 7, 8]
    assert rows("福州") == [6, 8]
    assert rows("singapore") == [9]
    assert rows("nowhere") == []
    cols.drop(1)
    del live[1]
    live[4] = replace(firms[4], city="廈門")
    cols.put(4, live[4], ())
    assert rows("泉州") == [0, 2, 3]
    assert rows("Xiamen") == [4, 5]

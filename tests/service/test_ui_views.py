"""The UI's presentation helpers: highlighting, score bars, heatmap, redirects, messages."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from service.schemas import CompanyCreate
from service.ui import i18n, views

UI = Path(__file__).resolve().parents[2] / "service" / "ui"


def test_highlight_marks_terms_and_escapes_the_rest():
    text = "储能变流器与<script>alert(1)</script>电池管理系统 BMS"
    out = str(views.highlight(text, ["储能", "储能变流器", "BMS", "电池管理系统"]))
    assert "<script>" not in out and "&lt;script&gt;" in out
    # the longer term wins over the shorter one inside it
    assert out.startswith("<mark>储能变流器</mark>")
    assert "<mark>电池管理系统</mark>" in out and "<mark>BMS</mark>" in out
    assert out.count("<mark>") == 3


def test_highlight_matches_latin_whole_words_case_insensitively():
    out = str(views.highlight("Solar PV modules; PVC pipes", ["pv"]))
    assert out == "Solar <mark>PV</mark> modules; PVC pipes"


def test_highlight_drops_scraped_pinyin_and_escapes_terms():
    out = str(views.highlight("未來(lái)工厂 a <b", ["未來工厂", "<b"]))
    assert out == "<mark>未來工厂</mark> a <mark>&lt;b</mark>"


def test_highlight_with_no_terms_is_the_escaped_text():
    assert str(views.highlight("A & B", [])) == "A &amp; B"


def test_bars_follow_a_fixed_order_and_clamp_widths():
    bars = views.bars(
        {"structured": 0.5, "dense": 1.2, "zeta": 0.1, "lexical": -0.1},
        {"dense": 0.5, "structured": 0.1},
    )
    assert [b.part for b in bars] == ["dense", "lexical", "structured", "zeta"]
    assert [b.percent for b in bars] == [100, 0, 50, 10]
    assert bars[0].contribution == 0.5 and bars[1].contribution == 0.0


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/ui/scenarios/S1?city=x", "/ui/scenarios/S1?city=x"),
        ("/ui", "/ui"),
        ("https://evil.example/ui", "/ui"),
        ("//evil.example", "/ui"),
        ("/ui//evil.example", "/ui"),
        ("/ui/../docs", "/ui"),
        ("/docs", "/ui"),
        ("/ui\\evil", "/ui"),
        (None, "/ui"),
        ("", "/ui"),
    ],
)
def test_safe_next_stays_inside_the_ui(target, expected):
    assert views.safe_next(target) == expected


def test_split_list_accepts_chinese_and_latin_separators():
    assert views.split_list("储能、光伏，风电, PV;氢能\n BMS ,") == [
        "储能",
        "光伏",
        "风电",
        "PV",
        "氢能",
        "BMS",
    ]
    assert views.split_list("  ") == []


def test_heatmap_picks_frequent_firms_and_shades_by_score():
    e = SimpleNamespace
    entries = [
        e(scenario_id="S1", company_id="A", score=0.9, rank=1),
        e(scenario_id="S2", company_id="A", score=0.5, rank=2),
        e(scenario_id="S1", company_id="B", score=0.7, rank=2),
        e(scenario_id="S2", company_id="C", score=0.8, rank=1),
        e(scenario_id="S3", company_id="D", score=0.6, rank=1),
    ]
    heat = views.heatmap(entries, {"S1": "一"}, {"A": "甲"}, max_firms=2)
    # A is in two scenarios; C (0.8) beats B (0.7) on mean score among the single ones
    assert heat.firms == [("A", "甲", "甲"), ("C", "C", "C")]
    assert heat.scenarios == [("S1", "一"), ("S2", "S2")]  # S3 has none of the shown firms
    assert heat.cells == {("S1", "A"): (0.9, 1), ("S2", "A"): (0.5, 2), ("S2", "C"): (0.8, 1)}
    assert (heat.low, heat.high) == (0.5, 0.9)
    assert heat.shade(0.9) == 35 and heat.shade(0.5) == 92


def test_heatmap_columns_name_firms_short_with_the_full_name_kept():
    assert views.short_name("晋江市恒安卫生材料股份有限公司") == "晋江市恒安卫生材料"
    assert views.short_name("厦门朗捷电池有限公司") == "厦门朗捷电池"
    assert views.short_name("Helio Storage GmbH") == "Helio Sto…"
    assert views.short_name("Voltvik AB") == "Voltvik"
    assert views.short_name("有限公司") == "有限公司"  # nothing left: the name as it is
    e = SimpleNamespace(scenario_id="S1", company_id="F1", score=0.5, rank=1)
    heat = views.heatmap([e], {}, {"F1": "福建省晋江市新能源科技有限公司"})
    assert heat.firms == [("F1", "福建省晋江市新能源科技有限公司", "福建省晋江市新能源…")]


def test_every_message_has_both_languages_and_every_used_key_exists():
    for key, (zh, en) in i18n.MESSAGES.items():
        assert zh.strip() and en.strip(), key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key
    used = set()
    for path in list((UI / "templates").glob("*.html")) + [UI / "routes.py"]:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+|[a-z]+)["']""", path.read_text()))
    # a key ending in "." is a prefix completed at run time ("status." ~ row.status)
    missing = sorted(
        k
        for k in used
        if (
            k not in i18n.MESSAGES
            if not k.endswith(".")
            else not any(m.startswith(k) for m in i18n.MESSAGES)
        )
    )
    assert not missing, missing
    t = i18n.translator("en")
    assert t("cat.counts", composites=13, opportunities=28).startswith("13 composite")
    assert i18n.translator("zh")("no.such.key") == "no.such.key"


def test_validation_problems_read_in_chinese():
    with pytest.raises(ValidationError) as info:
        CompanyCreate.model_validate(
            {"name": "  ", "description": "x" * 20_001, "credit_code": "91350582MA2XXXXXX1"}
        )
    got = {str(e["loc"][0]): i18n.problem(e, "zh") for e in info.value.errors()}
    assert got["name"] == "不能为空"
    assert got["description"] == "最多 20000 个字符"
    assert "校验位" in got["credit_code"] or "字符" in got["credit_code"]
    en = {str(e["loc"][0]): i18n.problem(e, "en") for e in info.value.errors()}
    assert en["description"] == "at most 20000 characters"


@pytest.mark.parametrize(
    "folder,name,marker",
    [
        (UI / "static" / "vendor", "htmx.min.js", b"htmx"),
        (Path(__file__).parent / "vendor", "axe.min.js", b"axe"),
    ],
)
def test_vendored_files_match_their_recorded_checksums(folder, name, marker):
    readme = (folder / "README.md").read_text()
    recorded = re.search(rf"`{re.escape(name)}`.*`([0-9a-f]{{64}})`", readme)
    assert recorded is not None
    data = (folder / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == recorded.group(1)
    assert marker in data[:2000]


def test_field_errors_key_problems_by_form_field():
    with pytest.raises(ValidationError) as info:
        CompanyCreate.model_validate(
            {
                "name": "甲",
                "description": "乙",
                "industry_codes": ["3841", "99"],
                "contact": {"phone": "1" * 51},
                "founded": "x",
                "nickname": "丙",
            }
        )
    fields = ("name", "industry_codes", "contact_phone", "founded")
    got = views.field_errors(info.value, "zh", fields)
    assert got["industry_codes"] == "99 不是 GB/T 4754-2017 行业代码"
    assert got["contact_phone"] == "最多 50 个字符"
    assert got["founded"] == "请输入整数"
    assert set(got) == {"industry_codes", "contact_phone", "founded", "_form"}  # nickname
    renamed = views.field_errors(info.value, "en", fields, {"founded": "name"})
    assert renamed["name"] == "enter a whole number"

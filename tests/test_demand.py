"""Demand extraction (matcher/demand.py) on hand-written cases: Chinese, traditional, English,
cues inside long texts, the demand before the context, no cue at all."""

from __future__ import annotations

import pytest

from matcher.demand import Demand, DemandExtractor, RuleExtractor

X: DemandExtractor = RuleExtractor()


@pytest.mark.parametrize(
    ("title", "text", "cue", "terms"),
    [
        (
            "鞋服企业智能工厂改造场景",
            "五里园集聚鞋服企业300余家，用工成本逐年上升。现面向社会征集工业机器人、数控机床"
            "及自动化立体仓储等智能制造解决方案，欢迎具备相关能力的企业参与。",
            "征集",  # the 面向…征集…企业 frame
            ("工业机器人", "数控机床", "自动化立体仓储"),
        ),
        (
            "源网荷储一体化",
            "开发区计划建设园区微电网，征集光伏组件、储能电池系统及电网侧能量管理设备供应商。",
            "征集",
            ("光伏组件", "储能电池系统", "电网侧能量管理设备"),
        ),
        (  # traditional characters: read as simplified
            "醫院智慧化",
            "市第一醫院擬引進醫學影像AI輔助診斷系統與手術機器人，歡迎企業合作。",
            "引进",
            ("医学影像AI辅助诊断系统", "手术机器人"),
        ),
        (
            "Smart factory retrofit",
            "Footwear and apparel brands in the zone seek industrial robots, CNC machinery and "
            "automated warehousing. Companies with relevant capabilities are welcome.",
            "seek",
            ("industrial robots", "CNC machinery", "automated warehousing"),
        ),
        (
            "",
            "The city hospital is looking for suppliers of medical imaging equipment and "
            "diagnostic reagents.",
            "is looking for",
            ("medical imaging equipment", "diagnostic reagents"),
        ),
    ],
)
def test_the_demand_follows_its_cue(title, text, cue, terms):
    d = X.extract(title, text)
    assert d.found and d.cue == cue and d.terms == terms
    assert all(t not in d.context for t in terms)  # what is sought left the context


def test_the_demand_before_the_context_and_lists_without_a_cue():
    first = X.extract(
        "", "光伏组件、储能电池系统方向的企业，欢迎参与晋江经开区五里园源网荷储项目。"
    )
    assert first.terms == ("光伏组件", "储能电池系统") and "五里园" in first.context
    listed = X.extract(
        "纺织园区智能化升级", "纺织园区智能化升级：工业视觉检测、印染废水处理、能源管理系统。"
    )
    assert listed.terms == ("工业视觉检测", "印染废水处理", "能源管理系统") and listed.cue == ""
    en = X.extract(
        "", "Medical imaging AI and surgical robots: the city hospital plans an upgrade."
    )
    assert en.terms == ("Medical imaging AI", "surgical robots")


def test_no_cue_falls_back_to_the_keywords_then_to_nothing():
    text = "园区现有标准厂房20万平方米，交通便利。"
    with_kw = X.extract("园区配套", text, keywords=("厂房运营", " ", "物业服务"))
    assert with_kw.terms == ("厂房运营", "物业服务") and with_kw.cue is None
    nothing = X.extract("园区配套", text)
    assert nothing == Demand("", "园区配套\n园区现有标准厂房20万平方米,交通便利。", None, ())
    assert not nothing.found
    weak = X.extract("", "本项目欢迎储能企业入驻五里园。")  # only a weak cue
    assert weak.terms == ("储能",) and weak.cue == "欢迎"


def test_a_cue_in_the_title_is_used_when_the_text_has_none():
    d = X.extract("征集氢燃料电池与加氢站设备", "项目位于晋江经开区，占地约50亩。")
    assert d.terms == ("氢燃料电池", "加氢站设备")


def test_a_generic_object_after_a_cue_is_not_a_demand():
    d = X.extract(
        "", "Drones and flight control systems: the zone is looking for partner companies."
    )
    assert d.cue != "is looking for" and d.terms == ("Drones", "flight control systems")
    services = X.extract("", "The zone seeks Oil & Gas Equipment & Services products and services.")
    assert services.terms == ("Oil & Gas Equipment & Services",)  # a name ending in Services


def test_a_cue_followed_by_no_product_adds_no_term():
    d = RuleExtractor().extract(
        "",
        "现面向社会征集储能电池系统集成、能量管理系统等技术和整体解决方案。"
        "对首台套储能装备给予采购支持。",
    )
    assert d.terms == ("储能电池系统集成", "能量管理系统")

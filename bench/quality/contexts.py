"""The fixed list of scenario contexts for the context query sets (build_context_queries.py).

A real scenario list names a CONTEXT (the zone, a park, the buyer's industry) and a DEMAND (what
is sought). Each context here has Chinese and English wording and a top-level industry tag in
both taxonomies, a Shenwan-2021 L1 name and a GICS sector name, so a query can pair a demand
with a context from a *different* top-level industry: the context then cannot leak the answer.

The wording is our own, written once from the seed article's setting (a development zone that
recruits by scenario: footwear and apparel parks, fabrics, smart equipment, digital health) and
the buyer industries a zone's list typically names. It is frozen: do not tune it after
measuring.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CONTEXTS", "Context", "context_by_key"]


@dataclass(frozen=True)
class Context:
    """Who opens the scenario and for what project, in two languages, with industry tags.

    ``zh`` + ``zh_project`` reads as one phrase (``鞋服品牌企业`` + ``智能工厂改造``); in English
    the phrase is ``{en_project} at {en}``. ``sw_l1`` and ``gics_sector`` are the top-level
    industry of the buyer (the zone itself is tagged 综合 / Industrials, as a conglomerate).
    """

    key: str
    zh: str
    zh_project: str
    en: str
    en_project: str
    sw_l1: str
    gics_sector: str

    @property
    def zh_phrase(self) -> str:
        return f"{self.zh}{self.zh_project}"

    @property
    def en_phrase(self) -> str:
        return f"{self.en_project} at {self.en}"


CONTEXTS: tuple[Context, ...] = (
    Context(
        "footwear",
        "鞋服品牌企业",
        "智能工厂改造",
        "footwear and apparel brands",
        "smart factory upgrade",
        "纺织服饰",
        "Consumer Discretionary",
    ),
    Context(
        "textile",
        "纺织印染企业",
        "绿色化改造",
        "textile and dyeing mills",
        "green retrofit",
        "纺织服饰",
        "Consumer Discretionary",
    ),
    Context(
        "food",
        "食品加工企业",
        "数字化车间建设",
        "food processors",
        "digital workshop build-out",
        "食品饮料",
        "Consumer Staples",
    ),
    Context(
        "ceramics",
        "陶瓷建材企业",
        "智能化升级",
        "ceramics and building-materials makers",
        "intelligent upgrade",
        "建筑材料",
        "Materials",
    ),
    Context(
        "hospital",
        "医院",
        "智慧化建设",
        "hospitals",
        "digital build-out",
        "医药生物",
        "Health Care",
    ),
    Context(
        "industrial_park",
        "产业园区",
        "标准厂房配套",
        "industrial parks",
        "standard factory facilities",
        "房地产",
        "Real Estate",
    ),
    Context(
        "city",
        "城市公共服务",
        "智慧化升级",
        "city public services",
        "smart city upgrade",
        "公用事业",
        "Utilities",
    ),
    Context(
        "zone",
        "晋江经济开发区",
        "产业数字化升级",
        "the Jinjiang Economic Development Zone",
        "industrial digital upgrade",
        "综合",
        "Industrials",
    ),
    Context(
        "logistics_park",
        "物流园区",
        "智慧仓储升级",
        "logistics parks",
        "smart warehousing upgrade",
        "交通运输",
        "Industrials",
    ),
    Context(
        "chip_plant",
        "芯片封测企业",
        "智能工厂建设",
        "chip packaging and testing plants",
        "smart factory build-out",
        "电子",
        "Information Technology",
    ),
    Context(
        "ev_maker",
        "新能源汽车企业",
        "生产线配套",
        "electric-vehicle makers",
        "production line facilities",
        "汽车",
        "Consumer Discretionary",
    ),
    Context(
        "mall",
        "商业综合体",
        "智慧商圈升级",
        "shopping centres",
        "smart retail upgrade",
        "商贸零售",
        "Consumer Discretionary",
    ),
    Context(
        "school",
        "中小学校",
        "智慧校园建设",
        "primary and secondary schools",
        "smart campus build-out",
        "社会服务",
        "Consumer Discretionary",
    ),
    Context(
        "hotel",
        "酒店",
        "数字化服务升级",
        "hotels",
        "digital service upgrade",
        "社会服务",
        "Consumer Discretionary",
    ),
    Context(
        "port",
        "港口码头",
        "智慧港口升级",
        "ports and terminals",
        "smart port upgrade",
        "交通运输",
        "Industrials",
    ),
    Context(
        "chemical_park",
        "化工园区",
        "安全环保升级",
        "chemical parks",
        "safety and environmental upgrade",
        "基础化工",
        "Materials",
    ),
    Context(
        "bank",
        "银行网点",
        "智能化改造",
        "bank branches",
        "intelligent retrofit",
        "银行",
        "Financials",
    ),
    Context(
        "community",
        "住宅社区",
        "智慧物业升级",
        "residential communities",
        "smart property management upgrade",
        "房地产",
        "Real Estate",
    ),
    Context(
        "solar_plant",
        "光伏电站",
        "运维升级",
        "solar power plants",
        "operations and maintenance upgrade",
        "公用事业",
        "Utilities",
    ),
)


def context_by_key(key: str) -> Context:
    for c in CONTEXTS:
        if c.key == key:
            return c
    raise KeyError(f"no context {key!r}; known: {[c.key for c in CONTEXTS]}")

"""Build the frozen scenario-style query files in bench/quality/queries/.

The texts are written mechanically from industry names (our own templates, no corpus text), so
the script is deterministic. The output is committed and must not be tuned after measuring:
re-running it must reproduce the committed files (``--check`` verifies that).

    python -m bench.quality.build_queries [--corpus-dir DIR] [--out-dir DIR] [--check]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

try:
    from bench.quality import corpus as qc
except ModuleNotFoundError:  # run as a file: python bench/quality/build_queries.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.quality import corpus as qc

logger = logging.getLogger(__name__)

MIN_FIRMS = 3  # cn / en: one query per class with at least this many usable firms
XL_MIN_FIRMS_CN = 5  # xl_en_over_cn: SW L2 with >= 5 firms (26 classes)
XL_MIN_FIRMS_EN = 25  # xl_zh_over_en: GICS sub-industries with >= 25 firms (30 classes)
XL_RANGE = (20, 30)

CN_TITLE = "{l2}产业场景机会"
CN_DESC = (
    "面向{l2}（{l1}）领域，开放{l2}相关应用场景，寻求{l3}等方向的产品、技术与解决方案，"
    "欢迎具备相关能力的企业落地合作。"
)
EN_TITLE = "{sub} scenario opportunity"
EN_DESC = (
    "Scenario opportunity: {sub}. The zone opens demand in {industry} ({sector}) and seeks "
    "companies offering {sub} products, technologies and services. Companies with relevant "
    "capabilities are welcome to set up locally and cooperate."
)
# xl_en_over_cn carries the same facts as a cn query (L2, L1, L3 children) in the en style.
XL_EN_DESC = (
    "Scenario opportunity: {l2}. The zone opens demand in {l2} ({l1}) and seeks companies "
    "offering products, technologies and services in {l3}. Companies with relevant "
    "capabilities are welcome to set up locally and cooperate."
)
# xl_zh_over_en carries the same facts as an en query (sub-industry, industry, sector) in the
# cn style.
XL_ZH_DESC = (
    "面向{industry}（{sector}）领域，开放{sub}相关应用场景，寻求{sub}等方向的产品、技术与"
    "解决方案，欢迎具备相关能力的企业落地合作。"
)

# Hand-written English renderings of the Shenwan 2021 names used by xl_en_over_cn
# (L1, L2 and the L3 children of the selected L2 classes; level suffixes already stripped).
SW_EN: dict[str, str] = {
    # L1
    "汽车": "automobiles",
    "电子": "electronics",
    "机械设备": "machinery and equipment",
    "医药生物": "pharmaceuticals and biotechnology",
    "电力设备": "power equipment",
    "环保": "environmental protection",
    "交通运输": "transportation",
    "房地产": "real estate",
    "计算机": "computers",
    "通信": "telecommunications",
    "基础化工": "basic chemicals",
    "公用事业": "utilities",
    "传媒": "media",
    "商贸零售": "trade and retail",
    # L2 and their L3 children
    "汽车零部件": "auto parts and components",
    "车身附件及饰件": "body accessories and trim",
    "底盘与发动机系统": "chassis and engine systems",
    "轮胎轮毂": "tires and wheel hubs",
    "其他汽车零部件": "other auto parts",
    "汽车电子电气系统": "automotive electronic and electrical systems",
    "光学光电子": "optics and optoelectronics",
    "面板": "display panels",
    "LED": "LEDs",
    "光学元件": "optical components",
    "专用设备": "special-purpose equipment",
    "能源及重型设备": "energy and heavy equipment",
    "楼宇设备": "building equipment",
    "纺织服装设备": "textile and garment machinery",
    "农用机械": "agricultural machinery",
    "印刷包装机械": "printing and packaging machinery",
    "其他专用设备": "other special-purpose equipment",
    "化学制药": "chemical pharmaceuticals",
    "原料药": "active pharmaceutical ingredients",
    "化学制剂": "chemical drug formulations",
    "电网设备": "power grid equipment",
    "输变电设备": "power transmission and transformation equipment",
    "配电设备": "power distribution equipment",
    "电网自动化设备": "grid automation equipment",
    "电工仪器仪表": "electrical instruments and meters",
    "线缆部件及其他": "cables, components and others",
    "环境治理": "environmental remediation",
    "大气治理": "air pollution control",
    "水务及水治理": "water supply and water treatment",
    "固废治理": "solid waste treatment",
    "综合环境治理": "integrated environmental remediation",
    "医疗器械": "medical devices",
    "医疗设备": "medical equipment",
    "医疗耗材": "medical consumables",
    "体外诊断": "in-vitro diagnostics",
    "中药": "traditional Chinese medicine",
    "物流": "logistics",
    "原材料供应链服务": "raw-material supply chain services",
    "中间产品及消费品供应链服务": "intermediate and consumer goods supply chain services",
    "快递": "express delivery",
    "跨境物流": "cross-border logistics",
    "仓储物流": "warehousing and logistics",
    "公路货运": "road freight",
    "房地产开发": "real estate development",
    "住宅开发": "residential development",
    "商业地产": "commercial real estate",
    "产业地产": "industrial real estate",
    "IT服务": "IT services",
    "通信设备": "communication equipment",
    "通信网络设备及器件": "communication network equipment and devices",
    "通信线缆及配套": "communication cables and accessories",
    "通信终端及配件": "communication terminals and accessories",
    "其他通信设备": "other communication equipment",
    "塑料": "plastics",
    "其他塑料制品": "other plastic products",
    "改性塑料": "modified plastics",
    "合成树脂": "synthetic resins",
    "膜材料": "film materials",
    "消费电子": "consumer electronics",
    "品牌消费电子": "branded consumer electronics",
    "消费电子零部件及组装": "consumer electronics components and assembly",
    "电力": "electric power",
    "火力发电": "thermal power generation",
    "水力发电": "hydropower generation",
    "热力服务": "heat supply services",
    "光伏发电": "solar photovoltaic power generation",
    "风力发电": "wind power generation",
    "核力发电": "nuclear power generation",
    "其他能源发电": "other power generation",
    "电能综合服务": "integrated electricity services",
    "游戏": "games",
    "化学制品": "chemical products",
    "涂料油墨": "paints, coatings and inks",
    "民爆制品": "civil explosives",
    "纺织化学制品": "textile chemicals",
    "其他化学制品": "other chemical products",
    "氟化工": "fluorochemicals",
    "聚氨酯": "polyurethanes",
    "食品及饲料添加剂": "food and feed additives",
    "有机硅": "silicones",
    "胶黏剂及胶带": "adhesives and tapes",
    "半导体": "semiconductors",
    "分立器件": "discrete devices",
    "半导体材料": "semiconductor materials",
    "数字芯片设计": "digital chip design",
    "模拟芯片设计": "analog chip design",
    "集成电路制造": "integrated circuit manufacturing",
    "集成电路封测": "integrated circuit packaging and testing",
    "半导体设备": "semiconductor equipment",
    "一般零售": "general retail",
    "百货": "department stores",
    "超市": "supermarkets",
    "多业态零售": "multi-format retail",
    "商业物业经营": "commercial property operation",
    "光伏设备": "photovoltaic equipment",
    "硅料硅片": "polysilicon and silicon wafers",
    "光伏电池组件": "photovoltaic cells and modules",
    "逆变器": "inverters",
    "光伏辅材": "photovoltaic auxiliary materials",
    "光伏加工设备": "photovoltaic manufacturing equipment",
    "通用设备": "general-purpose equipment",
    "机床工具": "machine tools",
    "磨具磨料": "abrasives and grinding tools",
    "制冷空调设备": "refrigeration and air-conditioning equipment",
    "其他通用设备": "other general-purpose equipment",
    "仪器仪表": "instruments and meters",
    "金属制品": "metal products",
    "计算机设备": "computer equipment",
    "安防设备": "security and surveillance equipment",
    "其他计算机设备": "other computer equipment",
    "电池": "batteries",
    "锂电池": "lithium batteries",
    "电池化学品": "battery chemicals",
    "锂电专用设备": "lithium battery production equipment",
    "燃料电池": "fuel cells",
    "蓄电池及其他电池": "storage batteries and other batteries",
    "自动化设备": "automation equipment",
    "机器人": "robots",
    "工控设备": "industrial control equipment",
    "激光设备": "laser equipment",
    "其他自动化设备": "other automation equipment",
    "化学原料": "chemical raw materials",
    "纯碱": "soda ash",
    "氯碱": "chlor-alkali",
    "无机盐": "inorganic salts",
    "其他化学原料": "other chemical raw materials",
    "煤化工": "coal chemicals",
    "钛白粉": "titanium dioxide",
    "软件开发": "software development",
    "垂直应用软件": "vertical application software",
    "横向通用软件": "horizontal general-purpose software",
}

# Hand-written Chinese renderings of the GICS names used by xl_zh_over_en.
GICS_ZH: dict[str, str] = {
    # sectors
    "Consumer Discretionary": "非日常生活消费品",
    "Consumer Staples": "日常消费品",
    "Energy": "能源",
    "Financials": "金融",
    "Health Care": "医疗保健",
    "Industrials": "工业",
    "Information Technology": "信息技术",
    "Materials": "原材料",
    "Real Estate": "房地产",
    "Utilities": "公用事业",
    # industries
    "Banks": "银行",
    "Biotechnology": "生物科技",
    "Software": "软件",
    "Health Care Equipment & Supplies": "医疗保健设备与用品",
    "Pharmaceuticals": "制药",
    "Machinery": "机械",
    "Oil, Gas & Consumable Fuels": "石油、天然气与消费用燃料",
    "Thrifts & Mortgage Finance": "储蓄与抵押贷款金融",
    "Insurance": "保险",
    "Semiconductors & Semiconductor Equipment": "半导体产品与半导体设备",
    "IT Services": "信息技术服务",
    "Energy Equipment & Services": "能源设备与服务",
    "Trading Companies & Distributors": "贸易公司与经销商",
    "Hotels, Restaurants & Leisure": "酒店、餐馆与休闲",
    "Food Products": "食品",
    "Communications Equipment": "通信设备",
    "Chemicals": "化学制品",
    "Aerospace & Defense": "航空航天与国防",
    "Equity Real Estate Investment Trusts (REITs)": "权益型房地产投资信托",
    "Capital Markets": "资本市场",
    "Mortgage Real Estate Investment": "抵押房地产投资信托",  # name truncated upstream
    "Building Products": "建筑产品",
    "Health Care Providers & Services": "医疗保健提供商与服务",
    "Life Sciences Tools & Services": "生命科学工具与服务",
    "Electric Utilities": "电力公用事业",
    "Construction & Engineering": "建筑与工程",
    "Consumer Finance": "消费信贷",
    # sub-industries (names equal to an industry above are not repeated)
    "Regional Banks": "区域性银行",
    "Application Software": "应用软件",
    "Health Care Equipment": "医疗保健设备",
    "Industrial Machinery": "工业机械",
    "Oil & Gas Exploration & Production": "石油与天然气勘探与生产",
    "Property & Casualty Insurance": "财产与意外伤害保险",
    "Semiconductors": "半导体",
    "Data Processing & Outsourced Services": "数据处理与外包服务",
    "Oil & Gas Equipment & Services": "石油与天然气设备与服务",
    "Restaurants": "餐馆",
    "Packaged Foods & Meats": "包装食品与肉类",
    "Specialty Chemicals": "特种化学品",
    "Retail REITs": "零售房地产投资信托",
    "Asset Management & Custody Banks": "资产管理与托管银行",
    "Mortgage REITs": "抵押房地产投资信托",
    "Specialized REITs": "专业房地产投资信托",
    "Health Care Services": "医疗保健服务",
    "Health Care Supplies": "医疗保健用品",
    "Systems Software": "系统软件",
}


def _join_en(items: Sequence[str]) -> str:
    """Semicolons, since several names contain commas or "and" themselves."""
    return "; ".join(items)


def _translate(table: dict[str, str], name: str, kind: str) -> str:
    try:
        return table[name]
    except KeyError:
        raise KeyError(f"no hand-written {kind} rendering for {name!r}") from None


def _sw_parts(hierarchy: dict[str, qc.SwNode], code: str) -> tuple[str, str, list[str]]:
    node = hierarchy[code]
    l3 = [n.name for n in qc.sw_children(hierarchy, code)] or [node.name]
    return node.name, hierarchy[node.parent_code].name, l3


def select_sw_codes(
    firms: list[qc.Firm], hierarchy: dict[str, qc.SwNode], min_firms: int
) -> list[str]:
    """SW L2 codes with >= min_firms firms and a name in the hierarchy file, by code."""
    counts = qc.label_counts(firms)
    missing = sorted(c for c, n in counts.items() if n >= min_firms and c not in hierarchy)
    if missing:
        logger.info("no SW hierarchy name (no query) for L2 codes %s", missing)
    return sorted(c for c, n in counts.items() if n >= min_firms and c in hierarchy)


def select_gics_codes(
    firms: list[qc.Firm], names: dict[str, qc.GicsNames], min_firms: int
) -> list[str]:
    """GICS sub-industry codes with >= min_firms firms and a name, by code."""
    counts = qc.label_counts(firms)
    missing = sorted(c for c, n in counts.items() if n >= min_firms and c not in names)
    if missing:
        logger.info("no GICS name (no query) for sub-industry codes %s", missing)
    return sorted(c for c, n in counts.items() if n >= min_firms and c in names)


def cn_queries(codes: list[str], hierarchy: dict[str, qc.SwNode]) -> list[dict[str, str]]:
    out = []
    for code in codes:
        l2, l1, l3 = _sw_parts(hierarchy, code)
        out.append(
            {
                "id": f"cn-{code}",
                "title": CN_TITLE.format(l2=l2),
                "description": CN_DESC.format(l2=l2, l1=l1, l3="、".join(l3)),
                "industry": code,
            }
        )
    return out


def xl_en_queries(codes: list[str], hierarchy: dict[str, qc.SwNode]) -> list[dict[str, str]]:
    out = []
    for code in codes:
        l2, l1, l3 = _sw_parts(hierarchy, code)
        l2_en = _translate(SW_EN, l2, "English")
        l1_en = _translate(SW_EN, l1, "English")
        l3_en = [_translate(SW_EN, n, "English") for n in l3]
        out.append(
            {
                "id": f"xlen-{code}",
                "title": EN_TITLE.format(sub=l2_en),
                "description": XL_EN_DESC.format(l2=l2_en, l1=l1_en, l3=_join_en(l3_en)),
                "industry": code,
            }
        )
    return out


def en_queries(codes: list[str], names: dict[str, qc.GicsNames]) -> list[dict[str, str]]:
    out = []
    for code in codes:
        n = names[code]
        out.append(
            {
                "id": f"en-{code}",
                "title": EN_TITLE.format(sub=n.sub_industry),
                "description": EN_DESC.format(
                    sub=n.sub_industry, industry=n.industry, sector=n.sector
                ),
                "industry": code,
            }
        )
    return out


def xl_zh_queries(codes: list[str], names: dict[str, qc.GicsNames]) -> list[dict[str, str]]:
    out = []
    for code in codes:
        n = names[code]
        sub = _translate(GICS_ZH, n.sub_industry, "Chinese")
        industry = _translate(GICS_ZH, n.industry, "Chinese")
        sector = _translate(GICS_ZH, n.sector, "Chinese")
        out.append(
            {
                "id": f"xlzh-{code}",
                "title": CN_TITLE.format(l2=sub),
                "description": XL_ZH_DESC.format(sub=sub, industry=industry, sector=sector),
                "industry": code,
            }
        )
    return out


def build_all(corpus_dir: Path) -> dict[str, list[dict[str, str]]]:
    """All four query sets, keyed by run name (see corpus.RUNS)."""
    cn_firms = qc.load_cn_firms(corpus_dir)
    en_firms = qc.load_en_firms(corpus_dir)
    hierarchy = qc.load_sw_hierarchy(corpus_dir)
    gics = qc.load_gics_names(corpus_dir)
    xl_cn = select_sw_codes(cn_firms, hierarchy, XL_MIN_FIRMS_CN)
    xl_en = select_gics_codes(en_firms, gics, XL_MIN_FIRMS_EN)
    for name, codes in (("xl_en_over_cn", xl_cn), ("xl_zh_over_en", xl_en)):
        if not XL_RANGE[0] <= len(codes) <= XL_RANGE[1]:
            raise ValueError(f"{name}: {len(codes)} classes selected, expected {XL_RANGE}")
    return {
        "cn": cn_queries(select_sw_codes(cn_firms, hierarchy, MIN_FIRMS), hierarchy),
        "en": en_queries(select_gics_codes(en_firms, gics, MIN_FIRMS), gics),
        "xl_en_over_cn": xl_en_queries(xl_cn, hierarchy),
        "xl_zh_over_en": xl_zh_queries(xl_en, gics),
    }


def render(queries: list[dict[str, str]]) -> str:
    return "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus-dir", type=Path, default=qc.DEFAULT_CORPUS_DIR)
    parser.add_argument("--out-dir", type=Path, default=qc.QUERIES_DIR)
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare with the files in --out-dir instead of writing them",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return write_or_check(build_all(args.corpus_dir), args.out_dir, args.check)


def write_or_check(built: dict[str, list[dict]], out_dir: Path, check: bool) -> int:
    """Write each run's queries to ``out_dir/<run>.jsonl``, or (``check``) compare them with
    the files there; 1 when a committed file differs from the fresh build."""
    stale = []
    for run, queries in built.items():
        path = out_dir / f"{run}.jsonl"
        text = render(queries)
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        logger.info("wrote %d queries to %s", len(queries), path)
    if stale:
        logger.error("query files differ from a fresh build: %s", ", ".join(map(str, stale)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Profile text: Chinese and English templates, long and short forms, script conversion.

Every function takes the ``random.Random`` it draws from, so output is reproducible.
Generic phrases here must not contain scenario keywords (validate.py checks the lay firms).
The phrase pools are in ``tables/textgen.json``; the sentence templates are code.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from typing import Any

from tableio import load

NOW = 2025
_NUM = re.compile(r"\{(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)\}")

_T = load("textgen")
UNIVERSITIES: list[str] = _T["universities"]
FOUNDERS: list[str] = _T["founders"]
FOUNDERS_PLAIN: list[str] = _T["founders_plain"]  # founders of firms that are not tech firms
REGIONS: list[str] = _T["regions"]
EXPORT: list[str] = _T["export"]
EXCHANGES: list[str] = _T["exchanges"]
EN_EXCHANGES: list[str] = _T["en_exchanges"]
MUNICIPALITIES: set[str] = set(_T["municipalities"])
CERT_ZH: dict[str, str] = _T["cert_zh"]
CERT_EN: dict[str, str] = _T["cert_en"]
TITLE_EN: dict[str, str] = _T["title_en"]
# the part of a {lo-hi} range a firm of each size class draws from
SCALE_BAND: dict[str, tuple[float, float]] = {
    size: (lo, hi) for size, (lo, hi) in _T["scale_band"].items()
}
# product qualities in long profiles: manufacturers, service firms
_ADJ: list[str] = _T["adj"]
_ADJ_SERVICE: list[str] = _T["adj_service"]


# ------------------------------------------------------------------ small helpers
def fill(s: str, rng: random.Random, scale: str | None = None) -> str:
    """Replace ``{lo-hi}`` ranges by a random number (a decimal range keeps one decimal).

    With ``scale`` the number is drawn from the part of the range that fits the firm's size.
    """
    a, b = SCALE_BAND.get(scale or "", (0.0, 1.0))

    def repl(m: re.Match[str]) -> str:
        lo, hi = float(m.group(1)), float(m.group(2))
        x = lo + (hi - lo) * rng.uniform(a, b)
        if "." in m.group(1) or "." in m.group(2):
            return f"{x:.1f}"
        return str(int(round(x)))

    return _NUM.sub(repl, s)


def join_zh(items: list[str], rng: random.Random | None = None) -> str:
    if len(items) == 1:
        return items[0]
    last = "和" if rng is None or rng.random() < 0.6 else "及"
    return "、".join(items[:-1]) + last + items[-1]


def join_en(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def capital_zh(wan: float) -> str:
    if wan >= 10000:
        v = wan / 10000
        return f"{v:.2f}".rstrip("0").rstrip(".") + "亿元"
    return f"{wan:g}万元"


def capital_en(wan: float) -> str:
    return f"RMB {wan / 100:,.1f} million".replace(".0 million", " million")


def inv_en(yi: float) -> str:
    return f"RMB {yi * 100:,.0f} million"


def approx(n: int) -> str:
    """A round figure for "about N people" (``1662`` -> ``1600``)."""
    if n < 20:
        return str(n)
    step = 10 if n < 200 else 50 if n < 1000 else 100
    return str(n // step * step)


def province_title(prov: str) -> str:
    return prov + ("市" if prov in MUNICIPALITIES else "省")


def honours(firm: dict[str, Any], rng: random.Random) -> list[str]:
    """Honour phrases consistent with the firm's certifications and location."""
    if firm.get("overseas"):
        return []
    prov = firm.get("province") or "福建"
    out = []
    certs = firm["certifications"]
    if "高新技术企业" in certs:
        out.append("国家高新技术企业")
    if "专精特新小巨人" in certs:
        out.append("国家级专精特新“小巨人”企业")
    if "专精特新中小企业" in certs:
        out.append(f"{province_title(prov)}专精特新中小企业")
    if "科技型中小企业" in certs:
        out.append("科技型中小企业")
    if firm.get("techy", True) and not firm.get("rd", True):
        pool = [
            "守合同重信用企业",
            "纳税信用A级纳税人",
            "瞪羚企业",
            "市级重点培育企业",
            "服务业领军企业",
        ]
    elif firm.get("techy", True):
        pool = [
            f"{province_title(prov)}级企业技术中心",
            "守合同重信用企业",
            "纳税信用A级纳税人",
            f"{province_title(prov)}级工程研究中心",
            "瞪羚企业",
            f"{province_title(prov)}级服务型制造示范企业",
            "市级重点培育企业",
        ]
        if prov == "福建":
            pool += ["福建省科技小巨人企业", "泉州市创新型企业"]
    else:
        pool = ["守合同重信用企业", "纳税信用A级纳税人", "诚信经营示范单位", "消费者信得过单位"]
    k = rng.choice([0, 1, 1, 2])
    out += rng.sample(pool, k)
    return out


def cert_phrases(firm: dict[str, Any]) -> list[str]:
    return [CERT_ZH[c] for c in firm["certifications"] if c in CERT_ZH]


# ------------------------------------------------------------------ Chinese (normal length)
def _opening_zh(f: dict[str, Any], rng: random.Random) -> str:
    name, short, year = f["name"], f["short"], f["founded"]
    cap = capital_zh(f["registered_capital_wan"]) if f["registered_capital_wan"] else None
    city, biz, kind, emp = f["city"], f["biz"], f["kind"], f["employees"]
    age = NOW - year
    opts = [
        f"{name}成立于{year}年"
        + (f"，注册资本{cap}" if cap else "")
        + f"，是一家专注于{biz}的{kind}。",
        f"{short}创立于{year}年，总部位于{city}，主要从事{biz}，现有员工{approx(emp)}余人。",
        f"公司成立于{year}年{rng.randint(1, 12)}月，注册地{city}"
        + (f"，注册资本{cap}" if cap else "")
        + f"，主营{biz}。",
        f"{short}是{kind}，{year}年注册成立，业务聚焦{biz}。",
        f"{name}（以下简称“{short}”）成立于{year}年，主营{biz}，员工规模约{emp}人。",
        f"我司于{year}年在{city}注册，专业从事{biz}。",
    ]
    if age >= 3:
        founders = FOUNDERS if f.get("techy", True) else FOUNDERS_PLAIN
        opts.append(
            f"{year}年，{rng.choice(founders)}在{city}创办了{short}，至今已在{biz}领域深耕{age}年。"
        )
        opts.append(f"作为一家扎根{city}的{kind}，{short}自{year}年成立以来一直聚焦{biz}。")
    if f.get("parent"):
        opts.append(f"{name}系{f['parent']}于{year}年在{city}设立的子公司，主营{biz}。")
    return rng.choice(opts)


def _products_zh(f: dict[str, Any], rng: random.Random) -> str:
    p = f["products"]
    opts = [f"主要产品包括{join_zh(p, rng)}等。", f"主营产品：{'、'.join(p)}。"]
    if len(p) >= 2:
        rest = join_zh(p[1:], rng)
        opts += [
            f"核心产品为{p[0]}，同时提供{rest}。",
            f"目前已形成以{p[0]}为主、{rest}为补充的产品体系。",
            f"公司主推{join_zh(p, rng)}，其中{p[0]}为拳头产品，约占营收的{rng.randint(35, 70)}%。",
        ]
    if len(p) >= 3:
        opts.append(f"产品线覆盖{join_zh(p, rng)}{len(p)}大系列。")
    return rng.choice(opts)


def _tech_zh(f: dict[str, Any], rng: random.Random) -> str:
    t = f["tech"]
    pat1 = max(1, int(f["employees"] ** 0.5 * rng.uniform(0.3, 1.2)))
    pat2 = pat1 * rng.randint(2, 4)
    rd = max(3, int(f["employees"] * rng.uniform(0.12, 0.35)))
    opts = [
        f"公司掌握{join_zh(t, rng)}等核心技术，累计获得授权发明专利{pat1}项、实用新型专利{pat2}项。",
        f"研发团队{rd}人，核心技术包括{'、'.join(t)}。",
        f"核心技术：{'、'.join(t)}。",
        f"依托与{rng.choice(UNIVERSITIES)}共建的联合实验室，公司在{join_zh(t[:2], rng)}方面形成了自主知识产权。",
    ]
    if len(t) >= 2:
        opts.append(f"技术上，{f['short']}在{t[0]}方面积累较深，{t[1]}达到国内先进水平。")
    if not f.get("rd", True):
        opts = [
            f"核心能力：{'、'.join(t)}。",
            f"公司在{join_zh(t, rng)}等方面形成了自己的一套方法。",
            f"团队{approx(f['employees'])}余人，核心业务骨干平均从业{rng.randint(6, 15)}年，擅长{join_zh(t, rng)}。",
        ]
    return rng.choice(opts)


def _feat_zh(f: dict[str, Any], rng: random.Random) -> str:
    ft = f["feat"]
    opts = [f"经营特色：{'、'.join(ft)}。", f"{f['short']}的特色是{'，'.join(ft)}。"]
    if not any(ch.isdigit() for ch in "".join(ft)):
        opts.append(f"公司以{join_zh(ft, rng)}见长。")
    return rng.choice(opts)


def _cap_zh(f: dict[str, Any], rng: random.Random) -> str:
    caps = f["cap"]
    prefix = rng.choice(["", "目前，", "截至2024年底，", "现"])
    body = "，".join(caps)
    if prefix != "现" and not body.startswith(("公司", "已", "在")) and rng.random() < 0.5:
        body = "公司" + body
    return prefix + body + "。"


def _cust_zh(f: dict[str, Any], rng: random.Random) -> str:
    c = f["customers"]
    regions = (
        REGIONS
        if f.get("techy", True)
        else [f"{f['city']}及周边地区", "闽南地区", "泉州地区", "本省各地市"]
    )
    opts = [
        f"主要客户群体为{join_zh(c, rng)}。",
        f"产品和服务主要面向{'、'.join(c)}，业务覆盖{rng.choice(regions)}。",
    ]
    if f.get("techy", True):
        opts += [
            f"客户涵盖{join_zh(c, rng)}等，累计服务客户{rng.randint(3, 90) * 10}余家。",
            f"已与多家{c[0]}建立长期合作关系。",
        ]
    if len(c) >= 2:
        opts.append(f"下游客户以{c[0]}为主，兼顾{join_zh(c[1:], rng)}。")
    return rng.choice(opts)


def _honour_zh(f: dict[str, Any], rng: random.Random) -> str | None:
    h, cp = honours(f, rng), cert_phrases(f)
    if not h and not cp:
        return None
    parts = []
    if cp:
        parts.append(rng.choice(["公司已通过", "先后通过", "持有"]) + "、".join(cp))
    if h:
        parts.append(rng.choice(["获评", "先后被认定为", "系"]) + "、".join(h))
    return "，".join(parts) + "。"


def _revenue_zh(f: dict[str, Any], rng: random.Random) -> str:
    rev = f["employees"] * rng.uniform(0.4, 1.4) / 100
    rev_s = f"{rev:.1f}亿元" if rev >= 1 else f"{int(rev * 10000)}万元"
    return rng.choice([f"2024年实现营业收入约{rev_s}。", f"年营业额约{rev_s}，近三年保持增长。"])


def _listed_zh(f: dict[str, Any], rng: random.Random) -> str:
    y = max(f["founded"] + 5, rng.randint(2008, 2023))
    return f"公司于{min(y, 2024)}年在{rng.choice(EXCHANGES)}上市。"


def _intent_zh(f: dict[str, Any], rng: random.Random) -> str | None:
    inv, space, plan, short = (
        f["intended_investment_yi"],
        f["space_needed_m2"],
        f["plan"],
        f["short"],
    )
    if inv is None and space is None:
        if rng.random() < 0.5:
            return None
        return rng.choice(
            [
                "公司关注晋江在相关领域的合作机会，暂无明确投资计划。",
                f"{short}有意与晋江园区企业开展合作，具体方式待进一步洽谈。",
            ]
        )
    inv_s = f"{inv:g}亿元" if inv is not None else None
    sp = f"{int(space):,}".replace(",", "") if space is not None else None
    if inv_s and sp:
        return rng.choice(
            [
                f"公司拟在晋江经济开发区投资{inv_s}建设{plan}，需用{'厂房' if f.get('mfg', True) else '场地'}约{sp}平方米。",
                f"本次投资意向：{plan}，计划总投资{inv_s}，拟租用{'标准厂房' if f.get('mfg', True) else '办公及运营场地'}{sp}平方米。",
                f"意向项目：{plan}（一期），总投资约{inv_s}，场地需求约{sp}㎡。",
                f"下一步，{short}计划投资{inv_s}在晋江布局{plan}，预计需要场地{sp}平方米。",
            ]
        )
    if inv_s:
        return rng.choice(
            [
                f"下一步，{short}计划在泉州地区布局{plan}，预计投资{inv_s}。",
                f"拟投资{inv_s}设立{plan}，选址尚在比选中。",
            ]
        )
    return rng.choice(
        [
            f"有意向入驻晋江相关产业园区，设立{plan}，场地需求约{sp}平方米。",
            f"计划设立{plan}，需要约{sp}平方米的场地。",
        ]
    )


def render_zh(f: dict[str, Any], rng: random.Random) -> str:
    opening = _opening_zh(f, rng)
    body = [_products_zh(f, rng)]
    extras = []
    if f["tech"] and rng.random() < 0.8:
        extras.append(_tech_zh(f, rng))
    if f["feat"] and rng.random() < 0.8:
        extras.append(_feat_zh(f, rng))
    if f["cap"] and rng.random() < 0.85:
        extras.append(_cap_zh(f, rng))
    if f["customers"] and rng.random() < 0.75:
        extras.append(_cust_zh(f, rng))
    h = _honour_zh(f, rng) if rng.random() < 0.75 else None
    if h:
        extras.append(h)
    if rng.random() < 0.25:
        extras.append(_revenue_zh(f, rng))
    rng.shuffle(extras)
    body += extras
    if f["listed"]:
        body.insert(rng.randint(0, len(body)), _listed_zh(f, rng))
    if f.get("techy", True):
        r = rng.random()
        if r < 0.10:  # terse profile
            body = body[:1]
        elif r < 0.30:  # a fuller profile with a paragraph or two more
            body += [x for x in _fillers(f, rng)[: rng.randint(1, 3)]]
    intent = _intent_zh(f, rng)
    style = rng.random()
    if style < 0.10:  # key-value form, as in investment-promotion databases
        kv = [f"成立时间：{f['founded']}年"]
        if f["registered_capital_wan"]:
            kv.append(f"注册资本：{capital_zh(f['registered_capital_wan'])}")
        kv += [f"主营业务：{f['biz']}", f"主要产品：{'、'.join(f['products'])}"]
        if f["tech"]:
            kv.append(f"核心技术：{'、'.join(f['tech'][:3])}")
        if f["customers"]:
            kv.append(f"主要客户：{'、'.join(f['customers'][:3])}")
        q = honours(f, rng) + cert_phrases(f)
        if q:
            kv.append(f"资质荣誉：{'、'.join(q)}")
        if intent:
            for pre in ("本次投资意向：", "意向项目："):
                intent = intent.replace(pre, "")
            kv.append(f"投资意向：{intent.rstrip('。')}")
        return "；".join(kv) + "。"
    if style < 0.18:
        text = "【企业简介】" + opening + "".join(body)
        return text + ("\n【投资意向】" + intent if intent else "")
    if style < 0.35 and len(body) >= 3:
        cut = rng.randint(1, len(body) - 1)
        return opening + "".join(body[:cut]) + "\n" + "".join(body[cut:]) + (intent or "")
    return opening + "".join(body) + (intent or "")


# ------------------------------------------------------------------ English
def _titles_en(f: dict[str, Any]) -> tuple[list[str], list[str]]:
    titles = [TITLE_EN[c] for c in f["certifications"] if c in TITLE_EN]
    certs = [CERT_EN[c] for c in f["certifications"] if c in CERT_EN]
    return titles, certs


def render_en(f: dict[str, Any], rng: random.Random) -> str:
    name, short, year, city = f["name"], f["short"], f["founded"], f["city"]
    biz, kind, emp = f["biz"], f["kind"], f["employees"]
    art = "an" if kind[0].lower() in "aeiou" else "a"
    opts = [
        f"{name} was founded in {year} and is based in {city}. It specialises in {biz}.",
        f"Established in {year}, {short} is {art} {kind} focused on {biz}, with about {emp} employees.",
        f"{short} has been working on {biz} since {year}.",
    ]
    if f["registered_capital_wan"]:
        opts.append(
            f"Founded in {year} in {city} with registered capital of {capital_en(f['registered_capital_wan'])}, "
            f"{short} is {art} {kind} specialising in {biz}."
        )
    if f["customers"]:
        opts.append(
            f"Since its founding in {year}, {name} has grown into {art} {kind} serving {f['customers'][0]}."
        )
    s = [rng.choice(opts)]
    p = f["products"]
    s.append(
        rng.choice(
            [
                f"Its product range includes {join_en(p)}.",
                f"Main products: {'; '.join(p)}.",
                f"The flagship offering, {p[0]}, is complemented by {join_en(p[1:]) or 'custom services'}.",
            ]
        )
    )
    extra = []
    if f["tech"] and rng.random() < 0.8:
        t = f["tech"]
        pat = max(2, int(emp**0.5 * rng.uniform(0.5, 2)))
        if f.get("rd", True):
            extra.append(
                rng.choice(
                    [
                        f"Core technologies include {join_en(t)}; the company holds {pat} patents.",
                        f"R&D focuses on {join_en(t[:2])}, with a team of {max(3, int(emp * 0.2))} engineers.",
                    ]
                )
            )
        else:
            extra.append(f"Core capabilities include {join_en(t)}.")
    if f["cap"] and rng.random() < 0.85:
        c = "; ".join(f["cap"])
        extra.append(rng.choice([f"Key figures: {c}.", f"Track record: {c}.", f"In numbers: {c}."]))
    if f["customers"] and rng.random() < 0.8:
        extra.append(
            rng.choice(
                [
                    f"Customers include {join_en(f['customers'])}.",
                    f"It supplies {join_en(f['customers'])} in China and abroad.",
                ]
            )
        )
    titles, certs = _titles_en(f)
    if (titles or certs) and rng.random() < 0.8:
        bits = []
        if titles:
            bits.append(f"The company is {join_en(titles)}")
        if certs:
            bits.append(("and holds " if titles else "It holds ") + join_en(certs))
        extra.append(" ".join(bits) + ".")
    rng.shuffle(extra)
    s += extra
    if f["listed"]:
        s.append(f"It is listed on {rng.choice(EN_EXCHANGES)}.")
    inv, space, plan = f["intended_investment_yi"], f["space_needed_m2"], f["plan"]
    if inv is not None and space is not None:
        s.append(
            rng.choice(
                [
                    f"The company plans to invest about {inv_en(inv)} in {plan} in Jinjiang and needs roughly {int(space)} m² of "
                    + ("factory space." if f.get("mfg", True) else "office and operating space."),
                    f"Investment intention: {plan} (phase I), about {inv_en(inv)}, with a space requirement of about {int(space)} m².",
                ]
            )
        )
    elif inv is not None:
        s.append(
            f"It is considering an investment of about {inv_en(inv)} in {plan} in the Quanzhou area."
        )
    elif space is not None:
        s.append(f"It is looking for about {int(space)} m² in the zone for {plan}.")
    if f.get("foreign"):
        s.append(
            rng.choice(
                [
                    "The company is looking for a local partner to enter the Chinese market.",
                    "It would consider a joint venture with a Jinjiang manufacturer.",
                    "A representative office in Fujian is under consideration.",
                ]
            )
        )
    if rng.random() < 0.15 and len(s) > 3:
        cut = rng.randint(2, len(s) - 1)
        return " ".join(s[:cut]) + "\n\n" + " ".join(s[cut:])
    return " ".join(s)


# ------------------------------------------------------------------ everyday wording (lay)
def render_lay(f: dict[str, Any], spec: dict[str, Any], rng: random.Random) -> str:
    name, short, year, city, kind = f["name"], f["short"], f["founded"], f["city"], f["kind"]
    opening = rng.choice(
        [
            f"{name}成立于{year}年，位于{city}。",
            f"{short}是{year}年在{city}成立的一家{kind}。",
            f"我们是{city}的一家{kind}，{year}年开始做这件事。",
            f"{short}，{year}年成立，现有{f['employees']}人。",
        ]
    )
    s = [opening, rng.choice(spec["intro"])]
    extra = rng.sample(spec["extra"], rng.randint(1, len(spec["extra"])))
    s += [e + "。" for e in extra]
    if rng.random() < 0.6:
        s.append(
            rng.choice(
                [
                    f"主要客户是{'、'.join(f['customers'])}。",
                    f"找我们的多是{join_zh(f['customers'], rng)}。",
                ]
            )
        )
    h = [x for x in honours(f, rng) if "技术中心" not in x and "工程研究" not in x]
    if h and rng.random() < 0.5:
        s.append(f"公司是{'、'.join(h)}。")
    inv, space, plan = f["intended_investment_yi"], f["space_needed_m2"], f["plan"]
    if inv is not None and space is not None:
        s.append(
            rng.choice(
                [
                    f"打算投{inv:g}亿元，{plan}，大约需要{int(space)}平方米的地方。",
                    f"下一步想{plan}，准备投入{inv:g}亿元，要{int(space)}平方米左右。",
                ]
            )
        )
    elif inv is not None:
        s.append(f"下一步想{plan}，准备投入{inv:g}亿元。")
    elif space is not None:
        s.append(f"下一步想{plan}，需要{int(space)}平方米左右的地方。")
    return "".join(s)


# ------------------------------------------------------------------ long (1200-2500 chars)
def _fillers(f: dict[str, Any], rng: random.Random) -> list[str]:
    """Optional paragraphs about people, quality, responsibility, management and cases."""
    short, p, c = f["short"], f["products"], f["customers"] or ["客户"]
    mfg = f.get("mfg", True)
    out = [
        f"在人才建设方面，{short}实行项目跟投和股权激励制度，核心骨干平均司龄超过{rng.randint(4, 9)}年，"
        + (
            f"并与多所职业院校共建实训基地，每年定向培养技术工人{rng.randint(30, 200)}名。"
            if mfg
            else f"每年从高校招聘应届毕业生{rng.randint(10, 80)}名，并建立了导师带教制度。"
        ),
        f"在社会责任方面，{short}积极参与乡村振兴和助学公益，累计捐款捐物价值{rng.randint(50, 500)}万元，"
        f"并连续多年被评为当地“爱心企业”。",
        f"在经营管理方面，{short}建立了覆盖采购、业务、财务和客户服务的信息化管理系统，"
        f"各环节数据实时打通，管理层可以按周跟踪经营指标并及时调整。",
        f"典型案例方面，{short}曾为一家{rng.choice(c)}提供{rng.choice(p)}整体方案，项目从签约到交付仅用{rng.randint(2, 8)}个月，"
        f"投运后客户综合成本下降约{rng.randint(8, 30)}%，该项目随后被多家同行企业参观学习。",
        f"另一个有代表性的项目是与{rng.choice(['上海', '广州', '厦门', '杭州', '成都', '武汉', '宁波'])}的一家{rng.choice(c)}合作，双方围绕{rng.choice(p)}开展深度合作，"
        f"公司派驻{rng.randint(3, 15)}名骨干现场服务，历时{rng.randint(4, 18)}个月完成交付，客户随后追加了二期订单。",
        "在企业文化方面，公司倡导“务实、创新、共赢”的理念，设立员工书屋、篮球场和职工之家，"
        "员工流失率常年低于行业平均水平，先后获得当地“和谐劳动关系企业”称号。",
        f"在品牌建设方面，{short}每年参加行业展会{rng.randint(3, 12)}场，在业内专业媒体发表文章数十篇，"
        f"并多次受邀在行业论坛作主题分享，品牌认知度稳步提升。",
        f"在标准化建设方面，公司建立了{rng.randint(20, 80) * 10}余项内部管理制度和作业指导书，"
        f"新员工须经过{rng.randint(2, 6)}周系统培训并考核合格后方可上岗，关键岗位实行持证上岗制度。",
    ]
    if mfg:
        out += [
            f"在质量管理方面，公司推行全流程质量追踪，关键工序设置质量控制点{rng.randint(10, 40)}个，"
            f"客户投诉率连续三年下降，产品一次交验合格率保持在{rng.randint(97, 99)}%以上。",
            f"在绿色发展方面，公司持续推进清洁生产，单位产值能耗较{rng.randint(2018, 2021)}年下降{rng.randint(10, 30)}%，"
            f"厂区屋顶和停车场实现绿化与雨水收集，生产废料实现分类回收。",
            f"在供应链方面，公司与{rng.randint(20, 150)}家核心供应商建立了长期合作，关键原材料和零部件均有两家以上合格来源，"
            f"并在{rng.choice(['华东', '华南', '西南', '华北'])}设有备件仓库，保障交付稳定。",
            f"在安全生产方面，{short}设立专职安全管理部门，全员签订安全责任书，每年组织应急演练{rng.randint(2, 6)}次，"
            f"近{rng.randint(3, 10)}年未发生一般及以上安全事故。",
        ]
    rng.shuffle(out)
    return out


def render_long(f: dict[str, Any], rng: random.Random) -> str:
    short, year = f["short"], f["founded"]
    p, t, c = f["products"], f["tech"] or f["feat"], f["customers"]
    paras = []
    # 1 history
    h = [_opening_zh(f, rng)]
    years = sorted(rng.sample(range(year + 1, NOW), min(5, max(1, NOW - year - 1))))
    where = rng.choice(["上海", "深圳", "厦门", "杭州", "成都", "武汉"])
    if f.get("mfg", True):
        events = [
            f"首款{p[0]}研制成功并实现销售",
            "完成A轮融资",
            f"与{rng.choice(UNIVERSITIES)}共建联合实验室",
            f"{p[-1]}实现量产",
            f"在{where}设立研发中心",
            "搬入自建新厂区",
            f"产品进入{c[0]}供应体系",
            "首次实现海外出口",
            "入选省级重点项目",
            "完成股份制改造",
        ]
    else:
        events = [
            f"首个{p[0]}项目落地",
            "完成A轮融资",
            f"{p[-1]}业务正式上线",
            f"在{where}设立分公司",
            "搬入新办公楼",
            f"与首家{c[0]}签订年度框架协议",
            "服务客户突破一百家",
            "入选省级重点项目",
            "完成股份制改造",
            "获得行业协会理事单位资格",
        ]
    rng.shuffle(events)
    h += [f"{y}年，{e}；" for y, e in zip(years, events, strict=False)]
    h[-1] = h[-1].rstrip("；") + "。"
    h.append(
        f"经过多年发展，{short}已从最初十余人的小团队成长为拥有员工{f['employees']}人、"
        f"业务覆盖{rng.choice(REGIONS)}的{f['kind']}。"
    )
    paras.append("".join(h))
    # 2 products
    s = [f"在产品方面，{short}围绕{f['biz']}形成了较为完整的产品线。"]
    pool = _ADJ if f.get("mfg", True) else _ADJ_SERVICE
    adjs = rng.sample(pool, len(pool))
    for i, prod in enumerate(p):
        s.append(f"{prod}主要面向{c[i % len(c)]}，具有{adjs[i % len(adjs)]}等特点；")
    s[-1] = s[-1].rstrip("；") + "。"
    if f["cap"]:
        s.append(_cap_zh(f, rng))
    s.append(
        "公司坚持以客户需求为导向，产品可根据不同场景进行定制化开发，并提供安装调试、人员培训和全生命周期运维服务。"
        if f.get("mfg", True)
        else "公司坚持以客户需求为导向，服务方案可按客户规模和阶段灵活组合，并安排专属团队长期跟进。"
    )
    paras.append("".join(s))
    # 3 R&D (or, for service firms without R&D, the team)
    rd = max(5, int(f["employees"] * rng.uniform(0.15, 0.3)))
    pat1 = max(3, int(f["employees"] ** 0.5 * rng.uniform(0.6, 1.5)))
    if f.get("rd", True):
        s = [
            f"研发是{short}的立身之本。公司现有研发人员{rd}人，其中博士{max(1, rd // 12)}人、硕士{max(2, rd // 4)}人，"
            f"每年研发投入占营业收入的{rng.randint(5, 15)}%以上。"
        ]
        for tech in t[:4]:
            s.append(
                rng.choice(
                    [
                        f"在{tech}方面，公司组建了专门的攻关小组，相关成果已应用于主力产品；",
                        f"围绕{tech}，公司持续开展迭代研究，多项指标优于行业平均水平；",
                        f"{tech}是公司重点布局的技术方向，已形成系列专利；",
                    ]
                )
            )
        s[-1] = s[-1].rstrip("；") + "。"
        s.append(
            f"截至目前，公司累计获得授权发明专利{pat1}项、实用新型专利{pat1 * rng.randint(2, 4)}项、"
            f"软件著作权{rng.randint(5, 60)}项，参与制定国家及行业标准{rng.randint(1, 8)}项，"
            f"并与{rng.choice(UNIVERSITIES)}、{rng.choice(UNIVERSITIES)}等高校院所保持长期产学研合作。"
        )
    else:
        s = [
            f"团队是{short}最重要的资产。公司现有员工{f['employees']}人，本科及以上学历占比{rng.randint(55, 90)}%，"
            f"核心团队成员平均拥有{rng.randint(8, 18)}年以上行业经验。"
        ]
        for tech in t[:4]:
            s.append(
                rng.choice(
                    [
                        f"在{tech}方面，公司形成了标准化的工作流程；",
                        f"{tech}是公司长期积累的核心能力；",
                        f"围绕{tech}，公司每年组织内部复盘和专题培训；",
                    ]
                )
            )
        s[-1] = s[-1].rstrip("；") + "。"
    paras.append("".join(s))
    # 4 customers
    s = [f"市场方面，{short}的客户主要包括{join_zh(c, rng)}。"]
    s.append(
        f"公司在{rng.choice(REGIONS)}建立了销售与服务网络，累计服务客户{rng.randint(10, 90) * 10}余家，"
        f"老客户复购率超过{rng.randint(60, 90)}%。"
    )
    s.append(_revenue_zh(f, rng))
    if rng.random() < 0.6:
        s.append(
            f"近年来，公司积极拓展{rng.choice(EXPORT)}和{rng.choice(EXPORT)}等海外市场，海外业务占比逐年提升。"
        )
    paras.append("".join(s))
    # 5 honours
    hon = _honour_zh(f, rng) or "公司建立了完善的质量管理体系，产品出厂合格率保持在99%以上。"
    paras.append(
        f"资质荣誉方面，{hon}公司注重规范经营，"
        + (
            "连续多年无安全生产和环保事故。"
            if f.get("mfg", True)
            else "连续多年未发生重大客户投诉和合规问题。"
        )
    )
    # optional paragraphs, then 6 plans
    fillers = _fillers(f, rng)
    rng.shuffle(fillers)
    target = rng.randint(1300, 2300)
    intent = _intent_zh(f, rng) or f"公司希望与晋江本地企业在{f['biz']}领域开展合作。"
    plans = (
        f"未来三年，{short}将继续聚焦{f['biz']}，{'加大研发投入，完善产品矩阵' if f.get('rd', True) else '扩充团队，完善服务网络'}，"
        f"力争营业收入年均增长{rng.randint(15, 40)}%以上。{intent}"
        f"公司看好晋江完善的产业配套和良好的营商环境，期待与园区企业共同成长。"
    )
    while fillers and len("\n\n".join(paras + [plans])) < target:
        paras.append(fillers.pop())
    text = "\n\n".join(paras + [plans])
    while len(text) < 1200:  # rare: very few products and technologies
        paras.append(
            f"此外，{short}还为客户提供{join_zh(p, rng)}的选型咨询、方案设计和售后培训，"
            f"在{rng.choice(REGIONS)}设有服务网点，承诺{rng.randint(2, 24)}小时内响应客户需求。"
        )
        text = "\n\n".join(paras + [plans])
    if len(text) > 2500:
        text = text[:2500]
        text = text[: text.rfind("。") + 1]
    return text


# ------------------------------------------------------------------ script conversion
@lru_cache(maxsize=2)
def _converter(config: str):  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC(config)


def to_traditional(text: str, variant: str = "s2t") -> str:
    return str(_converter(variant).convert(text))


_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def add_pinyin(text: str, rng: random.Random, p: float = 0.4) -> str:
    """Append ``(pinyin)`` after about ``p`` of CJK characters, as the scraped seed site does."""
    from pypinyin import Style, lazy_pinyin

    out, last = [], 0
    for m in _CJK_RUN.finditer(text):
        out.append(text[last : m.start()])
        run = m.group(0)
        pys = lazy_pinyin(run, style=Style.TONE)
        if len(pys) != len(run):
            pys = [lazy_pinyin(ch, style=Style.TONE)[0] for ch in run]
        for ch, py in zip(run, pys, strict=True):
            out.append(ch)
            if py != ch and py.isalpha() and rng.random() < p:
                out.append(f"({py})")
        last = m.end()
    out.append(text[last:])
    return "".join(out)

"""Generate the sample company profiles, relevance labels and small try-out files.

Run from the repository root (any working directory works):

    .venv/bin/python data/generator/generate_companies.py               # rewrites data/...
    .venv/bin/python data/generator/generate_companies.py --out /tmp/x  # ... or writes elsewhere

Deterministic: a fixed seed and no iteration over unordered containers, so every run writes
byte-identical files (given the pinned pypinyin, see pins.py). Labels come from the archetype
each firm was written for, never from a ranker. The archetypes and lookup tables are data, in
tables/*.json; this module is the logic. See README.md in this folder.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ids  # noqa: E402
import pins  # noqa: E402
import textgen as tg  # noqa: E402
from spec import CANON_CERTS, load_specs  # noqa: E402
from tableio import load  # noqa: E402

SEED = 20240617
DATA = HERE.parent
REPO = DATA.parent
OUTPUTS = (  # what main() writes, relative to its output folder (data/ by default)
    "companies.jsonl",
    "eval/labels.csv",
    "samples/companies_small.csv",
    "samples/scenarios_small.jsonl",
)
SIDS = [f"S{i:02d}" for i in range(1, 29)]
# the archetypes (tables/*.json), in file order: the seeded draws depend on it
CORE = (
    load_specs("archetypes_a", "core")
    + load_specs("archetypes_b", "core")
    + load_specs("archetypes_c", "core")
)
LAY = load_specs("lay", "lay")
PARTIAL = load_specs("others", "partial")
NEAR_MISS = load_specs("others", "near_miss")
DISTRACTOR = load_specs("others", "distractor")

_T = load("generate_companies")
# size class -> (registered capital (万元), employees, founded) ranges
SCALES: dict[str, tuple[tuple[int, int], ...]] = {
    size: tuple((lo, hi) for lo, hi in ranges) for size, ranges in _T["scales"].items()
}
LOCAL_SHARE = 0.35
MUST_FOREIGN: tuple[str, ...] = tuple(_T["must_foreign"])
ORG_TYPE: dict[str, str] = _T["org_type"]  # name word -> registration authority + type
DUP1: tuple[str, ...] = tuple(_T["dup1"])  # the two names of duplicate pair 1
DUP2: tuple[str, ...] = tuple(_T["dup2"])
SHORT_INDUSTRY: dict[str, str] = _T["short_industry"]  # industry word -> its short-name word
SCENARIOS_SMALL: list[dict[str, str]] = _T["scenarios_small"]


def level4_codes() -> dict[str, str]:
    path = REPO / "matcher" / "resources" / "gbt4754_2017_industry_codes.csv"
    if not path.exists():
        path = DATA / "gbt4754_2017_industry_codes.csv"
    with path.open(encoding="utf-8") as fh:
        return {r["code"]: r["name"] for r in csv.DictReader(fh) if r["level"] == "4"}


def check_specs(valid: dict[str, str]) -> None:
    for spec in CORE + LAY + PARTIAL + NEAR_MISS + DISTRACTOR:
        bad = [c for c in spec["codes"] if c not in valid]
        if bad:
            raise SystemExit(f"archetype {spec['key']}: unknown GB/T 4754 level-4 codes {bad}")
        for c in spec["cities"]:
            if c not in ids.CITIES:
                raise SystemExit(f"archetype {spec['key']}: city {c} missing from ids.CITIES")


# ------------------------------------------------------------------ planning
def plan_firms(rng: random.Random) -> list[dict[str, Any]]:
    plans: list[dict[str, Any]] = []

    def new(spec: dict[str, Any], role: str, **kw: Any) -> dict[str, Any]:
        p = {
            "spec": spec,
            "role": role,
            "lang": "zh",
            "pinyin": False,
            "length": "normal",
            "twhk": False,
            "big": False,
            "dup": None,
            "foreign": None,
            "local": False,
        }
        p.update(kw)
        return p

    for sc in SIDS:
        specs = [s for s in CORE if s["sc"] == sc]
        lays = [s for s in LAY if s["sc"] == sc]
        n_total = rng.choice([14, 15, 15])
        order = specs[:]
        rng.shuffle(order)
        sp = [new(order[i % len(order)], "core") for i in range(n_total - len(lays))]
        en_c = [p for p in sp if p["spec"]["en"]]
        for p in rng.sample(en_c, min(len(en_c), rng.choice([1, 2, 2]))):
            p["lang"] = "en"
        zh_c = [p for p in sp if p["lang"] == "zh"]
        for k, p in enumerate(rng.sample(zh_c, rng.choice([1, 2, 2]))):
            p["lang"] = "zh-Hant"
            p["pinyin"] = k == 0 if rng.random() < 0.5 else k == 1
        plans += sp + [new(s, "lay") for s in lays]

    core_plans = [p for p in plans if p["role"] == "core"]
    # Taiwan / Hong Kong firms among the traditional ones (no mainland credit code)
    trad = [p for p in core_plans if p["lang"] == "zh-Hant" and not p["pinyin"]]
    for p in rng.sample(trad, 6):
        p["twhk"] = True
    # very short and very long descriptions, one scenario each
    free = [p for p in core_plans if p["lang"] != "en" and not p["twhk"] and not p["pinyin"]]
    for sc in rng.sample(SIDS, 16):
        cands = [
            p
            for p in free
            if p["spec"]["sc"] == sc and p["spec"]["short"] and p["length"] == "normal"
        ]
        rng.choice(cands)["length"] = "short"
    for sc in rng.sample(SIDS, 15):
        cands = [p for p in free if p["spec"]["sc"] == sc and p["length"] == "normal"]
        rng.choice(cands)["length"] = "long"
    # firms that want more space than any zone offers
    bigs = [
        p for p in core_plans if p["spec"]["big"] and p["lang"] != "en" and p["length"] == "normal"
    ]
    for p in rng.sample(bigs, 8):
        p["big"] = True

    # the intended duplicates (hard case c)
    foam = next(s for s in CORE if s["key"] == "scf_foam")
    vision = next(s for s in CORE if s["key"] == "shoe_vision")
    plans.append(new(foam, "core", dup=("dup1", "泉州市", "恒信", DUP1)))
    plans.append(new(vision, "core", dup=("dup2", "厦门市", "澜拓", DUP2)))

    # partial fits: one firm per archetype, then a second for some
    extra = rng.sample(PARTIAL, 60 - len(PARTIAL))
    others = [new(s, "partial") for s in PARTIAL] + [new(s, "partial") for s in extra]
    others += [new(s, "near_miss") for s in NEAR_MISS]
    others += [new(s, "distractor") for s in DISTRACTOR] * 1 + [
        new(s, "distractor") for s in DISTRACTOR
    ]
    en_o = [p for p in others if p["spec"]["en"]]
    for p in rng.sample(en_o, 14):
        p["lang"] = "en"
    zh_o = [p for p in others if p["lang"] == "zh"]
    for k, p in enumerate(rng.sample(zh_o, 14)):
        p["lang"] = "zh-Hant"
        p["pinyin"] = k % 2 == 0
    short_o = [
        p for p in others if p["lang"] == "zh" and p["spec"]["short"] and p["role"] != "near_miss"
    ]
    for p in rng.sample(short_o, 4):
        p["length"] = "short"
    allp = plans + others

    # foreign identities for some English-language firms; these names must appear (they
    # exercise the normaliser's keep-rules), so one firm of their archetype is made English
    for must in MUST_FOREIGN:
        cands = [
            p
            for p in plans
            if p["role"] == "core"
            and p["length"] == "normal"
            and not p["dup"]
            and not p["big"]
            and p["spec"]["en"]
            and any(f[0] == must for f in p["spec"]["en"]["foreign"])
        ]
        if cands and not any(p["lang"] == "en" for p in cands):
            p = rng.choice([p for p in cands if not p["pinyin"]])
            p["lang"], p["twhk"] = "en", False
        for p in cands:
            if p["lang"] == "en":
                p["foreign"] = next(f for f in p["spec"]["en"]["foreign"] if f[0] == must)
                break
    used: list[str] = [p["foreign"][0] for p in plans if p["foreign"]]
    for p in allp:
        en = p["spec"]["en"]
        if p["lang"] == "en" and en["foreign"] and not p["foreign"] and rng.random() < 0.75:
            free_names = [f for f in en["foreign"] if f[0] not in used]
            if free_names:
                p["foreign"] = free_names[0]
                used.append(free_names[0][0])
    # Jinjiang/Quanzhou firms: a fixed share, weighted by role (local shops are more often local)
    total = len(allp) + 2  # the two duplicate entries are added later; one pair is in Quanzhou
    elig = [p for p in allp if not p["dup"] and not p["twhk"] and not p.get("foreign")]
    weight = {"core": 1.0, "lay": 1.2, "partial": 1.4, "near_miss": 1.5, "distractor": 1.7}
    keyed = sorted(
        (
            (rng.random() ** (1 / (weight[p["role"]] * (0.35 if p["lang"] == "en" else 1))), i)
            for i, p in enumerate(elig)
        ),
        reverse=True,
    )
    for _, i in keyed[: round(LOCAL_SHARE * total) - 2]:
        elig[i]["local"] = True
    return allp


# ------------------------------------------------------------------ building one firm
def short_industry(ind: str) -> str:
    """The industry word of a firm's short name: 晋江纳联人工智能有限公司 -> 纳联智能."""
    if ind.startswith("="):
        return ""
    if ind in SHORT_INDUSTRY:
        return SHORT_INDUSTRY[ind]
    for suffix in ("科技", "技术", "服务", "管理", "工程", "发展"):
        if ind.endswith(suffix) and len(ind) > len(suffix) + 1:
            ind = ind[: -len(suffix)]
            break
    if len(ind) <= 4:
        return ind
    return ind[:3] if ind[:2] in ("半导", "机动", "电子", "物联") else ind[:2]


def pick_city(plan: dict[str, Any], rng: random.Random) -> str:
    if plan["local"]:
        return "晋江市" if rng.random() < 0.68 else "泉州市"
    cities = [c for c in plan["spec"]["cities"] if c not in ids.LOCAL and c != "石狮市"]
    if cities and rng.random() < 0.75:
        return rng.choice(cities)
    return rng.choice(ids.GENERAL_POOL)


def name_prefix(city: str, rng: random.Random) -> str:
    if city == "晋江市":
        return rng.choice(["晋江市", "晋江", "福建", "泉州", "福建省"])
    if city == "泉州市":
        return rng.choice(["泉州市", "泉州", "福建"])
    if city == "石狮市":
        return rng.choice(["石狮市", "福建"])
    base = city[:-1]
    return rng.choice([city, base, base])


def round_capital(x: float, rng: random.Random) -> float:
    if rng.random() < 0.08:
        return round(x, 2)
    step = 100 if x < 5000 else 500 if x < 30000 else 1000
    return float(max(100, round(x / step) * step))


def choose_certs(spec: dict[str, Any], scale: str, foreign: bool, rng: random.Random) -> list[str]:
    out = [c for c in spec["certs"] if rng.random() < 0.55]
    if "专精特新小巨人" in out:
        if scale in ("xs",):
            out.remove("专精特新小巨人")
        elif "专精特新中小企业" in out:
            out.remove("专精特新中小企业")
    if "科技型中小企业" in out and scale in ("l", "xl"):
        out.remove("科技型中小企业")
    if foreign:
        out = [c for c in out if c in ("ISO9001", "ISO14001", "ISO13485", "IATF16949", "GMP")]
    return [c for c in CANON_CERTS if c in out]


def space_and_investment(plan: dict[str, Any], scale: str, rng: random.Random) -> tuple[Any, Any]:
    spec, role = plan["spec"], plan["role"]
    if plan["big"]:
        return float(rng.randint(85, 150) * 1000), round(rng.uniform(10, 30), 1)
    rng_space = spec["space"]
    space = None
    if rng_space and rng_space[1] > 0:
        lo, hi = rng_space
        f = {"xs": 0.25, "s": 0.45, "m": 0.7, "l": 0.9, "xl": 1.0}[scale]
        raw = lo + (hi - lo) * f * rng.uniform(0.5, 1.0)
        step = 50 if raw < 2000 else 500 if raw < 20000 else 1000
        space = float(max(step, round(raw / step) * step))
    p_null = {"core": 0.2, "lay": 0.15, "partial": 0.4, "near_miss": 0.6, "distractor": 0.6}[role]
    if rng.random() < p_null:
        space = None
    inv = None
    if role in ("core", "lay") or rng.random() < 0.3:
        if role not in ("core", "lay"):
            inv = (
                rng.uniform(0.05, 0.5)
                if space is None or space < 3000
                else space * rng.uniform(0.1, 0.5) / 10000
            )
        elif space is not None and space >= 3000:
            inv = space * rng.uniform(0.3, 1.5) / 10000
        else:
            inv = rng.uniform(0.1, 2.0) * {"xs": 0.3, "s": 0.6, "m": 1, "l": 2, "xl": 3}[scale]
        inv = min(30.0, max(0.1, inv))
        inv = round(inv, 1) if inv >= 1 else round(inv, 2)
        if rng.random() < {"core": 0.2, "lay": 0.15}.get(role, 0.3):
            inv = None
    return space, inv


def build_firm(plan: dict[str, Any], rng: random.Random, st: dict[str, Any]) -> dict[str, Any]:
    spec, role, lang = plan["spec"], plan["role"], plan["lang"]
    en = spec["en"] if lang == "en" else None
    scale = rng.choice(spec["scale"])
    if (plan["big"] or plan["length"] == "long") and scale in ("xs", "s"):
        scale = "m" if not plan["big"] else "l"
    if plan["big"] and scale == "m":
        scale = "l"
    (c_lo, c_hi), (e_lo, e_hi), (y_lo, y_hi) = SCALES[scale]
    founded = rng.randint(y_lo, y_hi)
    capital = round_capital(rng.uniform(c_lo, c_hi), rng)
    employees = int(rng.uniform(e_lo, e_hi))

    foreign = plan["foreign"]
    if plan["dup"]:
        city = plan["dup"][1]
    elif foreign:
        city = foreign[1]
    elif plan["twhk"]:
        city = rng.choice(ids.TW_HK)
    else:
        city = pick_city(plan, rng)
    overseas = bool(foreign) or plan["twhk"]

    # ---- name
    parent = None
    ind_zh = rng.choice(spec["ind"])
    if plan["dup"]:
        zihao = plan["dup"][2]
        name = plan["dup"][3][0]
        short = zihao + ("鞋材" if "鞋材" in name else "视觉")
    else:
        zihao = ids.make_zihao(rng, st["zihao"])
        short = zihao + short_industry(ind_zh)
    listed = scale in ("l", "xl") and founded <= 2018 and rng.random() < 0.22 and not overseas
    if plan["dup"]:
        pass
    elif foreign:
        name, short = foreign[0], foreign[0].split()[0]
    elif lang == "en":
        brand = (
            ids.make_en_brand(rng, st["brands"])
            if rng.random() < 0.5
            else "".join(__import__("pypinyin").lazy_pinyin(zihao)).capitalize()
        )
        ind_en = rng.choice(en["ind"])
        city_en = ids.CITIES[city][0]
        if ind_en.startswith("="):
            name = f"{city_en} {brand} {ind_en[1:]}"
        else:
            name = f"{city_en} {brand} {ind_en} " + (
                "Co., Ltd." if rng.random() < 0.85 else "Group Co., Ltd."
            )
        short = brand
    elif plan["twhk"]:
        name = f"香港{zihao}{ind_zh}有限公司" if city == "香港" else f"{zihao}{ind_zh}股份有限公司"
    elif ind_zh.startswith("="):
        name = name_prefix(city, rng) + zihao + ind_zh[1:]
    else:
        if listed:
            form = "股份有限公司"
        elif scale == "xl" and rng.random() < 0.3:
            form = "集团有限公司"
        else:
            r = rng.random()
            form = "有限责任公司" if r < 0.06 else "股份有限公司" if r < 0.14 else "有限公司"
        if city in ids.LOCAL and role == "core" and rng.random() < 0.15:
            region = rng.choice(["福建", "泉州", "晋江"])
            name = f"{zihao}{ind_zh}（{region}）有限公司"
            parent = f"{rng.choice(['深圳', '上海', '苏州', '杭州', '北京'])}{zihao}{ind_zh}集团"
        else:
            name = name_prefix(city, rng) + zihao + ind_zh + form
    if name in st["names"]:
        raise SystemExit(f"duplicate name {name}")
    st["names"].append(name)

    # ---- codes
    if overseas or (role == "distractor" and rng.random() < 0.03):
        credit = None
    else:
        division = rng.choice(ids.CITIES[city][1])
        prefix = next((v for k, v in ORG_TYPE.items() if k in name), "91")
        credit = None
        while credit is None:
            c = ids.make_uscc(rng, division, founded, st["credit"])
            credit = prefix + c[2:17]
            credit = credit + ids.uscc_check_char(credit)
            if prefix != "91":
                st["credit"].add(credit)

    certs = choose_certs(spec, scale, overseas, rng)
    space, inv = space_and_investment(plan, scale, rng)
    codes = list(spec["codes"])
    pos = spec["pos"]
    if role in ("near_miss", "distractor") or rng.random() < 0.08:
        pos = None
    if role in ("partial",) and rng.random() < 0.5:
        pos = None

    # ---- content pieces
    src = en if en else spec
    prods = src["prod"]
    k = min(len(prods), rng.randint(2, 5))
    products = rng.sample(prods, k)
    tech = rng.sample(src["tech"], min(len(src["tech"]), rng.randint(2, 4))) if src["tech"] else []
    feat = [tg.fill(x, rng, scale) for x in spec["feat"]] if not en else []
    custs = src["cust"]
    customers = rng.sample(custs, min(len(custs), rng.randint(2, 4))) if custs else []
    caps = (
        [
            tg.fill(x, rng, scale)
            for x in rng.sample(src["cap"], min(len(src["cap"]), rng.choice([1, 1, 2])))
        ]
        if src["cap"]
        else []
    )
    plan_txt = (
        tg.fill(rng.choice(src["plan"]), rng)
        if src["plan"]
        else ("a representative office" if en else rng.choice(["晋江分支机构", "闽南区域服务网点"]))
    )
    biz = tg.fill(rng.choice(src["biz"]), rng) if src.get("biz") else ""
    kind = rng.choice(src["kind"])

    firm: dict[str, Any] = {
        "name": name,
        "short": short,
        "city": city if not en else (foreign[1] if foreign else ids.CITIES[city][0]),
        "founded": founded,
        "registered_capital_wan": None if overseas else capital,
        "employees": employees,
        "certifications": certs,
        "listed": listed,
        "intended_investment_yi": inv,
        "space_needed_m2": space,
        "products": products,
        "tech": tech,
        "feat": feat,
        "customers": customers,
        "cap": caps,
        "plan": plan_txt,
        "biz": biz,
        "kind": kind,
        "parent": parent,
        "foreign": bool(foreign),
        "province": ids.PROVINCE.get(city, "福建"),
        "techy": role in ("core", "lay"),
        "overseas": overseas,
        "mfg": any("13" <= c[:2] <= "43" for c in codes),
        "rd": any(
            "13" <= c[:2] <= "43" or c[:2] in ("63", "64", "65", "73", "74", "75") for c in codes
        ),
    }
    if role == "lay":
        firm["customers"] = spec["cust"]
        firm["products"] = spec["prod"]
        desc = tg.render_lay(firm, spec, rng)
    elif plan["length"] == "short":
        base = rng.choice(spec["short"])
        for pre in ["", "主营"] + rng.sample(["专业从事", "公司主营", "本公司从事"], 3):
            if 10 <= len(pre + base) <= 30:
                desc = pre + base
                break
        else:
            desc = base.rstrip("。") + "等相关业务。"
    elif plan["length"] == "long":
        desc = tg.render_long(firm, rng)
    elif en:
        desc = tg.render_en(firm, rng)
    else:
        desc = tg.render_zh(firm, rng)

    out_name, out_city, out_products = name, firm["city"], firm["products"]
    if lang == "zh-Hant":
        variant = (
            "s2tw"
            if city in ("台北市", "新竹市", "台中市", "高雄市")
            else "s2hk"
            if city == "香港"
            else "s2t"
        )
        desc = tg.to_traditional(desc, variant)
        out_name = tg.to_traditional(name, variant)
        out_city = tg.to_traditional(city, variant)
        out_products = [tg.to_traditional(p, variant) for p in firm["products"]]
        if plan["pinyin"]:
            desc = tg.add_pinyin(desc, rng, 0.4)
            if rng.random() < 0.35:
                out_name = tg.add_pinyin(out_name, rng, 0.4)

    # ---- contact
    if rng.random() < 0.07:
        contact = None
    else:
        st["phone"] += 1
        if en or plan["twhk"]:
            if foreign:
                pname, handle = ids.en_person(rng)
            else:
                zp = ids.zh_person(rng)
                py = __import__("pypinyin").lazy_pinyin(zp)
                pname = f"{py[0].capitalize()} {''.join(py[1:]).capitalize()}"
                handle = f"{''.join(py[1:])}.{py[0]}"
                if plan["twhk"]:
                    pname = tg.to_traditional(zp, "s2tw")
            domain = "example.com"
        else:
            pname = ids.zh_person(rng)
            py = __import__("pypinyin").lazy_pinyin(pname)
            handle = (
                py[0] + "".join(py[1:]) + str(rng.randint(1, 99))
                if rng.random() < 0.3
                else py[0] + "." + "".join(py[1:])
            )
            domain = rng.choice(["example.cn", "example.cn", "example.com"])
            if lang == "zh-Hant":
                pname = tg.to_traditional(pname)
        phone = (
            f"1380000{st['phone']:04d}"
            if not foreign
            else f"+00 {rng.randint(10, 99)} 0000 {st['phone']:04d}"
        )
        contact = {"name": pname, "phone": phone, "email": f"{handle}@{domain}"}

    record = {
        "id": None,
        "name": out_name,
        "credit_code": credit,
        "description": desc,
        "products": out_products,
        "industry_codes": codes,
        "city": out_city,
        "founded": founded,
        "registered_capital_wan": firm["registered_capital_wan"],
        "employees": employees,
        "certifications": certs,
        "listed": listed,
        "intended_investment_yi": inv,
        "space_needed_m2": space,
        "chain_position": pos,
        "contact": contact,
    }
    return record


def perturb(desc: str, rng: random.Random) -> str:
    """A slightly different wording of the same profile (for the duplicate entry)."""
    parts = [p for p in desc.split("。") if p]
    if len(parts) >= 4:
        del parts[rng.randint(1, len(parts) - 2)]
    text = "。".join(parts) + "。"
    for a, b in (
        ("成立于", "创建于"),
        ("主要产品包括", "产品主要有"),
        ("主营产品：", "产品："),
        ("(?<![限司])公司(?!拟)", "该公司"),
        ("拟在晋江经济开发区", "计划在晋江经开区"),
        ("创立于", "成立于"),
        ("总部位于", "总部设在"),
        ("本次投资意向：", "投资意向："),
    ):
        text = re.sub(a, b, text, count=1)
    if text == desc:
        text = text.rstrip("。") + "，以上信息以工商登记为准。"
    return text


# ------------------------------------------------------------------ outputs
def tags_for(plan: dict[str, Any], rec: dict[str, Any]) -> list[str]:
    t = [
        {
            "core": "core",
            "lay": "core",
            "partial": "partial",
            "near_miss": "near_miss",
            "distractor": "distractor",
        }[plan["role"]]
    ]
    if plan["role"] == "lay":
        t.append("unlike_wording")
    if plan["dup"]:
        t.append("duplicate")
    if plan["length"] in ("short", "long"):
        t.append(plan["length"])
    if plan["lang"] == "en":
        t.append("english")
    if plan["lang"] == "zh-Hant":
        t.append("traditional")
    if plan["pinyin"]:
        t.append("pinyin")
    if rec["space_needed_m2"] and rec["space_needed_m2"] > 80000:
        t.append("big_space")
    return t


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument(
        "--out",
        type=Path,
        default=DATA,
        help="folder to write the outputs into (default: data/, the committed files)",
    )
    out: Path = ap.parse_args(argv).out
    pins.check_pypinyin()
    valid = level4_codes()
    check_specs(valid)
    rng = random.Random(SEED)
    plans = plan_firms(rng)
    st: dict[str, Any] = {
        "zihao": {"恒信", "澜拓"},
        "brands": set(),
        "names": [],
        "credit": set(),
        "phone": 0,
        "foreign_used": [],
    }
    built = [(p, build_firm(p, rng, st)) for p in plans]

    # duplicates: a second entry for the two firms marked dup
    for p, rec in list(built):
        if not p["dup"]:
            continue
        twin = json.loads(json.dumps(rec))
        twin["name"] = p["dup"][3][1]
        twin["description"] = perturb(rec["description"], rng)
        if p["dup"][0] == "dup2":
            twin["credit_code"] = None
            twin["registered_capital_wan"] = None
            twin["contact"] = None
        built.append((p, twin))

    # ~8% of firms without industry codes (to be inferred later)
    for _, rec in rng.sample(built, round(len(built) * 0.08)):
        rec["industry_codes"] = []

    rng.shuffle(built)
    for i, (_, rec) in enumerate(built, 1):
        rec["id"] = f"F{i:04d}"

    (out / "eval").mkdir(parents=True, exist_ok=True)
    (out / "samples").mkdir(parents=True, exist_ok=True)
    with (out / "companies.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        for _, rec in built:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")

    rows = []
    for p, rec in built:
        spec, role = p["spec"], p["role"]
        t = tags_for(p, rec)
        if role in ("core", "lay"):
            rows.append((spec["sc"], rec["id"], 2, ";".join(t)))
            for s in spec["sib"]:
                if s != spec["sc"]:
                    rows.append((s, rec["id"], 1, "sibling"))
        elif role == "partial":
            rows.append((spec["sc"], rec["id"], 1, ";".join(t)))
        elif role == "near_miss":
            for s in [spec["sc"]] + spec["zero"]:
                rows.append((s, rec["id"], 0, ";".join(t)))
    rows.sort(key=lambda r: (r[0], -r[2], r[1]))
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["scenario_id", "company_id", "grade", "note"])
    w.writerows(rows)
    (out / "eval" / "labels.csv").write_text(buf.getvalue(), encoding="utf-8", newline="")

    # small try-out files: 30 firms around the 5 short scenarios (X01..X05 mirror S01, S13, S09,
    # S18, S24): 3 relevant firms each, one near miss each, 2 partial fits, 8 unrelated firms
    small: list[dict[str, Any]] = []
    for k, sc in enumerate(("S01", "S13", "S09", "S18", "S24")):
        core = [
            (p, r)
            for p, r in built
            if p["role"] == "core"
            and p["spec"]["sc"] == sc
            and not p["dup"]
            and p["length"] == "normal"
        ]
        want = ("en", "zh-Hant", "zh") if k % 2 == 0 else ("zh-Hant", "zh", "zh")
        for lang in want:
            cands = [r for p, r in core if p["lang"] == lang and r not in small]
            small.append(rng.choice(cands))
        near = [r for p, r in built if p["role"] == "near_miss" and p["spec"]["sc"] == sc]
        if near:
            small.append(rng.choice(near))
    part = [
        r
        for p, r in built
        if p["role"] == "partial" and p["spec"]["sc"] in ("S01", "S13", "S09", "S18", "S24")
    ]
    small += rng.sample(part, 2)
    dist = [r for p, r in built if p["role"] == "distractor"]
    small += rng.sample(dist, 30 - len(small))
    small.sort(key=lambda r: r["id"])
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(["id", "name", "description", "city"])
    for r in small:
        w.writerow([r["id"], r["name"], r["description"], r["city"] or ""])
    (out / "samples" / "companies_small.csv").write_text(
        buf.getvalue(), encoding="utf-8", newline=""
    )

    scen = [dict(s) for s in SCENARIOS_SMALL]
    # X02 is written in traditional script with pinyin readings, like the scraped profiles: the
    # table has its title in traditional script already and its description in simplified
    x02 = next(s for s in scen if s["id"] == "X02")
    trad = tg.to_traditional(x02["description"])
    x02["description"] = tg.add_pinyin(trad, random.Random(SEED + 1), 0.4)
    x02["title"] = tg.add_pinyin(x02["title"], random.Random(SEED + 2), 0.4)
    with (out / "samples" / "scenarios_small.jsonl").open(
        "w", encoding="utf-8", newline="\n"
    ) as fh:
        for s in scen:
            fh.write(json.dumps(s, ensure_ascii=False) + "\n")
    print(f"wrote {len(built)} companies, {len(rows)} label rows")


if __name__ == "__main__":
    main()

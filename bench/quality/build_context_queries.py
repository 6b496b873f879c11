"""Build the frozen context query sets in bench/quality/queries/context_*.jsonl.

Real scenario lists read like "{context} needs {demand}": the context (a zone, a park, the
buyer's industry, see contexts.py) is not what is sought. Each query pairs one DEMAND, an
industry class of the corpus (the same classes as cn / en / xl_*), with a CONTEXT from a
different top-level industry (SW L1 / GICS sector), chosen by a seeded random draw per class
(so a cross-lingual query shares its monolingual twin's context). The description is written
in one of three phrasings, dealt in turn over a seeded shuffle of the set (balanced):

* ``cue``: context first, then a cue word (征集、寻求、招引 / seeks, looking for, suppliers);
* ``nocue``: context first, then a bare list of the demand's names, no cue word at all;
* ``demand_first``: the demand before the context.

Every base query comes in five title variants (ids ``{base_id}#{variant}``): ``none`` (empty
title), ``context`` (a headline naming the context), ``demand`` (a headline naming the demand),
``first30`` (the description's first 30 characters) and ``full`` (the whole description).

Texts are written mechanically from industry NAMES and the templates below; no corpus text.
Deterministic: ``--check`` verifies the committed files equal a fresh build. Do not tune after
measuring.

    python -m bench.quality.build_context_queries [--corpus-dir DIR] [--out-dir DIR] [--check]
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

try:
    from bench.quality import build_queries as bq
    from bench.quality import corpus as qc
    from bench.quality.contexts import CONTEXTS, Context
except ModuleNotFoundError:  # run as a file: python bench/quality/build_context_queries.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.quality import build_queries as bq
    from bench.quality import corpus as qc
    from bench.quality.contexts import CONTEXTS, Context

logger = logging.getLogger(__name__)

SEED = 20261203
FIRST_N = 30  # the first30 title
PHRASINGS = ("cue", "nocue", "demand_first")
Lang = Literal["zh", "en"]
Taxonomy = Literal["sw", "gics"]

# Run name -> (id prefix, query language, demand taxonomy).
SETS: dict[str, tuple[str, Lang, Taxonomy]] = {
    "context_cn": ("ctxcn", "zh", "sw"),
    "context_en": ("ctxen", "en", "gics"),
    "context_xl_en_over_cn": ("ctxxlen", "en", "sw"),
    "context_xl_zh_over_en": ("ctxxlzh", "zh", "gics"),
}

# Words that announce a demand. The ``nocue`` phrasing must contain none of them (checked on
# build); matching is case-insensitive and by substring.
CUES: dict[Lang, tuple[str, ...]] = {
    "zh": ("征集", "寻求", "招引", "采购", "供应商", "招募", "需求", "诚邀", "欢迎"),
    "en": ("seek", "looking for", "supplier", "wanted", "procure", "sought", "invite", "welcome"),
}

# (language, taxonomy) -> phrasing -> template. Fields: ctx (context phrase), name (SW L2 /
# GICS sub-industry), items (SW: the L3 children; GICS: the industry), top (SW L1 / sector).
TEMPLATES: dict[tuple[Lang, Taxonomy], dict[str, str]] = {
    ("zh", "sw"): {
        "cue": (
            "{ctx}，面向社会征集{name}（{top}）方向的供应商，寻求{items}等产品、技术与解决方案。"
        ),
        "nocue": "{ctx}：{name}（{top}），{items}。",
        "demand_first": "{name}（{top}）：{items}等产品与技术，用于{ctx}，现招引相关企业合作。",
    },
    ("zh", "gics"): {
        "cue": "{ctx}，面向社会征集{name}供应商，寻求{items}（{top}）领域的产品、技术与解决方案。",
        "nocue": "{ctx}：{name}，{items}（{top}）。",
        "demand_first": "{name}（{items}，{top}）方向的产品与服务，用于{ctx}，现招引相关企业合作。",
    },
    ("en", "gics"): {
        "cue": (
            "{Ctx}: the zone seeks suppliers of {name} products, technologies and solutions "
            "in {items} ({top})."
        ),
        "nocue": "{Ctx}: {name}; {items}; {top}.",
        "demand_first": (
            "{Name} products and services in {items} ({top}) for {ctx}: the zone is looking "
            "for partner companies."
        ),
    },
    ("en", "sw"): {
        "cue": "{Ctx}: the zone seeks suppliers of {name} ({top}), including {items}.",
        "nocue": "{Ctx}: {name} ({top}); {items}.",
        "demand_first": (
            "{Name} ({top}), including {items}, for {ctx}: the zone is looking for partner "
            "companies."
        ),
    },
}
CONTEXT_TITLE: dict[Lang, str] = {"zh": "{ctx}场景", "en": "{Ctx} scenario"}
DEMAND_TITLE: dict[Lang, str] = {"zh": "{name}场景机会", "en": "{name} scenario opportunity"}
ITEM_SEP: dict[Lang, str] = {"zh": "、", "en": "; "}


@dataclass(frozen=True)
class Demand:
    """What a query seeks: one class of the corpus, its names in the query language.

    ``tag`` is the class's top-level industry as the contexts name it (SW L1 name in Chinese,
    GICS sector in English), whatever the query language.
    """

    code: str
    name: str
    items: tuple[str, ...]
    top: str
    tag: str


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def sw_demands(codes: Sequence[str], hierarchy: dict[str, qc.SwNode], lang: Lang) -> list[Demand]:
    """SW L2 classes: name = L2, items = its L3 children (or itself), top = L1."""
    out = []
    for code in codes:
        l2, l1, l3 = bq._sw_parts(hierarchy, code)
        if lang == "en":
            name, top = (
                bq._translate(bq.SW_EN, l2, "English"),
                bq._translate(bq.SW_EN, l1, "English"),
            )
            items = tuple(bq._translate(bq.SW_EN, n, "English") for n in l3)
        else:
            name, top, items = l2, l1, tuple(l3)
        out.append(Demand(code, name, items, top, l1))
    return out


def gics_demands(codes: Sequence[str], names: dict[str, qc.GicsNames], lang: Lang) -> list[Demand]:
    """GICS sub-industries: name = sub-industry, items = (industry,), top = sector."""
    out = []
    for code in codes:
        n = names[code]
        sub, industry, sector = n.sub_industry, n.industry, n.sector
        if lang == "zh":
            sub, industry, sector = (
                bq._translate(bq.GICS_ZH, p, "Chinese") for p in (sub, industry, sector)
            )
        out.append(Demand(code, sub, (industry,), sector, n.sector))
    return out


def context_tag(context: Context, taxonomy: Taxonomy) -> str:
    return context.sw_l1 if taxonomy == "sw" else context.gics_sector


def draw_context(code: str, taxonomy: Taxonomy, demand_tag: str) -> Context:
    """The class's context, from another top-level industry, by a draw seeded by the class.

    Seeding per class keeps a cross-lingual query and its monolingual twin (same class) on the
    same context.
    """
    rng = random.Random(f"{SEED}/{code}")
    return rng.choice([c for c in CONTEXTS if context_tag(c, taxonomy) != demand_tag])


def assign_phrasings(run: str, codes: Sequence[str]) -> dict[str, str]:
    """Phrasing per class: a seeded shuffle of the set, then the phrasings in turn (balanced)."""
    order = sorted(codes)
    random.Random(f"{SEED}/{run}").shuffle(order)
    return {code: PHRASINGS[i % len(PHRASINGS)] for i, code in enumerate(order)}


def description(demand: Demand, context: Context, phrasing: str, lang: Lang, tax: Taxonomy) -> str:
    ctx = context.zh_phrase if lang == "zh" else context.en_phrase
    return TEMPLATES[(lang, tax)][phrasing].format(
        ctx=ctx,
        Ctx=_cap(ctx),
        name=demand.name,
        Name=_cap(demand.name),
        items=ITEM_SEP[lang].join(demand.items),
        top=demand.top,
    )


def titles(demand: Demand, context: Context, desc: str, lang: Lang) -> dict[str, str]:
    """The five title variants, in qc.TITLE_VARIANTS order."""
    ctx = context.zh_phrase if lang == "zh" else context.en_phrase
    out = {
        "none": "",
        "context": CONTEXT_TITLE[lang].format(ctx=ctx, Ctx=_cap(ctx)),
        "demand": DEMAND_TITLE[lang].format(name=demand.name),
        "first30": desc[:FIRST_N],
        "full": desc,
    }
    return {v: out[v] for v in qc.TITLE_VARIANTS}


def has_cue(text: str, lang: Lang) -> bool:
    low = text.lower()
    return any(cue in low for cue in CUES[lang])


def context_queries(run: str, demands: Sequence[Demand]) -> list[dict[str, str]]:
    """All variants of one set's queries, by class code then variant."""
    prefix, lang, tax = SETS[run]
    phrasings = assign_phrasings(run, [d.code for d in demands])
    out = []
    for d in demands:
        context, phrasing = draw_context(d.code, tax, d.tag), phrasings[d.code]
        desc = description(d, context, phrasing, lang, tax)
        if (phrasing == "nocue") == has_cue(desc, lang):
            raise ValueError(f"{run} {d.code}: cue words do not match phrasing {phrasing}")
        base_id = f"{prefix}-{d.code}"
        for variant, title in titles(d, context, desc, lang).items():
            out.append(
                {
                    "id": f"{base_id}{qc.VARIANT_SEP}{variant}",
                    "title": title,
                    "description": desc,
                    "industry": d.code,
                    "base_id": base_id,
                    "variant": variant,
                    "phrasing": phrasing,
                    "context": context.key,
                }
            )
    return out


def check_contexts(hierarchy: dict[str, qc.SwNode], names: dict[str, qc.GicsNames]) -> None:
    """Every context tag must be a real SW L1 name and GICS sector name."""
    l1 = {n.name for n in hierarchy.values() if n.level == 1}
    sectors = {n.sector for n in names.values()}
    bad = [c.key for c in CONTEXTS if c.sw_l1 not in l1 or c.gics_sector not in sectors]
    if bad:
        raise ValueError(f"contexts with an unknown SW L1 or GICS sector tag: {bad}")
    if len({c.key for c in CONTEXTS}) != len(CONTEXTS):
        raise ValueError("repeated context key")


def build_all(corpus_dir: Path) -> dict[str, list[dict[str, str]]]:
    """The four context sets, keyed by run name (see corpus.CONTEXT_RUNS)."""
    cn_firms = qc.load_cn_firms(corpus_dir)
    en_firms = qc.load_en_firms(corpus_dir)
    hierarchy = qc.load_sw_hierarchy(corpus_dir)
    gics = qc.load_gics_names(corpus_dir)
    check_contexts(hierarchy, gics)
    codes = {
        "context_cn": bq.select_sw_codes(cn_firms, hierarchy, bq.MIN_FIRMS),
        "context_en": bq.select_gics_codes(en_firms, gics, bq.MIN_FIRMS),
        "context_xl_en_over_cn": bq.select_sw_codes(cn_firms, hierarchy, bq.XL_MIN_FIRMS_CN),
        "context_xl_zh_over_en": bq.select_gics_codes(en_firms, gics, bq.XL_MIN_FIRMS_EN),
    }
    out = {}
    for run, (_, lang, tax) in SETS.items():
        demands = (
            sw_demands(codes[run], hierarchy, lang)
            if tax == "sw"
            else gics_demands(codes[run], gics, lang)
        )
        queries = context_queries(run, demands)
        used = Counter(q["phrasing"] for q in queries if q["variant"] == "full")
        if set(used) != set(PHRASINGS):
            raise ValueError(f"{run}: not every phrasing occurs ({dict(used)})")
        out[run] = queries
    return out


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
    return bq.write_or_check(build_all(args.corpus_dir), args.out_dir, args.check)


if __name__ == "__main__":
    sys.exit(main())

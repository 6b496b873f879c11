"""Validate the generated sample data and print its statistics.

    .venv/bin/python data/generator/validate.py            # checks + stats
    .venv/bin/python data/generator/validate.py --regen    # also re-runs the generator into a
                                                           # temporary folder and checks it writes
                                                           # the committed bytes
Exits non-zero when a check fails.
"""

from __future__ import annotations

import collections
import csv
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
DATA = HERE.parent
REPO = DATA.parent

import ids  # noqa: E402
from generate_companies import LAY, OUTPUTS  # noqa: E402
from spec import CANON_CERTS  # noqa: E402

PINYIN = re.compile(r"[\u4e00-\u9fff]\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
CJK = re.compile(r"[\u4e00-\u9fff]")
failures: list[str] = []


def check(cond: bool, msg: str) -> None:
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def language(desc: str) -> str:
    import opencc

    cjk = len(CJK.findall(desc))
    latin = sum(1 for c in desc if c.isascii() and c.isalpha())
    if cjk * 3 < latin:
        return "en"
    plain = PINYIN.sub(lambda m: m.group(0)[0], desc)
    t2s = opencc.OpenCC("t2s").convert(plain)
    s2t = opencc.OpenCC("s2t").convert(plain)
    # characters in traditional form vs characters in simplified form
    to_simpl = sum(a != b for a, b in zip(plain, t2s, strict=False))
    to_trad = sum(a != b for a, b in zip(plain, s2t, strict=False))
    return "zh-Hant" if to_simpl > to_trad else "zh"


def main() -> None:
    regen = "--regen" in sys.argv
    # ---- the check-digit function against a known valid code
    check(ids.uscc_is_valid("91350100M000100Y43"), "known valid code 91350100M000100Y43 rejected")
    check(ids.org_code_is_valid("M000100Y4"), "known valid organisation code M000100Y4 rejected")
    check(not ids.uscc_is_valid("91350100M000100Y44"), "code with a wrong check digit accepted")
    check(not ids.uscc_is_valid("91350100M000100Y4"), "17-character code accepted")

    import jsonschema

    schema = json.loads(
        (REPO / "matcher" / "resources" / "company.schema.json").read_text(encoding="utf-8")
    )
    validator = jsonschema.Draft202012Validator(schema)
    recs = [
        json.loads(line)
        for line in (DATA / "companies.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    for r in recs:
        for err in validator.iter_errors(r):
            check(False, f"{r.get('id')}: schema: {err.message}")
    print(f"records: {len(recs)} (schema: Draft 2020-12, {len(failures)} failures so far)")
    check(len(recs) >= 560, "fewer than 560 records")

    # ---- ids, names, credit codes
    idl = [r["id"] for r in recs]
    check(len(set(idl)) == len(idl), "duplicate ids")
    check(
        idl == [f"F{i:04d}" for i in range(1, len(recs) + 1)], "ids are not F0001..Fnnnn in order"
    )
    names = [r["name"] for r in recs]
    check(len(set(names)) == len(names), "exactly identical names")

    def name_key(n: str) -> str:
        n = n.replace("（", "(").replace("）", ")")
        return re.sub(r"^(泉州市|泉州|厦门市|厦门)", "", n).replace("(厦门)", "")

    groups = collections.defaultdict(list)
    for r in recs:
        groups[name_key(r["name"])].append(r)
    near_dups = [g for g in groups.values() if len(g) > 1]
    print(
        "near-identical names:",
        [[(r["id"], r["name"], r["credit_code"]) for r in g] for g in near_dups],
    )
    check(len(near_dups) == 2, f"expected 2 intended duplicate pairs, found {len(near_dups)}")
    codes = [r["credit_code"] for r in recs if r["credit_code"]]
    bad = [c for c in codes if not ids.uscc_is_valid(c) or not ids.org_code_is_valid(c[8:17])]
    check(not bad, f"invalid credit codes: {bad[:5]}")
    cc = collections.Counter(codes)
    repeated = {c: n for c, n in cc.items() if n > 1}
    check(
        len(repeated) == 1,
        f"expected exactly one shared credit code (the duplicate pair), got {repeated}",
    )
    print(
        f"credit codes: {len(codes)} present, {len(recs) - len(codes)} null, "
        f"all check digits valid: {not bad}; "
        f"shared by the duplicate pair: {list(repeated)}"
    )
    divisions = collections.Counter(c[2:8] for c in codes)
    print("  most common division codes:", divisions.most_common(6))

    # ---- field sanity
    codes_csv = REPO / "matcher" / "resources" / "gbt4754_2017_industry_codes.csv"
    valid4 = {
        r["code"] for r in csv.DictReader(codes_csv.open(encoding="utf-8")) if r["level"] == "4"
    }
    for r in recs:
        for c in r["industry_codes"]:
            check(c in valid4, f"{r['id']}: industry code {c} is not a level-4 GB/T 4754-2017 code")
        for c in r["certifications"]:
            check(c in CANON_CERTS, f"{r['id']}: non-canonical certification {c}")
        if r["registered_capital_wan"] is not None:
            check(100 <= r["registered_capital_wan"] <= 200000, f"{r['id']}: capital out of range")
        if r["employees"] is not None:
            check(5 <= r["employees"] <= 20000, f"{r['id']}: employees out of range")
        if r["founded"] is not None:
            check(1985 <= r["founded"] <= 2024, f"{r['id']}: founded out of range")
        if r["intended_investment_yi"] is not None:
            check(0.1 <= r["intended_investment_yi"] <= 30, f"{r['id']}: investment out of range")
        if r["contact"]:
            dom = r["contact"]["email"].split("@")[-1]
            check(dom in ("example.cn", "example.com"), f"{r['id']}: email domain {dom}")
    no_codes = sum(1 for r in recs if not r["industry_codes"])
    big = [r["id"] for r in recs if (r["space_needed_m2"] or 0) > 80000]
    local = sum(
        1
        for r in recs
        if r["city"]
        and r["city"][:2] in ("晋江", "晉江", "泉州", "石狮", "石獅")
        or r["city"] in ("Jinjiang", "Quanzhou")
    )
    print(
        f"industry_codes empty: {no_codes} ({no_codes / len(recs):.1%}); "
        f"listed: {sum(1 for r in recs if r['listed'])}; "
        f"space > 80,000 m²: {len(big)}; Jinjiang/Quanzhou firms: {local} ({local / len(recs):.1%})"
    )
    cities = collections.Counter(r["city"] for r in recs)
    print("  cities:", cities.most_common(14))
    for key in (
        "founded",
        "registered_capital_wan",
        "employees",
        "intended_investment_yi",
        "space_needed_m2",
    ):
        vals = [r[key] for r in recs if r[key] is not None]
        print(
            f"  {key}: n={len(vals)} min={min(vals)} median={statistics.median(vals)} "
            f"max={max(vals)} null={len(recs) - len(vals)}"
        )

    # ---- labels
    labels = list(csv.DictReader((DATA / "eval" / "labels.csv").open(encoding="utf-8")))
    known = set(idl)
    check(all(lb["company_id"] in known for lb in labels), "label for an unknown company")
    pairs = [(lb["scenario_id"], lb["company_id"]) for lb in labels]
    check(len(set(pairs)) == len(pairs), "a (scenario, company) pair labelled twice")
    by_id = {r["id"]: r for r in recs}
    lang = {r["id"]: language(r["description"]) for r in recs}
    print(f"\nlabel rows: {len(labels)}")
    print("scenario  g2  g1  g0 | g2: en  zh-Hant  unlike  short  long")
    tags = collections.Counter()
    for sc in [f"S{i:02d}" for i in range(1, 29)]:
        rows = [lb for lb in labels if lb["scenario_id"] == sc]
        g = collections.Counter(lb["grade"] for lb in rows)
        g2 = [lb for lb in rows if lb["grade"] == "2"]
        en = sum(1 for lb in g2 if lang[lb["company_id"]] == "en")
        tr = sum(1 for lb in g2 if lang[lb["company_id"]] == "zh-Hant")
        unlike = sum(1 for lb in g2 if "unlike_wording" in lb["note"])
        sh = sum(1 for lb in g2 if "short" in lb["note"].split(";"))
        lo = sum(1 for lb in g2 if "long" in lb["note"].split(";"))
        print(
            f"{sc}      {g['2']:>3} {g['1']:>3} {g['0']:>3} |     "
            f"{en:>2}  {tr:>7}  {unlike:>6}  {sh:>5}  {lo:>4}"
        )
        check(g["2"] >= 10, f"{sc}: fewer than 10 grade-2 firms")
        check(en >= 1, f"{sc}: no English grade-2 firm")
        check(tr >= 1, f"{sc}: no traditional-Chinese grade-2 firm")
    for lb in labels:
        for t in lb["note"].split(";"):
            tags[(t, lb["grade"])] += 1
    print("note tags (tag, grade) -> rows:", dict(sorted(tags.items())))
    labelled = {lb["company_id"] for lb in labels}
    graded = {lb["company_id"] for lb in labels if lb["grade"] != "0"}
    grade2 = {lb["company_id"] for lb in labels if lb["grade"] == "2"}
    grade0 = {lb["company_id"] for lb in labels if lb["grade"] == "0"}
    print(
        f"firms with a grade-2 label: {len(grade2)}; "
        f"with only grade-1 labels: {len(graded - grade2)}; "
        f"near-miss firms (explicit 0 rows): {len(grade0)}; "
        f"unlabelled (distractors): {len(known - labelled)}"
    )

    # ---- hard case (b): lay descriptions avoid the scenario's own vocabulary
    import yaml

    cat = yaml.safe_load((DATA / "scenarios.yaml").read_text(encoding="utf-8"))
    kw = {
        o["id"]: list(o["keywords"]) + re.split(r"[与和、（）()]", o["title_zh"])
        for o in cat["opportunities"]
    }
    lay_ids = [lb["company_id"] for lb in labels if "unlike_wording" in lb["note"]]
    for cid in lay_ids:
        r = by_id[cid]
        sc = next(
            lb["scenario_id"] for lb in labels if lb["company_id"] == cid and lb["grade"] == "2"
        )
        ban = [w for w in kw[sc] if w] + next(s["ban"] for s in LAY if s["sc"] == sc)
        text = r["name"] + r["description"] + "".join(r["products"])
        hits = [w for w in ban if w.lower() in text.lower()]
        check(not hits, f"{cid} (unlike wording, {sc}) uses scenario vocabulary {hits}")
    print(
        f"unlike-wording firms: {len(lay_ids)}, "
        "all free of their scenario's keywords and title terms: "
        f"{not any('unlike wording' in f for f in failures)}"
    )

    # ---- language mix and description lengths
    mix = collections.Counter(lang.values())
    pin = sum(1 for r in recs if PINYIN.search(r["description"]))
    print(
        f"\nlanguage mix: {dict(mix)} -> "
        + ", ".join(f"{k} {v / len(recs):.1%}" for k, v in mix.items())
        + f"; with pinyin artefacts: {pin}"
    )
    for r in recs:
        if lang[r["id"]] == "en":
            check(not CJK.search(r["description"]), f"{r['id']}: English description contains CJK")
    lens = [len(r["description"]) for r in recs]
    buckets = collections.Counter()
    for n in lens:
        b = (
            "10-30"
            if n <= 30
            else "31-100"
            if n <= 100
            else "101-300"
            if n <= 300
            else "301-600"
            if n <= 600
            else "601-1199"
            if n < 1200
            else "1200-2500"
            if n <= 2500
            else ">2500"
        )
        buckets[b] += 1
    order = ["10-30", "31-100", "101-300", "301-600", "601-1199", "1200-2500", ">2500"]
    print(
        "description length (chars):",
        {b: buckets[b] for b in order},
        f"min={min(lens)} median={statistics.median(lens)} max={max(lens)}",
    )
    short = [lb["company_id"] for lb in labels if "short" in lb["note"].split(";")]
    for cid in set(short):
        n = len(by_id[cid]["description"])
        check(10 <= n <= 30, f"{cid}: short description has {n} chars")
    longs = {lb["company_id"] for lb in labels if "long" in lb["note"].split(";")}
    for cid in longs:
        n = len(by_id[cid]["description"])
        check(1200 <= n <= 2500, f"{cid}: long description has {n} chars")
    descs = [r["description"] for r in recs]
    check(len(set(descs)) == len(descs), "two identical descriptions")
    print(
        f"short (10-30 chars): {sum(1 for n in lens if n <= 30)} firms; "
        f"long (1200-2500): {sum(1 for n in lens if 1200 <= n <= 2500)}"
    )

    # ---- the project's normaliser on the pinyin artefacts (informational)
    try:
        sys.path.insert(0, str(REPO))
        from matcher.normalise import normalise, strip_pinyin

        left = [r["id"] for r in recs if PINYIN.search(strip_pinyin(r["description"]))]
        same = sum(
            1
            for r in recs
            if PINYIN.search(r["description"])
            and normalise(r["description"])
            == normalise(PINYIN.sub(lambda m: m.group(0)[0], r["description"]))
        )
        print(
            f"matcher.normalise: pinyin left after strip_pinyin in {len(left)} descriptions "
            f"{left[:5]}; "
            f"normalised text equals the annotation-free text for {same}/{pin}"
        )
    except Exception as exc:  # noqa: BLE001 - informational only
        print("matcher.normalise not checked:", exc)

    # ---- samples
    small = list(
        csv.DictReader(
            (DATA / "samples" / "companies_small.csv").open(encoding="utf-8", newline="")
        )
    )
    check(
        len(small) == 30 and list(small[0]) == ["id", "name", "description", "city"],
        "companies_small.csv shape",
    )
    check(
        all(by_id[s["id"]]["description"] == s["description"] for s in small),
        "companies_small.csv differs from the jsonl",
    )
    scen = [
        json.loads(x)
        for x in (DATA / "samples" / "scenarios_small.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    check(
        len(scen) == 5 and all(set(s) == {"id", "title", "description"} for s in scen),
        "scenarios_small.jsonl shape",
    )
    print(
        f"samples: companies_small.csv {len(small)} rows, scenarios_small.jsonl {len(scen)} lines"
    )

    if regen:  # into a temporary folder: the committed files are never touched
        with tempfile.TemporaryDirectory() as tmp:
            res = subprocess.run(
                [sys.executable, str(HERE / "generate_companies.py"), "--out", tmp],
                capture_output=True,
                text=True,
            )
            changed = [
                p
                for p in OUTPUTS
                if res.returncode == 0 and (Path(tmp) / p).read_bytes() != (DATA / p).read_bytes()
            ]
        check(res.returncode == 0, f"the generator failed: {res.stderr.strip()[-500:]}")
        check(not changed, f"regenerating wrote other bytes for {changed}")
        if res.returncode == 0:
            print("regeneration: " + (f"CHANGED {changed}" if changed else "byte-identical"))

    print(f"\n{'OK' if not failures else f'{len(failures)} FAILURES'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

"""Tests for the quality harness on a tiny synthetic corpus, plus checks on the real one.

The real-corpus tests are skipped when ../shared/eval is absent. The ``matcher rank`` CLI is
replaced by a fake executable that honours the documented argument and output contract.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

import pytest

from bench.quality import build_context_queries as bcq
from bench.quality import build_queries as bq
from bench.quality import build_twin_queries as btq
from bench.quality import corpus as qc
from bench.quality import prepare as prep
from bench.quality import run_quality as rq
from matcher.evaluate import load_qrels_csv

CN_HEADER = [
    "stock_code",
    "short_name",
    "full_name",
    "intro",
    "sw2021_l1_code",
    "sw2021_l1",
    "sw2021_l2_code",
    "sw2021_l2",
]
CN_AUTO = ["280000", "汽车", "280200", "汽车零部件"]
CN_TCM = ["370000", "医药生物", "370200", "中药Ⅱ"]
CN_ROWS = [
    ["000001", "甲", "甲汽车部件股份有限公司", "生产汽车零部件、轮胎轮毂和车身附件。", *CN_AUTO],
    ["000002", "乙", "乙股份有限公司", "主营汽车零部件及轮胎轮毂。", *CN_AUTO],
    ["000003", "丙", "丙股份有限公司", "车身附件及饰件制造商。", *CN_AUTO],
    ["000004", "丁", "丁股份有限公司", "汽车经销商。", "280000", "汽车", "280300", "汽车服务"],
    ["000005", "戊", "戊药业股份有限公司", "中药饮片与中成药生产企业。", *CN_TCM],
    ["000006", "己", "己股份有限公司", "中药材种植与中药制剂。", *CN_TCM],
    ["000007", "庚", "庚股份有限公司", "现代中药研发。", *CN_TCM],
    ["000008", "辛", "辛股份有限公司", "化学原料药。", "370000", "医药生物", "370100", "化学制药"],
    ["000009", "壬", "壬股份有限公司", "没有行业标签的公司。", "", "", "", ""],
    ["000010", "癸", "癸股份有限公司", "机械一。", "640000", "机械设备", "640400", ""],
    ["000011", "子", "子股份有限公司", "机械二。", "640000", "机械设备", "640400", ""],
    ["000012", "丑", "丑股份有限公司", "机械三。", "640000", "机械设备", "640400", ""],
]
SW_ROWS = [
    ["280000", "汽车", "1", "", ""],
    ["280200", "汽车零部件", "2", "280000", "汽车"],
    ["280201", "车身附件及饰件", "3", "280200", "汽车零部件"],
    ["280203", "轮胎轮毂", "3", "280200", "汽车零部件"],
    ["280300", "汽车服务", "2", "280000", "汽车"],
    ["370000", "医药生物", "1", "", ""],
    ["370100", "化学制药", "2", "370000", "医药生物"],
    ["370200", "中药Ⅱ", "2", "370000", "医药生物"],
    ["370201", "中药Ⅲ", "3", "370200", "中药Ⅱ"],
    ["640000", "机械设备", "1", "", ""],
]
EN_HEADER = [
    "ticker",
    "company_name",
    "description_bloomberg",
    "description_yahoo",
    "gics_sub_industry_code",
    "gics_industry_code",
]
EN_ROWS = [
    ["AAA", "AAA SOFT", "Application software for banks.", "", "45103010", "451030"],
    ["BBB", "BBB SOFT", "Cloud application software.", "Long text.", "45103010", "451030"],
    ["CCC", "CCC SOFT", "Application software suites.", "", "45103010", "451030"],
    ["DDD", "DDD SYS", "Systems software and databases.", "", "45103020", "451030"],
    ["EEE", "EEE BIO", "Biotechnology drugs.", "", "35201010", "352010"],
    ["BRK/B", "BERKSHIRE", "", "Insurance and railways.", "40101015", "401010"],
    ["NOLBL", "NO LABEL", "Some text.", "", "", ""],
    ["NOTXT", "NO TEXT", "", "", "45103010", "451030"],
]
GICS_HEADER = [
    "sub_industry_code",
    "sub_industry",
    "industry_code",
    "industry",
    "industry_group_code",
    "industry_group",
    "sector_code",
    "sector",
]
GICS_ROWS = [
    [
        "45103010",
        "Application Software",
        "451030",
        "Software",
        "4510",
        "Software & Services",
        "45",
        "Information Technology",
    ],
    [
        "45103020",
        "Systems Software",
        "451030",
        "Software",
        "4510",
        "Software & Services",
        "45",
        "Information Technology",
    ],
    ["35201010", "Biotechnology", "352010", "Biotechnology", "3520", "Pharma", "35", "Health Care"],
]


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    d = tmp_path / "eval"
    d.mkdir()
    _write_csv(d / qc.CN_FILE, CN_HEADER, CN_ROWS)
    _write_csv(
        d / qc.SW_HIERARCHY_FILE, ["code", "name", "level", "parent_code", "parent_name"], SW_ROWS
    )
    _write_csv(d / qc.EN_FILE, EN_HEADER, EN_ROWS)
    _write_csv(d / qc.GICS_HIERARCHY_FILE, GICS_HEADER, GICS_ROWS)
    return d


def synthetic_context_sets(corpus_dir: Path) -> dict[str, list[dict[str, str]]]:
    """The context sets over the synthetic corpus, every class with >= 3 firms."""
    cn, en = qc.load_cn_firms(corpus_dir), qc.load_en_firms(corpus_dir)
    hierarchy, gics = qc.load_sw_hierarchy(corpus_dir), qc.load_gics_names(corpus_dir)
    sw_codes = bq.select_sw_codes(cn, hierarchy, 3)
    gics_codes = bq.select_gics_codes(en, gics, 3)
    out = {}
    for run, (_, lang, tax) in bcq.SETS.items():
        demands = (
            bcq.sw_demands(sw_codes, hierarchy, lang)
            if tax == "sw"
            else bcq.gics_demands(gics_codes, gics, lang)
        )
        out[run] = bcq.context_queries(run, demands)
    return out


@pytest.fixture
def queries_dir(corpus_dir: Path, tmp_path: Path) -> Path:
    """All query files built from the synthetic corpus with a 3-firm threshold."""
    cn, en = qc.load_cn_firms(corpus_dir), qc.load_en_firms(corpus_dir)
    hierarchy, gics = qc.load_sw_hierarchy(corpus_dir), qc.load_gics_names(corpus_dir)
    sw_codes = bq.select_sw_codes(cn, hierarchy, 3)
    gics_codes = bq.select_gics_codes(en, gics, 3)
    d = tmp_path / "queries"
    for run, queries in {
        "cn": bq.cn_queries(sw_codes, hierarchy),
        "en": bq.en_queries(gics_codes, gics),
        "xl_en_over_cn": bq.xl_en_queries(sw_codes, hierarchy),
        "xl_zh_over_en": bq.xl_zh_queries(gics_codes, gics),
        **synthetic_context_sets(corpus_dir),
    }.items():
        qc.write_jsonl(d / f"{run}.jsonl", queries)
    for run, queries in btq.build_all(d).items():
        qc.write_jsonl(d / f"{run}.jsonl", queries)
    return d


FAKE_CLI = """\
import argparse, csv, json, random, re, sys
argv = sys.argv[1:]
assert argv[:3] == ["-m", "matcher", "rank"], argv
p = argparse.ArgumentParser()
for name in ("--companies", "--scenarios", "--output", "--cache-dir"):
    p.add_argument(name, required=True)
p.add_argument("--top-k", type=int, required=True)
p.add_argument("--method", choices=["fusion", "dense", "lexical", "random", "plain"],
               required=True)
p.add_argument("--encoder")
a = p.parse_args(argv[3:])
if a.encoder == "broken":
    sys.exit("encoder 'broken' is not installed")
with open(a.companies, encoding="utf-8", newline="") as fh:
    companies = list(csv.DictReader(fh))
def toks(text):
    return set(re.findall(r"[a-z]+", text.lower())) | set(re.findall(r"[\\u4e00-\\u9fff]", text))
with open(a.scenarios, encoding="utf-8") as fh, open(a.output, "w", encoding="utf-8") as out:
    for line in fh:
        s = json.loads(line)
        if a.method == "random":
            ranked = [(0.0, c["id"]) for c in companies]
            random.Random(s["id"]).shuffle(ranked)
        else:
            q = toks(s["title"] + " " + s["description"])
            ranked = sorted(((-len(q & toks(c["description"])), c["id"]) for c in companies))
            ranked = [(-score, cid) for score, cid in ranked]
        matches = [{"company_id": cid, "score": float(score), "explanation": a.method}
                   for score, cid in ranked[: a.top_k]]
        out.write(json.dumps({"scenario_id": s["id"], "matches": matches}) + "\\n")
"""


@pytest.fixture
def fake_python(tmp_path: Path) -> str:
    path = tmp_path / "fake_python"
    path.write_text(f"#!{sys.executable}\n{FAKE_CLI}", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


class TestBuildQueries:
    def test_cn_template_and_selection(self, corpus_dir: Path) -> None:
        hierarchy = qc.load_sw_hierarchy(corpus_dir)
        codes = bq.select_sw_codes(qc.load_cn_firms(corpus_dir), hierarchy, 3)
        assert codes == ["280200", "370200"]  # 640400 has 3 firms but no hierarchy name
        queries = bq.cn_queries(codes, hierarchy)
        assert queries[0] == {
            "id": "cn-280200",
            "title": "汽车零部件产业场景机会",
            "description": (
                "面向汽车零部件（汽车）领域，开放汽车零部件相关应用场景，"
                "寻求车身附件及饰件、轮胎轮毂等方向的产品、技术与解决方案，"
                "欢迎具备相关能力的企业落地合作。"
            ),
            "industry": "280200",
        }
        assert queries[1]["title"] == "中药产业场景机会"  # "Ⅱ" stripped
        assert "寻求中药等方向" in queries[1]["description"]  # single L3 child "中药Ⅲ"

    def test_en_and_cross_lingual_templates(self, corpus_dir: Path) -> None:
        gics = qc.load_gics_names(corpus_dir)
        en = bq.en_queries(["45103010"], gics)[0]
        assert en["title"] == "Application Software scenario opportunity"
        assert en["description"].startswith(
            "Scenario opportunity: Application Software. The zone opens demand in Software "
            "(Information Technology) and seeks companies offering Application Software products"
        )
        zh = bq.xl_zh_queries(["45103010"], gics)[0]
        assert zh["id"] == "xlzh-45103010"
        assert zh["description"].startswith("面向软件（信息技术）领域，开放应用软件相关应用场景")
        xl = bq.xl_en_queries(["280200"], qc.load_sw_hierarchy(corpus_dir))[0]
        assert xl["description"].startswith(
            "Scenario opportunity: auto parts and components. The zone opens demand in auto "
            "parts and components (automobiles) and seeks companies offering products, "
            "technologies and services in body accessories and trim; tires and wheel hubs."
        )

    def test_missing_translation_fails_loudly(self, corpus_dir: Path) -> None:
        with pytest.raises(KeyError, match="汽车服务"):
            bq.xl_en_queries(["280300"], qc.load_sw_hierarchy(corpus_dir))


class TestBuildContextQueries:
    def test_variants_titles_and_fields(self, corpus_dir: Path) -> None:
        sets = synthetic_context_sets(corpus_dir)
        cn = sets["context_cn"]
        assert [q["id"] for q in cn[:5]] == [f"ctxcn-280200#{v}" for v in qc.TITLE_VARIANTS]
        by_variant = {q["variant"]: q for q in cn[:5]}
        desc = by_variant["full"]["description"]
        assert by_variant["none"]["title"] == ""
        assert by_variant["first30"]["title"] == desc[:30] and len(desc) > 30
        assert by_variant["full"]["title"] == desc
        assert by_variant["demand"]["title"] == "汽车零部件场景机会"
        context = bcq.CONTEXTS[[c.key for c in bcq.CONTEXTS].index(cn[0]["context"])]
        assert by_variant["context"]["title"] == f"{context.zh_phrase}场景"
        assert context.sw_l1 != "汽车"  # a different top-level industry than the demand
        assert "汽车零部件" in desc and "车身附件及饰件" in desc and context.zh_phrase in desc
        assert {q["industry"] for q in cn[:5]} == {"280200"}
        assert {q["base_id"] for q in cn[:5]} == {"ctxcn-280200"}
        assert list(cn[0]) == [
            "id",
            "title",
            "description",
            "industry",
            "base_id",
            "variant",
            "phrasing",
            "context",
        ]

    def test_templates_per_phrasing(self) -> None:
        ctx = bcq.CONTEXTS[0]  # footwear and apparel brands, 纺织服饰 / Consumer Discretionary
        sw = bcq.Demand("280200", "汽车零部件", ("车身附件及饰件", "轮胎轮毂"), "汽车", "汽车")
        zh = {p: bcq.description(sw, ctx, p, "zh", "sw") for p in bcq.PHRASINGS}
        assert (
            zh["nocue"]
            == "鞋服品牌企业智能工厂改造：汽车零部件（汽车），车身附件及饰件、轮胎轮毂。"
        )
        assert zh["cue"].startswith("鞋服品牌企业智能工厂改造，面向社会征集汽车零部件")
        assert zh["demand_first"].startswith("汽车零部件（汽车）：车身附件及饰件、轮胎轮毂")
        gics = bcq.Demand("45103010", "Application Software", ("Software",), "IT", "IT")
        en = {p: bcq.description(gics, ctx, p, "en", "gics") for p in bcq.PHRASINGS}
        assert en["nocue"] == (
            "Smart factory upgrade at footwear and apparel brands: Application Software; "
            "Software; IT."
        )
        assert en["demand_first"].startswith("Application Software products and services")
        for lang, texts in (("zh", zh), ("en", en)):
            assert not bcq.has_cue(texts["nocue"], lang)
            assert bcq.has_cue(texts["cue"], lang)

    def test_context_differs_in_top_level_industry(self) -> None:
        for tax in ("sw", "gics"):
            for tag in {bcq.context_tag(c, tax) for c in bcq.CONTEXTS}:
                for code in ("280200", "370200", "45103010"):
                    assert bcq.context_tag(bcq.draw_context(code, tax, tag), tax) != tag

    def test_phrasings_are_balanced_and_seeded(self) -> None:
        codes = [f"{i:06d}" for i in range(10)]
        first = bcq.assign_phrasings("context_cn", codes)
        assert first == bcq.assign_phrasings("context_cn", list(reversed(codes)))
        counts = sorted(list(first.values()).count(p) for p in bcq.PHRASINGS)
        assert counts == [3, 3, 4]

    def test_variant_of(self) -> None:
        assert qc.variant_of("ctxcn-280200#first30") == "first30"
        assert qc.variant_of("cn-280200") is None
        assert qc.variant_of("a#b") is None


class TestPrepare:
    def test_outputs(self, corpus_dir: Path, queries_dir: Path, tmp_path: Path) -> None:
        work = tmp_path / "work"
        manifest = prep.prepare(corpus_dir, work, queries_dir)
        with (work / "cn_companies.csv").open(encoding="utf-8", newline="") as fh:
            cn = list(csv.DictReader(fh))
        assert list(cn[0]) == ["id", "name", "description"]
        assert [r["id"] for r in cn] == [f"{i:06d}" for i in range(1, 13) if i != 9]
        assert cn[0]["name"] == "甲汽车部件股份有限公司"
        with (work / "en_companies.csv").open(encoding="utf-8", newline="") as fh:
            en = {r["id"]: r for r in csv.DictReader(fh)}
        assert sorted(en) == ["AAA", "BBB", "BRK.B", "CCC", "DDD", "EEE"]
        assert en["BBB"]["description"] == "Cloud application software."  # Bloomberg first
        assert en["BRK.B"]["description"] == "Insurance and railways."  # Yahoo fallback

        scen = qc.read_jsonl(work / "scenarios" / "cn.jsonl")
        assert [sorted(s) for s in scen] == [["description", "id", "title"]] * 2

        qrels = {run: load_qrels_csv(work / "qrels" / f"{run}.csv") for run in qc.RUNS}
        assert qrels["cn"] == {
            "cn-280200": {"000001": 2, "000002": 2, "000003": 2, "000004": 1},
            "cn-370200": {"000005": 2, "000006": 2, "000007": 2, "000008": 1},
        }
        assert qrels["en"] == {"en-45103010": {"AAA": 2, "BBB": 2, "CCC": 2, "DDD": 1}}
        assert qrels["xl_en_over_cn"]["xlen-280200"] == qrels["cn"]["cn-280200"]
        assert qrels["xl_zh_over_en"]["xlzh-45103010"] == qrels["en"]["en-45103010"]
        for v in qc.TITLE_VARIANTS:  # every title variant is judged like the plain query
            assert qrels["context_cn"][f"ctxcn-280200#{v}"] == qrels["cn"]["cn-280200"]
            assert (
                qrels["context_xl_zh_over_en"][f"ctxxlzh-45103010#{v}"]
                == (qrels["en"]["en-45103010"])
            )
        ctx = qc.read_jsonl(work / "scenarios" / "context_cn.jsonl")
        assert [sorted(s) for s in ctx] == [["description", "id", "title"]] * 10  # no industry
        assert ctx[0]["title"] == ""

        assert manifest["corpora"]["cn"]["firms"] == 11
        assert manifest["corpora"]["en"]["firms"] == 6
        stats = manifest["runs"]["cn"]
        assert (stats["queries"], stats["mean_grade2"], stats["mean_grade1"]) == (2, 3.0, 1.0)
        assert json.loads((work / "manifest.json").read_text(encoding="utf-8")) == manifest

    def test_grade(self) -> None:
        firm = qc.Firm("x", "n", "d", label="280200", parent="280000")
        assert qc.grade(firm, "280200", "280000") == 2
        assert qc.grade(firm, "280300", "280000") == 1
        assert qc.grade(firm, "370200", "370000") == 0


class TestScoring:
    def test_score_fake_output(self, tmp_path: Path) -> None:
        qrels = tmp_path / "qrels.csv"
        qrels.write_text("scenario_id,company_id,grade\nq1,a,2\nq1,b,1\nq2,c,1\n", encoding="utf-8")
        out = tmp_path / "OUT.jsonl"
        records = [
            {
                "scenario_id": "q1",
                "matches": [{"company_id": "b", "score": 0.9}, {"company_id": "a", "score": 0.8}],
            },
            {"scenario_id": "q2", "matches": [{"company_id": "x", "score": 0.5}]},
        ]
        out.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        scored = rq.score_output(out, qrels)
        # q1: DCG = 1/1 + 3/log2(3) = 2.8927893; IDCG = 3 + 1/log2(3) = 3.6309298 -> 0.7967
        # q2: c not retrieved -> 0. Mean nDCG = 0.7967 / 2
        q1_ndcg = (1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3))
        assert scored["metrics"] == {
            "ndcg_at_10": pytest.approx(q1_ndcg / 2),
            "recall_at_50": pytest.approx(0.5),
            "mrr": pytest.approx(0.5),
            "queries": 2,
        }
        # strict (grade 2 only): only q1 counts; a is at rank 2
        assert scored["strict"]["queries"] == 1
        assert scored["strict"]["mrr"] == pytest.approx(0.5)
        assert scored["strict"]["recall_at_50"] == pytest.approx(1.0)


class TestRunQuality:
    def test_parse_methods(self) -> None:
        methods = rq.parse_methods("random, lexical,dense:use,dense:e5,fusion,plain,plain:e5")
        assert [(m.name, m.encoder) for m in methods] == [
            ("random", None),
            ("lexical", None),
            ("dense", "use"),
            ("dense", "e5"),
            ("fusion", None),
            ("plain", None),
            ("plain", "e5"),
        ]
        assert methods[3].slug == "dense-e5"
        assert [m.spec for m in rq.parse_methods(rq.DEFAULT_METHODS)] == [
            "random",
            "lexical",
            "plain",
            "plain:e5",
            "dense:use",
            "dense:e5",
            "fusion",
        ]
        for bad in ("bm25", "lexical:e5", "fusion,fusion"):
            with pytest.raises(ValueError):
                rq.parse_methods(bad)

    def test_cli_command(self, tmp_path: Path) -> None:
        cmd = rq.cli_command(
            "py",
            rq.Method("dense:e5", "dense", "e5"),
            Path("c.csv"),
            Path("q.jsonl"),
            Path("o.jsonl"),
            50,
            Path("cache"),
        )
        assert cmd == [
            "py",
            "-m",
            "matcher",
            "rank",
            "--companies",
            "c.csv",
            "--scenarios",
            "q.jsonl",
            "--top-k",
            "50",
            "--output",
            "o.jsonl",
            "--method",
            "dense",
            "--encoder",
            "e5",
            "--cache-dir",
            "cache",
        ]

    def test_ratio_rows(self) -> None:
        methods = rq.parse_methods("random,lexical,dense:use,fusion")

        def rec(method: str, v: float) -> dict[str, object]:
            return {
                "run": "cn",
                "method": method,
                "metrics": {"ndcg_at_10": v, "recall_at_50": v / 2, "mrr": 0.0},
            }

        results = [
            rec("random", 0.9),
            rec("lexical", 0.4),
            rec("dense:use", 0.5),
            rec("fusion", 0.6),
        ]
        (row,) = rq.ratio_rows(results, ["cn"], methods)
        cells = row["runs"]["cn"]
        assert cells["ndcg_at_10"] == {"ratio": pytest.approx(1.2), "best_single": "dense:use"}
        assert cells["recall_at_50"]["ratio"] == pytest.approx(1.2)  # random is never "best"
        assert cells["mrr"]["ratio"] is None  # best single is 0

    def test_plain_counts_as_a_single_method(self) -> None:
        methods = rq.parse_methods("lexical,plain:e5,fusion")
        results = [
            {"run": "cn", "method": m, "metrics": {"ndcg_at_10": v, "recall_at_50": v, "mrr": v}}
            for m, v in (("lexical", 0.2), ("plain:e5", 0.5), ("fusion", 0.4))
        ]
        cell = rq.ratio_rows(results, ["cn"], methods)[0]["runs"]["cn"]["ndcg_at_10"]
        assert cell == {"ratio": pytest.approx(0.8), "best_single": "plain:e5"}

    def test_variant_breakdown_with_fake_cli(
        self,
        corpus_dir: Path,
        queries_dir: Path,
        tmp_path: Path,
        fake_python: str,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        out = tmp_path / "results.json"
        argv = ["--corpus-dir", str(corpus_dir), "--work-dir", str(tmp_path / "work")]
        argv += ["--queries-dir", str(queries_dir), "--out", str(out), "--python", fake_python]
        argv += ["--methods", "random,plain:e5", "--runs", "cn,context_cn"]
        assert rq.main(argv) == 0
        report = json.loads(out.read_text(encoding="utf-8"))
        by_key = {(r["run"], r["method"]): r for r in report["results"]}
        assert by_key[("cn", "plain:e5")]["variants"] is None
        assert by_key[("cn", "plain:e5")]["command"][-4:-2] == ["--encoder", "e5"]
        record = by_key[("context_cn", "plain:e5")]
        variants = record["variants"]
        assert list(variants) == list(qc.TITLE_VARIANTS)
        assert all(v["queries"] == 2 for v in variants.values())
        assert record["metrics"]["queries"] == 10
        mean = sum(v["ndcg_at_10"] for v in variants.values()) / len(variants)
        assert record["metrics"]["ndcg_at_10"] == pytest.approx(mean)
        table = capsys.readouterr().out
        assert "| run | method | title none | title context | title demand |" in table
        row = next(x for x in table.splitlines() if x.startswith("| context_cn | plain:e5 |"))
        assert row.count("|") == 8 and "error" not in row
        assert "| cn | " not in table  # no variant rows for the plain sets

    def test_end_to_end_with_fake_cli(
        self,
        corpus_dir: Path,
        queries_dir: Path,
        tmp_path: Path,
        fake_python: str,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        out = tmp_path / "results.json"
        code = rq.main(
            [
                "--corpus-dir",
                str(corpus_dir),
                "--work-dir",
                str(tmp_path / "work"),
                "--queries-dir",
                str(queries_dir),
                "--out",
                str(out),
                "--python",
                fake_python,
                "--methods",
                "random,lexical,dense:broken,fusion",
                "--runs",
                "cn,en",
            ]
        )
        assert code == 1  # dense:broken failed
        report = json.loads(out.read_text(encoding="utf-8"))
        by_key = {(r["run"], r["method"]): r for r in report["results"]}
        assert len(by_key) == 8
        broken = by_key[("cn", "dense:broken")]
        assert broken["metrics"] is None and "not installed" in broken["error"]
        lexical = by_key[("cn", "lexical")]
        assert lexical["error"] is None and lexical["metrics"]["queries"] == 2
        assert lexical["metrics"]["mrr"] == pytest.approx(1.0)  # overlap ranking is easy here
        assert lexical["seconds"] >= 0
        assert lexical["command"][0] == "python"
        cache = qc.display_path(tmp_path / "work" / "cache")
        assert lexical["command"][-2:] == ["--cache-dir", cache]
        ratio = report["ratios"][0]["runs"]["cn"]["ndcg_at_10"]
        assert ratio["best_single"] == "lexical" and ratio["ratio"] == pytest.approx(1.0)
        table = capsys.readouterr().out
        assert "| method | cn nDCG@10 | cn R@50 | cn MRR | en nDCG@10" in table
        assert "| fusion / best single | 1.00 |" in table
        assert "error" in table


REAL = qc.DEFAULT_CORPUS_DIR
needs_real = pytest.mark.skipif(not (REAL / qc.CN_FILE).exists(), reason="no ../shared/eval")


@needs_real
class TestRealCorpus:
    def test_committed_queries_are_frozen(self) -> None:
        built = bq.build_all(REAL)
        for run, queries in built.items():
            committed = (qc.QUERIES_DIR / f"{run}.jsonl").read_text(encoding="utf-8")
            assert bq.render(queries) == committed, f"{run}.jsonl differs from a fresh build"
        assert {r: len(q) for r, q in built.items()} == {
            "cn": 59,
            "en": 139,
            "xl_en_over_cn": 26,
            "xl_zh_over_en": 30,
        }

    def test_context_queries_are_frozen(self) -> None:
        assert bcq.main(["--check"]) == 0
        assert bq.main(["--check"]) == 0  # the four plain sets are unchanged

    def test_context_sets_follow_the_rules(self) -> None:
        hierarchy = qc.load_sw_hierarchy(REAL)
        gics = qc.load_gics_names(REAL)
        contexts = {c.key: c for c in bcq.CONTEXTS}
        plain_sizes = {"cn": 59, "en": 139, "xl_en_over_cn": 26, "xl_zh_over_en": 30}
        phrasings_by_lang: dict[str, set[str]] = {"zh": set(), "en": set()}
        twin_context: dict[str, str] = {}
        for run in qc.CONTEXT_RUNS:
            queries = qc.read_jsonl(qc.QUERIES_DIR / f"{run}.jsonl")
            _, lang, tax = bcq.SETS[run]
            assert len(queries) == 5 * plain_sizes[run.removeprefix("context_")], run
            bases: dict[str, list[dict[str, str]]] = {}
            for q in queries:
                bases.setdefault(q["base_id"], []).append(q)
            for base, group in bases.items():
                assert [q["id"] for q in group] == [f"{base}#{v}" for v in qc.TITLE_VARIANTS]
                assert [q["variant"] for q in group] == list(qc.TITLE_VARIANTS)
                assert (
                    len(
                        {
                            (q["description"], q["industry"], q["phrasing"], q["context"])
                            for q in group
                        }
                    )
                    == 1
                )
                q = group[0]
                desc, code, ctx = q["description"], q["industry"], contexts[q["context"]]
                titles = {g["variant"]: g["title"] for g in group}
                assert titles["none"] == "" and titles["full"] == desc
                assert titles["first30"] == desc[:30]
                if tax == "sw":
                    demand_top = hierarchy[hierarchy[code].parent_code].name
                    assert ctx.sw_l1 != demand_top, (base, ctx.key)
                else:
                    assert ctx.gics_sector != gics[code].sector, (base, ctx.key)
                assert (q["phrasing"] == "nocue") != bcq.has_cue(desc, lang), base
                phrasings_by_lang[lang].add(q["phrasing"])
                # a cross-lingual query shares its monolingual twin's context
                assert twin_context.setdefault(f"{tax}-{code}", ctx.key) == ctx.key, base
        assert phrasings_by_lang == {"zh": set(bcq.PHRASINGS), "en": set(bcq.PHRASINGS)}

    def test_prepare_real(self, tmp_path: Path) -> None:
        manifest = prep.prepare(REAL, tmp_path)
        assert manifest["corpora"]["cn"]["firms"] == 421
        assert manifest["corpora"]["en"]["firms"] == 2896
        for run, stats in manifest["runs"].items():
            assert stats["queries_with_grade2"] == stats["queries"], run
            assert stats["min_grade2"] >= 3, run


def test_twin_queries_are_frozen_and_keep_everything_but_the_script() -> None:
    assert btq.main(["--check"]) == 0
    built = btq.build_all()
    for source, name in btq.TWINS.items():
        simple = [json.loads(x) for x in (qc.QUERIES_DIR / f"{source}.jsonl").open()]
        assert len(built[name]) == len(simple) and name in qc.RUNS
        for a, b in zip(simple, built[name], strict=True):
            assert b["id"] == "tw-" + a["id"]
            assert {
                k: v for k, v in a.items() if k not in ("id", "base_id", "title", "description")
            } == {k: v for k, v in b.items() if k not in ("id", "base_id", "title", "description")}
            assert "(" in b["description"] and b["description"] != a["description"]
    assert btq.scrape("来说") == "來(lái)說"

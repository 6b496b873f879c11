"""The hybrid benchmark on a tiny synthetic corpus: metric, systems, run record and table.

Uses the real USE encoder (loads in about a second) with a throw-away embedding cache; the
txtai parts skip when the ``[bench]`` extra is not installed.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from bench.hybrid import run  # noqa: E402
from matcher.config import EngineConfig  # noqa: E402
from matcher.engine import Engine  # noqa: E402
from matcher.types import Company, Scenario  # noqa: E402

FIRMS = [
    ("b1", "宁德动力电池有限公司", "主营锂离子动力电池、储能电池系统和电池管理系统的研发与生产。"),
    ("b2", "华南储能科技", "提供磷酸铁锂储能电池、电池包与储能变流器，服务电网侧储能项目。"),
    ("m1", "康泰生物制药", "从事创新药、疫苗和生物制药的研发、生产与销售。"),
    ("m2", "瑞和医疗器械", "生产医学影像设备、体外诊断试剂和医疗器械。"),
    ("f1", "丰收农业", "种子培育、粮食种植与农产品加工，经营大型种植基地。"),
    ("s1", "芯联半导体", "设计和制造集成电路芯片、功率半导体器件和晶圆。"),
    ("e1", "Bright Solar Inc", "Manufactures solar panels, photovoltaic cells and inverters."),
    ("e2", "Harbor Regional Bank", "A regional bank offering loans, deposits and wealth services."),
    ("e3", "CloudSoft Corp", "Enterprise software, cloud computing platforms and data analytics."),
    ("e4", "Acme Freight", "Trucking, logistics and freight forwarding across North America."),
]
SCENARIOS = [
    ("q-bat", "动力电池产业场景机会", "寻求锂离子动力电池、储能电池与电池管理系统等方向的企业。"),
    ("q-med", "生物医药产业场景机会", "寻求创新药、疫苗、生物制药等方向的产品与技术。"),
    ("q-sol", "Solar energy scenario opportunity", "Seeks solar panels and photovoltaic cells."),
]
QRELS = {
    "q-bat": {"b1": 2, "b2": 2},
    "q-med": {"m1": 2, "m2": 1},
    "q-sol": {"e1": 2},
}
TOP = {"q-bat": {"b1", "b2"}, "q-med": {"m1"}, "q-sol": {"e1"}}


def test_score_uses_the_project_ndcg_and_matches_a_hand_computed_value():
    # grades along the ranking: a=2, b=0, c=1; the ideal order of all judged items is 2, 2, 1
    qrels = {"q": {"a": 2, "c": 1, "d": 2}}
    dcg = 3 / math.log2(2) + 0 + 1 / math.log2(4)
    ideal = 3 / math.log2(2) + 3 / math.log2(3) + 1 / math.log2(4)
    got = run.score({"q": ["a", "b", "c"]}, qrels)
    assert got["ndcg_at_10"] == pytest.approx(round(dcg / ideal, 4))
    assert got[f"recall_at_{run.RECALL_K}"] == pytest.approx(round(2 / 3, 4))
    assert got["mrr"] == 1.0 and got["queries"] == 1
    # a perfect ranking scores 1, a query with nothing relevant found scores 0
    assert run.score({"q": ["a", "d", "c"]}, qrels)["ndcg_at_10"] == 1.0
    assert run.score({"q": ["x", "y"]}, qrels)["ndcg_at_10"] == 0.0


@pytest.fixture(scope="module")
def corpus() -> run.RunData:
    companies = [Company(id=i, name=n, description=d) for i, n, d in FIRMS]
    scenarios = [Scenario(id=i, title_zh=t, description_zh=d) for i, t, d in SCENARIOS]
    return run.RunData("tiny", companies, scenarios, QRELS)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory):
    return Engine(EngineConfig(), cache_dir=tmp_path_factory.mktemp("cache")).encoder


def _names() -> list[str]:
    try:
        import txtai  # noqa: F401
    except ImportError:
        return ["ours", "ours-text", "numpy"]
    return list(run.SYSTEMS)


@pytest.fixture(scope="module")
def record(corpus: run.RunData, encoder, tmp_path_factory: pytest.TempPathFactory) -> dict:
    config = EngineConfig()
    info = run.prewarm(config, encoder, corpus.companies, corpus.scenarios)
    assert info["newly_encoded"] > 0 and info["texts"] > len(FIRMS)
    systems, shared = run.make_systems(_names(), config, encoder, None, 2 / 3)
    index_dir = tmp_path_factory.mktemp("index")
    rec = run.bench_run(
        corpus, systems, encoder, k=5, repeats=2, index_dir=index_dir, shared=shared, config=config
    )
    rec["_systems"] = systems
    return rec


def test_every_system_returns_distinct_corpus_ids_with_the_obvious_firm_first(
    record: dict, corpus: run.RunData
):
    ids = {c.id for c in corpus.companies}
    assert [s.name for s in record["_systems"]] == _names()
    for system in record["_systems"]:
        for s in corpus.scenarios:
            ranked = system.query(s, run.normalise(s.text()), 5)
            assert len(ranked) == 5 and len(set(ranked)) == 5, (system.name, ranked)
            assert set(ranked) <= ids
            assert ranked[0] in TOP[s.id], (system.name, s.id, ranked)


def test_numpy_adds_min_max_normalised_parts_with_the_engine_weights(record: dict):
    numpy_sys = next(s for s in record["_systems"] if s.name == "numpy")
    text = run.normalise("动力电池\n锂离子动力电池")
    scores = numpy_sys.scores(text)
    w = EngineConfig().fusion.weights
    assert scores.shape == (len(FIRMS),)
    assert scores.max() <= w["dense"] + w["lexical"] + 1e-9 and scores.min() >= 0.0
    ranked = numpy_sys.query(None, text, 3)  # type: ignore[arg-type]
    assert ranked == [
        numpy_sys.ids[i] for i in sorted(range(len(scores)), key=lambda i: -scores[i])[:3]
    ]


def test_run_record_has_metrics_latencies_ratios_and_no_re_encoding(record: dict):
    names = _names()
    assert set(record["systems"]) == set(names)
    assert record["firms"] == len(FIRMS) and record["queries"] == len(SCENARIOS)
    for name, rec in record["systems"].items():
        assert rec["newly_encoded"] == 0, name  # every vector came from the prewarmed cache
        assert 0.0 < rec["metrics"]["ndcg_at_10"] <= 1.0
        assert rec["latency"]["calls"] == 2 * len(SCENARIOS)
        assert 0 < rec["latency"]["p50_ms"] <= rec["latency"]["p99_ms"]
        if name == "ours-text":
            assert "build_s" not in rec and "index_bytes" not in rec
        else:
            assert rec["build_s"] > 0 and rec["index_bytes"] > 0
            assert rec["memory"]["rss_peak_growth_mb"] >= rec["memory"]["rss_kept_growth_mb"]
    assert set(record["ratios"]) == set(names) - {"ours"}
    if "txtai" in names:
        idx = record["systems"]["txtai"]["index"]
        assert idx["model"] == "External" and idx["fusion"] == "convex"
        assert idx["components"] == "IDMap,Flat"
        assert set(record["goal"]) == {"txtai_p50_over_ours_ge_2", "ours_ndcg_ge_txtai"}
    table = run.markdown_table({"runs": [record]})
    assert table.count("\n| tiny |") == len(names)


def test_txtai_bm25_tokenizer_splits_chinese_into_bigrams():
    pytest.importorskip("txtai")
    from txtai.pipeline import Tokenizer

    tokens = Tokenizer(**run.TXTAI_TOKENIZER)("动力电池 and AI-based 芯 chips")
    assert tokens == ["动力", "力电", "电池", "ai", "based", "芯", "chips"]

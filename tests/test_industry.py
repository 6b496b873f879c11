"""The taxonomy part: P(class | text) over GB/T 4754 classes and the expected relation score."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from matcher.config import EngineConfig
from matcher.engine import Engine
from matcher.errors import ConfigError
from matcher.industry import (
    RELATION_SCORES,
    IndustryInferrer,
    industry_table,
    pack,
    relation,
    standard_taxonomy,
    unpack,
)
from matcher.types import Company, Scenario


def _expected(firm: str, scenario_codes: list[str]) -> float:
    tax = standard_taxonomy()
    table = tax.expected(tax.declared(scenario_codes))
    return float(table[tax.entry(firm)])


@pytest.mark.parametrize(
    "firm, scen, level",
    [
        ("3841", "3841", "class"),
        ("3842", "3841", "group"),
        ("3811", "3841", "division"),
        ("1951", "3841", "none"),
    ],
)
def test_declared_classes_score_the_relation_levels(firm, scen, level):
    assert _expected(firm, [scen]) == pytest.approx(RELATION_SCORES[level])
    assert relation([firm], [scen])[0].level == level


def test_a_declared_group_is_some_class_of_it_uniformly():
    tax = standard_taxonomy()
    n_group = sum(c.startswith("384") for c in tax.classes)
    # a firm declaring group 384 against scenario class 3841: same group and division for
    # sure, same class with chance 1/n
    assert _expected("384", ["3841"]) == pytest.approx(0.4 / n_group + 0.3 + 0.3)
    n_div = sum(c.startswith("38") for c in tax.classes)
    n_384 = n_group
    # division 38 against 3841: class 1/n_div, group n_384/n_div, division 1
    assert _expected("38", ["3841"]) == pytest.approx(0.4 / n_div + 0.3 * n_384 / n_div + 0.3)
    # two scenario codes share the mass: half the time the class matches
    assert _expected("3841", ["3841", "1951"]) == pytest.approx(0.5 * 1.0 + 0.5 * 0.0)


def test_pack_and_unpack_round_trip():
    blob = pack([3, 17, 1500], [0.5, 0.3, 0.2], k=5)
    assert len(blob) == 20
    entries, probs = unpack([blob, pack([], [], k=5)])
    assert entries[0, :3].tolist() == [3, 17, 1500] and entries[0, 3:].tolist() == [0, 0]
    np.testing.assert_allclose(probs[0], [0.5, 0.3, 0.2, 0, 0], atol=1e-3)
    assert not probs[1].any()


def test_distribution_is_a_sorted_softmax_over_the_nearest_classes():
    rng = np.random.default_rng(0)
    classes = rng.normal(size=(6, 4)).astype(np.float32)
    classes /= np.linalg.norm(classes, axis=1, keepdims=True)
    codes = ["0111", "0112", "0113", "0121", "0122", "0131"]
    text = classes[2] + 0.1 * classes[4]
    for t in (0.01, 0.5):
        inf = IndustryInferrer(codes, classes, temperature=t)
        idx, prob = inf.distribution(text[None, :], top=3)
        sims = classes @ text
        assert idx[0].tolist() == np.argsort(-sims)[:3].tolist()
        e = np.exp((sims[idx[0]] - sims[idx[0]].max()) / t)
        np.testing.assert_allclose(prob[0], e / e.sum(), rtol=1e-5, atol=1e-9)
    cold, hot = (
        IndustryInferrer(codes, classes, t).distribution(text[None, :], 3)[1][0, 0]
        for t in (0.01, 0.5)
    )
    assert cold > hot  # a lower temperature is surer of the nearest class


def test_class_texts_have_names_and_notes():
    texts = IndustryInferrer.texts(["3841", "3491"])
    assert texts[0].endswith("锂离子电池制造") and "电气机械" in texts[0]
    assert texts[2] == industry_table().note("3841") or texts[2] == texts[0]
    assert all(texts[2:])  # every class has a note text (the names again where none)


FIRMS = [
    Company(
        id="robot",
        name="泉州智动机器人有限公司",
        description="研发制造六轴工业机器人、协作机器人和数控机床，为制造企业提供自动化生产线。",
    ),
    Company(
        id="shoe",
        name="晋江市恒步鞋业有限公司",
        description="专业生产运动鞋、休闲鞋和童鞋，产品销往全国鞋服市场。",
    ),
    Company(
        id="battery",
        name="宁德锂能科技有限公司",
        description="锂离子动力电池与储能电池的研发、生产和销售。",
    ),
    Company(id="declared", name="某电池公司", description="电池。", industry_codes=("3841",)),
]
ROBOTS = Scenario(
    id="S1",
    title_zh="鞋服企业智能工厂改造场景",
    description_zh="晋江鞋服产业集群的制鞋企业推进智能工厂改造，现面向社会征集工业机器人供应商。",
)
BATTERY = Scenario(
    id="S2", title_zh="储能", description_zh="征集储能电池系统供应商", industry_codes=("3841",)
)


@pytest.fixture(scope="module")
def engine(cache_dir) -> Engine:
    return Engine(cache_dir=cache_dir).fit([ROBOTS, BATTERY], FIRMS)


def test_inferred_classes_follow_the_text(engine):
    codes = {c: engine.company_codes(c) for c in ("robot", "shoe", "battery", "declared")}
    assert codes["robot"][0][0][:2] == "34" and codes["robot"][1]  # 通用设备 (3491 机器人)
    assert codes["shoe"][0][0][:2] == "19" and codes["battery"][0][0][:3] == "384"
    assert codes["declared"] == (("3841",), False)
    st = engine.scenarios_["S1"]
    assert st.codes_inferred and st.codes[0][:2] == "34"  # what is sought, not the buyer
    assert st.industry_q is not None and st.industry_q.sum() == pytest.approx(1.0)


def test_the_industry_part_prefers_the_firm_that_makes_what_is_sought(engine):
    parts = {m.company_id: m.parts["industry"] for m in engine.match_scenario("S1", top_k=4)}
    assert parts["robot"] > parts["shoe"]
    battery = {m.company_id: m for m in engine.match_scenario("S2", top_k=4)}
    # declared on both sides: exactly the relation score
    assert battery["declared"].parts["industry"] == pytest.approx(1.0, abs=1e-3)
    assert battery["battery"].parts["industry"] > battery["robot"].parts["industry"]
    rel = battery["declared"].explanation.industry
    assert (rel.level, rel.company_code, rel.scenario_code, rel.inferred) == (
        "class",
        "3841",
        "3841",
        False,
    )
    robot = next(m for m in engine.match_scenario("S1", top_k=4) if m.company_id == "robot")
    assert robot.explanation.industry.inferred and robot.explanation.industry.company_code


def test_a_submission_gets_the_same_part_as_the_stored_firm(engine):
    stored = {m.scenario_id: m.parts["industry"] for m in engine.suggest("battery", top_k=2)}
    fresh = {
        m.scenario_id: m.parts["industry"]
        for m in engine.suggest(replace(FIRMS[2], id="new"), top_k=2)
    }
    assert fresh == pytest.approx(stored)


def test_saved_distributions_load_and_old_indexes_get_them(engine, tmp_path, cache_dir):
    folder = engine.save(tmp_path / "idx")
    before = {m.company_id: m.parts["industry"] for m in engine.match_scenario("S1", top_k=4)}
    loaded = Engine.load(folder, cache_dir=cache_dir)
    assert {
        m.company_id: m.parts["industry"] for m in loaded.match_scenario("S1", top_k=4)
    } == pytest.approx(before)
    # an index saved before the taxonomy part has no distributions: they are made at load
    rows = (folder / "companies.jsonl").read_text("utf-8").splitlines()
    stripped = []
    for line in rows:
        row = json.loads(line)
        row.pop("taxonomy")
        stripped.append(json.dumps(row, ensure_ascii=False))
    (folder / "companies.jsonl").write_text("\n".join(stripped) + "\n", "utf-8")
    old = Engine.load(folder, cache_dir=cache_dir)
    assert {
        m.company_id: m.parts["industry"] for m in old.match_scenario("S1", top_k=4)
    } == pytest.approx(before, abs=1e-3)


def test_bad_taxonomy_settings_are_refused():
    with pytest.raises(ConfigError, match="taxonomy_temperature"):
        EngineConfig(taxonomy_temperature=0)
    with pytest.raises(ConfigError, match="taxonomy_classes"):
        EngineConfig(taxonomy_classes=0)
    with pytest.raises(ConfigError, match="taxonomy_from"):
        EngineConfig(taxonomy_from="title")  # type: ignore[arg-type]


def test_a_remembered_explanation_is_the_one_computed(engine):
    first = {m.company_id: m.explanation.industry for m in engine.match_scenario("S1", top_k=4)}
    engine.explainer.clear()
    fresh = {m.company_id: m.explanation.industry for m in engine.match_scenario("S1", top_k=4)}
    again = {m.company_id: m.explanation.industry for m in engine.match_scenario("S1", top_k=4)}
    assert first == fresh == again

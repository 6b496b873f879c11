"""The query builder: what a scenario is searched by, and that ranking follows its demand."""

from __future__ import annotations

from dataclasses import replace

import pytest

from matcher.config import EngineConfig, config_from_dict
from matcher.engine import Engine
from matcher.errors import ConfigError
from matcher.query import QueryBuilder
from matcher.types import Company, Scenario

FOOTWEAR_ROBOTS = Scenario(
    id="Q1",
    title_zh="鞋服企业智能工厂改造场景",
    description_zh="晋江鞋服产业集群的龙头制鞋企业推进智能工厂改造，现面向社会征集工业机器人、"
    "数控机床及自动化立体仓库供应商。",
)
FOOTWEAR_ROBOTS_EN = Scenario(
    id="Q2",
    title_zh="Smart factories for the footwear cluster",
    description_zh="A footwear and apparel cluster seeks industrial robots, CNC machine tools "
    "and automated warehousing for its shoe factories.",
)


def _firms() -> list[Company]:
    return [
        Company(
            id="shoe",
            name="晋江市恒步鞋业有限公司",
            description="专业生产运动鞋、休闲鞋和童鞋，拥有鞋服设计中心，产品销往全国鞋服市场。",
            city="晋江市",
        ),
        Company(
            id="robot",
            name="泉州智动机器人有限公司",
            description="研发制造六轴工业机器人、协作机器人和数控机床，为制造企业提供自动化生产线。",
            city="泉州市",
        ),
        Company(
            id="apparel",
            name="石狮市锦衣服饰有限公司",
            description="服装与鞋帽批发零售，经营男装、女装、运动服饰品牌连锁门店。",
            city="石狮市",
        ),
        Company(
            id="food",
            name="晋江市好味食品有限公司",
            description="糕点、饼干与休闲食品的生产销售。",
            city="晋江市",
        ),
        Company(
            id="pharma",
            name="厦门康源医药有限公司",
            description="化学原料药与制剂的研发、生产和销售。",
            city="厦门市",
        ),
    ]


@pytest.fixture(scope="module")
def engine(cache_dir) -> Engine:
    return Engine(cache_dir=cache_dir).fit([FOOTWEAR_ROBOTS, FOOTWEAR_ROBOTS_EN], _firms())


def _order(matches) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.company_id for m in matches]


def test_body_leaves_out_a_title_that_names_the_buyer():
    q = QueryBuilder(EngineConfig()).build(FOOTWEAR_ROBOTS)
    assert "智能工厂改造场景" not in q.body and "工业机器人" in q.body
    assert q.demand.terms == ("工业机器人", "数控机床", "自动化立体仓库")
    assert "鞋服" not in q.focus and "工业机器人" in q.focus
    legacy = QueryBuilder(EngineConfig(demand="off", title_in_body=True)).build(FOOTWEAR_ROBOTS)
    assert legacy.body.startswith("鞋服企业智能工厂改造场景") and not legacy.demand.found
    assert legacy.focus == "鞋服企业智能工厂改造场景"
    # a free-text search is all title: it is the body
    free = QueryBuilder(EngineConfig()).build(
        Scenario(id="f", title_zh="储能电池", description_zh="")
    )
    assert free.body == "储能电池"


@pytest.mark.parametrize("scenario", [FOOTWEAR_ROBOTS, FOOTWEAR_ROBOTS_EN], ids=["zh", "en"])
def test_the_robot_maker_ranks_above_the_shoe_maker(engine, scenario):
    for ranked in (
        engine.match_scenario(scenario.id, top_k=5),
        engine.match_scenario_object(replace(scenario, id="free"), top_k=5),
    ):
        order = _order(ranked)
        assert order[0] == "robot", order
        assert order.index("robot") < order.index("shoe")


def test_the_title_variant_does_not_move_the_ranking(engine):
    base = _order(engine.match_scenario_object(FOOTWEAR_ROBOTS, top_k=5))
    for title in ("", "鞋服产业集群", FOOTWEAR_ROBOTS.description_zh[:30]):
        variant = replace(FOOTWEAR_ROBOTS, id="v", title_zh=title or FOOTWEAR_ROBOTS.title_zh)
        assert _order(engine.match_scenario_object(variant, top_k=5))[:2] == base[:2]


def test_explanations_name_the_demand(engine):
    top = engine.match_scenario("Q1", top_k=2)
    for m in top:
        assert m.explanation.demand == ("工业机器人", "数控机床", "自动化立体仓库")
        assert m.explanation.summary.startswith("需求：工业机器人、数控机床、自动化立体仓库")
    robot = next(m for m in top if m.company_id == "robot")
    assert "工业机器人" in robot.explanation.matched_terms
    # matched terms come from what is sought, not from the buyer's industry
    shoe = next(m for m in engine.match_scenario("Q1", top_k=5) if m.company_id == "shoe")
    assert not any("鞋" in t for t in shoe.explanation.matched_terms)
    # the suggestion side carries the same demand
    sug = engine.suggest("robot", top_k=2)
    assert {m.scenario_id for m in sug} == {"Q1", "Q2"}
    assert next(m for m in sug if m.scenario_id == "Q1").explanation.demand[0] == "工业机器人"


def test_saved_and_loaded_engine_builds_the_same_queries(engine, tmp_path, cache_dir):
    engine.save(tmp_path / "idx")
    loaded = Engine.load(tmp_path / "idx", cache_dir=cache_dir)
    assert loaded.scenarios_["Q1"].query == engine.scenarios_["Q1"].query
    assert _order(loaded.match_scenario("Q1", top_k=5)) == _order(engine.match_scenario("Q1"))


def test_an_index_saved_before_the_query_settings_reads_as_built():
    old = EngineConfig().to_dict()
    for key in ("demand", "title_in_body", "lexical_focus"):
        old.pop(key)
    cfg = config_from_dict(old)
    assert cfg.demand == "off" and cfg.title_in_body is True
    assert config_from_dict(EngineConfig().to_dict()) == EngineConfig()


def test_bad_query_settings_are_refused():
    with pytest.raises(ConfigError, match="demand extractor"):
        EngineConfig(demand="llm")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="lexical_focus"):
        EngineConfig(lexical_focus=-1.0)


def test_lexical_focus_adds_the_focus_row(cache_dir):
    import numpy as np

    firms = _firms()
    plain = Engine(EngineConfig(), cache_dir=cache_dir).fit([FOOTWEAR_ROBOTS], firms)
    focused = Engine(EngineConfig(lexical_focus=1.0), cache_dir=cache_dir).fit(
        [FOOTWEAR_ROBOTS], firms
    )
    a, b = plain.scenarios_["Q1"].lex, focused.scenarios_["Q1"].lex
    assert a.shape == b.shape
    assert np.linalg.norm(b.toarray()) == pytest.approx(1.0, abs=1e-5)
    q = focused.scenarios_["Q1"].query
    expect = focused.corpus.lexical.transform([q.body]) + focused.corpus.lexical.transform(
        [q.focus]
    )
    expect = expect.toarray() / np.linalg.norm(expect.toarray())
    np.testing.assert_allclose(b.toarray(), expect, atol=1e-5)


def test_the_absolute_scale_makes_a_pairs_score_independent_of_the_filter(cache_dir):
    from matcher.constraints import Filters

    base = EngineConfig()
    cfg = replace(base, fusion=replace(base.fusion, scale="absolute"))
    eng = Engine(cfg, cache_dir=cache_dir).fit([FOOTWEAR_ROBOTS, FOOTWEAR_ROBOTS_EN], _firms())
    everyone = {m.company_id: m.score for m in eng.match_scenario("Q1", top_k=5)}
    jinjiang = eng.match_scenario("Q1", top_k=5, filters=Filters(city="晋江市"))
    assert {m.company_id for m in jinjiang} == {"shoe", "food"}
    for m in jinjiang:
        assert m.score == pytest.approx(everyone[m.company_id])
    # ... of the page, and of which scenarios a suggestion list holds
    assert eng.match_scenario("Q1", top_k=1)[0].score == pytest.approx(max(everyone.values()))
    sug = {m.scenario_id: m.score for m in eng.suggest("robot", top_k=2)}
    assert sug["Q1"] == pytest.approx(everyone["robot"])
    # the floor scale scales to the best candidate instead
    floor_cfg = replace(base, fusion=replace(base.fusion, scale="floor"))
    floor = Engine(floor_cfg, cache_dir=cache_dir).fit([FOOTWEAR_ROBOTS], _firms())
    best = floor.match_scenario("Q1", top_k=5, filters=Filters(city="晋江市"))
    assert best[0].parts["dense"] == pytest.approx(1.0)


def test_suggestions_stop_at_the_fit_threshold(engine, cache_dir):
    # by default the food maker is suggested neither robot scenario: both are below 0.2
    assert EngineConfig().suggest_min_score == 0.2 and engine.suggest("food", top_k=2) == []
    base = replace(EngineConfig(), suggest_min_score=0.0)
    cfg = replace(base, fusion=replace(base.fusion, scale="absolute"))
    eng = Engine(cfg, cache_dir=cache_dir).fit([FOOTWEAR_ROBOTS, FOOTWEAR_ROBOTS_EN], _firms())
    scores = sorted(m.score for m in eng.suggest("food", top_k=2))
    assert len(scores) == 2
    cut = (scores[0] + scores[1]) / 2
    strict = Engine(replace(cfg, suggest_min_score=cut), cache_dir=cache_dir).fit(
        [FOOTWEAR_ROBOTS, FOOTWEAR_ROBOTS_EN], _firms()
    )
    kept = strict.suggest("food", top_k=2)
    assert [m.score for m in kept] == pytest.approx([scores[1]])
    assert strict.suggest("food", top_k=2) == kept

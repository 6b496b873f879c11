"""Industry relation, constraints, duplicates and catalogue validation."""

import pytest

from matcher.catalogue import load_catalogue, load_companies_jsonl
from matcher.constraints import Filters, hard_failures, passes_filters, strength, structured_score
from matcher.dedupe import duplicate_groups, name_key
from matcher.errors import DataError
from matcher.industry import industry_table, relation
from matcher.types import Company, Scenario

from .conftest import FIXTURES, ROOT


@pytest.mark.parametrize(
    "firm, scen, level, score",
    [
        (["3841"], ["3841"], "class", 1.0),
        (["3842"], ["3841"], "group", 0.6),
        (["3824"], ["3841"], "division", 0.3),
        (["1951"], ["3841"], "none", 0.0),
        (["1951", "3841"], ["6513", "3841"], "class", 1.0),
    ],
)
def test_industry_relation_levels(firm, scen, level, score):
    rel, got = relation(firm, scen)
    assert rel.level == level and got == pytest.approx(score)


def test_inferred_codes_count_for_less_and_say_so():
    rel, got = relation(["3841"], ["3841"], inferred=True)
    assert rel.inferred and 0 < got < 1.0


def test_industry_table_names():
    t = industry_table()
    assert t.name("3841") == "锂离子电池制造" and t.name("C") and len(t.classes()) == 1380


def _scen(**kw):
    return Scenario(id="S", title_zh="t", description_zh="d", **kw)


def test_hard_constraints():
    s = _scen(space_offered_m2=10000, investment_min_yi=2)
    ok = Company(id="a", name="a", description="d", space_needed_m2=8000, intended_investment_yi=3)
    big = Company(
        id="b", name="b", description="d", space_needed_m2=12000, intended_investment_yi=1
    )
    unknown = Company(id="c", name="c", description="d")
    assert hard_failures(s, ok) == [] and hard_failures(s, unknown) == []
    lines = hard_failures(s, big)
    assert len(lines) == 2 and "12,000" in lines[0] and "10,000" in lines[0] and "2" in lines[1]
    assert "offers" in hard_failures(s, big, lang="en")[0]


def test_strength_and_structured_are_bounded_and_ordered():
    weak = Company(id="w", name="w", description="d", registered_capital_wan=50)
    strong = Company(
        id="s",
        name="s",
        description="d",
        registered_capital_wan=200000,
        listed=True,
        certifications=("高新技术企业",),
    )
    assert 0 <= strength(weak) < strength(strong) <= 1
    s = _scen(chain_position="midstream", preferred_certifications=("高新技术企业",))
    assert structured_score(s, strong) > structured_score(s, weak)


def test_filters():
    c = Company(
        id="a",
        name="a",
        description="d",
        city="晋江",
        registered_capital_wan=500,
        space_needed_m2=3000,
        chain_position="service",
        certifications=("ISO9001",),
    )
    assert passes_filters(
        c, ["6513"], Filters(industry_prefix="65", city="晋江", min_capital_wan=100)
    )
    assert not passes_filters(c, ["6513"], Filters(industry_prefix="38"))
    assert not passes_filters(c, ["6513"], Filters(space_max_m2=2000))
    assert not passes_filters(c, ["6513"], Filters(certifications=("高新技术企业",)))
    assert Filters().is_empty()


def test_name_key_and_duplicate_groups():
    assert name_key("泉州市恒信鞋材科技有限公司") == name_key("泉州恒信鞋材科技有限公司")
    assert name_key("Helio Storage GmbH") == name_key("HELIO STORAGE")
    firms = [
        Company(id="F2", name="泉州市恒信鞋材科技有限公司", description="d"),
        Company(id="F1", name="泉州恒信鞋材科技有限公司", description="d"),
        Company(id="F3", name="别的公司", description="d", credit_code="91350100M000100Y43"),
        Company(id="F4", name="另一个名字", description="d", credit_code="91350100M000100Y43"),
        Company(id="F5", name="泉州恒信食品有限公司", description="d"),
    ]
    g = duplicate_groups(firms)
    assert g["F1"] == g["F2"] == "F1" and g["F3"] == g["F4"] == "F3" and g["F5"] == "F5"


def _partition(groups):
    members = {}
    for cid, g in groups.items():
        members.setdefault(g, set()).add(cid)
    return {frozenset(m) for m in members.values()}


def test_firms_added_one_by_one_join_the_groups_a_rebuild_finds(data_companies):
    """Adding firms links each to its code, its key and its sorted neighbours; every pair a
    rebuild groups is grouped (on the bundled data, exactly the same groups), and the
    representative is the smallest id either way."""
    from matcher.dedupe import DuplicateIndex

    firms = list(data_companies)
    extra = [
        Company(id="Z1", name=firms[0].name + " 有限公司", description="d"),
        Company(id="Z2", name="别的名字", description="d", credit_code=firms[3].credit_code),
    ]
    firms += extra
    full = duplicate_groups(firms)
    index = DuplicateIndex()
    index.rebuild(firms[:100])
    absorbed = []
    for c in firms[100:]:
        absorbed += index.add([c])
    grown = {c.id: index.group(c.id) for c in firms}
    assert _partition(grown) == _partition(full)
    assert grown == full
    assert grown["Z1"] == grown[firms[0].id] and grown["Z2"] == grown[firms[3].id]
    assert all(grown[a] != a for a in absorbed)
    with pytest.raises(ValueError, match="already grouped"):
        index.add([firms[0]])


def test_engine_groups_follow_additions_and_renames(small_catalogue, small_companies, cache_dir):
    from dataclasses import replace

    from matcher.engine import Engine

    engine = Engine(cache_dir=cache_dir).fit(small_catalogue.opportunities, small_companies[:3])
    for c in small_companies[3:]:
        engine.add_companies([c])
    fresh = Engine(cache_dir=cache_dir).fit(small_catalogue.opportunities, small_companies)
    assert _partition(engine.corpus.groups) == _partition(fresh.corpus.groups)
    assert {g: set(m) for g, m in engine.corpus.group_members.items()} == {
        g: set(m) for g, m in fresh.corpus.group_members.items()
    }
    grouped = next(m for m in fresh.corpus.group_members.values() if len(m) > 1)
    engine.add_companies(
        [replace(engine.companies_[grouped[1]].company, name="完全不同的名字公司")]
    )
    assert engine.corpus.groups[grouped[1]] == grouped[1]  # a rename regroups: it left its group


def test_bundled_catalogue_is_valid_13_28():
    cat = load_catalogue(ROOT / "data" / "scenarios.yaml")
    assert len(cat.composites) == 13 and len(cat.opportunities) == 28
    assert all(100 <= len(s.description_zh) <= 400 for s in cat.opportunities)
    assert all(cat.children(c.id) for c in cat.composites)


def test_catalogue_errors_name_the_field(tmp_path):
    text = (FIXTURES / "catalogue_small.yaml").read_text("utf-8")
    cases = {
        "parent_id: C2": ("parent_id: C9", "parent_id 'C9'"),
        "value_yi: 5": ("value_yi: -5", "value_yi"),
        "id: S2": ("id: S1", "appears twice"),
    }
    for old, (new, needle) in cases.items():
        bad = tmp_path / "c.yaml"
        bad.write_text(text.replace(old, new, 1), "utf-8")
        with pytest.raises(DataError, match=needle):
            load_catalogue(bad)
    bad.write_text("composites: [", "utf-8")
    with pytest.raises(DataError, match="cannot parse"):
        load_catalogue(bad)


def test_company_jsonl_errors(tmp_path):
    p = tmp_path / "c.jsonl"
    p.write_text(
        '{"id": "a", "name": "n", "description": "d"}\n{"id": "a", "name": "m", "description": "e"}\n'
    )
    with pytest.raises(DataError, match="line 2: duplicate id 'a'"):
        load_companies_jsonl(p)
    p.write_text('{"id": "a", "name": "n", "description": "d", "employees": -1}\n')
    with pytest.raises(DataError, match="line 1: employees"):
        load_companies_jsonl(p)
    p.write_text('{"id": "a", "name": "n", "description": "d", "credit_code": "123"}\n')
    with pytest.raises(DataError, match="credit_code"):
        load_companies_jsonl(p)


def test_without_collapsing_every_firm_is_its_own_group(
    small_catalogue, small_companies, cache_dir
):
    from dataclasses import replace

    from matcher.config import EngineConfig
    from matcher.engine import Engine

    cfg = replace(EngineConfig(), collapse_duplicates=False)
    engine = Engine(cfg, cache_dir=cache_dir).fit(small_catalogue.opportunities, small_companies)
    engine.add_companies([replace(small_companies[0], id="COPY")])
    ids = [c.id for c in small_companies] + ["COPY"]
    assert engine.corpus.groups == {i: i for i in ids}
    assert engine.corpus.group_members == {i: [i] for i in ids}
    shown = [m.company_id for m in engine.match_scenario("S1", top_k=20)]
    assert small_companies[0].id in shown and "COPY" in shown

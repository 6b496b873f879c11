"""End-to-end quality on the bundled labelled dev set: a broken ranker fails these bars.

The bars sit well under what the engine measures (see docs/quality.md) and far above the
random baseline; they catch a ranker that lost a signal, not a 1-point regression.
"""

import random

import pytest

from matcher.evaluate import evaluate_run, load_qrels_csv

from .conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def qrels():
    return load_qrels_csv(ROOT / "data" / "eval" / "labels.csv")


@pytest.fixture(scope="module")
def fusion_run(data_engine, qrels):
    from dataclasses import replace

    cfg = data_engine.config
    view = data_engine.reconfigured(
        replace(cfg, constraints=replace(cfg.constraints, match_closed=True))
    )
    return {
        sid: [m.company_id for m in view.match_scenario(sid, top_k=50)]
        for sid in qrels
        if sid in data_engine.scenarios_
    }


def test_every_scenario_is_labelled(data_catalogue, qrels):
    assert {s.id for s in data_catalogue.opportunities} <= set(qrels)


def test_fusion_clears_the_bar(fusion_run, qrels):
    m = evaluate_run(fusion_run, qrels)
    assert m.queries == 28
    assert m.ndcg_at_10 >= 0.85
    assert m.recall_at_50 >= 0.75
    assert m.mrr >= 0.9


def test_a_broken_ranker_fails_the_same_bar(fusion_run, qrels, data_companies):
    ids = [c.id for c in data_companies]
    rng = random.Random(0)
    shuffled = {sid: rng.sample(ids, 50) for sid in fusion_run}
    assert evaluate_run(shuffled, qrels).ndcg_at_10 < 0.2
    # a ranker that lost its best firms (top 5 dropped) falls below the bar too
    beheaded = {sid: run[5:] for sid, run in fusion_run.items()}
    assert evaluate_run(beheaded, qrels).ndcg_at_10 < 0.85


def test_english_firms_reach_chinese_scenarios(data_engine, qrels):
    """Every English-language firm labelled 2 for a scenario is found in that scenario's top 50."""
    from matcher.normalise import detect_language

    found = total = 0
    for sid, grades in qrels.items():
        if sid not in data_engine.scenarios_ or not data_engine.scenarios_[sid].scenario.is_open:
            continue
        top = {m.company_id for m in data_engine.match_scenario(sid, top_k=50)}
        for cid, g in grades.items():
            st = data_engine.companies_.get(cid)
            if g == 2 and st is not None and detect_language(st.company.description) == "en":
                total += 1
                found += cid in top
    assert total >= 20
    assert found / total >= 0.8

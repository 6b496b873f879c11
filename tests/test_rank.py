"""The ranking step (matcher/rank.py) on hand-made parts: order, ties, pins, filter mode,
duplicates, and the Match records it builds."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from matcher.rank import Ranker
from matcher.types import Reason


def _pairs(engine, ids, sid="S1"):
    st = engine.scenarios_[sid]
    return [(st, engine.companies_[i]) for i in ids]


def _raw(dense, n):
    z = np.zeros(n)
    return {"dense": np.array(dense, float), "lexical": z, "keyword": z, "industry": z,
            "structured": z}  # fmt: skip


def test_order_is_score_then_firm_id_and_pins_come_first(small_engine):
    ids = ["T05", "T02", "T09", "T01"]
    ranking = Ranker(small_engine.config, small_engine.corpus, small_engine.explainer)
    pairs = _pairs(small_engine, ids)
    fused = ranking.fuse(pairs, _raw([0.2, 0.5, 0.5, 0.9], 4), [[]] * 4)
    chosen = ranking.order(pairs, fused, top_k=4, collapse=False)
    assert [ids[i] for i in chosen] == ["T01", "T02", "T09", "T05"]  # tie: T02 before T09
    pinned = ranking.order(pairs, fused, top_k=2, collapse=False, pinned=["T05"])
    assert [ids[i] for i in pinned] == ["T05", "T01"]


def test_filter_mode_drops_failing_pairs_and_flag_mode_subtracts_the_penalty(small_engine):
    ids = ["T01", "T02"]
    pairs = _pairs(small_engine, ids)
    fails = [[Reason("space_exceeds", {"need": 2.0, "offered": 1.0})], []]
    flag = Ranker(small_engine.config, small_engine.corpus, small_engine.explainer)
    matches = flag.rank(pairs, _raw([0.9, 0.5], 2), fails, top_k=5, collapse=False)
    penalty = small_engine.config.constraints.penalty
    by_id = {m.company_id: m for m in matches}
    assert by_id["T01"].penalty == penalty
    assert by_id["T01"].score == sum(by_id["T01"].contributions.values()) - penalty
    cfg = small_engine.config
    cfg = replace(cfg, constraints=replace(cfg.constraints, mode="filter"))
    drop = Ranker(cfg, small_engine.corpus, small_engine.explainer)
    kept = drop.rank(pairs, _raw([0.9, 0.5], 2), fails, top_k=5, collapse=False)
    assert [m.company_id for m in kept] == ["T02"] and kept[0].rank == 1


def test_collapse_keeps_the_best_entry_of_a_duplicate_group(small_engine):
    corpus = small_engine.corpus
    group = next(m for m in corpus.group_members.values() if len(m) > 1)
    others = [i for i in corpus.companies if i not in group][:2]
    ids = [*group, *others]
    pairs = _pairs(small_engine, ids)
    ranking = Ranker(small_engine.config, corpus, small_engine.explainer)
    dense = np.linspace(0.9, 0.1, len(ids))
    out = ranking.rank(pairs, _raw(dense, len(ids)), [[]] * len(ids), top_k=10, collapse=True)
    assert [m.company_id for m in out] == [group[0], *others]
    assert set(out[0].duplicates) == set(group[1:])

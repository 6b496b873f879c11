"""The nightly snapshot ranks with the live ranking code: on a set small enough that retrieval
is exhaustive, each scenario's top N and each firm's top M in the snapshot are exactly what
``match_scenario`` and ``suggest`` return, for each fusion method, each constraint mode, with
and without a learned re-ranker."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from matcher.batch import BatchConfig, BatchInput, read_snapshot, run_nightly
from matcher.config import EngineConfig
from matcher.constraints import Controls
from matcher.engine import Engine
from matcher.ltr import LearnedRanker, LtrConfig, TrainingSet, train, vocabularies

N_FIRMS = 120  # fewer than the engine's and the batch's candidates: retrieval is exhaustive


def _ranker(scenarios, companies, folder) -> LearnedRanker:
    """A model trained on synthetic pairs whose label follows the dense part and a city."""
    cities, families = vocabularies(scenarios, companies, 30)
    width = 13 + len(cities) + len(families)
    rng = np.random.default_rng(3)
    sids, cids, rows, labels = [], [], [], []
    for s in range(6):
        for c in range(30):
            x = np.zeros(width, np.float32)
            x[0] = rng.random()
            x[13 + (c % len(cities))] = 1.0
            sids.append(f"S{s}")
            cids.append(f"F{c}")
            rows.append(x)
            labels.append(int(4 * x[0]) if c % len(cities) else 4)
    x = np.vstack(rows)
    data = TrainingSet(sids, cids, x, np.array(labels), fused=np.zeros(len(labels)))
    model, _ = train(data, cities, families, LtrConfig(min_pairs=20))
    assert model is not None and model.score_range is not None
    model.save(folder / "synthetic")
    (folder / "CURRENT.json").write_text(json.dumps({"version": "synthetic"}))
    return model


@pytest.mark.parametrize("learned", [False, True], ids=["plain", "learned"])
@pytest.mark.parametrize("mode", ["flag", "filter"])
@pytest.mark.parametrize("method", ["convex", "rrf"])
def test_snapshot_rows_equal_the_live_ranking(
    tmp_path, data_catalogue, data_companies, cache_dir, method, mode, learned
):
    scenarios = list(data_catalogue.opportunities)
    companies = list(data_companies)[:N_FIRMS]
    engine_cfg = EngineConfig()
    engine_cfg = replace(
        engine_cfg,
        fusion=replace(engine_cfg.fusion, method=method),
        constraints=replace(engine_cfg.constraints, mode=mode),
    )
    cfg = BatchConfig(top_n=15, top_m=4, block_size=40, candidates=300, learn=False)
    cfg = replace(cfg, engine=engine_cfg)
    models = tmp_path / "models"
    models.mkdir()
    model = _ranker(scenarios, companies, models) if learned else None
    open_ids = sorted(s.id for s in scenarios if s.is_open)
    ids = sorted(c.id for c in companies)
    controls = {open_ids[0]: Controls(pinned=(ids[7],), excluded=(ids[2], ids[3]))}
    result = run_nightly(
        BatchInput(scenarios, companies, controls=controls), tmp_path / "w", models, cache_dir, cfg
    )

    live = Engine.load(result.index_dir, cache_dir=cache_dir)
    live.ranker = LearnedRanker.load(models / "synthetic") if model else None
    snap = read_snapshot(result.snapshot_dir)
    assert sorted(snap["scenarios"]) == open_ids
    for sid in open_ids:
        want = live.match_scenario(sid, cfg.top_n, controls=controls.get(sid))
        got = snap["scenarios"][sid]["matches"]
        assert [(m["company_id"], m["score"]) for m in got] == [
            (m.company_id, round(m.score, 6)) for m in want
        ], sid
        assert ("learned" in got[0]["parts"]) == learned
    firm_rows = [
        json.loads(line)
        for line in (result.snapshot_dir / "companies.jsonl").read_text("utf-8").splitlines()
    ]
    assert [r["company_id"] for r in firm_rows] == ids
    hidden = {(sid, cid) for sid, c in controls.items() for cid in c.excluded}
    for row in firm_rows:
        cid = row["company_id"]
        want = [m for m in live.suggest(cid, 30) if (m.scenario_id, cid) not in hidden]
        want = want[: cfg.top_m]
        # the batch computes the block's similarities as one matrix product, suggest one
        # firm's: float32 sums may differ in the last bit
        assert [e["scenario_id"] for e in row["scenarios"]] == [m.scenario_id for m in want], cid
        for e, m in zip(row["scenarios"], want, strict=True):
            assert e["score"] == pytest.approx(m.score, abs=2e-6)
            assert e["contributions"] == pytest.approx(m.contributions, abs=2e-6)
    if mode == "filter":  # no failing pair anywhere in the snapshot
        assert all(m["penalty"] == 0 for r in snap["scenarios"].values() for m in r["matches"])
        assert all(e["penalty"] == 0 for r in firm_rows for e in r["scenarios"])


def test_learned_part_depends_on_the_candidates_only_through_the_best_ones(
    tmp_path, data_catalogue, data_companies, cache_dir
):
    """Dense and lexical reach 1 at the best candidate; the learned part is scaled by the
    model's fixed range, so with the best candidates present a pair scores the same whatever
    the other candidates are (before, min-max over the candidates moved it)."""
    scenarios = list(data_catalogue.opportunities)
    companies = list(data_companies)[:N_FIRMS]
    engine = Engine(cache_dir=cache_dir).fit(scenarios, companies)
    model = _ranker(scenarios, companies, tmp_path)
    engine.ranker = model
    sid = next(s.id for s in scenarios if s.is_open)
    ids, raw, _ = engine.score_parts(sid)
    best = {ids[int(np.argmax(raw["dense"]))], ids[int(np.argmax(raw["lexical"]))]}
    subset = sorted(best | set(ids[::3]))
    whole = {m.company_id: m for m in engine.match_scenario(sid, 200)}
    some = engine.match_scenario(sid, 200, candidate_ids=subset)
    assert len(some) == len(subset)
    for m in some:
        assert m.parts["learned"] == whole[m.company_id].parts["learned"]
        assert m.score == pytest.approx(whole[m.company_id].score, abs=1e-12)
    assert len({round(m.parts["learned"], 6) for m in some}) > 3  # the part varies

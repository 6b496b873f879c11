"""Learning to rank: labels, split, metric, model round trip."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matcher.errors import DataError
from matcher.ltr import (
    LearnedRanker,
    LtrConfig,
    TrainingSet,
    grades_from_feedback,
    heldout_split,
    mean_ndcg,
    train,
)


def test_latest_stage_is_the_grade():
    events = [
        ("S1", "A", "shortlisted"),
        ("S1", "A", "visited"),
        ("S1", "B", "signed"),
        ("S1", "B", "rejected"),
    ]
    assert grades_from_feedback(events) == {("S1", "A"): 3, ("S1", "B"): 0}
    with pytest.raises(DataError, match="married"):
        grades_from_feedback([("S1", "A", "married")])


def test_heldout_split_is_stable_and_near_the_share():
    pairs = [(f"S{i % 7}", f"F{i}") for i in range(4000)]
    held = heldout_split(pairs, 0.25)
    assert held == heldout_split(list(reversed(pairs)), 0.25)
    assert 0.22 < len(held) / len(pairs) < 0.28


def test_mean_ndcg_matches_a_hand_computed_value():
    # scores rank the pairs c, a, b with grades 0, 2, 1; ideal is 2, 1, 0
    dcg = 0 / math.log2(2) + (2**2 - 1) / math.log2(3) + (2**1 - 1) / math.log2(4)
    idcg = (2**2 - 1) / math.log2(2) + (2**1 - 1) / math.log2(3)
    got = mean_ndcg({"S1": ([0.5, 0.1, 0.9], [2, 1, 0])}, k=10)
    assert got == pytest.approx(dcg / idcg)


def _toy(n_scen: int = 6, per: int = 20, seed: int = 0) -> TrainingSet:
    rng = np.random.default_rng(seed)
    sids, cids, rows, labels = [], [], [], []
    for s in range(n_scen):
        for c in range(per):
            good = rng.random() < 0.3
            x = np.zeros(15, np.float32)
            x[0] = rng.random()
            x[13] = 1.0 if good else 0.0  # a one-hot the label depends on
            sids.append(f"S{s}")
            cids.append(f"F{s}-{c}")
            rows.append(x)
            labels.append(4 if good else 0)
    x = np.vstack(rows)
    return TrainingSet(
        sids=sids, cids=cids, x=x, labels=np.array(labels), fused=x[:, 0].astype(np.float64)
    )


def test_train_learns_a_signal_the_fusion_misses_and_round_trips(tmp_path):
    data = _toy()
    cities, families = ["A", "(other)"], []
    model, report = train(data, cities, families, LtrConfig(min_pairs=20))
    assert model is not None and report["ndcg_new"] > report["ndcg_current"]
    model.save(tmp_path / "m")
    loaded = LearnedRanker.load(tmp_path / "m")
    assert loaded.feature_names == model.feature_names
    np.testing.assert_allclose(loaded.predict(data.x), model.predict(data.x))
    assert "held-out nDCG@10" in (tmp_path / "m" / "CARD.md").read_text()


def test_too_little_feedback_trains_nothing():
    model, report = train(_toy(n_scen=1, per=10), ["(other)"], [], LtrConfig())
    assert model is None and "too little feedback" in report["skipped"]


def test_the_learned_part_is_scaled_by_the_training_range_and_round_trips(tmp_path):
    data = _toy()
    model, _ = train(data, ["Ho Chi Minh City, Vietnam", "(other)"], [], LtrConfig(min_pairs=20))
    assert model is not None and model.score_range is not None  # a comma in a city trains
    lo, hi = model.score_range
    pred = model.predict(data.x)
    assert lo >= pred.min() - 1e-12 and hi <= pred.max() + 1e-12
    np.testing.assert_allclose(
        model.scale(np.array([lo, (lo + hi) / 2, hi, hi + 5, lo - 5])), [0, 0.5, 1, 1, 0]
    )
    # a pair's part is the same alone or among others (min-max would give 0 alone)
    assert model.scale(np.array([hi]))[0] == 1.0 and model.scale(np.array([lo + hi]) / 2)[0] > 0
    model.save(tmp_path / "m")
    assert LearnedRanker.load(tmp_path / "m").score_range == model.score_range
    old = LearnedRanker(model.booster_text, model.cities, model.families, 0.5)
    np.testing.assert_allclose(old.scale(np.array([1.0, 3.0, 2.0])), [0, 1, 0.5])  # min-max

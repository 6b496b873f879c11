import numpy as np
import pytest

from matcher.evaluate import ndcg_at_k
from matcher.tune import _grid, _ideal, fast_ndcg


def test_fast_ndcg_agrees_with_reference_metric():
    rng = np.random.default_rng(0)
    ids = [f"c{i}" for i in range(40)]
    grades = rng.integers(0, 3, size=40).astype(float)
    qrels = {i: int(g) for i, g in zip(ids, grades, strict=True) if g > 0}
    qrels["outside"] = 2  # a relevant firm not among the candidates still counts in the ideal
    for _ in range(5):
        scores = rng.random(40)
        ranked = [ids[i] for i in np.argsort(-scores, kind="stable")]
        got = fast_ndcg(scores, grades, _ideal(list(qrels.values())))
        assert got == pytest.approx(ndcg_at_k(ranked, qrels, k=10))


def test_grid_sums_to_total():
    grid = _grid(0.25, 0.95)
    assert all(sum(w) == pytest.approx(0.95) for w in grid)
    assert len(grid) == len(set(grid))


def test_default_weights_are_the_tuned_ones():
    import json

    from matcher.config import FusionConfig

    from .conftest import ROOT

    card = json.loads((ROOT / "models" / "fusion" / "weights.json").read_text())
    assert FusionConfig().weights == pytest.approx(card["weights"])


@pytest.mark.slow
def test_tune_weights_end_to_end(data_catalogue, data_companies, data_engine):
    from matcher.config import EngineConfig
    from matcher.evaluate import load_qrels_csv
    from matcher.fuse import minmax
    from matcher.tune import tune_weights

    from .conftest import ROOT

    qrels = load_qrels_csv(ROOT / "data" / "eval" / "labels.csv")
    res = tune_weights(
        data_catalogue.opportunities,
        data_companies,
        qrels,
        EngineConfig(),
        folds=3,
        step=0.25,
        cutoff=50,
        engine=data_engine,
    )
    assert sum(res.weights.values()) == pytest.approx(1.0)
    assert res.folds == 3 and len(res.fold_ndcg) == 3 and res.scenarios == 28
    assert res.cv_ndcg > 0.8
    # the single-part baseline in the card is the plain metric of ranking by that part alone
    scores = []
    for sid in qrels:
        ids, raw, fails = data_engine.score_parts(sid)
        pen = data_engine.config.constraints.penalty
        s = minmax(raw["lexical"]) - np.array([pen if f else 0.0 for f in fails])
        ranked = [ids[i] for i in np.lexsort((np.arange(len(ids)), -s))]
        scores.append(ndcg_at_k(ranked, qrels[sid], k=50))
    assert res.single_part_ndcg["lexical"] == pytest.approx(np.mean(scores))

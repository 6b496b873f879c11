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
    assert all(sum(w) == pytest.approx(1.0, abs=0.05) for w in grid)
    assert len(grid) == len(set(grid))


def test_default_weights_are_the_tuned_ones():
    import json

    from matcher.config import FusionConfig

    from .conftest import ROOT

    card = json.loads((ROOT / "models" / "fusion" / "weights.json").read_text())
    assert FusionConfig().weights == pytest.approx(card["weights"])

"""The ANN benchmark's own machinery: vector expansion, exact ground truth, recall points and
the faiss systems (the peers need the ``[bench]`` extra and are not tested here)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from bench.ann import run  # noqa: E402


def clustered(n: int, d: int = 32, centres: int = 20, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, d))
    x = c[rng.integers(0, centres, n)] + 0.3 * rng.standard_normal((n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_expand_keeps_the_real_vectors_and_matches_their_neighbour_cosine():
    real = clustered(500)
    out, sigma = run.expand(real, 3000)
    assert out.shape == (3000, real.shape[1]) and np.array_equal(out[:500], real)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    target = run.nn_cosine_median(real)
    # each synthetic vector's best cosine to a real one sits near the real NN cosine
    best = (out[500:] @ real.T).max(axis=1)
    assert abs(float(np.median(best)) - target) < 0.03
    assert sigma > 0
    same, none = run.expand(real, 200)
    assert np.array_equal(same, real[:200]) and none == 0.0


def test_exact_top_equals_a_full_sort():
    base, queries = clustered(700, seed=1), clustered(30, seed=2)
    got = run.exact_top(base, queries, 20)
    want = np.argsort(-(queries @ base.T), axis=1, kind="stable")[:, :20]
    assert np.array_equal(got, want)


def test_at_recall_picks_the_fastest_point_that_reaches_the_target():
    points = [
        {"param": 1, "recall": 0.90, "p50_ms": 0.1},
        {"param": 2, "recall": 0.96, "p50_ms": 0.3},
        {"param": 3, "recall": 0.995, "p50_ms": 0.2},
    ]
    assert run.at_recall(points, 0.95)["param"] == 3  # faster and above the target
    assert run.at_recall(points, 0.99)["param"] == 3
    assert run.at_recall(points, 0.999) is None


@pytest.mark.parametrize("name", ["faiss-flat", "faiss-ivf", "faiss-hnsw"])
def test_faiss_systems_reach_high_recall_against_brute_force(name):
    base, queries = clustered(3000, seed=3), clustered(50, seed=4)
    truth = run.exact_top(base, queries, run.K)
    system = run.SYSTEMS[name]()
    system.build(base)
    points = run.sweep(system, queries, truth)
    assert points[-1]["recall"] >= 0.99
    assert all(p["p50_ms"] > 0 and p["p99_ms"] >= p["p50_ms"] for p in points)
    if name == "faiss-flat":
        assert points[0]["recall"] == 1.0
    assert system.size_mb() >= base.nbytes / 2**20 * 0.99

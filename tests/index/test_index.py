"""faiss backends checked against numpy brute force."""

import numpy as np
import pytest

from matcher.config import IndexConfig
from matcher.index import create_index, load_index
from matcher.index.numpy_index import NumpyIndex


def _unit(rng, n, d):
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _brute(vecs, ids, q, k):
    sims = q @ vecs.T
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(sims, order, axis=1), ids[order]


@pytest.mark.parametrize("backend", ["flat", "ivf", "numpy"])
def test_search_matches_brute_force(backend):
    rng = np.random.default_rng(0)
    vecs = _unit(rng, 500, 32)
    ids = np.arange(1000, 1500, dtype=np.int64)
    index = create_index(IndexConfig(backend=backend), 32)
    index.add(ids, vecs)
    q = _unit(rng, 7, 32)
    scores, got = index.search(q, 10)
    exp_scores, exp_ids = _brute(vecs, ids, q, 10)
    np.testing.assert_allclose(scores, exp_scores, rtol=1e-5, atol=1e-5)
    assert (got == exp_ids).all()


def test_ivf_is_approximate_above_threshold_with_high_recall():
    rng = np.random.default_rng(1)
    # clustered data, as real embeddings are: random unit vectors give ANN no structure
    centres = _unit(rng, 40, 32)
    vecs = centres[rng.integers(0, 40, 4000)] + 0.15 * rng.standard_normal((4000, 32)).astype(
        np.float32
    )
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = np.arange(4000, dtype=np.int64)
    index = create_index(IndexConfig(backend="ivf", exact_below=1000, ivf_nprobe=8), 32)
    index.add(ids, vecs)
    q = vecs[:50] + 0.05 * rng.standard_normal((50, 32)).astype(np.float32)
    _, got = index.search(q, 20)
    assert index._trained  # type: ignore[attr-defined]
    _, exp = _brute(vecs, ids, q, 20)
    recall = np.mean([len(set(a) & set(b)) / 20 for a, b in zip(got, exp, strict=True)])
    assert recall >= 0.9


@pytest.mark.parametrize("backend", ["flat", "ivf", "numpy"])
def test_update_and_remove_by_id(backend):
    rng = np.random.default_rng(2)
    vecs = _unit(rng, 20, 8)
    index = create_index(IndexConfig(backend=backend), 8)
    index.add(np.arange(20), vecs)
    # re-adding id 3 replaces its vector
    index.add([3], -vecs[3])
    assert len(index) == 20
    _, got = index.search(vecs[3:4], 20)
    assert got[0][-1] == 3
    assert index.remove([3, 4, 99]) == 2
    assert len(index) == 18
    _, got = index.search(vecs[4:5], 20)
    assert 3 not in got[0] and 4 not in got[0]
    assert (got[0][-2:] == -1).all()


@pytest.mark.parametrize("backend", ["flat", "ivf", "numpy"])
def test_save_and_load_round_trip(backend, tmp_path):
    rng = np.random.default_rng(3)
    vecs = _unit(rng, 50, 16)
    index = create_index(IndexConfig(backend=backend), 16)
    index.add(np.arange(50) * 7, vecs)
    index.save(tmp_path / "ix")
    loaded = load_index(tmp_path / "ix")
    q = _unit(rng, 3, 16)
    a, b = index.search(q, 5), loaded.search(q, 5)
    assert (a[1] == b[1]).all()
    np.testing.assert_allclose(a[0], b[0])


def test_wrong_dimension_is_refused():
    index = NumpyIndex(8)
    with pytest.raises(ValueError, match="dimension 4"):
        index.add([1], np.ones((1, 4), np.float32))


def test_unknown_backend_names_the_choices():
    with pytest.raises(ValueError, match="flat"):
        create_index(IndexConfig(backend="annoy"), 8)


def test_empty_index_returns_padding():
    index = create_index(IndexConfig(), 4)
    scores, ids = index.search(np.ones((1, 4), np.float32) / 2, 3)
    assert (ids == -1).all() and np.isinf(scores).all()

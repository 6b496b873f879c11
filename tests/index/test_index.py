"""faiss backends checked against numpy brute force."""

import numpy as np
import pytest

from matcher.config import IndexConfig
from matcher.errors import ConfigError
from matcher.index import create_index, load_index
from matcher.index.numpy_index import NumpyIndex


def _unit(rng, n, d):
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _clustered(rng, clusters, n, d=32):
    """Clustered unit vectors, as real embeddings are: random ones give ANN no structure."""
    centres = _unit(rng, clusters, d)
    vecs = centres[rng.integers(0, clusters, n)] + 0.15 * rng.standard_normal((n, d)).astype(
        np.float32
    )
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def _ivf_over_clusters(seed, clusters, n, nprobe, nq):
    """A trained IVF index over clustered vectors, and queries near some of them."""
    rng = np.random.default_rng(seed)
    vecs = _clustered(rng, clusters, n)
    ids = np.arange(n, dtype=np.int64)
    index = create_index(IndexConfig(backend="ivf", exact_below=1000, ivf_nprobe=nprobe), 32)
    index.add(ids, vecs)
    q = vecs[:nq] + 0.05 * rng.standard_normal((nq, 32)).astype(np.float32)
    return rng, vecs, ids, index, q


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
    _, vecs, ids, index, q = _ivf_over_clusters(1, 40, 4000, nprobe=8, nq=50)
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


@pytest.mark.parametrize("backend", ["flat", "numpy"])
def test_filtered_search_is_exact_over_the_allowed_ids(backend):
    rng = np.random.default_rng(5)
    vecs = _unit(rng, 800, 16)
    ids = np.arange(0, 1600, 2, dtype=np.int64)  # sparse ids: the mask is indexed by id
    index = create_index(IndexConfig(backend=backend), 16)
    index.add(ids, vecs)
    allowed = np.zeros(1500, dtype=bool)  # ids from 1500 on lie past the mask: not allowed
    allowed[rng.choice(ids[ids < 1500], 120, replace=False)] = True
    allowed[-1] = True  # id 1499 is odd: no vector, so nothing to find
    keep = (ids < len(allowed)) & allowed[np.minimum(ids, len(allowed) - 1)]
    q = _unit(rng, 5, 16)
    scores, got = index.search(q, 10, allowed)
    exp_scores, exp_ids = _brute(vecs[keep], ids[keep], q, 10)
    np.testing.assert_allclose(scores, exp_scores, rtol=1e-5, atol=1e-5)
    assert (got == exp_ids).all()
    # fewer allowed ids than k: padded, never a disallowed id
    few = np.zeros(1600, dtype=bool)
    few[ids[:3]] = True
    scores, got = index.search(q, 10, few)
    assert set(got[0][:3]) == set(ids[:3]) and (got[:, 3:] == -1).all()
    assert np.isneginf(scores[:, 3:]).all()


def test_filtered_ivf_search_keeps_recall_under_a_selective_filter():
    rng, vecs, ids, index, q = _ivf_over_clusters(6, 60, 6000, nprobe=4, nq=40)
    allowed = rng.random(6000) < 0.05  # one firm in twenty passes
    _, got = index.search(q, 20, allowed)
    assert index._trained  # type: ignore[attr-defined]
    assert allowed[got[got >= 0]].all()
    _, exp = _brute(vecs[allowed], ids[allowed], q, 20)
    recall = np.mean([len(set(a) & set(b)) / 20 for a, b in zip(got, exp, strict=True)])
    # without widening nprobe the 4 probed lists hold about 20 allowed vectors in all
    assert recall >= 0.95


def test_filter_widening_sets_how_many_lists_a_filtered_search_probes(tmp_path):
    """``nprobe / s**w`` lists for a filter passing a share ``s``: 4 / 0.05 = 80 with w = 1,
    ceil(4 / 0.05**0.5) = 18 with w = 0.5, 4 with w = 0; the setting survives a save."""
    import faiss

    rng, vecs, ids, index, q = _ivf_over_clusters(6, 60, 6000, nprobe=4, nq=10)
    allowed = np.zeros(6000, dtype=bool)
    allowed[rng.choice(6000, 300, replace=False)] = True  # exactly 5 %
    index.search(q, 20, allowed)  # trains
    probed = {}
    for w in (1.0, 0.5, 0.0):
        index.filter_widening = w  # type: ignore[attr-defined]
        faiss.cvar.indexIVF_stats.reset()
        index.search(q, 20, allowed)
        probed[w] = faiss.cvar.indexIVF_stats.nlist / len(q)
    assert probed == {1.0: 80, 0.5: 18, 0.0: 4}
    index.filter_widening = 0.5  # type: ignore[attr-defined]
    index.save(tmp_path / "ivf")
    assert load_index(tmp_path / "ivf").filter_widening == 0.5  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="between 0 and 1"):
        IndexConfig(ivf_filter_widening=1.5)


def test_sq8_storage_keeps_recall_at_a_quarter_of_the_memory(tmp_path):
    rng = np.random.default_rng(7)
    vecs = _clustered(rng, 40, 4000)
    ids = np.arange(4000, dtype=np.int64)
    q = vecs[:50] + 0.05 * rng.standard_normal((50, 32)).astype(np.float32)
    _, exp = _brute(vecs, ids, q, 20)
    for storage in ("flat", "sq8"):
        cfg = IndexConfig(backend="ivf", exact_below=1000, ivf_nprobe=8, ivf_storage=storage)
        index = create_index(cfg, 32)
        index.add(ids, vecs)
        _, got = index.search(q, 20)
        recall = np.mean([len(set(a) & set(b)) / 20 for a, b in zip(got, exp, strict=True)])
        assert recall >= 0.9, (storage, recall)
        index.save(tmp_path / storage)
    sizes = {s: (tmp_path / s / "index.faiss").stat().st_size for s in ("flat", "sq8")}
    assert sizes["sq8"] < 0.4 * sizes["flat"]
    loaded = load_index(tmp_path / "sq8")
    assert loaded.storage == "sq8"  # type: ignore[attr-defined]
    assert (loaded.search(q, 20)[1] == index.search(q, 20)[1]).all()


def test_unknown_ivf_storage_is_refused():
    from matcher.errors import ConfigError

    with pytest.raises(ConfigError, match="sq8"):
        IndexConfig(backend="ivf", ivf_storage="pq")


def test_a_reserved_bulk_load_trains_for_its_whole_size_while_loading():
    """Told 30,000 vectors are coming, the IVF index trains once it has enough to train lists
    for 30,000 (64 per list) and puts the rest straight into them (the flat holding index never
    holds them all); without the announcement it waits for the first search."""
    n = 30_000
    rng = np.random.default_rng(8)
    vecs = _clustered(rng, 40, n)
    ids = np.arange(n, dtype=np.int64)
    cfg = IndexConfig(backend="ivf", exact_below=1000, ivf_nprobe=8)
    bulk, lazy = create_index(cfg, 32), create_index(cfg, 32)
    bulk.reserve(n)
    trained_at = None
    for lo in range(0, n, 1000):
        bulk.add(ids[lo : lo + 1000], vecs[lo : lo + 1000])
        lazy.add(ids[lo : lo + 1000], vecs[lo : lo + 1000])
        if trained_at is None and bulk._trained:  # type: ignore[attr-defined]
            trained_at = lo + 1000
    nlist = int(2 * np.sqrt(n))
    assert trained_at == -(-nlist * 64 // 1000) * 1000  # the first step with 64 per list
    assert not lazy._trained  # type: ignore[attr-defined]
    assert bulk._index.nlist == nlist  # type: ignore[attr-defined]
    assert len(bulk) == n
    q = vecs[:50] + 0.05 * rng.standard_normal((50, 32)).astype(np.float32)
    _, exp = _brute(vecs, ids, q, 20)
    _, got = bulk.search(q, 20)
    recall = np.mean([len(set(a) & set(b)) / 20 for a, b in zip(got, exp, strict=True)])
    assert recall >= 0.9

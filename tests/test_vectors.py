"""The engine's vector store: rows by id, growth, float16 rounding."""

import numpy as np
import pytest

from matcher.vectors import VectorStore


def test_rows_come_back_by_id_through_growth_and_replacement():
    rng = np.random.default_rng(0)
    store = VectorStore(8)
    a = rng.standard_normal((5, 8)).astype(np.float32)
    store.put([0, 1, 2, 3, 4], a)
    b = rng.standard_normal((3, 8)).astype(np.float32)
    store.put([5000, 2, 7], b)  # grows past the first allocation; replaces id 2
    np.testing.assert_array_equal(store.rows([4, 5000, 2, 0]), np.stack([a[4], b[0], b[1], a[0]]))
    np.testing.assert_array_equal(store.span(0, 2), a[:2])
    np.testing.assert_array_equal(store.row(7), b[2])
    assert store.rows([1]).dtype == np.float32


def test_float16_halves_the_memory_and_keeps_cosines_within_1e_3():
    rng = np.random.default_rng(1)
    v = rng.standard_normal((2000, 64)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    full, half = VectorStore(64), VectorStore(64, "float16")
    full.put(np.arange(2000), v)
    half.put(np.arange(2000), v)
    assert half.nbytes * 2 == full.nbytes
    q = v[:10]
    err = np.abs(half.rows(np.arange(2000)) @ q.T - full.rows(np.arange(2000)) @ q.T).max()
    assert 0 < err < 1e-3


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="dtype"):
        VectorStore(4, "int8")
    with pytest.raises(ValueError, match="zero or more"):
        VectorStore(4).put([-1], np.zeros((1, 4), np.float32))


def test_reserve_allocates_once_and_keeps_the_rows():
    store = VectorStore(4)
    store.put([0, 1], np.eye(4, dtype=np.float32)[:2])
    store.reserve(10_000)
    before = store._rows
    store.put(np.arange(2, 9_999), np.ones((9_997, 4), np.float32))
    assert store._rows is before  # no reallocation within the reserved size
    np.testing.assert_array_equal(store.rows([0, 1, 500]), [[1, 0, 0, 0], [0, 1, 0, 0], [1] * 4])

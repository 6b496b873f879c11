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


def test_a_large_store_grows_by_chunks_and_reads_and_saves_as_one(monkeypatch, tmp_path):
    """Past the copy-growth size new rows go to chunks (no copy of the matrix); gathers,
    spans across the boundary, replacements and the saved file read as one matrix would."""
    import matcher.vectors as vectors_mod

    monkeypatch.setattr(vectors_mod, "CHUNK_ROWS", 4)
    monkeypatch.setattr(vectors_mod, "COPY_GROWTH_BYTES", 10 * 8 * 2)  # 10 float16 rows of 8
    rng = np.random.default_rng(3)
    store = VectorStore(8, "float16")
    ref = rng.standard_normal((30, 8)).astype(np.float16)
    store.adopt(ref[:12])  # a loaded store: exactly its rows, already past the copy size
    main = store._rows
    store.put(np.arange(12, 30), ref[12:])
    assert store._rows is main and store._chunks
    store.put([3, 27], ref[[0, 1]])
    ref[[3, 27]] = ref[[0, 1]]
    ids = rng.permutation(30)
    np.testing.assert_array_equal(store.take(ids), ref[ids])
    np.testing.assert_array_equal(
        store.span(len(main) - 2, len(main) + 5),
        ref[len(main) - 2 : len(main) + 5].astype(np.float32),
    )
    np.testing.assert_array_equal(store.row(29), ref[29].astype(np.float32))
    store.save(tmp_path / "v.npy", 30)
    np.testing.assert_array_equal(np.load(tmp_path / "v.npy"), ref)
    assert store.nbytes == main.nbytes + sum(c.nbytes for c in store._chunks)
    fresh = VectorStore(8, "float16")
    fresh.adopt(np.load(tmp_path / "v.npy"))
    np.testing.assert_array_equal(fresh.take(ids), ref[ids])

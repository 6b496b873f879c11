"""SparseRows: appended blocks read back exactly as one stacked matrix would."""

import numpy as np
import pytest
import scipy.sparse as sp

from matcher.lexical import rows as rows_mod
from matcher.lexical.rows import SparseRows


def _random(rng, n, width=40):
    return sp.random(n, width, density=0.1, format="csr", dtype=np.float32, random_state=rng)


@pytest.mark.parametrize("first", [0, 50])
def test_rows_read_back_as_the_stacked_matrix(first, monkeypatch):
    monkeypatch.setattr(rows_mod, "MERGE_MIN", 20)
    monkeypatch.setattr(rows_mod, "MAX_BLOCKS", 3)
    rng = np.random.default_rng(1)
    start = _random(rng, first) if first else None
    store = SparseRows(start)
    whole = [start] if first else []
    blocks_seen = set()
    for size in [1, 3, 1, 2, 5, 1, 1, 4, 30, 2, 1]:
        block = _random(rng, size)
        assert store.append(block) == sum(m.shape[0] for m in whole)
        whole.append(block)
        blocks_seen.add(len(store._blocks))
        ref = sp.vstack(whole, format="csr")
        assert store.n_rows == ref.shape[0]
        pos = rng.integers(0, ref.shape[0], size=15)
        np.testing.assert_array_equal(store.take(pos).toarray(), ref[pos].toarray())
        np.testing.assert_array_equal(store.matrix().toarray(), ref.toarray())
    assert max(blocks_seen) > 1 and min(blocks_seen) == 1  # blocks were held, then merged
    assert store.nbytes == sum(
        m.data.nbytes + m.indices.nbytes + m.indptr.nbytes for m in store._blocks
    )

import numpy as np
import pytest

from matcher.fuse import fuse, minmax


def test_minmax_hand_values():
    np.testing.assert_allclose(minmax(np.array([0.2, 0.6, 0.4])), [0.0, 1.0, 0.5])
    np.testing.assert_allclose(minmax(np.array([0.3, 0.3])), [1.0, 1.0])
    np.testing.assert_allclose(minmax(np.array([0.0, 0.0])), [0.0, 0.0])


def test_convex_fusion_normalises_only_query_scaled_parts():
    raw = {"dense": np.array([0.5, 0.7, 0.6]), "keyword": np.array([0.0, 0.5, 1.0])}
    score, parts, contrib = fuse(raw, {"dense": 0.6, "keyword": 0.2})
    # weights renormalised to 0.75 / 0.25; dense min-max → [0, 1, 0.5]; keyword as is
    np.testing.assert_allclose(parts["dense"], [0.0, 1.0, 0.5])
    np.testing.assert_allclose(score, [0.0, 0.75 + 0.125, 0.375 + 0.25])
    np.testing.assert_allclose(contrib["dense"] + contrib["keyword"], score)


def test_rrf_hand_values():
    raw = {"dense": np.array([0.9, 0.1]), "lexical": np.array([0.1, 0.9])}
    score, _, _ = fuse(raw, {"dense": 1.0, "lexical": 1.0}, method="rrf", rrf_k=1)
    # each item is rank 1 in one part and rank 2 in the other: 0.5·(2/2) + 0.5·(2/3)
    np.testing.assert_allclose(score, [0.5 + 1 / 3, 0.5 + 1 / 3])


def test_unknown_method():
    with pytest.raises(ValueError, match="convex"):
        fuse({"dense": np.ones(2)}, {"dense": 1.0}, method="max")

import numpy as np
import pytest

from matcher.fuse import fuse, minmax, scale_from


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


def test_scale_from_a_floor_hand_values():
    # floor 0.2 → 0, the highest (0.6) → 1; below the floor clips to 0
    np.testing.assert_allclose(scale_from(np.array([0.2, 0.6, 0.4, 0.1]), 0.2), [0, 1, 0.5, 0])
    np.testing.assert_allclose(scale_from(np.array([0.3, 0.3]), 0.3), [1.0, 1.0])
    np.testing.assert_allclose(scale_from(np.array([-0.1, -0.2]), 0.0), [0.0, 0.0])


def test_with_a_floor_a_low_newcomer_leaves_the_other_parts_as_they_were():
    """Min-max rescales every candidate when one scoring below the others joins; scaling from
    a floor fixed elsewhere does not, so the others keep their order."""
    w = {"dense": 0.5, "keyword": 0.5}
    before = {"dense": np.array([0.50, 0.60]), "keyword": np.array([0.30, 0.0])}
    after = {k: np.append(v, 0.0) for k, v in before.items()}
    after["dense"][-1] = 0.10  # the newcomer: lowest dense score, no keyword
    floor = {"dense": 0.40}
    s0, p0, _ = fuse(before, w, floor=floor)
    s1, p1, _ = fuse(after, w, floor=floor)
    np.testing.assert_allclose(p1["dense"][:2], p0["dense"])  # [0.5, 1.0] both times
    np.testing.assert_allclose(s0, [0.25 + 0.15, 0.5])  # 0.5·0.5 + 0.5·0.3, 0.5·1
    np.testing.assert_allclose(s1[:2], s0)
    m0, _, _ = fuse(before, w)  # min-max: dense [0, 1] → scores 0.15, 0.5
    m1, _, _ = fuse(after, w)  # dense [0.8, 1, 0] → 0.55, 0.5: the two swap
    assert (m0[0] < m0[1]) and (m1[0] > m1[1])


def test_rrf_hand_values():
    raw = {"dense": np.array([0.9, 0.1]), "lexical": np.array([0.1, 0.9])}
    score, _, _ = fuse(raw, {"dense": 1.0, "lexical": 1.0}, method="rrf", rrf_k=1)
    # each item is rank 1 in one part and rank 2 in the other: 0.5·(2/2) + 0.5·(2/3)
    np.testing.assert_allclose(score, [0.5 + 1 / 3, 0.5 + 1 / 3])


def test_unknown_method():
    with pytest.raises(ValueError, match="convex"):
        fuse({"dense": np.ones(2)}, {"dense": 1.0}, method="max")


def test_a_ceiling_fixes_where_a_part_reaches_one():
    """A block of a larger set scales to the set's best score, not its own (nightly batch)."""
    v = np.array([0.3, 0.5])
    np.testing.assert_allclose(scale_from(v, 0.1, 0.9), [0.25, 0.5])
    np.testing.assert_allclose(scale_from(v, 0.1), [0.5, 1.0])  # its own best
    raw = {"dense": v, "lexical": np.array([0.2, 0.4])}
    _, parts, _ = fuse(raw, {"dense": 1.0}, floor={"dense": 0.1}, ceiling={"dense": 0.9})
    np.testing.assert_allclose(parts["dense"], [0.25, 0.5])
    np.testing.assert_allclose(parts["lexical"], [0.0, 1.0])  # no floor or ceiling: min-max


def test_an_unknown_method_names_the_choices():
    from matcher.errors import ConfigError

    with pytest.raises(ConfigError, match="convex"):
        fuse({"dense": np.array([0.1])}, {"dense": 1.0}, method="softmax")


def test_a_floor_per_value_scales_each_from_its_own():
    # suggestions: one firm against three scenarios, each with its own floor, ceiling 1
    got = scale_from(np.array([0.5, 0.5, 0.1]), np.array([0.0, 0.5, 0.2]), 1.0)
    np.testing.assert_allclose(got, [0.5, 0.0, 0.0])
    got = scale_from(np.array([0.6, 0.9]), np.array([0.2, 1.0]), 1.0)  # a floor at the ceiling
    np.testing.assert_allclose(got, [0.5, 1.0])

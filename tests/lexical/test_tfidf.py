import numpy as np

from matcher.config import LexicalConfig
from matcher.lexical import create_lexical, load_lexical, tokens


def test_tokens_mix_cjk_ngrams_and_english_words():
    toks = list(tokens("储能系统 for the microgrid, BMS-2", (2, 2)))
    assert "储能" in toks and "能系" in toks and "系统" in toks
    assert "microgrid" in toks and "bms-2" in toks
    assert "the" not in toks and "for" not in toks


def test_shared_terms_score_higher_and_save_round_trips(tmp_path):
    docs = ["工商业储能系统集成", "核桃炒货加工", "battery storage for factories"]
    lex = create_lexical(LexicalConfig()).fit(docs)
    m = lex.transform(docs)
    q = lex.transform(["储能系统"])
    sims = np.asarray((m @ q.T).todense()).ravel()
    assert sims[0] > 0 and sims[1] == 0 and sims[2] == 0
    lex.save(tmp_path / "lex")
    again = load_lexical(tmp_path / "lex")
    np.testing.assert_allclose(again.transform(docs).toarray(), m.toarray())
    assert lex.idf("储能") is not None and lex.idf("不存在的词") is None


def test_fit_transform_is_fit_then_transform_in_one_pass_with_progress():
    from matcher.lexical.tfidf import TfidfScorer

    texts = [f"储能系统集成 第{i}号 battery storage {i % 7}" for i in range(25_000)]
    seen: list[tuple[int, int]] = []
    one = TfidfScorer().fit_transform(texts, lambda d, t: seen.append((d, t)))
    two = TfidfScorer().fit(texts).transform(texts)
    assert (one != two).nnz == 0
    assert seen == [(10_000, 25_000), (20_000, 25_000), (25_000, 25_000)]

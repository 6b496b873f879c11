"""Property tests (hypothesis) for the engine: normalisation is idempotent, results are
deterministic, and adding an unrelated firm never reorders the others."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.engine import Engine
from matcher.normalise import normalise
from matcher.types import Company

# Text as scraped: simplified and traditional Chinese, pinyin artefacts, latin, digits,
# full-width forms, zero-width and odd spaces, punctuation of both scripts.
_ALPHABET = (
    "储能电池鞋服纺织智能制造園區來說發展數據藍圖"
    "(lái)（ní）āáǎàü"
    + string.ascii_letters
    + string.digits
    + "ＡＢＣ１２３　\u200b\u200c\u200d\ufeff\u00a0\t\n ，。、；：！？,.;:!?-—·"
)
texts = st.text(alphabet=_ALPHABET, max_size=80)


@given(texts)
@settings(max_examples=400, deadline=None, derandomize=True)
def test_normalise_is_idempotent(text):
    once = normalise(text)
    assert normalise(once) == once


@given(st.sampled_from(["S1", "S2"]), st.integers(min_value=1, max_value=12))
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_results_are_deterministic(small_engine, sid, k):
    a = small_engine.match_scenario(sid, top_k=k)
    b = small_engine.match_scenario(sid, top_k=k)
    assert a == b


words = st.lists(
    st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=9), min_size=3, max_size=15
)


@pytest.fixture(scope="module")
def own_engine(small_catalogue, small_companies, cache_dir):
    """An engine this module may change (the session's ``small_engine`` is shared)."""
    return Engine(cache_dir=cache_dir).fit(small_catalogue.opportunities, small_companies)


@pytest.mark.xfail(
    strict=True,
    reason="known (issue 7): dense and lexical parts are min-max scaled over each query's "
    "candidates, so a new candidate at either end rescales the others' parts and two close "
    "firms can swap; a fix changes the fusion and must be re-evaluated for nDCG",
)
@given(words)
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_an_unrelated_firm_never_reorders_the_others(own_engine, small_catalogue, tokens):
    """A firm whose profile is latin gibberish may enter a ranking, but the firms already
    ranked keep their order among themselves."""
    engine = own_engine
    sids = [s.id for s in small_catalogue.opportunities if s.is_open]
    before = {s: [m.company_id for m in engine.match_scenario(s, 20)] for s in sids}
    stranger = Company(id="ZZ-STRANGER", name="Zzq " + tokens[0], description=" ".join(tokens))
    engine.add_companies([stranger])
    try:
        for s in sids:
            after = [m.company_id for m in engine.match_scenario(s, 21)]
            assert [c for c in after if c != stranger.id][: len(before[s])] == before[s]
    finally:
        engine.remove_companies([stranger.id])

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


def _reorders(engine: Engine, sids: list[str], tokens: list[str]) -> bool:
    """Whether adding a firm with this gibberish profile changes the order of the others."""
    before = {s: [m.company_id for m in engine.match_scenario(s, 20)] for s in sids}
    stranger = Company(id="ZZ-STRANGER", name="Zzq " + tokens[0], description=" ".join(tokens))
    engine.add_companies([stranger])
    try:
        for s in sids:
            after = [m.company_id for m in engine.match_scenario(s, 21)]
            if [c for c in after if c != stranger.id][: len(before[s])] != before[s]:
                return True
        return False
    finally:
        engine.remove_companies([stranger.id])


@given(words)
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_an_unrelated_firm_never_reorders_the_others(own_engine, small_catalogue, tokens):
    """A firm whose profile is latin gibberish may enter a ranking, but the firms already
    ranked keep their order among themselves (dense and lexical scale from a floor fixed at
    fit)."""
    sids = [s.id for s in small_catalogue.opportunities if s.is_open]
    assert not _reorders(own_engine, sids, tokens)


def test_min_max_over_the_candidates_does_reorder(small_catalogue, small_companies, cache_dir):
    """With the old scale the same search finds a counterexample, so the property test can
    catch a return to it."""
    from dataclasses import replace

    from hypothesis import find

    from matcher.config import EngineConfig

    # the queries and weights the counterexample was first found with (before the demand query
    # builder and the taxonomy part): the point is that the search can find one under min-max, not which queries show it
    cfg = EngineConfig(demand="off", title_in_body=True, lexical_focus=0.0)
    weights = {"dense": 0.5, "lexical": 0.25, "keyword": 0.05, "industry": 0.15, "structured": 0.05}
    cfg = replace(cfg, fusion=replace(cfg.fusion, scale="candidates", weights=weights))
    engine = Engine(cfg, cache_dir=cache_dir).fit(small_catalogue.opportunities, small_companies)
    sids = [s.id for s in small_catalogue.opportunities if s.is_open]
    found = find(
        words,
        lambda tokens: _reorders(engine, sids, tokens),
        settings=settings(max_examples=60, derandomize=True, database=None, deadline=None),
    )
    assert found

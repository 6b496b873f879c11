"""The facade over the tiny fixture set with the real USE model."""

import json
from dataclasses import replace

import numpy as np
import opencc
import pytest

from matcher.config import ConstraintConfig, EngineConfig, IndexConfig
from matcher.constraints import Filters
from matcher.engine import Engine
from matcher.errors import ConfigError, NotFittedError, ScenarioClosedError, UnknownIdError
from matcher.normalise import normalise
from matcher.places import city_passes
from matcher.types import Company, Scenario


def ids(matches):
    return [m.company_id for m in matches]


def test_best_firm_first_and_near_miss_below_real_fits(small_engine):
    ranked = ids(small_engine.match_scenario("S1", top_k=20))
    assert ranked[0] in ("T01", "T05")
    # the English storage firm (cross-lingual) beats the door-lock shop and the walnut factory
    assert ranked.index("T02") < ranked.index("T06")
    assert ranked.index("T02") < ranked.index("T10")


def test_unlike_wording_still_matches(small_engine):
    ranked = ids(small_engine.match_scenario("S2", top_k=5))
    assert ranked[0] == "T07"


def test_duplicates_collapse_into_one_result(small_engine):
    matches = small_engine.match_scenario("S1", top_k=12)
    shown = ids(matches)
    assert ("T01" in shown) != ("T05" in shown)
    first = next(m for m in matches if m.company_id in ("T01", "T05"))
    assert set(first.duplicates) == {"T01", "T05"} - {first.company_id}


def test_parts_contributions_and_score_agree(small_engine):
    for m in small_engine.match_scenario("S1", top_k=5):
        assert set(m.parts) == {"dense", "lexical", "keyword", "industry", "structured"}
        assert all(0.0 <= v <= 1.0 + 1e-9 for v in m.parts.values())
        assert sum(m.contributions.values()) - m.penalty == pytest.approx(m.score)
    scores = [m.score for m in small_engine.match_scenario("S1", top_k=12)]
    assert scores == sorted(scores, reverse=True)


def test_explanation_properties(small_engine):
    m = next(
        x for x in small_engine.match_scenario("S1", top_k=12) if x.company_id in ("T01", "T05")
    )
    company = small_engine.companies_[m.company_id].company
    scen = small_engine.scenarios_["S1"].scenario
    ex = m.explanation
    assert ex.matched_terms, "a storage integrator shares terms with a storage scenario"
    for term in ex.matched_terms:
        assert normalise(term).lower() in normalise(company.text()).lower()
        assert normalise(term).lower() in normalise(scen.text()).lower()
        assert term in company.text()  # shown in the profile's own wording
    assert ex.evidence and ex.evidence in company.description
    assert ex.industry.level == "class" and ex.industry.company_code == "3841"
    assert not ex.industry.inferred and not ex.cross_lingual


def test_traditional_profile_terms_shown_in_its_own_script(small_engine):
    m = next(x for x in small_engine.match_scenario("S2", top_k=12) if x.company_id == "T03")
    raw = small_engine.companies_["T03"].company.text()
    for term in m.explanation.matched_terms:
        assert term in raw.replace("(xié)", "").replace("(tí)", "") or term in raw


def test_cross_lingual_pair_is_flagged_with_evidence_in_its_language(small_engine):
    m = next(x for x in small_engine.match_scenario("S1", top_k=12) if x.company_id == "T02")
    assert m.explanation.cross_lingual
    assert m.explanation.evidence in small_engine.companies_["T02"].company.description
    assert m.explanation.industry.inferred  # T02 has no industry code
    assert "跨语言" in m.explanation.summary


def test_hard_constraint_flags_or_filters(small_engine):
    m = next(x for x in small_engine.match_scenario("S1", top_k=12) if x.company_id == "T11")
    assert m.penalty > 0
    assert any("500,000" in w and "30,000" in w for w in m.explanation.why_not)
    strict = small_engine.reconfigured(
        replace(small_engine.config, constraints=ConstraintConfig(mode="filter"))
    )
    assert "T11" not in ids(strict.match_scenario("S1", top_k=12))


def test_closed_scenario_is_not_matched(small_engine):
    with pytest.raises(ScenarioClosedError, match="closed"):
        small_engine.match_scenario("S3")
    assert "S3" not in [m.scenario_id for m in small_engine.suggest("T04", top_k=5)]


def test_suggest_new_profile_and_stored_profile(small_engine):
    new = Company(
        id="new",
        name="某储能公司",
        description="我们做用户侧储能电站和微电网控制系统，产品包括储能变流器。",
    )
    top = small_engine.suggest(new, top_k=2)
    assert top[0].scenario_id == "S1"
    assert small_engine.suggest("T07", top_k=1)[0].scenario_id == "S2"
    assert "new" not in small_engine.companies_  # a suggestion stores nothing


def test_filters(small_engine):
    got = small_engine.match_scenario("S1", top_k=12, filters=Filters(city="晋江"))
    assert got and all(small_engine.companies_[m.company_id].company.city == "晋江" for m in got)
    got = small_engine.match_scenario("S1", top_k=12, filters=Filters(industry_prefix="38"))
    assert {"T01", "T11"} <= {m.company_id for m in got}
    # inferred codes count too: every result has a code under division 38
    assert all(
        any(c.startswith("38") for c in small_engine.company_codes(m.company_id)[0]) for m in got
    )
    assert "T07" not in {m.company_id for m in got}


def test_traditional_twin_with_pinyin_ranks_the_same_firms(small_engine):
    from pypinyin import Style, pinyin

    s = small_engine.scenarios_["S1"].scenario
    to_trad = opencc.OpenCC("s2t")

    def scrape(text: str) -> str:
        out = []
        for i, ch in enumerate(to_trad.convert(text)):
            out.append(ch)
            if "\u4e00" <= ch <= "\u9fff" and i % 2 == 0:
                out.append(f"({pinyin(ch, style=Style.TONE)[0][0]})")
        return "".join(out)

    twin = replace(
        s,
        id="S1-trad",
        title_zh=scrape(s.title_zh),
        description_zh=scrape(s.description_zh),
        keywords=tuple(scrape(k) for k in s.keywords),
    )
    assert "(" in twin.description_zh and twin.description_zh != s.description_zh
    a = small_engine.match_scenario_object(s, top_k=8)
    b = small_engine.match_scenario_object(twin, top_k=8)
    assert ids(a) == ids(b)
    assert [m.score for m in a] == pytest.approx([m.score for m in b])


def test_save_load_round_trip(small_engine, tmp_path, cache_dir):
    path = small_engine.save(tmp_path / "idx")
    assert (path / "manifest.json").exists()
    loaded = Engine.load(path, cache_dir=cache_dir)
    for sid in ("S1", "S2"):
        a, b = small_engine.match_scenario(sid, top_k=8), loaded.match_scenario(sid, top_k=8)
        assert ids(a) == ids(b)
        assert [m.score for m in a] == pytest.approx([m.score for m in b], abs=1e-6)
        assert [m.explanation for m in a] == [m.explanation for m in b]
    # saving again over the same folder replaces it whole, leaving no temp folders behind
    small_engine.save(tmp_path / "idx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx"]


def test_add_update_remove(small_catalogue, small_companies, cache_dir):
    engine = Engine(cache_dir=cache_dir).fit(small_catalogue.opportunities, small_companies)
    newcomer = Company(
        id="N1",
        name="微网储能新贵有限公司",
        description="园区微电网与工商业储能电站整体解决方案，储能变流器自主研发。",
        industry_codes=("3824",),
    )
    before = engine.encoder.encoded
    engine.add_companies([newcomer])
    assert engine.encoder.encoded > before
    assert "N1" in ids(engine.match_scenario("S1", top_k=3))
    # the same text again: nothing is re-encoded
    before = engine.encoder.encoded
    engine.add_companies([newcomer])
    assert engine.encoder.encoded == before
    assert len(engine.companies) == len(small_companies) + 1
    # an update replaces the profile
    engine.add_companies(
        [replace(newcomer, description="核桃与花生炒货加工。", industry_codes=("1371",))]
    )
    assert "N1" not in ids(engine.match_scenario("S1", top_k=3))
    assert engine.remove_companies(["N1", "nope"]) == 1
    assert "N1" not in ids(engine.match_scenario("S1", top_k=20))


def test_deterministic(small_engine):
    a = small_engine.match_scenario("S1", top_k=10)
    b = small_engine.match_scenario("S1", top_k=10)
    assert a == b


def test_errors(small_engine):
    with pytest.raises(UnknownIdError, match="S99"):
        small_engine.match_scenario("S99")
    with pytest.raises(NotFittedError):
        Engine().match_scenario("S1")
    with pytest.raises(UnknownIdError):
        small_engine.suggest("nobody")


def test_free_text_search_in_english(small_engine):
    got = small_engine.match_text("silicon carbide power module packaging", top_k=3)
    assert got[0].company_id == "T12"


def test_config_rejects_unknown_settings():

    with pytest.raises(ConfigError, match="convex"):
        EngineConfig(fusion=replace(EngineConfig().fusion, method="max"))
    with pytest.raises(ConfigError, match="known parts"):
        EngineConfig(fusion=replace(EngineConfig().fusion, weights={"magic": 1.0}))
    with pytest.raises(Exception, match="description"):
        Scenario(id="x", title_zh="t")  # type: ignore[call-arg]


def test_scenario_focus_adds_the_demand_vector(small_engine):
    import numpy as np

    from matcher.encode import l2_normalise

    st = small_engine.scenarios_["S1"]
    q = st.query
    assert q.body and q.focus and q.focus != q.body
    enc = small_engine.encoder
    body = enc.encode([q.body], "query")
    focus = enc.encode([q.focus], "query")
    assert small_engine.config.scenario_focus == 1.0
    np.testing.assert_allclose(st.vector, l2_normalise(body + focus)[0], atol=1e-6)
    from matcher.corpus import Corpus

    off = Corpus(replace(small_engine.config, scenario_focus=0.0), enc.dim, lambda: enc)
    np.testing.assert_allclose(off.scenario_vectors([q])[0], body[0], atol=1e-6)
    with pytest.raises(ConfigError, match="scenario_focus"):
        small_engine.reconfigured(replace(small_engine.config, scenario_focus=0.0))


def test_controls_pin_exclude_and_more_like_this(small_engine):
    from matcher.constraints import Controls, Filters

    base = ids(small_engine.match_scenario("S1", top_k=12))
    last, first = base[-1], base[0]
    pinned = small_engine.match_scenario("S1", top_k=3, controls=Controls(pinned=(last,)))
    assert pinned[0].company_id == last and pinned[0].pinned and pinned[0].rank == 1
    assert [m.company_id for m in pinned[1:]] == [i for i in base if i != last][:2]
    assert not any(m.pinned for m in pinned[1:])

    excluded = ids(
        small_engine.match_scenario("S1", top_k=12, controls=Controls(excluded=(first,)))
    )
    dups = set(small_engine.match_scenario("S1", top_k=1)[0].duplicates)
    assert dups, "fixture: the best firm for S1 has a duplicate entry"
    assert first not in excluded and not dups & set(excluded)
    assert set(excluded) == set(base) - {first}

    # A pin that fails the recruiter's filter is not forced in.
    city = small_engine.companies_[last].company.city or "nowhere"
    other = "上海市" if city != "上海市" else "厦门"
    filtered = small_engine.match_scenario(
        "S1", top_k=5, filters=Filters(city=other), controls=Controls(pinned=(last,))
    )
    assert last not in ids(filtered)

    # "More like this" with the isotope firm pulls isotope-like firms up for the storage scenario.
    plain = ids(small_engine.match_scenario("S1", top_k=12))
    liked = ids(small_engine.match_scenario("S1", top_k=12, controls=Controls(like=("T04",))))
    assert liked.index("T04") < plain.index("T04")


def test_controls_with_unknown_ids_fail_clearly(small_engine):
    from matcher.constraints import Controls
    from matcher.errors import UnknownIdError

    with pytest.raises(UnknownIdError, match="NOPE"):
        small_engine.match_scenario("S1", controls=Controls(pinned=("NOPE",)))


def test_broad_filter_searches_only_the_firms_that_pass(data_engine):
    """Above ``exact_filtered`` the vector searches are restricted to the firms that pass: the
    results stay full and agree with scoring every passing firm (the exact pipeline). Filtering
    the unfiltered candidates afterwards would leave about one firm in seventeen."""
    narrow = data_engine.reconfigured(replace(data_engine.config, candidates=5, exact_filtered=0))
    f = Filters(city="厦门市")
    passing = [
        cid for cid, cs in data_engine.companies_.items() if city_passes(cs.company.city, "厦门市")
    ]
    assert 25 < len(passing) < len(data_engine.companies_) // 10  # 25: the candidate depth
    recalls = []
    for sid in [s.id for s in data_engine.scenarios if s.is_open][:10]:
        got = narrow.match_scenario(sid, 5, filters=f)
        exact = data_engine.match_scenario(sid, 5, candidate_ids=passing)
        assert len(got) == 5
        assert all(m.company_id in passing for m in got)  # 厦门市, 廈門市 and Xiamen
        recalls.append(len({m.company_id for m in got} & {m.company_id for m in exact}) / 5)
    assert sum(recalls) / len(recalls) >= 0.9, recalls


def test_remembered_pair_parts_follow_firm_and_scenario_updates(
    small_catalogue, small_companies, cache_dir
):
    """A stored scenario remembers each firm's score parts; an update of either side must give
    exactly what computing from scratch gives."""
    engine = Engine(cache_dir=cache_dir).fit(small_catalogue.opportunities, small_companies)

    def ranked(**kw):
        # float32 products differ in the last bits with the batch they are computed in
        return [
            (m.company_id, round(m.score, 5), {k: round(v, 5) for k, v in m.parts.items()})
            for m in engine.match_scenario("S1", 8, **kw)
        ]

    def from_scratch(**kw):
        engine.clear_memos()
        return ranked(**kw)

    first = ranked()
    assert engine.scoring.remembered_pairs("S1")  # remembered
    assert ranked() == first == from_scratch()
    assert ranked(filters=Filters(city="晋江")) == from_scratch(filters=Filters(city="晋江"))
    assert ranked() == first  # every firm remembered again before the update
    top = engine.companies_[first[0][0]].company
    engine.add_companies(
        [replace(top, description="核桃与花生炒货加工。", industry_codes=("1371",))]
    )
    moved = ranked()
    assert moved != first
    assert moved == from_scratch()
    s1 = engine.scenarios_["S1"].scenario
    engine.upsert_scenarios([replace(s1, keywords=("炒货", "花生"))])
    now = ranked()
    assert now == from_scratch()
    # new keywords count at once (the nut processor may now be shown under its near
    # duplicate T05: ask for its parts directly)
    _, raw, _ = engine.score_parts("S1", [top.id])
    assert raw["keyword"][0] == 1.0


def test_a_bulk_load_in_steps_gives_the_same_engine(
    small_catalogue, small_companies, cache_dir, monkeypatch, tmp_path
):
    """Loading in steps (as a million firms are) changes nothing but peak memory: the same
    rankings and parts, progress over the whole load, and updates afterwards still work."""
    import matcher.corpus as corpus_mod

    whole = Engine(cache_dir=cache_dir).fit(small_catalogue.opportunities, small_companies)
    monkeypatch.setattr(corpus_mod, "ADD_STEP", 3)
    seen: list[tuple[str, int, int]] = []
    stepped = Engine(cache_dir=tmp_path).fit(  # an empty cache: every step encodes
        small_catalogue.opportunities, small_companies, progress=lambda *a: seen.append(a)
    )
    for sid in [s.id for s in small_catalogue.opportunities if s.is_open]:
        a, b = whole.match_scenario(sid, 8), stepped.match_scenario(sid, 8)
        assert [m.company_id for m in a] == [m.company_id for m in b]
        assert [m.explanation for m in a] == [m.explanation for m in b]
        np.testing.assert_allclose([m.score for m in a], [m.score for m in b], atol=1e-6)
    done = [d for stage, d, total in seen if stage == "profiles" and total == len(small_companies)]
    assert done == sorted(done) and done[-1] == len(small_companies) and len(done) > 2
    first = small_companies[0]
    stepped.remove_companies([first.id])
    whole.remove_companies([first.id])
    sid = small_catalogue.opportunities[0].id
    assert [m.company_id for m in stepped.match_scenario(sid, 8)] == [
        m.company_id for m in whole.match_scenario(sid, 8)
    ]


def test_compact_storage_ranks_like_the_exact_engine(data_catalogue, data_companies, cache_dir):
    """IVF lists of 8-bit codes and a float16 re-scoring copy (what fits a million firms in
    memory) give nearly the rankings of exact float32 search on the bundled data."""
    cfg = EngineConfig(
        index=IndexConfig(backend="ivf", exact_below=500, ivf_storage="sq8", vector_dtype="float16")
    )
    exact = Engine(cache_dir=cache_dir).fit(data_catalogue.opportunities, data_companies)
    compact = Engine(cfg, cache_dir=cache_dir).fit(data_catalogue.opportunities, data_companies)
    overlaps = []
    for sid in [s.id for s in data_catalogue.opportunities if s.is_open]:
        a = [m.company_id for m in exact.match_scenario(sid, 20)]
        b = [m.company_id for m in compact.match_scenario(sid, 20)]
        overlaps.append(len(set(a) & set(b)) / 20)
    assert compact.corpus.sent_index.trained and compact.corpus.doc_index.trained  # ANN, not exact
    assert sum(overlaps) / len(overlaps) >= 0.95, overlaps


def test_filtered_sentence_search_follows_firm_updates(data_catalogue, data_companies, cache_dir):
    """The sentence mask of a filter is remembered between queries; a firm that moves into the
    filtered city must be found by the next query, and one that moves out must disappear."""
    engine = Engine(EngineConfig(candidates=5, exact_filtered=0), cache_dir=cache_dir).fit(
        data_catalogue.opportunities, data_companies
    )
    f = Filters(city="厦门市")
    sid = next(s.id for s in data_catalogue.opportunities if s.is_open)
    before = [m.company_id for m in engine.match_scenario(sid, 3, filters=f)]
    assert (
        len(before) == 3 and engine.retrieval.remembered_masks() == 1
    )  # searched, not scored exhaustively
    best = next(
        m.company_id
        for m in engine.match_scenario(sid, 20)
        if not city_passes(engine.companies_[m.company_id].company.city, "厦门市")
        and len(engine.companies_[m.company_id].sentences) > 1
    )
    mover = engine.companies_[best].company
    engine.add_companies([replace(mover, city="厦门市")])
    assert best in [m.company_id for m in engine.match_scenario(sid, 3, filters=f)]
    engine.add_companies([replace(mover, city="泉州市")])
    assert [m.company_id for m in engine.match_scenario(sid, 3, filters=f)] == before


def _same_rankings(a: Engine, b: Engine, scenario_ids, filters=None) -> None:
    for sid in scenario_ids:
        x, y = a.match_scenario(sid, 8, filters), b.match_scenario(sid, 8, filters)
        assert ids(x) == ids(y)
        np.testing.assert_allclose([m.score for m in x], [m.score for m in y], atol=1e-6)
        assert [m.explanation for m in x] == [m.explanation for m in y]


def test_save_writes_the_live_structures_as_they_are(
    data_catalogue, data_companies, cache_dir, tmp_path
):
    """A save after a few updates keeps firm ids, float16 stores and the trained IVF lists as
    they are (no renumbering, no retraining), and the loaded engine answers and updates like
    the one that saved it."""
    cfg = EngineConfig(
        index=IndexConfig(backend="ivf", exact_below=500, ivf_storage="sq8", vector_dtype="float16")
    )
    engine = Engine(cfg, cache_dir=cache_dir).fit(data_catalogue.opportunities, data_companies)
    first = data_companies[0]
    engine.add_companies([replace(first, description=first.description + "。另有储能电站运维。")])
    open_ids = [s.id for s in data_catalogue.opportunities if s.is_open]
    engine.match_scenario(open_ids[0], 5)  # IVF lists train at the first search
    assert engine.corpus.sent_index.trained
    loaded = Engine.load(engine.save(tmp_path / "idx"), cache_dir=cache_dir)
    manifest = loaded.manifest_
    assert manifest["format_version"] == 2 and manifest["compacted"] is False
    a, b = loaded.corpus, engine.corpus
    assert a.int_of == b.int_of and a.lex_rows == b.lex_rows
    assert a.reference == b.reference  # every 2nd of the 572 firms' sorted ids
    assert b.reference == sorted(c.id for c in data_companies)[::2]
    assert np.load(tmp_path / "idx" / "sent_vectors.npy").dtype == np.float16
    assert a.sent_index.trained
    n = b.next_sent
    np.testing.assert_array_equal(a.sent_owner[:n], b.sent_owner[:n])
    _same_rankings(engine, loaded, open_ids)
    _same_rankings(engine, loaded, open_ids, Filters(city=first.city))
    for e in (engine, loaded):
        e.remove_companies([data_companies[1].id])
        e.add_companies([replace(data_companies[2], id="X2")])
    _same_rankings(engine, loaded, open_ids)


def test_save_compacts_after_many_replacements(
    small_catalogue, small_companies, cache_dir, tmp_path
):
    """When replaced firms leave over a quarter of the rows unused, the save renumbers them; the
    loaded engine ranks exactly as before, and the folder also loads as format 1 (the earlier
    layout: firms by line, float32, no ids)."""
    engine = Engine(cache_dir=cache_dir).fit(small_catalogue.opportunities, small_companies)
    half = small_companies[: len(small_companies) // 2 + 1]
    engine.add_companies([replace(c, name=c.name + "（新）") for c in half])
    engine.remove_companies([small_companies[-1].id])
    folder = engine.save(tmp_path / "idx")
    loaded = Engine.load(folder, cache_dir=cache_dir)
    assert loaded.manifest_["compacted"] is True
    n = len(engine.companies_)
    assert sorted(loaded.corpus.int_of.values()) == list(range(n)) and loaded.corpus.next_int == n
    assert loaded.corpus.next_sent == sum(len(cs.sentences) for cs in engine.companies_.values())
    open_ids = [s.id for s in small_catalogue.opportunities if s.is_open]
    _same_rankings(engine, loaded, open_ids)

    rows = [json.loads(x) for x in (folder / "companies.jsonl").read_text("utf-8").splitlines()]
    for r in rows:
        del r["int"], r["sent_start"], r["lex_row"]
    (folder / "companies.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8"
    )
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    (folder / "manifest.json").write_text(json.dumps({**manifest, "format_version": 1}), "utf-8")
    (folder / "reference.json").unlink()  # saved before the fusion floor: sampled at load
    _same_rankings(engine, Engine.load(folder, cache_dir=cache_dir), open_ids)


def test_reference_sample_takes_every_kth_id_in_sorted_order():
    from matcher.corpus import reference_sample

    ids = [f"F{i:04d}" for i in range(1000)][::-1]
    assert reference_sample(ids, 4) == ["F0000", "F0250", "F0500", "F0750"]
    assert reference_sample(ids, 3) == ["F0000", "F0334", "F0668"]
    assert reference_sample(["b", "a"], 512) == ["a", "b"]
    assert reference_sample([], 8) == []


def test_load_refuses_vectors_that_do_not_match_the_firms(small_engine, tmp_path, cache_dir):
    from matcher.errors import DataError

    folder = small_engine.save(tmp_path / "idx")
    vecs = np.load(folder / "doc_vectors.npy")
    np.save(folder / "doc_vectors.npy", vecs[:-1])
    with pytest.raises(DataError, match="rebuild"):
        Engine.load(folder, cache_dir=cache_dir)


def test_floor_is_the_reference_firms_minimum_and_follows_only_their_changes(
    small_catalogue, small_companies, cache_dir
):
    """The floor equals the lowest dense and lexical score over the reference firms, as the
    engine scores them one by one; adding another firm leaves it, replacing a reference firm
    moves it."""
    engine = Engine(cache_dir=cache_dir).fit(small_catalogue.opportunities, small_companies)
    st = engine.scenarios_["S1"]

    def brute() -> dict[str, float]:
        _, raw, _ = engine.score_parts("S1", engine.corpus.reference)
        return {p: float(raw[p].min()) for p in ("dense", "lexical")}

    floor = engine.floor(st)
    assert floor == pytest.approx(brute(), abs=1e-6)
    version = engine.corpus.reference_version
    engine.add_companies([Company(id="NEW", name="新来有限公司", description="生产储能电池。")])
    assert engine.corpus.reference_version == version and engine.floor(st) == floor
    _, raw, _ = engine.score_parts("S1", engine.corpus.reference)
    lowest = engine.corpus.reference[int(np.argmin(raw["dense"]))]
    scenario = engine.scenarios_["S1"].scenario
    engine.add_companies([replace(engine.companies_[lowest].company, description=scenario.text())])
    moved = engine.floor(st)
    assert moved == pytest.approx(brute(), abs=1e-6) and moved["dense"] > floor["dense"]

"""Edge cases: each was a wrong result or a traceback before its fix."""

import json
from dataclasses import replace

import pytest

from matcher.catalogue import load_companies_csv, load_scenarios_jsonl
from matcher.cli import main
from matcher.config import EngineConfig
from matcher.dedupe import name_key
from matcher.engine import Engine
from matcher.errors import ConfigError, DataError
from matcher.explain import matched_terms, split_sentences
from matcher.normalise import normalise
from matcher.types import Company

from .conftest import FIXTURES


@pytest.mark.parametrize(
    "text",
    [
        "We make lithium batteries. Yes.",
        "一句很长的句子在这里。Ok. And another long sentence here.\n短句\n这是另一段比较长的句子。",
    ],
)
def test_sentences_are_verbatim_slices(text):
    assert all(s in text for s in split_sentences(text))


def test_length_changing_lowercase_does_not_shift_terms():
    terms = matched_terms(normalise("储能系统与锂电池"), [], "İİİ公司专注锂电池储能")
    assert terms and all(t in "İİİ公司专注锂电池储能" for t in terms)


def test_latin_keywords_match_whole_words_only():
    assert matched_terms(normalise("AI 场景"), ["AI"], "We maintain supply chains") == []
    assert matched_terms(normalise("AI 场景"), ["AI"], "An AI vision system") == ["AI"]


def test_name_keys_keep_different_firms_apart():
    assert name_key("Acme Corporation") == name_key("Acme Corp") == name_key("ACME Inc.")
    assert name_key("Zinc Tech Ltd") != name_key("Z Tech Ltd")


def test_csv_numbers_must_be_finite_and_non_negative(tmp_path):
    p = tmp_path / "c.csv"
    for bad in ("-5", "nan", "inf"):
        p.write_text(f"id,name,description,registered_capital_wan\n1,a,储能,{bad}\n", "utf-8")
        with pytest.raises(DataError, match="finite number"):
            load_companies_csv(p)


def test_scenario_jsonl_field_types(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text(json.dumps({"id": "Q", "title": 123, "description": "d"}) + "\n")
    with pytest.raises(DataError, match="title"):
        load_scenarios_jsonl(p)
    p.write_text(
        json.dumps({"id": "Q", "title": "t", "description": "d", "space_offered_m2": "1000"}) + "\n"
    )
    with pytest.raises(DataError, match="space_offered_m2"):
        load_scenarios_jsonl(p)


def test_suggest_refuses_top_k_below_one(small_engine):
    with pytest.raises(DataError, match="top_k"):
        small_engine.suggest("T01", top_k=0)


def test_failed_refit_keeps_the_previous_index(
    small_catalogue, small_companies, cache_dir, monkeypatch
):
    from matcher.corpus import Corpus

    engine = Engine(cache_dir=cache_dir).fit(small_catalogue.opportunities, small_companies)
    before = [m.company_id for m in engine.match_scenario("S1", top_k=5)]

    def broken(*args, **kwargs):
        raise DataError("simulated failure while indexing")

    with monkeypatch.context() as m:
        m.setattr(Corpus, "add", broken)
        with pytest.raises(DataError, match="simulated"):
            engine.fit(small_catalogue.opportunities, small_companies)
    assert [m.company_id for m in engine.match_scenario("S1", top_k=5)] == before


def test_reconfigured_views_are_read_only(small_engine):
    view = small_engine.reconfigured(replace(small_engine.config, candidates=5))
    with pytest.raises(ConfigError, match="read-only"):
        view.add_companies([Company(id="n", name="n", description="储能")])
    with pytest.raises(ConfigError):
        view.remove_companies(["T01"])


def test_save_refuses_a_file_and_keeps_the_old_index_on_failure(
    small_engine, tmp_path, monkeypatch
):
    afile = tmp_path / "afile"
    afile.write_text("hi")
    with pytest.raises(DataError, match="is a file"):
        small_engine.save(afile)
    assert afile.read_text() == "hi"
    target = small_engine.save(tmp_path / "idx")
    (tmp_path / "idx.old").write_text("stale file in the way")
    import matcher.engine as eng

    real = eng.os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(src, dst)

    monkeypatch.setattr(eng.os, "replace", flaky)
    with pytest.raises(OSError, match="disk full"):
        small_engine.save(target)
    monkeypatch.setattr(eng.os, "replace", real)
    assert (target / "manifest.json").exists()  # the previous index is back in place
    assert Engine.load(target).match_scenario("S1", top_k=1)


def test_saving_a_loaded_engine_does_not_build_the_encoder(small_engine, tmp_path):
    loaded = Engine.load(small_engine.save(tmp_path / "a"))
    loaded.save(tmp_path / "b")
    assert not loaded.encoder_loaded
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["encoder"]["dim"] == 512


def test_remove_counts_each_firm_once(small_catalogue, small_companies, cache_dir):
    engine = Engine(cache_dir=cache_dir).fit(small_catalogue.opportunities, small_companies)
    assert engine.remove_companies(["T10", "T10"]) == 1


def test_small_corpora_still_show_shared_terms(cache_dir):
    from matcher.types import Scenario

    engine = Engine(EngineConfig(infer_industry=False), cache_dir=cache_dir).fit(
        [Scenario(id="s", title_zh="征集储能系统集成商与储能变流器企业", description_zh="")],
        [Company(id="c", name="c", description="储能系统集成。储能变流器研发制造。")],
    )
    assert engine.match_scenario("s")[0].explanation.matched_terms


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["evaluate", "--labels", "missing.csv"], "error:"),
        (["tune", "--folds", "0"], "at least 1"),
        (["match", "S1", "--top-k", "0"], "at least 1"),
        (
            [
                "rank",
                "--companies",
                "x.csv",
                "--scenarios",
                "y.jsonl",
                "--output",
                "o",
                "--encoder",
                "bogus",
            ],
            "error:",
        ),
    ],
)
def test_cli_bad_values_exit_2_without_traceback(argv, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("id,name,description\n1,a,储能系统\n", "utf-8")
    (tmp_path / "y.jsonl").write_text(
        '{"id": "q", "title": "储能", "description": "储能系统"}\n', "utf-8"
    )
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse rejects bad option values itself, with exit code 2
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err


def test_index_dir_that_is_a_file(tmp_path, capsys, cache_dir):
    afile = tmp_path / "afile"
    afile.write_text("hi")
    code = main(
        [
            "index",
            "--scenarios",
            str(FIXTURES / "catalogue_small.yaml"),
            "--companies",
            str(FIXTURES / "companies.jsonl"),
            "--index-dir",
            str(afile),
            "--cache-dir",
            str(cache_dir),
        ]
    )
    assert code == 2 and "is a file" in capsys.readouterr().err and afile.read_text() == "hi"


def test_recover_folder_undoes_a_swap_killed_half_way(tmp_path):
    """A process killed inside replace_folder leaves a temp folder, or the previous folder
    renamed aside with nothing in its place; recovery puts it back and clears the rest."""
    from matcher.folders import recover_folder

    target = tmp_path / "index"
    (tmp_path / "index.old").mkdir()
    (tmp_path / "index.old" / "manifest.json").write_text("{}")
    (tmp_path / "index.abc.tmp").mkdir()
    (tmp_path / "other.x.tmp").mkdir()
    done = recover_folder(target)
    assert (target / "manifest.json").exists() and len(done) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index", "other.x.tmp"]
    (tmp_path / "index.old").mkdir()  # killed after the swap, before the cleanup
    assert recover_folder(target) == ["removed index.old"] and recover_folder(target) == []

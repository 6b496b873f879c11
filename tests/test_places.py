"""Place names resolve to administrative divisions: forms, aliases, hierarchy, ambiguity."""

import json
from pathlib import Path

import pytest

from matcher.cli import main
from matcher.places import PlaceTable, city_passes, place_table, resolve

from .conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[1]

JINJIANG_FORMS = [
    "晋江",
    "晋江市",
    "晉江市",
    "晉江",
    " 晋江市 ",
    "Jinjiang",
    "Jinjiang City",
    "jinjiang shi",
    "JINJIANG",
]


def test_table_comes_from_the_package():
    table = place_table()
    assert len(table) > 3000
    jinjiang = table.places["350582"]
    assert jinjiang.name == "晋江市" and jinjiang.level == 3
    assert jinjiang.path == ("福建省", "泉州市", "晋江市")
    assert table.ancestors("350582") == ["350582", "350500", "350000"]
    # a municipality is one place, not a province with a city of the same name inside
    assert [p.code for p in resolve("北京").places] == ["110000"]


@pytest.mark.parametrize("written", JINJIANG_FORMS)
def test_every_form_of_jinjiang_means_jinjiang(written):
    match = resolve(written)
    assert "福建省/泉州市/晋江市" in match.canonical.split("|")
    for other in JINJIANG_FORMS:
        assert city_passes(written, other), (written, other)
        assert city_passes(other, written), (other, written)


def test_hierarchy_prefecture_and_province_include_the_county():
    for firm in ["晋江市", "晉江市", "Jinjiang", "泉州市", "Quanzhou"]:
        assert city_passes(firm, "泉州"), firm
        assert city_passes(firm, "福建"), firm
        assert city_passes(firm, "福建省"), firm
    assert city_passes("厦门市", "福建") and not city_passes("厦门市", "泉州")
    assert not city_passes("泉州市", "晋江")  # the prefecture is not inside its county
    assert not city_passes("上海市", "福建")


def test_ambiguous_alias_matches_every_place_it_can_mean_and_says_so():
    fuzhou = resolve("Fuzhou")
    assert fuzhou.ambiguous and fuzhou.known
    assert set(fuzhou.names) == {"福州市", "抚州市"}
    assert "福州市" in fuzhou.describe() and "抚州市" in fuzhou.describe()
    for firm in ["福州市", "抚州市", "Fuzhou"]:
        assert city_passes(firm, "Fuzhou"), firm
    assert not city_passes("泉州市", "Fuzhou")
    suzhou = resolve("Suzhou")
    assert suzhou.ambiguous and set(suzhou.names) == {"苏州市", "宿州市"}
    # the province narrows it, as an address would
    narrowed = resolve("Suzhou, Jiangsu")
    assert narrowed.names == ("苏州市",) and not narrowed.ambiguous
    # Chinese names are not ambiguous where their romanisation is
    assert resolve("福州").names == ("福州市",) and not resolve("福州").ambiguous
    # a division listed with its own ancestor counts once
    assert resolve("吉林").names == ("吉林省",)


def test_suffix_and_address_forms():
    assert resolve("福建省泉州市晋江市").names == ("晋江市",)
    assert resolve("Jinjiang, Fujian").names == ("晋江市",)
    assert resolve("Jinjiang, China").names == resolve("Jinjiang").names
    assert resolve("凉山州").names == ("凉山彝族自治州",)
    assert resolve("广西").names == ("广西壮族自治区",)
    assert resolve("Xi'an").names == ("西安市",)
    assert resolve("臺北市").names == ("台北市",)


def test_unknown_place_matches_itself_folded():
    singapore = resolve("Singapore")
    assert not singapore.known and not singapore.ambiguous
    assert singapore.canonical == "singapore"
    assert city_passes(" SINGAPORE ", "Singapore") and city_passes("Singapore", "singapore")
    assert not city_passes("Singapore", "上海")
    assert city_passes("Munich, Germany", "Munich, Germany")
    assert city_passes("Munich, Germany", "Germany")  # the country part is a place too
    assert not city_passes("Aachen, Germany", "Munich")
    assert not city_passes(None, "晋江") and not city_passes("", "晋江")


def test_a_table_of_three_rows():
    table = PlaceTable([("350000", "福建省"), ("350500", "泉州市"), ("350582", "晋江市")])
    assert table.resolve("晉江").canonical == "福建省/泉州市/晋江市"
    assert table.resolve("Quanzhou").members == {"350500", "350000"}
    assert not table.resolve("厦门").known  # not in this table: matches itself
    empty = PlaceTable(())
    assert empty.resolve("晋江市").canonical == "晋江"


def test_every_city_in_the_bundled_data_resolves():
    written = {
        json.loads(line).get("city") or ""
        for line in (ROOT / "data" / "companies.jsonl").read_text("utf-8").splitlines()
    }
    unknown = sorted(w for w in written if w and not resolve(w).known)
    # only places outside the table: abroad ("City, Country") and English exonyms
    assert all("," in w or w in {"Singapore", "Hong Kong"} for w in unknown), unknown
    assert resolve("晉江市").canonical == resolve("晋江市").canonical
    assert resolve("Jinjiang").members >= resolve("晋江市").members


def test_cli_match_says_how_the_city_was_read(tmp_path, cache_dir, capsys):
    base = [
        "--scenarios",
        str(FIXTURES / "catalogue_small.yaml"),
        "--companies",
        str(FIXTURES / "companies.jsonl"),
        "--index-dir",
        str(tmp_path / "idx"),
        "--cache-dir",
        str(cache_dir),
    ]
    assert main(["index", *base]) == 0
    capsys.readouterr()
    assert main(["match", "S2", "--top-k", "20", "--json", "--city", "泉州", *base]) == 0
    out = capsys.readouterr()
    got = {m["company_id"] for m in json.loads(out.out)}
    assert "T08" in got and "T03" in got  # Quanzhou, and 晋江 inside 泉州
    assert "city: 泉州 matched 泉州市 (福建省)" in out.err  # JSON stays alone on stdout
    assert main(["match", "S2", "--city", "Fuzhou", *base]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("city:"))
    assert "福州市" in line and "抚州市" in line and "ambiguous" in line

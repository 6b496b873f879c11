"""Unified social credit codes (统一社会信用代码, GB 32100-2015): format and check digit.

The 18th character is a check over the first 17 with weights 3^i mod 31 in the code's own
31-character alphabet (digits and capitals without I, O, Z, S, V). A mistyped code fails the
check, so two records of one firm are not split by a typo and a wrong code is caught at entry.
"""

from __future__ import annotations

__all__ = ["ALPHABET", "check_char", "credit_code_problem", "normalise_credit_code"]

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def normalise_credit_code(code: str) -> str:
    """Upper case, without spaces, hyphens or full-width forms."""
    out = []
    for ch in code.strip():
        o = ord(ch)
        if 0xFF01 <= o <= 0xFF5E:
            ch = chr(o - 0xFEE0)
        if ch in " -\u3000":
            continue
        out.append(ch.upper())
    return "".join(out)


def check_char(first17: str) -> str:
    """The check character for the first 17 characters of a code."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """What is wrong with a (normalised) code, or ``None`` when it is valid."""
    if len(code) != 18:
        return f"must be 18 characters, got {len(code)}"
    bad = sorted({ch for ch in code if ch not in _VALUE})
    if bad:
        return f"contains characters not used in credit codes: {''.join(bad)}"
    expected = check_char(code[:17])
    if code[17] != expected:
        return f"check digit is {code[17]}, expected {expected}: the code is mistyped"
    return None

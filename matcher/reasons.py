"""Explanations in words, per language: failed conditions (``Reason`` codes with their
numbers), the industry relation and the one-line summary, rendered in Chinese or English
from the structured fields of an :class:`~matcher.types.Explanation`.

Matched terms, demand terms and evidence stay in the texts' own language: there is no
machine translation offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from .normalise import strip_pinyin
from .types import Explanation, IndustryRelation, Reason, ReasonCode

__all__ = ["Lang", "render", "render_all", "industry_line", "summary", "DEMAND_SHOWN"]

Lang = Literal["zh", "en"]

# code → (Chinese, English) with ``str.format`` fields from ``Reason.params``
TEXTS: dict[ReasonCode, tuple[str, str]] = {
    "space_exceeds": (
        "所需用地/厂房 {need:,.0f} m² 超过场景可提供的 {offered:,.0f} m²",
        "needs {need:,.0f} m² but the scenario offers {offered:,.0f} m²",
    ),
    "investment_below": (
        "拟投资 {invest:g} 亿元，低于场景要求的最低 {minimum:g} 亿元",
        "intends to invest {invest:g} × 100M CNY, below the scenario's minimum of {minimum:g}",
    ),
}
_LEVEL = {
    "class": ("同小类", "same class"),
    "group": ("同中类", "same group"),
    "division": ("同大类", "same division"),
    "none": ("行业无直接关联", "no direct industry link"),
}
_WORDS = {
    "demand": ("需求：", "Sought: "),
    "matched": ("匹配：", "Matched: "),
    "semantic": ("跨语言语义匹配", "cross-language semantic match"),
    "evidence": ("证据：「{}」", "Evidence: “{}”"),
    "cross": ("跨语言匹配", "cross-language match"),
    "inferred": ("［行业代码由文本推断］", " [code inferred from the text]"),
    "firm": ("（企业 {}）", " (firm {})"),
    "sep": ("；", "; "),
    "list": ("、", ", "),
}
# demand terms named in a summary (the Explanation keeps them all)
DEMAND_SHOWN = 5


def _w(key: str, lang: Lang) -> str:
    zh, en = _WORDS[key]
    return en if lang == "en" else zh


def render(reason: Reason, lang: Lang = "zh") -> str:
    """One failed condition in words."""
    zh, en = TEXTS[reason.code]
    return (en if lang == "en" else zh).format(**reason.params)


def render_all(reasons: Sequence[Reason], lang: Lang = "zh") -> list[str]:
    return [render(r, lang) for r in reasons]


def industry_line(rel: IndustryRelation, lang: Lang = "zh") -> str:
    zh, en = _LEVEL.get(rel.level, _LEVEL["none"])
    level = en if lang == "en" else zh
    code = f"{rel.company_code} {rel.company_code_name or ''}".strip() if rel.company_code else ""
    if rel.level == "none":
        line = level + (_w("firm", lang).format(code) if code else "")
    else:
        line = f"{level} {code}".rstrip()
    if rel.inferred and rel.company_code:
        line += _w("inferred", lang)
    return line


def summary(ex: Explanation, lang: Lang = "zh") -> str:
    """The explanation in one line: demand, matched terms, industry, evidence, failures."""
    sep, comma = _w("sep", lang), _w("list", lang)
    pieces = []
    if ex.demand:
        shown = comma.join(ex.demand[:DEMAND_SHOWN]) + (
            "…" if len(ex.demand) > DEMAND_SHOWN else ""
        )
        pieces.append(_w("demand", lang) + shown)
    if ex.matched_terms:
        pieces.append(_w("matched", lang) + comma.join(ex.matched_terms[:4]))
    elif ex.cross_lingual:
        pieces.append(_w("semantic", lang))
    pieces.append(industry_line(ex.industry, lang))
    if ex.evidence:
        shown = ex.evidence if len(ex.evidence) <= 60 else ex.evidence[:58] + "…"
        pieces.append(_w("evidence", lang).format(strip_pinyin(shown)))
    if ex.cross_lingual and ex.matched_terms:
        pieces.append(_w("cross", lang))
    pieces.extend("⚠ " + w for w in render_all(ex.reasons, lang))
    return sep.join(pieces)

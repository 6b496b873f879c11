"""Explanations a recruiter can check: shared terms, the best profile sentence, industry, why not.

Every matched term occurs in both normalised texts and is shown in the profile's own wording
(traditional characters stay traditional; scraped pinyin readings are dropped from the display).
The evidence sentence is quoted verbatim from the profile.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache

from .lexical.tokens import EN_STOP
from .normalise import normalise, normalise_with_map, strip_pinyin
from .reasons import render_all, summary
from .types import Explanation, IndustryRelation, Reason

__all__ = ["matched_terms", "split_sentences", "build_explanation", "GENERIC_TERMS"]

# Words too common in profiles and scenario texts to count as evidence of a match.
GENERIC_TERMS = frozenset(
    """公司 企业 有限 有限公司 股份 集团 产业 行业 提供 服务 技术 产品 项目 发展 建设 领域 能力 相关
    以及 进行 主要 具有 我们 客户 合作 开展 推动 推进 打造 实现 支持 欢迎 寻求 面向 落地 开放 场景
    机会 园区 需求 解决方案 方案 引进 引入 提升 能够 具备 通过 国内 全国 中国 福建 泉州 晋江 国家
    经济 开发区 平台 基地 研发 生产 制造 销售 应用 系统 设备 专业 业务 市场 一体 综合 一批 年产
    重点 优先 可以 包括 等等 万元 亿元 平方米 成立 位于 拥有 我司 本公司 优质 每年 目前 已经
    多家 高校 国内外 合作伙伴 核心 核心技术 自主 研发中心
    安全 以上 以下 低于 高于 不低于 不高于 超过 不超过 达到 在线 线上 线下 先进 领先 高端 新型
    全面 各类 多种 规模 质量 有效 稳定 可靠 高效 快速 一站式 全流程 全方位""".split()
)
FUNCTION_CHARS = frozenset("的和与及等或并在对为将把从以于了是其各每该之也都而向被由就所")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,}")
_WORD = re.compile(r"[a-z][a-z0-9+\-]{2,}")
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|(?<=\.)\s+|\n+")


def split_sentences(text: str, min_chars: int = 6) -> list[str]:
    """Split a profile into sentences, each a verbatim slice of ``text``.

    Pieces shorter than ``min_chars`` join the next one (or the previous one at the end), as a
    slice of the original text, so the whitespace between them is kept.
    """
    bounds: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > start:
            bounds.append((start, m.start()))
        start = m.end()
    if start < len(text):
        bounds.append((start, len(text)))
    out: list[tuple[int, int]] = []
    pending: int | None = None
    for s, e in bounds:
        if not text[s:e].strip():
            continue
        first = s if pending is None else pending
        if len(text[first:e].strip()) < min_chars:
            pending = first
            continue
        out.append((first, e))
        pending = None
    if pending is not None:
        if out:
            out[-1] = (out[-1][0], len(text))
        else:
            out.append((pending, len(text)))
    return [text[s:e].strip() for s, e in out]


def lower_keep_length(text: str) -> str:
    """Lowercase without changing the length (``İ`` lowercases to two characters), so positions
    in the result are positions in ``text``."""
    lowered = text.lower()
    if len(lowered) == len(text):  # no character expanded (lower() never drops one)
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def contains_term(text_lower: str, term_lower: str) -> int:
    """Position of ``term`` in ``text`` (-1 if absent); Latin terms must match whole words."""
    if not term_lower:
        return -1
    pattern = _whole_word(term_lower)
    if pattern is None:
        return text_lower.find(term_lower)
    if term_lower not in text_lower:
        return -1
    m = pattern.search(text_lower)
    return m.start() if m else -1


@lru_cache(maxsize=4096)
def _whole_word(term_lower: str) -> re.Pattern[str] | None:
    """The whole-word pattern for a Latin term; ``None`` for a CJK term (plain substring)."""
    if term_lower.isascii() and any(c.isalnum() for c in term_lower):
        return re.compile(r"(?<![a-z0-9])" + re.escape(term_lower) + r"(?![a-z0-9])")
    return None


def _common_cjk(a: str, b: str, min_len: int = 2) -> list[str]:
    """Maximal CJK substrings of ``b`` (length >= min_len) that also occur in ``a``.

    Substrings of ``a`` are closed under taking prefixes, so the longest match at a position is
    found by growing it one character at a time.
    """
    found: list[str] = []
    for run in _CJK_RUN.findall(b):
        i = 0
        n = len(run)
        while i < n - min_len + 1:
            j = i + min_len
            if run[i:j] in a:
                while j < n and run[i : j + 1] in a:
                    j += 1
                found.append(run[i:j])
                i = j
            else:
                i += 1
    return found


@lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


# jieba cuts a text into runs of these characters and segments each run on its own
# (``jieba.re_han_default``); every other character is a word by itself. So the words inside
# one run do not depend on the rest of the text, and only the runs a term touches need cutting.
_JIEBA_RUN = re.compile("[\u4e00-\u9fd5a-zA-Z0-9+#&._%\\-]+")


@lru_cache(maxsize=50_000)
def _run_words(run: str) -> tuple[tuple[int, int], ...]:
    """Word boundaries of one jieba run (cached: the slow step, shared across profiles)."""
    return tuple((start, end) for _, start, end in _jieba().tokenize(run))


@lru_cache(maxsize=20_000)
def _runs(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(m.span() for m in _JIEBA_RUN.finditer(text))


def _words_in(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The words of ``text`` (as jieba cuts the whole text) that lie inside ``[start, end)``.

    Meant for CJK spans (no whitespace): characters outside jieba's runs are one-character words.
    """
    runs = _runs(text)
    k = bisect.bisect_right(runs, (start, len(text) + 1)) - 1
    words: list[tuple[int, int]] = []
    pos = start
    k = max(k, 0)
    while pos < end:
        while k < len(runs) and runs[k][1] <= pos:
            k += 1
        if k < len(runs) and runs[k][0] <= pos:
            rs, re_ = runs[k]
            for s, e in _run_words(text[rs:re_]):
                if s + rs >= start and e + rs <= end:
                    words.append((s + rs, e + rs))
            pos = re_
        else:
            words.append((pos, pos + 1))
            pos += 1
    return words


@lru_cache(maxsize=20_000)
def _profile_forms(profile_raw: str) -> tuple[str, tuple[int, ...], str]:
    """Normalised profile, its map back to the raw text, and its lower-case form (cached)."""
    norm, src = normalise_with_map(profile_raw)
    return norm, tuple(src), lower_keep_length(norm)


def _snap(term: str, text: str) -> list[str]:
    """Cut a shared substring into whole-word phrases, split at function words.

    One-character words at a phrase's edges go too: they are usually a neighbour word's half.

    ``梯次利用等核心技术`` → ``梯次利用``, ``核心技术``; ``色纤维`` (from ``绿色纤维``) → ``纤维``.
    """
    pos = text.find(term)
    if pos < 0:
        return []
    end = pos + len(term)
    phrases: list[str] = []
    run: list[tuple[int, int]] = []
    for s, e in [*_words_in(text, pos, end), (end, end)]:
        if e - s == 1 and text[s] in FUNCTION_CHARS or s == e:
            while run and run[0][1] - run[0][0] == 1:
                run.pop(0)
            while run and run[-1][1] - run[-1][0] == 1:
                run.pop()
            if run:
                phrases.append(text[run[0][0] : run[-1][1]])
            run = []
        else:
            run.append((s, e))
    return phrases


_GENERIC_LONGEST_FIRST = tuple(sorted(GENERIC_TERMS, key=lambda g: (-len(g), g)))


@lru_cache(maxsize=50_000)
def _is_generic(term: str) -> bool:
    if term in GENERIC_TERMS:
        return True
    # A term made only of generic words (e.g. "技术服务") is generic too.
    rest = term
    for g in _GENERIC_LONGEST_FIRST:
        rest = rest.replace(g, "")
    return rest == "" or len(rest) == 1 and len(term) <= 3


def matched_terms(
    scenario_norm: str,
    keywords: Sequence[str],
    profile_raw: str,
    limit: int = 6,
    is_informative: Callable[[str], bool] | None = None,
) -> list[str]:
    """Terms present in both texts, keywords first, in the profile's own wording.

    Besides the scenario's keywords, maximal shared substrings count when they are not generic
    words and, given ``is_informative`` (e.g. an IDF test), not common across the corpus.
    """
    _, src, prof_lower = _profile_forms(profile_raw)
    scen_lower = lower_keep_length(scenario_norm)
    spans: list[tuple[int, int]] = []

    def take(start: int, end: int) -> None:
        if any(s <= start and end <= e for s, e in spans):
            return
        spans.append((start, end))

    for kw in keywords:
        k = lower_keep_length(normalise(kw)).strip()
        if len(k) < 2:
            continue
        pos = contains_term(prof_lower, k)
        if pos >= 0:
            take(pos, pos + len(k))
    candidates = {p for t in _common_cjk(scen_lower, prof_lower) for p in _snap(t, prof_lower)}
    # Longest first, then by the term itself: a set's order changes with the hash seed, and
    # the order decides which overlapping spans are taken and which six terms are shown.
    ordered = sorted((t for t in candidates if t and t in scen_lower), key=lambda t: (-len(t), t))
    scen_words = set(_WORD.findall(scen_lower))
    ordered += sorted(
        {w for w in _WORD.findall(prof_lower) if w not in EN_STOP and w in scen_words}
    )
    for term in ordered:
        if _is_generic(term) or (is_informative is not None and not is_informative(term)):
            continue
        pos = prof_lower.find(term)
        if pos >= 0:
            take(pos, pos + len(term))
    out: list[str] = []
    seen: set[str] = set()
    for start, end in spans:
        shown = strip_pinyin(profile_raw[src[start] : src[end - 1] + 1]).strip()
        key = normalise(shown).lower()
        if shown and key not in seen:
            seen.add(key)
            out.append(shown)
        if len(out) >= limit:
            break
    return out


def build_explanation(
    terms: Sequence[str],
    evidence: str | None,
    industry: IndustryRelation,
    reasons: Sequence[Reason],
    cross_lingual: bool,
    demand: Sequence[str] = (),
) -> Explanation:
    """A pair's explanation; ``why_not`` and ``summary`` are its Chinese rendering
    (:mod:`matcher.reasons` renders it in other languages from the same fields)."""
    ex = Explanation(
        matched_terms=tuple(terms),
        evidence=evidence,
        industry=industry,
        why_not=tuple(render_all(reasons, "zh")),
        cross_lingual=cross_lingual,
        demand=tuple(demand),
        reasons=tuple(reasons),
    )
    return replace(ex, summary=summary(ex, "zh"))

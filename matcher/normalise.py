"""Text normalisation shared by both sides of every match.

Real profiles arrive scraped: traditional characters with a pinyin reading after many of them
(``開(kāi)發(fā)區(qū)``), full-width forms, stray zero-width characters. Everything that is
encoded, indexed or compared goes through :func:`normalise` first, so a traditional scenario with
pinyin artefacts and its simplified twin produce the same text.

:func:`normalise_with_map` also returns, for every character of the result, the index of the
character in the input it came from, so explanations can quote the profile's own wording.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

__all__ = [
    "normalise",
    "normalise_with_map",
    "strip_pinyin",
    "is_cjk",
    "detect_language",
]

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_CJK_RANGES = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2EBEF),
)
_CJK_CHAR = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _CJK_RANGES) + "]")
_ASCII_LETTER = re.compile("[A-Za-z]")
_TONE_LETTERS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
# A parenthesised run of lowercase latin letters (tone marks allowed, optional tone digit),
# ASCII or full-width parentheses. Whether it is pinyin is decided against the syllable list.
_PAREN_RUN = re.compile(r"[(（]([a-z" + _TONE_LETTERS + r"]{1,6})([1-5]?)[)）]")


def is_cjk(ch: str) -> bool:
    """True for a CJK unified ideograph (the characters pinyin annotations follow)."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    text = resources.files("matcher.resources").joinpath("pinyin_syllables.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def _plain(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def _is_pinyin(letters: str) -> bool:
    return _plain(letters) in _syllables()


def _pinyin_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _PAREN_RUN.finditer(text):
        start = m.start()
        if start == 0 or not is_cjk(text[start - 1]):
            continue
        if _is_pinyin(m.group(1)):
            spans.append((start, m.end()))
    return spans


def strip_pinyin(text: str) -> str:
    """Remove scraped pinyin readings: ``來(lái)`` → ``來``; ``人工智能(AI)`` is kept."""
    out, last = [], 0
    for start, end in _pinyin_spans(text):
        out.append(text[last:start])
        last = end
    out.append(text[last:])
    return "".join(out)


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional Chinese characters as simplified ones (OpenCC t2s); other text unchanged."""
    return str(_t2s().convert(text))


@lru_cache(maxsize=8192)
def _fold(ch: str) -> str:
    """One character folded: NFKC (width and compatibility forms), zero-width removed."""
    return unicodedata.normalize("NFKC", ch).translate(_ZERO_WIDTH)


_WS_RUN = re.compile(r"\s+")


def normalise_with_map(text: str) -> tuple[str, list[int]]:
    """Normalise ``text`` and map each output character to its source index.

    Steps: strip pinyin annotations, fold width and compatibility forms (NFKC, character by
    character), drop zero-width characters, collapse whitespace, convert traditional to
    simplified (OpenCC).
    """
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    folds = {ch: _fold(ch) for ch in set(text)}
    if all(len(f) == 1 for f in folds.values()):
        folded = text.translate({ord(ch): f for ch, f in folds.items() if f != ch})
        fsrc = list(range(len(text)))
    else:
        folded = "".join([folds[ch] for ch in text])
        fsrc = [i for i, ch in enumerate(text) for _ in range(len(folds[ch]))]
    removed = _pinyin_spans(folded) if "(" in text or "（" in text else []
    if removed:
        keep_text, keep_src, last = [], [], 0
        for start, end in removed:
            keep_text.append(folded[last:start])
            keep_src.extend(fsrc[last:start])
            last = end
        keep_text.append(folded[last:])
        keep_src.extend(fsrc[last:])
        folded, fsrc = "".join(keep_text), keep_src
    # Whitespace runs become one space; leading and trailing runs go.
    chars: list[str] = []
    src: list[int] = []
    pos = 0
    for m in _WS_RUN.finditer(folded):
        if m.start() > pos:
            chars.append(folded[pos : m.start()])
            src.extend(fsrc[pos : m.start()])
        if src and m.end() < len(folded):
            chars.append(" ")
            src.append(fsrc[m.start()])
        pos = m.end()
    chars.append(folded[pos:])
    src.extend(fsrc[pos:])
    joined = "".join(chars)
    simplified = to_simplified(joined)
    if len(simplified) != len(joined):
        # Phrase conversion changed the length (rare): convert per character to keep the map.
        simplified = "".join(to_simplified(c) or c for c in joined)
        if len(simplified) != len(joined):
            return simplified, [src[min(k, len(src) - 1)] for k in range(len(simplified))]
    return simplified, src


@lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """The canonical form of ``text`` used for encoding, indexing and matching (idempotent)."""
    return normalise_with_map(text)[0]


def detect_language(text: str) -> str:
    """``"zh"`` when CJK characters make up a fair share of the letters, else ``"en"``."""
    cjk = len(_CJK_CHAR.findall(text))  # a regex scan: 1M profiles load in seconds, not minutes
    latin = len(_ASCII_LETTER.findall(text))
    if cjk == 0 and latin == 0:
        return "zh"
    return "zh" if cjk * 3 >= latin else "en"

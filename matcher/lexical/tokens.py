"""Tokens for lexical scoring: character n-grams inside Chinese runs, words for Latin text."""

from __future__ import annotations

import re
from collections.abc import Iterator

_RUN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9][a-z0-9+#.\-]*[a-z0-9+#]|[a-z0-9]"
)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

EN_STOP = frozenset(
    """a an and are as at be by for from has have in is it its of on or our that the their this
    to was we were which will with co ltd inc llc company companies corp corporation group gmbh
    provides offers including other such also various well into through based""".split()
)


def tokens(text: str, ngram_range: tuple[int, int] = (1, 3)) -> Iterator[str]:
    """Yield lexical tokens of already-normalised ``text``."""
    lo, hi = ngram_range
    for m in _RUN.finditer(text.lower()):
        run = m.group()
        if _CJK.match(run):
            for n in range(lo, hi + 1):
                for i in range(len(run) - n + 1):
                    yield run[i : i + n]
        elif run not in EN_STOP and (len(run) > 1 or run.isdigit()):
            yield run


def analyser(ngram_range: tuple[int, int]):  # type: ignore[no-untyped-def]
    def analyse(text: str) -> list[str]:
        return list(tokens(text, ngram_range))

    return analyse

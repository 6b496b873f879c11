"""Presentation helpers for the pages: highlighting, score bars, the heatmap, form parsing."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape
from pydantic import ValidationError

from matcher.explain import lower_keep_length
from matcher.normalise import strip_pinyin
from matcher.types import RESULT_PARTS

from .i18n import problem

PART_ORDER = RESULT_PARTS
_LIST_SPLIT = re.compile(r"[,，、;；\n]+")
_NEXT_OK = re.compile(r"^/ui(/[A-Za-z0-9_.\-/]*)?(\?[^\\\s]*)?$")


def highlight(text: str, terms: Iterable[str]) -> Markup:
    """``text`` (scraped pinyin readings dropped) escaped for HTML, each occurrence of a matched
    term wrapped in ``<mark>``; longer terms win where terms overlap; Latin terms match whole
    words, case-insensitively."""
    shown = strip_pinyin(text)
    lowered = lower_keep_length(shown)
    taken = [False] * len(shown)
    spans: list[tuple[int, int]] = []
    for term in sorted({t for t in terms if t and t.strip()}, key=len, reverse=True):
        low = lower_keep_length(term)
        if low.isascii() and any(c.isalnum() for c in low):
            pattern = re.compile(r"(?<![a-z0-9])" + re.escape(low) + r"(?![a-z0-9])")
        else:
            pattern = re.compile(re.escape(low))
        for m in pattern.finditer(lowered):
            if not any(taken[m.start() : m.end()]):
                spans.append((m.start(), m.end()))
                for i in range(m.start(), m.end()):
                    taken[i] = True
    out: list[str] = []
    last = 0
    for start, end in sorted(spans):
        out.append(str(escape(shown[last:start])))
        out.append(f"<mark>{escape(shown[start:end])}</mark>")
        last = end
    out.append(str(escape(shown[last:])))
    return Markup("".join(out))


@dataclass(frozen=True)
class Bar:
    part: str
    value: float  # the part, in [0, 1]
    contribution: float  # its weighted share of the score

    @property
    def percent(self) -> int:
        return round(max(0.0, min(1.0, self.value)) * 100)


def bars(parts: Mapping[str, float], contributions: Mapping[str, float]) -> list[Bar]:
    """One bar per score part, in a fixed order so rows compare at a glance."""
    names = [p for p in PART_ORDER if p in parts] + sorted(set(parts) - set(PART_ORDER))
    return [Bar(p, float(parts[p]), float(contributions.get(p, 0.0))) for p in names]


def safe_next(target: str | None) -> str:
    """A redirect target inside the UI only (no open redirect to another site)."""
    if target and _NEXT_OK.match(target) and "//" not in target and ".." not in target:
        return target
    return "/ui"


def split_list(value: str | None) -> list[str]:
    """A form's list field: values separated by commas (full or half width), 、, ; or lines."""
    return [v.strip() for v in _LIST_SPLIT.split(value or "") if v.strip()]


def field_errors(
    exc: ValidationError,
    lang: str,
    fields: Iterable[str],
    rename: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The first problem per form field, in ``lang``; ``contact.phone`` becomes
    ``contact_phone``, ``rename`` maps model names to form names, and a problem with no known
    field is kept under ``_form``."""
    known = set(fields)
    out: dict[str, str] = {}
    for err in exc.errors():
        name = "_".join(str(p) for p in err.get("loc", ()) if not isinstance(p, int))
        name = (rename or {}).get(name, name)
        out.setdefault(name if name in known else "_form", problem(err, lang))
    return out


@dataclass(frozen=True)
class Heatmap:
    scenarios: list[tuple[str, str]]  # (id, title)
    firms: list[tuple[str, str, str]]  # (id, full name, short name for the column)
    cells: dict[tuple[str, str], tuple[float, int]]  # (scenario, firm) -> (score, rank)
    low: float
    high: float

    def shade(self, score: float) -> int:
        """Lightness 92 (lowest shown score) … 35 (highest) for the cell's background."""
        span = self.high - self.low
        x = (score - self.low) / span if span > 0 else 1.0
        return round(92 - 57 * x)


_LEGAL_FORMS = re.compile(
    r"(股份有限公司|有限责任公司|有限公司|集团"
    r"|,? (Co\.,? )?Ltd\.?|,? Inc\.?|,? LLC|,? GmbH|,? AB)$",
    re.IGNORECASE,
)


def short_name(name: str, limit: int = 10) -> str:
    """A firm's name short enough for a heatmap column: the legal form dropped, then cut to
    ``limit`` characters with an ellipsis (the page shows the full name on hover)."""
    short = _LEGAL_FORMS.sub("", name.strip()).strip(" ,") or name
    return short if len(short) <= limit else short[: limit - 1] + "…"


def heatmap(
    entries: Sequence[Any],
    titles: Mapping[str, str],
    names: Mapping[str, str],
    max_firms: int = 15,
) -> Heatmap:
    """Scenarios × the firms that appear in the most scenarios' top N (ties: higher mean score).

    ``entries``: rows with ``scenario_id``, ``company_id``, ``score`` and ``rank``."""
    seen: Counter[str] = Counter()
    total: Counter[str] = Counter()
    cells: dict[tuple[str, str], tuple[float, int]] = {}
    for e in entries:
        seen[e.company_id] += 1
        total[e.company_id] += e.score
        cells[(e.scenario_id, e.company_id)] = (float(e.score), int(e.rank))
    firms = sorted(seen, key=lambda c: (-seen[c], -total[c] / seen[c], c))[:max_firms]
    keep = set(firms)
    cells = {k: v for k, v in cells.items() if k[1] in keep}
    scenario_ids = sorted({s for s, _ in cells})
    scores = [v[0] for v in cells.values()]
    return Heatmap(
        scenarios=[(s, titles.get(s, s)) for s in scenario_ids],
        firms=[(c, names.get(c, c), short_name(names.get(c, c))) for c in firms],
        cells=cells,
        low=min(scores, default=0.0),
        high=max(scores, default=1.0),
    )

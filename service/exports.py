"""Ranked lists as CSV (UTF-8 with BOM, so Excel reads Chinese) and XLSX, with Chinese headers.

In CSV, cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, tab or carriage return) are prefixed with an apostrophe. In XLSX every text is stored
as a text cell, which a spreadsheet never runs, so it keeps its own first character (a phone
``+86 …`` stays ``+86 …``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from matcher.reasons import Lang, render_all, summary
from matcher.types import Company, Match

PART_NAMES = {  # part → (Chinese, English) header
    "dense": ("语义相似", "Semantic"),
    "lexical": ("词汇相似", "Lexical"),
    "keyword": ("关键词", "Keywords"),
    "industry": ("行业关系", "Industry"),
    "structured": ("结构匹配", "Structured"),
}
_HEADERS: list[tuple[str, str]] = [
    ("排名", "Rank"),
    ("企业ID", "Firm ID"),
    ("企业名称", "Firm"),
    ("总分", "Score"),
    *PART_NAMES.values(),
    ("匹配词", "Matched terms"),
    ("依据", "Evidence"),
    ("不符合项", "Failed conditions"),
    ("说明", "Summary"),
    ("城市", "City"),
    ("行业代码", "Industry codes"),
    ("注册资本(万元)", "Registered capital (10k CNY)"),
    ("所需空间(m²)", "Space needed (m²)"),
    ("拟投资(亿元)", "Intended investment (100M CNY)"),
    ("跟进阶段", "Stage"),
    ("企业意向", "Company interest"),
    ("统一社会信用代码", "Credit code"),
    ("联系人", "Contact"),
    ("电话", "Phone"),
    ("邮箱", "Email"),
    ("置顶", "Pinned"),
]
HEADERS = [zh for zh, _ in _HEADERS]
HEADERS_EN = [en for _, en in _HEADERS]


def headers(lang: Lang) -> list[str]:
    return HEADERS_EN if lang == "en" else HEADERS


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
STAGE_NAMES = {
    "shortlisted": ("入围", "shortlisted"),
    "contacted": ("已联系", "contacted"),
    "visited": ("已走访", "visited"),
    "signed": ("已签约", "signed"),
    "rejected": ("不合适", "rejected"),
}
FILTER_NAMES = {
    "industry_prefix": ("行业代码", "industry code"),
    "city": ("城市", "city"),
    "min_capital_wan": ("注册资本不低于(万元)", "min. capital (10k CNY)"),
    "space_min_m2": ("所需空间≥(m²)", "space ≥ (m²)"),
    "space_max_m2": ("所需空间≤(m²)", "space ≤ (m²)"),
    "chain_position": ("产业链环节", "chain position"),
    "certifications": ("资质", "certifications"),
}


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[1] if lang == "en" else pair[0]


@dataclass(frozen=True)
class ExportInfo:
    """What an export holds and how it was made: written into the file (a first ``#`` line
    in CSV, a sheet in XLSX) and into the export's snapshot."""

    scenario_id: str
    title: str
    rows: int
    limit: int  # the most rows an export holds; ``rows == limit`` means there may be more
    filters: Mapping[str, Any] = field(default_factory=dict)
    lang: Lang = "zh"
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def filter_text(self) -> str:
        parts = []
        for k, v in self.filters.items():
            shown = "、".join(v) if isinstance(v, (list, tuple)) else v
            name = _pick(FILTER_NAMES[k], self.lang) if k in FILTER_NAMES else k
            parts.append(f"{name}={shown}")
        return ("；" if self.lang == "zh" else "; ").join(parts) or _pick(("无", "none"), self.lang)

    def lines(self) -> list[tuple[str, str]]:
        en = self.lang == "en"
        more = ""
        if self.rows >= self.limit:
            more = " (the limit: there may be more)" if en else "（已达上限，可能还有更多）"
        rows = [
            (("场景", "Scenario"), f"{self.scenario_id} {self.title}"),
            (("行数", "Rows"), f"{self.rows}{more}"),
            (("行数上限", "Row limit"), str(self.limit)),
            (("筛选条件", "Filters"), self.filter_text()),
            (("导出时间(UTC)", "Exported (UTC)"), self.at.strftime("%Y-%m-%d %H:%M")),
        ]
        return [(_pick(k, self.lang), v) for k, v in rows]


def download_headers(filename: str) -> dict[str, str]:
    """Headers of an export download: an attachment that no browser or proxy cache keeps
    (it carries contacts: names, phones, emails)."""
    return {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: an apostrophe before a formula-like start."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def rows(
    matches: Sequence[Match],
    companies: dict[str, Company],
    stages: Mapping[str, str] | None = None,
    interested: Mapping[str, str | None] | None = None,
    lang: Lang = "zh",
) -> list[list[Any]]:
    """The export's rows, values as stored (each format makes them safe its own way);
    ``stages``: each firm's latest follow-up stage, ``interested``: the firms that marked
    interest, with their note."""
    stages, interested = stages or {}, interested or {}
    out = []
    for m in matches:
        c = companies.get(m.company_id)
        note = interested.get(m.company_id)
        contact = (c.contact if c else None) or {}
        out.append(
            [
                m.rank,
                m.company_id,
                m.company_name,
                round(m.score, 4),
                *(round(m.parts.get(k, 0.0), 4) for k in PART_NAMES),
                "、".join(m.explanation.matched_terms),
                m.explanation.evidence or "",
                ("；" if lang == "zh" else "; ").join(render_all(m.explanation.reasons, lang)),
                summary(m.explanation, lang),
                (c.city if c else "") or "",
                "、".join(c.industry_codes) if c else "",
                c.registered_capital_wan if c and c.registered_capital_wan is not None else "",
                c.space_needed_m2 if c and c.space_needed_m2 is not None else "",
                c.intended_investment_yi if c and c.intended_investment_yi is not None else "",
                _pick(STAGE_NAMES[stages[m.company_id]], lang) if m.company_id in stages else "",
                _interest(note, lang) if m.company_id in interested else "",
                (c.credit_code if c else "") or "",
                contact.get("name", ""),
                contact.get("phone", ""),
                contact.get("email", ""),
                _pick(("是", "yes"), lang) if m.pinned else "",
            ]
        )
    return out


def _interest(note: str | None, lang: Lang) -> str:
    said = _pick(("有意向", "interested"), lang)
    return said + (_pick(("：", ": "), lang) + note if note else "")


def to_csv(table: list[list[Any]], info: ExportInfo) -> bytes:
    """CSV: a first line ``# 场景 …；行数 …；筛选条件 …`` (a spreadsheet shows it as one
    cell; readers skip it as a comment), then the header and the rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    colon, sep = ("：", "；") if info.lang == "zh" else (": ", "; ")
    writer.writerow(["# " + sep.join(f"{k}{colon}{v}" for k, v in info.lines())])
    writer.writerow(headers(info.lang))
    writer.writerows([safe_cell(v) for v in r] for r in table)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def read_csv(data: bytes) -> list[list[str]]:
    """An export's CSV as rows (header first), its ``#`` line left out."""
    text = data.decode("utf-8-sig")
    return [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("# ")]


def to_xlsx(table: list[list[Any]], info: ExportInfo) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = (safe_sheet_title(info.title) or "匹配结果")[:31]
    ws.append(headers(info.lang))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in table:
        ws.append(r)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    ws.freeze_panes = "A2"
    widths = {"C": 30, "M": 60, "N": 40, "O": 50}
    for col, w in widths.items():
        ws.column_dimensions[col].width = w
    about = wb.create_sheet(_pick(("导出说明", "About this export"), info.lang))
    for k, v in info.lines():
        about.append([k, v])
    for row in about.iter_rows():
        for cell in row:
            cell.data_type = "s"
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 80
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def safe_sheet_title(title: str) -> str:
    return "".join(ch for ch in title if ch not in "[]:*?/\\").strip()

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

from matcher.types import Company, Match

PART_NAMES = {
    "dense": "语义相似",
    "lexical": "词汇相似",
    "keyword": "关键词",
    "industry": "行业关系",
    "structured": "结构匹配",
}
HEADERS = [
    "排名",
    "企业ID",
    "企业名称",
    "总分",
    *PART_NAMES.values(),
    "匹配词",
    "依据",
    "不符合项",
    "说明",
    "城市",
    "行业代码",
    "注册资本(万元)",
    "所需空间(m²)",
    "拟投资(亿元)",
    "跟进阶段",
    "企业意向",
    "统一社会信用代码",
    "联系人",
    "电话",
    "邮箱",
    "置顶",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
STAGE_NAMES = {
    "shortlisted": "入围",
    "contacted": "已联系",
    "visited": "已走访",
    "signed": "已签约",
    "rejected": "不合适",
}
FILTER_NAMES = {
    "industry_prefix": "行业代码",
    "city": "城市",
    "min_capital_wan": "注册资本不低于(万元)",
    "space_min_m2": "所需空间≥(m²)",
    "space_max_m2": "所需空间≤(m²)",
    "chain_position": "产业链环节",
    "certifications": "资质",
}


@dataclass(frozen=True)
class ExportInfo:
    """What an export holds and how it was made: written into the file (a first ``#`` line
    in CSV, a sheet in XLSX) and into the export's snapshot."""

    scenario_id: str
    title: str
    rows: int
    limit: int  # the most rows an export holds; ``rows == limit`` means there may be more
    filters: Mapping[str, Any] = field(default_factory=dict)
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def filter_text(self) -> str:
        parts = []
        for k, v in self.filters.items():
            shown = "、".join(v) if isinstance(v, (list, tuple)) else v
            parts.append(f"{FILTER_NAMES.get(k, k)}={shown}")
        return "；".join(parts) or "无"

    def lines(self) -> list[tuple[str, str]]:
        more = "（已达上限，可能还有更多）" if self.rows >= self.limit else ""
        return [
            ("场景", f"{self.scenario_id} {self.title}"),
            ("行数", f"{self.rows}{more}"),
            ("行数上限", str(self.limit)),
            ("筛选条件", self.filter_text()),
            ("导出时间(UTC)", self.at.strftime("%Y-%m-%d %H:%M")),
        ]


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
                "；".join(m.explanation.why_not),
                m.explanation.summary,
                (c.city if c else "") or "",
                "、".join(c.industry_codes) if c else "",
                c.registered_capital_wan if c and c.registered_capital_wan is not None else "",
                c.space_needed_m2 if c and c.space_needed_m2 is not None else "",
                c.intended_investment_yi if c and c.intended_investment_yi is not None else "",
                STAGE_NAMES.get(stages.get(m.company_id, ""), ""),
                ("有意向" + (f"：{note}" if note else "")) if m.company_id in interested else "",
                (c.credit_code if c else "") or "",
                contact.get("name", ""),
                contact.get("phone", ""),
                contact.get("email", ""),
                "是" if m.pinned else "",
            ]
        )
    return out


def to_csv(table: list[list[Any]], info: ExportInfo) -> bytes:
    """CSV: a first line ``# 场景 …；行数 …；筛选条件 …`` (a spreadsheet shows it as one
    cell; readers skip it as a comment), then the header and the rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["# " + "；".join(f"{k}：{v}" for k, v in info.lines())])
    writer.writerow(HEADERS)
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
    ws.append(HEADERS)
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
    about = wb.create_sheet("导出说明")
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

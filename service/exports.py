"""Ranked lists as CSV (UTF-8 with BOM, so Excel reads Chinese) and XLSX, with Chinese headers.

In CSV, cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, tab or carriage return) are prefixed with an apostrophe. In XLSX every text is stored
as a text cell, which a spreadsheet never runs, so it keeps its own first character (a phone
``+86 …`` stays ``+86 …``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
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
    "注册资本(万元)",
    "统一社会信用代码",
    "联系人",
    "电话",
    "邮箱",
    "置顶",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def rows(matches: Sequence[Match], companies: dict[str, Company]) -> list[list[Any]]:
    """The export's rows, values as stored (each format makes them safe its own way)."""
    out = []
    for m in matches:
        c = companies.get(m.company_id)
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
                c.registered_capital_wan if c and c.registered_capital_wan is not None else "",
                (c.credit_code if c else "") or "",
                contact.get("name", ""),
                contact.get("phone", ""),
                contact.get("email", ""),
                "是" if m.pinned else "",
            ]
        )
    return out


def to_csv(matches: Sequence[Match], companies: dict[str, Company]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows([safe_cell(v) for v in r] for r in rows(matches, companies))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(matches: Sequence[Match], companies: dict[str, Company], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = (safe_sheet_title(title) or "匹配结果")[:31]
    ws.append(HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows(matches, companies):
        ws.append(r)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    ws.freeze_panes = "A2"
    widths = {"C": 30, "M": 60, "N": 40, "O": 50}
    for col, w in widths.items():
        ws.column_dimensions[col].width = w
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def safe_sheet_title(title: str) -> str:
    return "".join(ch for ch in title if ch not in "[]:*?/\\").strip()

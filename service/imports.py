"""Bulk company import from CSV or XLSX: rows validated one by one, with a per-row report.

CSV may be UTF-8 (with or without BOM), UTF-16 or UTF-32 with a BOM (Excel's "Unicode text"),
GB18030 (what Chinese Excel saves) or Big5 (traditional Chinese); comma-, tab- or
semicolon-separated. Headers may be the field names or their Chinese labels (simplified or
traditional). XLSX files are checked before unpacking (entry count and total uncompressed size),
so a zip bomb is refused rather than expanded.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from typing import Any

from .errors import Invalid
from .profiles import CLEAR_TOKENS

ALIASES = {
    "企业id": "id",
    "编号": "id",
    "企业名称": "name",
    "名称": "name",
    "公司名称": "name",
    "企业简介": "description",
    "简介": "description",
    "主营业务": "description",
    "统一社会信用代码": "credit_code",
    "信用代码": "credit_code",
    "主要产品": "products",
    "产品": "products",
    "行业代码": "industry_codes",
    "城市": "city",
    "所在城市": "city",
    "成立年份": "founded",
    "注册资本(万元)": "registered_capital_wan",
    "注册资本（万元）": "registered_capital_wan",
    "员工人数": "employees",
    "资质": "certifications",
    "资质认证": "certifications",
    "是否上市": "listed",
    "意向投资(亿元)": "intended_investment_yi",
    "意向投资（亿元）": "intended_investment_yi",
    "需求面积(平方米)": "space_needed_m2",
    "需求面积（平方米）": "space_needed_m2",
    "产业链位置": "chain_position",
    "联系人": "contact_name",
    "电话": "contact_phone",
    "邮箱": "contact_email",
}
FIELDS = {
    "id",
    "name",
    "description",
    "credit_code",
    "products",
    "industry_codes",
    "city",
    "founded",
    "registered_capital_wan",
    "employees",
    "certifications",
    "listed",
    "intended_investment_yi",
    "space_needed_m2",
    "chain_position",
    "contact_name",
    "contact_phone",
    "contact_email",
}
LISTS = ("products", "industry_codes", "certifications")
INTS = ("founded", "employees")
FLOATS = ("registered_capital_wan", "intended_investment_yi", "space_needed_m2")
XLSX_MAX_ENTRIES = 10_000
XLSX_MAX_RATIO = 200


def _column(header: str) -> str | None:
    from matcher.normalise import to_simplified

    h = to_simplified((header or "").strip().lstrip("\ufeff"))  # 企業名稱 is 企业名称
    key = h.lower()
    if key in FIELDS:
        return key
    return ALIASES.get(h) or ALIASES.get(key)


_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes) -> str:
    """Text of a CSV upload: by its byte-order mark, else UTF-8, else the one of GB18030 and
    Big5 that decodes it (both often do, one as mojibake: charset-normalizer's Chinese
    character frequencies then tell them apart)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise Invalid(
                    f"file: starts with a {encoding.upper()} byte-order mark but is not "
                    f"{encoding.upper()} (byte {exc.start})",
                    "file",
                ) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_error = exc.start
    decoded = {}
    for encoding in ("gb18030", "big5"):
        try:
            decoded[encoding] = data.decode(encoding)
        except UnicodeDecodeError:
            pass
    if len(decoded) == 2:
        from charset_normalizer import from_bytes

        best = from_bytes(data, cp_isolation=["gb18030", "big5"]).best()
        return decoded["big5" if best is not None and best.encoding == "big5" else "gb18030"]
    if decoded:
        return next(iter(decoded.values()))
    raise Invalid(
        f"file: not UTF-8 (byte {first_error}), nor UTF-16 with a byte-order mark, GB18030 or "
        "Big5; save it as UTF-8 CSV",
        "file",
    )


def _delimiter(text: str) -> str:
    """Comma, unless the header line holds more tabs or semicolons than commas."""
    head = text.split("\n", 1)[0]
    return max(",\t;", key=lambda d: (head.count(d), d == ","))


def read_table(data: bytes, filename: str, max_rows: int) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a CSV or XLSX upload (by content, then by name)."""
    if not data.strip():
        raise Invalid("file: the upload is empty", "file")
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data, max_rows)
    text = decode(data)
    csv.field_size_limit(1_000_000)
    try:
        table = list(csv.reader(io.StringIO(text), delimiter=_delimiter(text)))
    except csv.Error as exc:
        raise Invalid(f"file: not a readable CSV ({exc})", "file") from exc
    table = [r for r in table if any(c.strip() for c in r)]
    if not table:
        raise Invalid("file: no header row", "file")
    if len(table) - 1 > max_rows:
        raise Invalid(f"file: {len(table) - 1} rows; the limit is {max_rows} per import", "file")
    return table[0], table[1:]


def _read_xlsx(data: bytes, max_rows: int) -> tuple[list[str], list[list[Any]]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Invalid(f"file: not a readable XLSX ({exc})", "file") from exc
    total = sum(i.file_size for i in infos)
    if len(infos) > XLSX_MAX_ENTRIES or total > max(len(data) * XLSX_MAX_RATIO, 50_000_000):
        raise Invalid(
            f"file: the XLSX unpacks to {total} bytes in {len(infos)} entries; refused "
            "(looks like a zip bomb)",
            "file",
        )
    import warnings

    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
        table: list[list[Any]] = []
        for row in ws.iter_rows(values_only=True):
            if any(v not in (None, "") for v in row):
                table.append(["" if v is None else v for v in row])
            if len(table) - 1 > max_rows:
                raise Invalid(f"file: more than {max_rows} rows; the limit per import", "file")
        wb.close()
    except Invalid:
        raise
    except Exception as exc:  # openpyxl raises many types for broken files
        raise Invalid(
            f"file: not a readable XLSX ({exc.__class__.__name__}: {exc})", "file"
        ) from exc
    if not table:
        raise Invalid("file: the first sheet is empty", "file")
    return [str(h) for h in table[0]], table[1:]


def records(
    header: list[str], rows: list[list[Any]]
) -> Iterator[tuple[int, dict[str, Any], str | None]]:
    """(row number as in the file, field dict, problem) per data row.

    Only the cells that say something become fields: an empty cell (or a column the file
    lacks) is left out, so an existing firm keeps that field; the cell ``(清空)`` (or
    ``(clear)``: ``service.profiles.CLEAR_TOKENS``) becomes ``None``, which clears it. A
    file needs name and description columns to add firms, or an id or credit-code column to
    update registered ones.
    """
    cols = [_column(h) for h in header]
    if not (("name" in cols and "description" in cols) or "id" in cols or "credit_code" in cols):
        raise Invalid(
            "file: the header needs name and description columns (or 企业名称 and 企业简介), "
            f"or an id or credit-code column to update registered firms; it has "
            f"{[h for h in header if h]}",
            "file",
        )
    for n, row in enumerate(rows, start=2):
        if len(row) > len(cols) and any(str(v).strip() for v in row[len(cols) :]):
            yield n, {}, "more cells than the header has columns; check quoting"
            continue
        rec: dict[str, Any] = {}
        contact: dict[str, str] = {}
        problem = None
        for col, value in zip(cols, row, strict=False):
            if col is None:
                continue
            if isinstance(value, str):
                value = value.strip()
            if value in ("", None):
                continue
            if isinstance(value, str) and value.lower() in CLEAR_TOKENS:
                if col.startswith("contact_"):
                    contact[col[8:]] = ""
                else:
                    rec[col] = None
                continue
            if col.startswith("contact_"):
                contact[col[8:]] = str(value)
            elif col in LISTS:
                rec[col] = [
                    x.strip()
                    for x in str(value)
                    .replace("；", ";")
                    .replace("、", ";")
                    .replace(",", ";")
                    .split(";")
                    if x.strip()
                ]
            elif col in INTS or col in FLOATS:
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    problem = f"{col}: {value!r} is not a number"
                    break
                if col in INTS:
                    if number != int(number):
                        problem = f"{col}: {value!r} is not a whole number"
                        break
                    rec[col] = int(number)
                else:
                    rec[col] = number
            elif col == "listed":
                rec[col] = str(value).strip().lower() in ("1", "true", "yes", "是", "y")
            else:
                rec[col] = str(value)
        if contact:
            rec["contact"] = contact
        yield n, rec, problem
